"""The version use cases of ArtifactApp: open, read and list versions, their files, commit and delete."""

from __future__ import annotations

import dataclasses
from typing import Final

from hangar.kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from hangar.kit.events import DomainEvent
from hangar.kit.paging import decode_page_token, encode_page_token, page_limit
from hangar.kit.uow import UnitOfWork, UnitOfWorkFactory, retry_on_conflict
from hangar.registry.artifacts.aggregates import (
    _append,
    _artifact_repository,
    _flush,
    _kind_mismatch,
    _load_version,
    _name_unknown,
    _require_artifacts,
)
from hangar.registry.artifacts.ports import ArtifactViews, FileRecord, LinkBlob, VersionRecord
from hangar.registry.domain.artifacts import ArtifactRepository, build_manifest, config_blob
from hangar.registry.domain.digests import Digest
from hangar.registry.domain.manifests import OCI_MANIFEST, parse_manifest
from hangar.registry.domain.metadata import ARTIFACT_KINDS, RepositoryMetadata, VersionMetadata
from hangar.registry.domain.names import validate_repository_name
from hangar.registry.domain.quoting import quote
from hangar.registry.domain.repository import Repository
from hangar.registry.domain.versions import (
    COMMITTED,
    LATEST,
    FileRef,
    VersionFile,
    inherited_files,
    validate_version_name,
    version_unknown,
)

ORDERS: Final = frozenset({"semver", "created"})


class VersionCommands:
    """Versions and their files: create, upload, commit, delete; read and list."""

    uow: UnitOfWorkFactory[ArtifactViews]
    _link_blob: LinkBlob

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
