"""The registry's commands and queries: blobs linked to repositories, manifests pushed and served, tags.

Streams (docs/decisions/0004): `repo-<name>` holds a repository's creation, manifests and tag moves;
`bloblink-<hash>` holds the one link of a blob to a repository, so parallel layer uploads never contend.
Commands never replay a repository stream: they read its version, then the read models (written in the
same transactions as the events, so as current as that version), decide, and append at that version; a
concurrent append makes the command conflict and `retry_on_conflict` runs it again on fresh state.
Pushes and deletes of one repository queue on its row lock, so an index pushed while its child is deleted
either sees the child gone (MANIFEST_BLOB_UNKNOWN) or stops the delete (MANIFEST_REFERENCED).
Queries use read-only units of work and the read models only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any, Protocol

from hangar.kit.errors import NotFound
from hangar.kit.uow import UnitOfWork, UnitOfWorkFactory, retry_on_conflict
from hangar.registry.artifacts import kind_of_push, versions_on_delete, versions_on_push
from hangar.registry.domain import (
    BlobLink,
    BlobUsage,
    Digest,
    ManifestDeleted,
    ParsedManifest,
    Repository,
    Tag,
    TagDeleted,
    paginate_tags,
    parse_manifest,
    parse_reference,
    stored_annotations,
    validate_page_size,
    validate_repository_name,
)
from hangar.registry.domain.quoting import quote


@dataclasses.dataclass(frozen=True)
class StoredManifest:
    """A manifest as served: its digest, media type and exact bytes."""

    digest: str
    media_type: str
    content: bytes = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class Deletion:
    """What a delete removed: the manifest (`manifest_deleted`), or only tags of it, in lexical order."""

    digest: str
    tags: tuple[str, ...]
    manifest_deleted: bool


@dataclasses.dataclass(frozen=True)
class Referrer:
    """A manifest whose subject is a given digest, as the referrers API lists it (an index descriptor)."""

    media_type: str
    digest: str
    size: int
    artifact_type: str
    annotations: dict[str, str] = dataclasses.field(default_factory=dict)


class Views(Protocol):
    """The read models the app decides and answers on (implemented in `hangar.registry.store`)."""

    async def repository_kind(self, repository: str) -> str | None: ...

    async def lock_repository(self, repository: str) -> str | None:
        """`repository_kind`, holding the repository until the unit of work ends: commands that append to
        one repository's stream then queue instead of racing and retrying."""
        ...

    async def lock_blob_usage(self, digest: str) -> None:
        """Hold a digest's usage until the unit of work ends: links and unlinks of one digest, in any
        repository, then queue instead of racing for its stream and retrying."""
        ...

    async def blob_size(self, repository: str, digest: str) -> int | None: ...

    async def blob_sizes(self, repository: str, digests: Collection[str]) -> dict[str, int]: ...

    async def manifest_sizes(self, repository: str, digests: Collection[str]) -> dict[str, int]: ...

    async def manifest(self, repository: str, digest: str) -> StoredManifest | None: ...

    async def tagged_manifest(self, repository: str, tag: str) -> StoredManifest | None: ...

    async def tag_target(self, repository: str, tag: str) -> str | None: ...

    async def tags_of(self, repository: str, digest: str) -> list[str]:
        """The tags pointing at a manifest."""
        ...

    async def indexes_listing(self, repository: str, digest: str) -> list[str]:
        """The indexes of the repository that list a manifest among their children."""
        ...

    async def manifests_using(self, repository: str, digest: str, limit: int) -> list[str]:
        """The manifests of the repository whose config or layers name a blob, by digest, at most `limit`."""
        ...

    async def repositories_linking(self, digest: str) -> int:
        """How many repositories link a blob."""
        ...

    async def tags(self, repository: str, *, after: str | None, limit: int | None) -> list[str]: ...

    async def referrers(self, repository: str, subject: str, artifact_type: str | None) -> list[Referrer]:
        """The manifests whose subject is `subject` (of `artifact_type` only, when given), by digest; their
        annotations left empty (the app reads them from the content)."""
        ...

    async def referrer_contents(self, repository: str, digests: Collection[str]) -> dict[str, bytes]: ...

    async def repository_names(self, *, after: str | None, limit: int | None) -> list[str]: ...


#: A refused blob delete names at most this many of the manifests that use the blob.
_SHOWN_USERS = 20


def _name_unknown(repository: str) -> NotFound:
    return NotFound(f"repository {quote(repository)} does not exist", code="NAME_UNKNOWN")


class App:
    """The registry service's use cases over one unit-of-work factory."""

    def __init__(self, uow: UnitOfWorkFactory[Any]) -> None:
        self.uow: UnitOfWorkFactory[Views] = uow

    # -- commands -----------------------------------------------------------------------------------------

    async def link_blob(self, repository: str, digest: str, size: int) -> None:
        """Record that `repository` holds a stored blob; create the repository (a container) on first use.

        Idempotent. Linking a digest again with another size is SIZE_INVALID.
        """
        validate_repository_name(repository)
        key = str(Digest.parse(digest))
        # No read-only look first: a push links blobs the repository does not hold yet (it HEADs them
        # before uploading), and a link already there costs the write transaction one read and no write.
        await retry_on_conflict(lambda: self._link_blob(repository, key, size))

    async def _link_blob(self, repository: str, digest: str, size: int) -> None:
        async with self.uow() as uow:
            link_id = BlobLink.id_for(repository, digest)
            stored = await uow.events.load(BlobLink.stream_for(link_id))
            link = BlobLink.rehydrate(link_id, (record.event for record in stored))
            link.link(repository, digest, size)
            expected, events = link.loaded_version, link.collect()
            if not events:
                return
            if await uow.views.repository_kind(repository) is None:
                created = Repository.create(repository)
                await uow.events.append(created.stream_id, 0, created.collect())
            usage = await _usage(uow, digest)
            usage.linked(await uow.views.repositories_linking(digest) + 1)
            await uow.events.append(link.stream_id, expected, events)
            await uow.events.append(usage.stream_id, usage.loaded_version, usage.collect())
            await uow.commit()

    async def unlink_blob(self, repository: str, digest: str) -> tuple[str, int]:
        """Remove a blob from a repository (blob DELETE); return its canonical digest and size.

        A blob the config or a layer of one of the repository's manifests names is BLOB_REFERENCED (naming
        such manifests); a blob the repository does not hold is BLOB_UNKNOWN, an unknown repository
        NAME_UNKNOWN. The last unlink of a digest anywhere records BlobOrphaned (garbage collection).
        """
        validate_repository_name(repository)
        key = str(Digest.parse(digest))
        return await retry_on_conflict(lambda: self._unlink_blob(repository, key))

    async def _unlink_blob(self, repository: str, digest: str) -> tuple[str, int]:
        async with self.uow() as uow:
            views = uow.views
            # Manifest pushes queue on the same lock: none can start naming the blob before this commits.
            if await views.lock_repository(repository) is None:
                raise _name_unknown(repository)
            link_id = BlobLink.id_for(repository, digest)
            stored = await uow.events.load(BlobLink.stream_for(link_id))
            link = BlobLink.rehydrate(link_id, (record.event for record in stored))
            users = await views.manifests_using(repository, digest, _SHOWN_USERS) if link.linked else []
            size = link.size or 0
            link.unlink(repository, digest, users)
            usage = await _usage(uow, digest)
            # This repository's row is still there: it is among those counted.
            usage.unlinked(max(await views.repositories_linking(digest) - 1, 0))
            await uow.events.append(link.stream_id, link.loaded_version, link.collect())
            await uow.events.append(usage.stream_id, usage.loaded_version, usage.collect())
            await uow.commit()
        return digest, size

    async def put_manifest(
        self, repository: str, reference: str, media_type: str, content: bytes, config: bytes = b""
    ) -> tuple[str, str]:
        """Store a manifest under a tag or its own digest; return its digest and its subject's ("" if none).

        Every blob it names must be linked in this repository and every child of an index pushed to it
        (MANIFEST_BLOB_UNKNOWN); a digest reference must be the content's digest (DIGEST_INVALID). Creates
        the repository (a container) on first use; a refused push writes nothing.

        A model, resource or chart manifest (by artifactType or config media type) creates a repository of
        that kind instead, and under a tag makes that version, committed, its metadata read from `config`
        (the config blob's bytes, optional): see `hangar.registry.artifacts.versions_on_push`.
        """
        validate_repository_name(repository)
        target = parse_reference(reference)
        parsed = parse_manifest(
            content, media_type or None, expected_digest=target if isinstance(target, Digest) else None
        )
        tag = target.name if isinstance(target, Tag) else None
        created_kind = kind_of_push(parsed) or "container"
        await retry_on_conflict(lambda: self._push_manifest(repository, parsed, tag, created_kind, config))
        return str(parsed.digest), str(parsed.subject) if parsed.subject else ""

    async def _push_manifest(
        self, repository: str, parsed: ParsedManifest, tag: str | None, created_kind: str, config: bytes
    ) -> None:
        digest = str(parsed.digest)
        async with self.uow() as uow:
            views = uow.views
            # Pushes to one repository queue on its lock; only racing creations of a repository conflict.
            kind = await views.lock_repository(repository)
            stream = Repository.stream_for(repository)
            # The version before the other views: those are then at least as current, so a decision taken on
            # rows newer than the version conflicts on append instead of being lost.
            version = await uow.events.stream_version(stream)
            if kind is None:
                aggregate = Repository.create(repository, created_kind)
            else:
                current = await views.tag_target(repository, tag) if tag is not None else None
                aggregate = Repository.restore(
                    repository,
                    version,
                    kind=kind,
                    tags={tag: current} if tag is not None and current is not None else {},
                    manifests=await views.manifest_sizes(repository, [digest]),
                )
            known_blobs = await views.blob_sizes(repository, [str(d) for d in parsed.blobs])
            known_manifests = await views.manifest_sizes(repository, [str(d) for d in parsed.children])
            aggregate.push_manifest(parsed, tag, known_blobs, known_manifests)
            expected, events = aggregate.loaded_version, aggregate.collect()
            if not events:
                return
            await uow.events.append(stream, expected, events)
            after = expected + len(events)
            await versions_on_push(uow, repository, aggregate.kind, parsed, tag, config, after)
            await uow.commit()

    async def delete_manifest(self, repository: str, reference: str) -> Deletion:
        """Delete by digest a manifest and every tag pointing at it, or by tag only that tag.

        A manifest an index of the repository lists is MANIFEST_REFERENCED (naming the index); an unknown
        manifest or tag is MANIFEST_UNKNOWN, an unknown repository NAME_UNKNOWN. The blobs stay linked.
        """
        validate_repository_name(repository)
        target = parse_reference(reference)
        return await retry_on_conflict(lambda: self._delete_manifest(repository, target))

    async def _delete_manifest(self, repository: str, target: Digest | Tag) -> Deletion:
        async with self.uow() as uow:
            views = uow.views
            # The queue pushes wait in: no index naming this manifest can land between decision and append.
            kind = await views.lock_repository(repository)
            stream = Repository.stream_for(repository)
            version = await uow.events.stream_version(stream)
            listing: list[str] = []
            if kind is None:
                aggregate = Repository(repository)  # never created: the delete is NAME_UNKNOWN
            elif isinstance(target, Digest):
                digest = str(target)
                aggregate = Repository.restore(
                    repository,
                    version,
                    kind=kind,
                    tags=dict.fromkeys(await views.tags_of(repository, digest), digest),
                    manifests=await views.manifest_sizes(repository, [digest]),
                )
                listing = await views.indexes_listing(repository, digest)
            else:
                current = await views.tag_target(repository, target.name)
                aggregate = Repository.restore(
                    repository, version, kind=kind, tags={} if current is None else {target.name: current}
                )
            if isinstance(target, Digest):
                aggregate.delete_manifest(target, listing)
            else:
                aggregate.delete_tag(target.name)
            expected, events = aggregate.loaded_version, aggregate.collect()
            await uow.events.append(stream, expected, events)
            # A version's tag or manifest gone: the version goes with it (docs/decisions/0022).
            await versions_on_delete(uow, repository, kind or "", events, expected + len(events))
            await uow.commit()
        last = events[-1]  # ManifestDeleted after the tags of a deleted manifest; else the one TagDeleted
        assert isinstance(last, ManifestDeleted | TagDeleted)
        return Deletion(
            digest=last.digest,
            tags=tuple(event.tag for event in events if isinstance(event, TagDeleted)),
            manifest_deleted=isinstance(last, ManifestDeleted),
        )

    # -- queries ------------------------------------------------------------------------------------------

    async def get_manifest(self, repository: str, reference: str) -> tuple[str, str, bytes]:
        """A manifest by tag or digest: its digest, media type and exact bytes.

        NAME_UNKNOWN when the repository does not exist, MANIFEST_UNKNOWN when it lacks the manifest.
        """
        validate_repository_name(repository)
        target = parse_reference(reference)
        async with self.uow(readonly=True) as uow:
            if isinstance(target, Digest):
                found = await uow.views.manifest(repository, str(target))
            else:
                found = await uow.views.tagged_manifest(repository, target.name)
            if found is None:
                if await uow.views.repository_kind(repository) is None:
                    raise _name_unknown(repository)
                raise NotFound(
                    f"manifest {quote(reference)} is not in {quote(repository)}", code="MANIFEST_UNKNOWN"
                )
        return found.digest, found.media_type, found.content

    async def stat_blob(self, repository: str, digest: str) -> int:
        """The size of a blob linked in `repository`; NAME_UNKNOWN or BLOB_UNKNOWN when it is not."""
        validate_repository_name(repository)
        key = str(Digest.parse(digest))
        async with self.uow(readonly=True) as uow:
            size = await uow.views.blob_size(repository, key)
            if size is None:
                if await uow.views.repository_kind(repository) is None:
                    raise _name_unknown(repository)
                raise NotFound(f"blob {key} is not in {quote(repository)}", code="BLOB_UNKNOWN")
        return size

    async def list_tags(self, repository: str, n: int | None, last: str | None) -> tuple[list[str], bool]:
        """A page of the repository's tags in lexical (byte) order after `last`, at most `n` (None: all),
        and whether more follow. NAME_UNKNOWN when the repository does not exist."""
        validate_repository_name(repository)
        validate_page_size(n)
        async with self.uow(readonly=True) as uow:
            # One more than asked tells whether another page follows.
            rows = (
                []
                if n == 0
                else await uow.views.tags(repository, after=last, limit=None if n is None else n + 1)
            )
            if not rows and await uow.views.repository_kind(repository) is None:
                raise _name_unknown(repository)
        return paginate_tags(rows, n, last)

    async def list_referrers(
        self, repository: str, subject: str, artifact_type: str | None = None
    ) -> list[Referrer]:
        """The manifests of `repository` whose subject is `subject` (only those of `artifact_type` when
        given), ordered by digest, with their annotations. The subject need not be in the repository; an
        unknown repository has no referrers (the referrers API answers an empty index, never 404)."""
        validate_repository_name(repository)
        key = str(Digest.parse(subject))
        async with self.uow(readonly=True) as uow:
            found = await uow.views.referrers(repository, key, artifact_type or None)
            contents = await uow.views.referrer_contents(repository, [r.digest for r in found])
        return [
            dataclasses.replace(r, annotations=stored_annotations(contents[r.digest]))
            for r in found
            if r.digest in contents
        ]

    async def list_repositories(self, n: int | None, last: str | None) -> tuple[list[str], bool]:
        """A page of every repository's name in lexical (byte) order after `last`, at most `n` (None: all),
        and whether more follow (the catalog; the edge keeps the names a caller may see)."""
        validate_page_size(n)
        async with self.uow(readonly=True) as uow:
            rows = (
                []
                if n == 0
                else await uow.views.repository_names(after=last, limit=None if n is None else n + 1)
            )
        return paginate_tags(rows, n, last)


async def _usage(uow: UnitOfWork[Views], digest: str) -> BlobUsage:
    """The digest's usage at its stream's current version, read before any count it is given: a count read
    later is at least as current, and a change committed meanwhile makes the append conflict."""
    await uow.views.lock_blob_usage(digest)
    usage_id = BlobUsage.id_for(digest)
    return BlobUsage.restore(digest, await uow.events.stream_version(BlobUsage.stream_for(usage_id)))
