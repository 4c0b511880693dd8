"""Models, resources and charts: repository metadata, versions and their files, commit, `latest`, listings.

Streams: a repository's metadata and `latest` join its `repo-<name>` stream (ArtifactRepository beside
Repository); each version has its own stream (`version-<hash>`). Like the rest of the registry, commands
restore aggregates from the read models after reading the stream versions, and queue on row locks: the
repository row for anything that creates, commits or deletes a version, or moves a tag; the version row for
file changes. Locks are always taken repository first, then version.

A version's commit writes, in one transaction: its manifest and tag (Repository), VersionCommitted, and the
`latest` move. A manifest pushed under a tag with a model or resource artifactType (or Helm's config) makes
that version, committed, in the push's transaction (`versions_on_push`, called by `App.put_manifest`); a
deleted tag or manifest of a version deletes the version (`versions_on_delete`), and DeleteVersion deletes
its tag and manifest (docs/decisions/0022).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Protocol

from hangar.kit import context
from hangar.kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from hangar.kit.events import Aggregate, DomainEvent
from hangar.kit.paging import decode_page_token, encode_page_token, page_limit
from hangar.kit.uow import UnitOfWork, UnitOfWorkFactory, retry_on_conflict
from hangar.registry.domain.artifacts import (
    ArtifactRepository,
    artifact_kind,
    build_manifest,
    config_blob,
    pushed_version,
)
from hangar.registry.domain.digests import Digest
from hangar.registry.domain.manifests import OCI_MANIFEST, ParsedManifest, parse_manifest
from hangar.registry.domain.metadata import (
    ARTIFACT_KINDS,
    LATEST_AUTO,
    RepositoryMetadata,
    VersionMetadata,
    normalise_label,
)
from hangar.registry.domain.names import validate_repository_name
from hangar.registry.domain.quoting import quote
from hangar.registry.domain.repository import REPOSITORY_KINDS, Repository, TagDeleted
from hangar.registry.domain.versions import (
    COMMITTED,
    LATEST,
    FileRef,
    Version,
    VersionFile,
    inherited_files,
    validate_version_name,
    version_unknown,
)

ORDERS: Final = frozenset({"semver", "created"})
MAX_NAMESPACES: Final = 100
MAX_PATTERN: Final = 255
_NAMESPACE = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)?")


@dataclasses.dataclass(frozen=True)
class RepositoryRecord:
    """A repository of any kind with its summary, as listed."""

    name: str
    kind: str
    metadata: RepositoryMetadata
    latest_version: str
    latest_policy: str
    version_count: int
    size: int
    created_at: datetime
    updated_at: datetime


@dataclasses.dataclass(frozen=True)
class FileRecord:
    path: str
    status: str
    digest: str
    size: int
    upload_id: str
    updated_at: datetime


@dataclasses.dataclass(frozen=True)
class VersionRecord:
    repository: str
    version: str
    kind: str
    status: str
    metadata: VersionMetadata
    base_version: str
    manifest_digest: str
    config_digest: str
    size: int
    created_by: str
    created_at: datetime
    committed_at: datetime | None
    sort_key: str
    created_position: int
    files: tuple[FileRecord, ...] = ()


@dataclasses.dataclass(frozen=True)
class SearchFilter:
    namespaces: frozenset[str]
    all_namespaces: bool
    kind: str
    name_pattern: str
    labels: tuple[str, ...]

    def fingerprint(self) -> str:
        return "|".join(
            [
                "search",
                ",".join(sorted(self.namespaces)),
                str(self.all_namespaces),
                self.kind,
                self.name_pattern,
                ",".join(self.labels),
            ]
        )


class ArtifactViews(Protocol):
    """The read models ArtifactApp decides and answers on (`hangar.registry.store.SqlViews`)."""

    async def lock_repository(self, repository: str) -> str | None: ...

    async def tag_target(self, repository: str, tag: str) -> str | None: ...

    async def tags_of(self, repository: str, digest: str) -> list[str]: ...

    async def indexes_listing(self, repository: str, digest: str) -> list[str]: ...

    async def blob_sizes(self, repository: str, digests: Collection[str]) -> dict[str, int]: ...

    async def manifest_sizes(self, repository: str, digests: Collection[str]) -> dict[str, int]: ...

    async def artifact_repository(self, repository: str) -> RepositoryRecord | None: ...

    async def search_repositories(
        self, search: SearchFilter, *, after: str | None, limit: int
    ) -> tuple[list[RepositoryRecord], str | None]:
        """Up to `limit` matches after `after`, by name, and the name the scan stopped at when it read its
        bound of rows first (None when it did not)."""
        ...

    async def has_other_manifests(self, repository: str, digest: str) -> bool: ...

    async def lock_version(self, repository: str, version: str) -> VersionRecord | None: ...

    async def version(self, repository: str, version: str) -> VersionRecord | None: ...

    async def version_files(self, repository: str, version: str) -> list[FileRecord]: ...

    async def newest_committed(self, repository: str) -> str: ...

    async def versions_page(
        self, repository: str, *, order: str, after: Collection[Any] | None, limit: int, include_pending: bool
    ) -> list[VersionRecord]: ...


#: Links a stored blob to a repository (App.link_blob: its own transaction, idempotent).
LinkBlob = Callable[[str, str, int], Awaitable[None]]


def _name_unknown(repository: str) -> NotFound:
    return NotFound(f"repository {quote(repository)} does not exist", code="NAME_UNKNOWN")


def _kind_mismatch(repository: str, kind: str, wanted: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"{quote(repository)} is a {kind} repository, not a {wanted}", code="KIND_MISMATCH"
    )


def _require_artifacts(repository: str, kind: str | None) -> str:
    if kind is None:
        raise _name_unknown(repository)
    if kind not in ARTIFACT_KINDS:
        raise FailedPrecondition(
            f"{quote(repository)} is a {kind} repository: it has tags, not versions", code="KIND_MISMATCH"
        )
    return kind


def _restore_version(
    repository: str,
    version: str,
    stream_version: int,
    record: VersionRecord | None,
    files: Sequence[FileRecord],
) -> Version:
    if record is None:
        return Version.restore(repository, version, stream_version)
    return Version.restore(
        repository,
        version,
        stream_version,
        kind=record.kind,
        status=record.status,
        metadata=record.metadata,
        base_version=record.base_version,
        files=[VersionFile(f.path, f.status, f.digest, f.size, f.upload_id) for f in files],
        manifest_digest=record.manifest_digest,
    )


async def _load_version(
    uow: UnitOfWork[ArtifactViews], repository: str, version: str, *, files: bool = True
) -> Version:
    """The version, its row locked, restored at its stream's version."""
    # The row lock first (every command changing a version takes it), then the stream's version, then the
    # files: they are at least as current as the version read (decision 0004).
    record = await uow.views.lock_version(repository, version)
    stream_version = await uow.events.stream_version(Version.stream_for(Version.id_for(repository, version)))
    found = await uow.views.version_files(repository, version) if record is not None and files else []
    return _restore_version(repository, version, stream_version, record, found)


async def _artifact_repository(
    uow: UnitOfWork[ArtifactViews], repository: str, kind: str, stream_version: int
) -> ArtifactRepository:
    record = await uow.views.artifact_repository(repository)
    return ArtifactRepository.restore(
        repository,
        stream_version,
        kind=kind,
        metadata=record.metadata if record else RepositoryMetadata(),
        latest=record.latest_version if record else "",
        policy=(record.latest_policy if record else "") or LATEST_AUTO,
    )


async def _flush(uow: UnitOfWork[ArtifactViews], aggregate: Aggregate) -> None:
    """Append what the aggregate recorded, if anything, at the version it was loaded at."""
    expected = aggregate.loaded_version
    events = aggregate.collect()
    if events:
        await uow.events.append(aggregate.stream_id, expected, events)


async def _append(
    uow: UnitOfWork[ArtifactViews], stream: str, expected: int, events: Sequence[DomainEvent]
) -> int:
    await uow.events.append(stream, expected, events)
    return expected + len(events)


# -- hooks of the OCI side (App.put_manifest, App.delete_manifest) ------------------------------------------


def kind_of_push(parsed: ParsedManifest) -> str | None:
    """The repository kind a manifest pushed to a new repository creates (None: a container)."""
    return artifact_kind(parsed)


async def versions_on_push(
    uow: UnitOfWork[Any],
    repository: str,
    kind: str,
    parsed: ParsedManifest,
    tag: str | None,
    config: bytes,
    repository_version: int,
) -> None:
    """Record what a manifest push into a repository of `kind` means for its versions, in the push's unit of
    work after its events (appended up to `repository_version`): a refusal raised here rolls the push back.

    A model/resource/chart manifest goes only to a repository of its kind (KIND_MISMATCH). Under a tag it
    makes that version, committed; a tag naming a committed version keeps it (VERSION_COMMITTED for other
    content; the same manifest again is a no-op), and a pending one refuses the push (VERSION_EXISTS).
    """
    pushed_kind = artifact_kind(parsed)
    views: ArtifactViews = uow.views
    if pushed_kind is not None and kind != pushed_kind:
        # A container holding blobs only (its first upload made it) takes the kind of its first manifest.
        holder = await _artifact_repository(uow, repository, kind, repository_version)
        holder.receive(pushed_kind, await views.has_other_manifests(repository, str(parsed.digest)))
        repository_version = await _append(uow, holder.stream_id, repository_version, holder.collect())
        kind = pushed_kind
    if tag is None or kind not in ARTIFACT_KINDS:
        return
    existing = await views.version(repository, tag)
    if existing is not None:
        if existing.status == COMMITTED and existing.manifest_digest == str(parsed.digest):
            return
        if existing.status == COMMITTED:
            raise FailedPrecondition(
                f"version {quote(tag)} of {quote(repository)} is committed as {existing.manifest_digest}; "
                "versions are immutable: push another version",
                code="VERSION_COMMITTED",
            )
        raise AlreadyExists(
            f"version {quote(tag)} of {quote(repository)} is being uploaded; commit or delete it first",
            code="VERSION_EXISTS",
        )
    found = pushed_version(parsed, tag, config)
    if found is None:
        return  # another tag of an artifact repository (a signature, say): not a version
    version = await _load_version(uow, repository, tag, files=False)
    version.pushed(
        found.kind,
        found.metadata,
        found.files,
        parsed.digest,
        found.config_digest,
        created_by=context.current().actor,
    )
    await _append(uow, version.stream_id, version.loaded_version, version.collect())
    artifacts = await _artifact_repository(uow, repository, kind, repository_version)
    artifacts.version_committed(tag)
    await uow.events.append(artifacts.stream_id, repository_version, artifacts.collect())


async def versions_on_delete(
    uow: UnitOfWork[Any], repository: str, kind: str, deleted: Sequence[DomainEvent], repository_version: int
) -> None:
    """Delete the versions whose tags a manifest or tag delete removed (`deleted`: its events, appended up
    to `repository_version`), in its unit of work; `latest` leaves them."""
    if kind not in ARTIFACT_KINDS:
        return
    gone: list[str] = []
    for event in deleted:
        if not isinstance(event, TagDeleted):
            continue
        version = await _load_version(uow, repository, event.tag, files=False)
        if version.status == COMMITTED and version.manifest_digest == event.digest:
            version.delete()
            await _append(uow, version.stream_id, version.loaded_version, version.collect())
            gone.append(event.tag)
    if not gone:
        return
    artifacts = await _artifact_repository(uow, repository, kind, repository_version)
    newest = await uow.views.newest_committed(repository)
    for name in gone:
        artifacts.version_deleted(name, newest)
    await uow.events.append(artifacts.stream_id, repository_version, artifacts.collect())


# -- the use cases ------------------------------------------------------------------------------------------


class ArtifactApp:
    """The ArtifactService's commands and queries over the registry's unit-of-work factory."""

    def __init__(self, uow: UnitOfWorkFactory[Any], link_blob: LinkBlob) -> None:
        self.uow: UnitOfWorkFactory[ArtifactViews] = uow
        self._link_blob = link_blob

    # -- repositories -----------------------------------------------------------------------------------

    async def create_repository(
        self, name: str, kind: str, metadata: RepositoryMetadata, latest_policy: str = ""
    ) -> RepositoryRecord:
        ArtifactRepository.create(name, kind, metadata, latest_policy)  # validates before any I/O

        async def command() -> RepositoryRecord:
            async with self.uow() as uow:
                if await uow.views.lock_repository(name) is not None:
                    raise AlreadyExists(f"repository {quote(name)} already exists", code="REPOSITORY_EXISTS")
                fresh = ArtifactRepository.create(name, kind, metadata, latest_policy)
                await uow.events.append(fresh.stream_id, 0, fresh.collect())
                record = await uow.views.artifact_repository(name)
                await uow.commit()
            assert record is not None
            return record

        return await retry_on_conflict(command)

    async def update_repository(
        self, name: str, metadata: RepositoryMetadata, fields: Collection[str]
    ) -> RepositoryRecord:
        validate_repository_name(name)

        async def command() -> RepositoryRecord:
            async with self.uow() as uow:
                kind = await uow.views.lock_repository(name)
                if kind is None:
                    raise _name_unknown(name)
                version = await uow.events.stream_version(Repository.stream_for(name))
                artifacts = await _artifact_repository(uow, name, kind, version)
                artifacts.update_metadata(metadata, fields)
                await _flush(uow, artifacts)
                record = await uow.views.artifact_repository(name)
                await uow.commit()
            assert record is not None
            return record

        return await retry_on_conflict(command)

    async def get_repository(self, name: str) -> RepositoryRecord:
        validate_repository_name(name)
        async with self.uow(readonly=True) as uow:
            record = await uow.views.artifact_repository(name)
        if record is None:
            raise _name_unknown(name)
        return record

    async def search_repositories(
        self,
        *,
        namespaces: Collection[str] = (),
        all_namespaces: bool = False,
        kind: str = "",
        name_pattern: str = "",
        labels: Collection[str] = (),
        page_size: int = 0,
        page_token: str = "",
    ) -> tuple[list[RepositoryRecord], str]:
        """Repositories by name after the token, filtered; the next page's token ("" at the end)."""
        limit = page_limit(page_size)
        if len(namespaces) > MAX_NAMESPACES:
            raise InvalidArgument(f"search at most {MAX_NAMESPACES} namespaces at once", code="NAME_INVALID")
        for namespace in namespaces:
            if not _NAMESPACE.fullmatch(namespace):
                raise InvalidArgument(
                    f"namespace {quote(namespace)} is not an org or org/team", code="NAME_INVALID"
                )
        if kind and kind not in REPOSITORY_KINDS:
            raise InvalidArgument(
                f"kind {quote(kind)} is not one of {', '.join(sorted(REPOSITORY_KINDS))}", code="KIND_INVALID"
            )
        if len(name_pattern) > MAX_PATTERN:
            raise InvalidArgument(
                f"the name pattern is longer than {MAX_PATTERN} characters", code="NAME_INVALID"
            )
        search = SearchFilter(
            namespaces=frozenset(namespaces),
            all_namespaces=all_namespaces,
            kind=kind,
            name_pattern=name_pattern.lower(),
            labels=tuple(sorted({normalise_label(label) for label in labels})),
        )
        cursor = decode_page_token(page_token, search.fingerprint())
        after = cursor.get("after") if cursor else None
        if after is not None and not isinstance(after, str):
            raise InvalidArgument(
                "the page token is not one this listing handed out", code="PAGE_TOKEN_INVALID"
            )
        if not search.all_namespaces and not search.namespaces:
            return [], ""
        async with self.uow(readonly=True) as uow:
            found, scanned_to = await uow.views.search_repositories(search, after=after, limit=limit + 1)
        if len(found) > limit:
            return found[:limit], encode_page_token({"after": found[limit - 1].name}, search.fingerprint())
        if scanned_to is not None:
            return found, encode_page_token({"after": scanned_to}, search.fingerprint())
        return found, ""

    async def set_latest(self, name: str, version: str, auto: bool) -> RepositoryRecord:
        validate_repository_name(name)
        if not auto:
            validate_version_name(version)

        async def command() -> RepositoryRecord:
            async with self.uow() as uow:
                kind = await uow.views.lock_repository(name)
                if kind is None:
                    raise _name_unknown(name)
                stream_version = await uow.events.stream_version(Repository.stream_for(name))
                artifacts = await _artifact_repository(uow, name, kind, stream_version)
                if auto:
                    artifacts.set_auto()
                else:
                    found = await uow.views.version(name, version) if kind in ARTIFACT_KINDS else None
                    artifacts.set_latest(version, committed=found is not None and found.status == COMMITTED)
                await _flush(uow, artifacts)
                record = await uow.views.artifact_repository(name)
                await uow.commit()
            assert record is not None
            return record

        return await retry_on_conflict(command)

    # -- versions ---------------------------------------------------------------------------------------

    async def create_version(
        self,
        repository: str,
        version: str,
        metadata: VersionMetadata,
        *,
        base_version: str = "",
        create_kind: str = "",
        created_by: str = "",
    ) -> VersionRecord:
        validate_repository_name(repository)
        validate_version_name(version)
        if base_version:
            validate_version_name(base_version)
        if create_kind and create_kind not in ARTIFACT_KINDS:
            raise InvalidArgument(
                f"create_kind {quote(create_kind)} is not one of chart, model, resource", code="KIND_INVALID"
            )

        async def command() -> VersionRecord:
            async with self.uow() as uow:
                views = uow.views
                kind = await views.lock_repository(repository)
                if kind is None and create_kind:
                    created = ArtifactRepository.create(repository, create_kind, RepositoryMetadata())
                    await uow.events.append(created.stream_id, 0, created.collect())
                    kind = create_kind
                kind = _require_artifacts(repository, kind)
                if create_kind and kind != create_kind:
                    raise _kind_mismatch(repository, kind, create_kind)
                inherited: list[FileRef] = []
                if base_version:
                    base = await views.version(repository, base_version)
                    if base is None or base.status != COMMITTED:
                        raise NotFound(
                            f"base version {quote(base_version)} is not a committed version of "
                            f"{quote(repository)}",
                            code="VERSION_UNKNOWN",
                        )
                    files = await views.version_files(repository, base_version)
                    inherited = inherited_files(
                        {f.path: VersionFile(f.path, f.status, f.digest, f.size) for f in files}
                    )
                aggregate = await _load_version(uow, repository, version, files=False)
                if not aggregate.exists and await views.tag_target(repository, version) is not None:
                    raise AlreadyExists(
                        f"{quote(repository)} has a tag {quote(version)} already", code="VERSION_EXISTS"
                    )
                aggregate.create(
                    kind, metadata, created_by=created_by, base_version=base_version, inherited=inherited
                )
                await uow.events.append(aggregate.stream_id, aggregate.loaded_version, aggregate.collect())
                record = await self._version_record(uow, repository, version)
                await uow.commit()
            return record

        return await retry_on_conflict(command)

    async def get_version(self, repository: str, version: str) -> VersionRecord:
        validate_repository_name(repository)
        async with self.uow(readonly=True) as uow:
            name = version
            if version == LATEST:
                found = await uow.views.artifact_repository(repository)
                if found is None:
                    raise _name_unknown(repository)
                if not found.latest_version:
                    raise NotFound(f"{quote(repository)} has no latest version", code="VERSION_UNKNOWN")
                name = found.latest_version
            else:
                validate_version_name(version)
            return await self._version_record(uow, repository, name)

    async def list_versions(
        self,
        repository: str,
        *,
        order: str = "",
        page_size: int = 0,
        page_token: str = "",
        include_pending: bool = False,
    ) -> tuple[list[VersionRecord], str]:
        validate_repository_name(repository)
        chosen = order or "semver"
        if chosen not in ORDERS:
            raise InvalidArgument(f"order {quote(order)} is not 'semver' or 'created'", code="ORDER_INVALID")
        limit = page_limit(page_size)
        fingerprint = f"versions|{repository}|{chosen}|{include_pending}"
        cursor = decode_page_token(page_token, fingerprint)
        after = None
        if cursor is not None:
            value = cursor.get("k")
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise InvalidArgument(
                    "the page token is not one this listing handed out", code="PAGE_TOKEN_INVALID"
                )
            after = (value,)
        async with self.uow(readonly=True) as uow:
            found = await uow.views.artifact_repository(repository)
            _require_artifacts(repository, found.kind if found else None)
            rows = await uow.views.versions_page(
                repository, order=chosen, after=after, limit=limit + 1, include_pending=include_pending
            )
        if len(rows) <= limit:
            return rows, ""
        last = rows[limit - 1]
        key: str | int = last.created_position if chosen == "created" else last.sort_key
        return rows[:limit], encode_page_token({"k": key}, fingerprint)

    async def begin_file(
        self, repository: str, version: str, path: str, upload_id: str, size: int
    ) -> tuple[FileRecord, bool]:
        validate_repository_name(repository)
        validate_version_name(version)

        async def command() -> tuple[FileRecord, bool]:
            async with self.uow() as uow:
                aggregate = await _load_version(uow, repository, version)
                file, started = aggregate.begin_file(path, upload_id, size)
                await _flush(uow, aggregate)
                record = await self._file(uow, repository, version, file.path)
                await uow.commit()
            return record, started

        return await retry_on_conflict(command)

    async def complete_file(
        self, repository: str, version: str, path: str, upload_id: str, digest: str, size: int
    ) -> FileRecord:
        """Link the file's blob to the repository (its own, idempotent transaction), then record it."""
        validate_repository_name(repository)
        validate_version_name(version)
        key = str(Digest.parse(digest))
        async with self.uow(readonly=True) as uow:
            # Refuse what the version would refuse before linking anything.
            probe = await _load_version(uow, repository, version)
            probe.complete_file(path, upload_id, key, size)
        await self._link_blob(repository, key, size)

        async def command() -> FileRecord:
            async with self.uow() as uow:
                aggregate = await _load_version(uow, repository, version)
                aggregate.complete_file(path, upload_id, key, size)
                await _flush(uow, aggregate)
                record = await self._file(uow, repository, version, path)
                await uow.commit()
            return record

        return await retry_on_conflict(command)

    async def remove_file(self, repository: str, version: str, path: str) -> None:
        validate_repository_name(repository)
        validate_version_name(version)

        async def command() -> None:
            async with self.uow() as uow:
                aggregate = await _load_version(uow, repository, version)
                aggregate.remove_file(path)
                await uow.events.append(aggregate.stream_id, aggregate.loaded_version, aggregate.collect())
                await uow.commit()

        await retry_on_conflict(command)

    async def get_version_config(self, repository: str, version: str) -> tuple[str, bytes, str]:
        """The config blob (media type, bytes, digest) a commit of the version names."""
        found = await self.get_version(repository, version)
        media_type, content = config_blob(found.kind, found.version, found.metadata, repository)
        return media_type, content, str(Digest.of(content))

    async def commit_version(
        self, repository: str, version: str, config_digest: str
    ) -> tuple[VersionRecord, bytes]:
        validate_repository_name(repository)
        validate_version_name(version)
        config_key = str(Digest.parse(config_digest))

        async def command() -> tuple[VersionRecord, bytes]:
            async with self.uow() as uow:
                views = uow.views
                kind = _require_artifacts(repository, await views.lock_repository(repository))
                repository_version = await uow.events.stream_version(Repository.stream_for(repository))
                aggregate = await _load_version(uow, repository, version)
                if not aggregate.exists:
                    raise version_unknown(repository, version)
                files = aggregate.complete_files()  # VERSION_COMMITTED, FILES_INCOMPLETE
                config_type, config = config_blob(kind, version, aggregate.metadata, repository)
                expected_config = str(Digest.of(config))
                if config_key != expected_config:
                    raise FailedPrecondition(
                        f"version {quote(version)} commits with config {expected_config}, not {config_key} "
                        "(GetVersionConfig gives it)",
                        code="CONFIG_MISMATCH",
                    )
                needed = [config_key, *(f.digest for f in files)]
                held = await views.blob_sizes(repository, needed)
                missing = sorted({d for d in needed if d not in held})
                if missing:
                    raise FailedPrecondition(
                        f"{quote(repository)} does not hold {', '.join(missing[:3])}"
                        + (f" and {len(missing) - 3} more" if len(missing) > 3 else ""),
                        code="BLOB_UNKNOWN",
                        detail=" ".join(missing[:20]),
                    )
                if await views.tag_target(repository, version) is not None:
                    raise AlreadyExists(
                        f"{quote(repository)} has a tag {quote(version)} already", code="VERSION_EXISTS"
                    )
                content = build_manifest(kind, version, files, config_type, config)
                parsed = parse_manifest(content, OCI_MANIFEST)
                pushed = Repository.restore(
                    repository,
                    repository_version,
                    kind=kind,
                    manifests=await views.manifest_sizes(repository, [str(parsed.digest)]),
                )
                pushed.push_manifest(parsed, version, held, {})
                aggregate.commit(parsed.digest, config_key)
                await uow.events.append(aggregate.stream_id, aggregate.loaded_version, aggregate.collect())
                next_version = await _append(uow, pushed.stream_id, pushed.loaded_version, pushed.collect())
                artifacts = await _artifact_repository(uow, repository, kind, next_version)
                artifacts.version_committed(version)
                await uow.events.append(artifacts.stream_id, next_version, artifacts.collect())
                record = await self._version_record(uow, repository, version)
                await uow.commit()
            return record, content

        return await retry_on_conflict(command)

    async def delete_version(self, repository: str, version: str) -> None:
        """Delete a version; a committed one's tag goes too, and its manifest unless another tag names it or
        an index lists it."""
        validate_repository_name(repository)
        validate_version_name(version)

        async def command() -> None:
            async with self.uow() as uow:
                views = uow.views
                kind = _require_artifacts(repository, await views.lock_repository(repository))
                repository_version = await uow.events.stream_version(Repository.stream_for(repository))
                aggregate = await _load_version(uow, repository, version, files=False)
                digest = aggregate.manifest_digest
                aggregate.delete()
                await uow.events.append(aggregate.stream_id, aggregate.loaded_version, aggregate.collect())
                events: list[DomainEvent] = []
                if digest:
                    tagged = await views.tags_of(repository, digest)
                    oci = Repository.restore(
                        repository,
                        repository_version,
                        kind=kind,
                        tags=dict.fromkeys(tagged, digest),
                        manifests=await views.manifest_sizes(repository, [digest]),
                    )
                    if version in tagged:
                        oci.delete_tag(version)
                    if (
                        not oci.tags
                        and digest in oci.manifests
                        and not await views.indexes_listing(repository, digest)
                    ):
                        oci.delete_manifest(digest)
                    events = oci.collect()
                next_version = await _append(
                    uow, Repository.stream_for(repository), repository_version, events
                )
                artifacts = await _artifact_repository(uow, repository, kind, next_version)
                artifacts.version_deleted(version, await views.newest_committed(repository))
                await uow.events.append(artifacts.stream_id, next_version, artifacts.collect())
                await uow.commit()

        await retry_on_conflict(command)

    # -- helpers ----------------------------------------------------------------------------------------

    @staticmethod
    async def _version_record(uow: UnitOfWork[ArtifactViews], repository: str, version: str) -> VersionRecord:
        found = await uow.views.version(repository, version)
        if found is None:
            if await uow.views.artifact_repository(repository) is None:
                raise _name_unknown(repository)
            raise version_unknown(repository, version)
        files = await uow.views.version_files(repository, version)
        return dataclasses.replace(found, files=tuple(files))

    @staticmethod
    async def _file(uow: UnitOfWork[ArtifactViews], repository: str, version: str, path: str) -> FileRecord:
        for file in await uow.views.version_files(repository, version):
            if file.path == path:
                return file
        raise NotFound(f"{quote(path)} is not in version {quote(version)}", code="FILE_UNKNOWN")


def metadata_fields(values: Mapping[str, Any]) -> RepositoryMetadata:
    """RepositoryMetadata from a mapping of its field names (unknown names ignored)."""
    names = {f.name for f in dataclasses.fields(RepositoryMetadata)}
    picked = {k: v for k, v in values.items() if k in names}
    if "labels" in picked:
        picked["labels"] = tuple(picked["labels"])
    return RepositoryMetadata(**picked)
