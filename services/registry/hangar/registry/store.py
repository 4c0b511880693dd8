"""The registry's read models (repositories, blobs, manifests, manifest references, tags), their projector,
the views the app reads, the event codec and the migrations directory.

Projections run inside the appending transaction (`hangar.kit.eventstore`), so the views are exactly as
current as the event streams: the app may decide commands on them (see docs/decisions/0004). A deleted
manifest's row goes with the references it made as an index; a deleted tag's row goes.
On PostgreSQL, names and tags sort with the "C" collation: OCI lists tags in byte order, not in a locale's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from hangar.api.registry.v1 import events_pb2
from hangar.kit.codec import EventCodec
from hangar.kit.eventstore import Projector, StoredEvent
from hangar.kit.schema import sorted_text
from hangar.registry.app import Referrer, StoredManifest
from hangar.registry.artifact_store import ArtifactSqlViews, project_artifacts, register_artifact_events
from hangar.registry.domain import (
    BlobDereferenced,
    BlobLinked,
    BlobOrphaned,
    BlobReferenced,
    BlobUnlinked,
    ManifestDeleted,
    ManifestPushed,
    RepositoryCreated,
    TagDeleted,
    TagMoved,
    manifest_blob_digests,
)

MIGRATIONS = Path(__file__).parent / "migrations"


Name = sorted_text(255)
TagName = sorted_text(128)
DigestText = String(135)  # sha512:<128 hex>
MediaType = String(255)

metadata = MetaData()

repositories = Table(
    "repositories",
    metadata,
    Column("name", Name, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

blobs = Table(
    "blobs",
    metadata,
    Column("repository", Name, primary_key=True),
    Column("digest", DigestText, primary_key=True),
    Column("size", BigInteger, nullable=False),
    # Which repositories hold a blob: cross-repository mounts and garbage collection ask.
    Index("ix_blobs_digest", "digest"),
)

manifests = Table(
    "manifests",
    metadata,
    Column("repository", Name, primary_key=True),
    Column("digest", DigestText, primary_key=True),
    Column("media_type", MediaType, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    # "" when the manifest has no subject / no artifact type.
    Column("subject_digest", DigestText, nullable=False),
    Column("artifact_type", MediaType, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The referrers API: the manifests whose subject is a given digest.
    Index("ix_manifests_subject", "repository", "subject_digest"),
)

manifest_references = Table(
    "manifest_references",
    metadata,
    Column("repository", Name, primary_key=True),
    Column("parent_digest", DigestText, primary_key=True),
    Column("child_digest", DigestText, primary_key=True),
    # Whether an index still lists a manifest (before deleting it).
    Index("ix_manifest_references_child", "repository", "child_digest"),
)

manifest_blobs = Table(
    "manifest_blobs",
    metadata,
    Column("repository", Name, primary_key=True),
    Column("manifest_digest", DigestText, primary_key=True),
    Column("blob_digest", DigestText, primary_key=True),
    # Which manifests name a blob as config or layer (before deleting the blob).
    Index("ix_manifest_blobs_blob", "repository", "blob_digest"),
)

tags = Table(
    "tags",
    metadata,
    Column("repository", Name, primary_key=True),
    Column("tag", TagName, primary_key=True),
    Column("digest", DigestText, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The tags that point at a manifest.
    Index("ix_tags_digest", "repository", "digest"),
)


def codec() -> EventCodec:
    """The registry events and their messages; a manifest's bytes and children stay in the event store."""
    registry = EventCodec("registry")
    registry.register(RepositoryCreated, events_pb2.RepositoryCreated)
    registry.register(BlobLinked, events_pb2.BlobLinked)
    registry.register(ManifestPushed, events_pb2.ManifestPushed, private=["children", "content"])
    registry.register(TagMoved, events_pb2.TagMoved)
    registry.register(ManifestDeleted, events_pb2.ManifestDeleted)
    registry.register(TagDeleted, events_pb2.TagDeleted)
    registry.register(BlobUnlinked, events_pb2.BlobUnlinked)
    registry.register(BlobReferenced, events_pb2.BlobReferenced)
    registry.register(BlobDereferenced, events_pb2.BlobDereferenced)
    registry.register(BlobOrphaned, events_pb2.BlobOrphaned)
    register_artifact_events(registry)
    return registry


# -- projection -------------------------------------------------------------------------------------------


# The statements of a push's and a pull's hot path, built once: SQLAlchemy reuses their cache keys and
# compiled forms, a call only binds values.
_INSERT_BLOB = insert(blobs)
_REPOSITORY_KIND = select(repositories.c.kind).where(repositories.c.name == bindparam("repo"))
_BLOB_SIZE = select(blobs.c.size).where(
    blobs.c.repository == bindparam("repo"), blobs.c.digest == bindparam("digest")
)
_LINKING = select(func.count()).select_from(blobs).where(blobs.c.digest == bindparam("digest"))
_MANIFEST = select(manifests.c.digest, manifests.c.media_type, manifests.c.content).where(
    manifests.c.repository == bindparam("repo"), manifests.c.digest == bindparam("digest")
)
_TAGGED_MANIFEST = (
    select(manifests.c.digest, manifests.c.media_type, manifests.c.content)
    .select_from(
        tags.join(
            manifests,
            (manifests.c.repository == tags.c.repository) & (manifests.c.digest == tags.c.digest),
        )
    )
    .where(tags.c.repository == bindparam("repo"), tags.c.tag == bindparam("tag"))
)
_TAG_TARGET = select(tags.c.digest).where(
    tags.c.repository == bindparam("repo"), tags.c.tag == bindparam("tag")
)


async def project_registry(session: AsyncConnection, stored: StoredEvent) -> None:
    """Keep the read models in step with the registry events, in the appending transaction."""
    at = stored.recorded_at
    match stored.event:
        case RepositoryCreated() as event:
            await session.execute(
                insert(repositories).values(name=event.repository, kind=event.kind, created_at=at)
            )
        case BlobLinked() as event:
            await session.execute(
                _INSERT_BLOB, {"repository": event.repository, "digest": event.digest, "size": event.size}
            )
        case BlobUnlinked() as event:
            await session.execute(
                delete(blobs).where(blobs.c.repository == event.repository, blobs.c.digest == event.digest)
            )
        case ManifestPushed() as event:
            named = manifest_blob_digests(event.media_type, event.content)
            if named:
                await session.execute(
                    insert(manifest_blobs),
                    [
                        {"repository": event.repository, "manifest_digest": event.digest, "blob_digest": blob}
                        for blob in named
                    ],
                )
            await session.execute(
                insert(manifests).values(
                    repository=event.repository,
                    digest=event.digest,
                    media_type=event.media_type,
                    size=event.size,
                    content=event.content,
                    subject_digest=event.subject_digest,
                    artifact_type=event.artifact_type,
                    created_at=at,
                )
            )
            if event.children:
                await session.execute(
                    insert(manifest_references),
                    [
                        {"repository": event.repository, "parent_digest": event.digest, "child_digest": child}
                        for child in event.children
                    ],
                )
        case TagMoved() as event:
            if event.previous_digest:
                await session.execute(
                    update(tags)
                    .where(tags.c.repository == event.repository, tags.c.tag == event.tag)
                    .values(digest=event.digest, updated_at=at)
                )
            else:
                await session.execute(
                    insert(tags).values(
                        repository=event.repository, tag=event.tag, digest=event.digest, updated_at=at
                    )
                )
        case TagDeleted() as event:
            await session.execute(
                delete(tags).where(tags.c.repository == event.repository, tags.c.tag == event.tag)
            )
        case ManifestDeleted() as event:
            # The references it made as an index go with it: its children become deletable; so do its blobs.
            await session.execute(
                delete(manifest_blobs).where(
                    manifest_blobs.c.repository == event.repository,
                    manifest_blobs.c.manifest_digest == event.digest,
                )
            )
            await session.execute(
                delete(manifest_references).where(
                    manifest_references.c.repository == event.repository,
                    manifest_references.c.parent_digest == event.digest,
                )
            )
            await session.execute(
                delete(manifests).where(
                    manifests.c.repository == event.repository, manifests.c.digest == event.digest
                )
            )


PROJECTORS: list[Projector] = [project_registry, project_artifacts]


# -- views ------------------------------------------------------------------------------------------------

# Digests per IN (...) query: far below every backend's limit on bound parameters.
_CHUNK = 500


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


class SqlViews(ArtifactSqlViews):
    """`hangar.registry.app.Views` over the read-model tables, on the session of one unit of work."""

    def __init__(self, session: AsyncConnection) -> None:
        self._session = session

    async def repository_kind(self, repository: str) -> str | None:
        result = await self._session.execute(_REPOSITORY_KIND, {"repo": repository})
        return result.scalar_one_or_none()

    async def lock_repository(self, repository: str) -> str | None:
        # FOR UPDATE on PostgreSQL; SQLite renders no lock (its write transactions already run one at a time).
        result = await self._session.execute(
            select(repositories.c.kind).where(repositories.c.name == repository).with_for_update()
        )
        return result.scalar_one_or_none()

    async def lock_blob_usage(self, digest: str) -> None:
        # A transaction-scoped advisory lock on PostgreSQL (there is no row to lock before a digest's first
        # link); SQLite's write transactions already run one at a time.
        if self._session.dialect.name == "postgresql":
            hashed = hashlib.sha256(f"blobusage:{digest}".encode()).digest()
            key = int.from_bytes(hashed[:8], "big", signed=True)
            await self._session.execute(select(func.pg_advisory_xact_lock(key)))

    async def blob_size(self, repository: str, digest: str) -> int | None:
        result = await self._session.execute(_BLOB_SIZE, {"repo": repository, "digest": digest})
        return result.scalar_one_or_none()

    async def blob_sizes(self, repository: str, digests: Collection[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(sorted(set(digests))):
            result = await self._session.execute(
                select(blobs.c.digest, blobs.c.size).where(
                    blobs.c.repository == repository, blobs.c.digest.in_(chunk)
                )
            )
            found.update((row.digest, row.size) for row in result)
        return found

    async def manifest_sizes(self, repository: str, digests: Collection[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(sorted(set(digests))):
            result = await self._session.execute(
                select(manifests.c.digest, manifests.c.size).where(
                    manifests.c.repository == repository, manifests.c.digest.in_(chunk)
                )
            )
            found.update((row.digest, row.size) for row in result)
        return found

    async def manifest(self, repository: str, digest: str) -> StoredManifest | None:
        result = await self._session.execute(_MANIFEST, {"repo": repository, "digest": digest})
        row = result.one_or_none()
        return None if row is None else StoredManifest(row.digest, row.media_type, row.content)

    async def tagged_manifest(self, repository: str, tag: str) -> StoredManifest | None:
        result = await self._session.execute(_TAGGED_MANIFEST, {"repo": repository, "tag": tag})
        row = result.one_or_none()
        return None if row is None else StoredManifest(row.digest, row.media_type, row.content)

    async def tag_target(self, repository: str, tag: str) -> str | None:
        result = await self._session.execute(_TAG_TARGET, {"repo": repository, "tag": tag})
        return result.scalar_one_or_none()

    async def tags_of(self, repository: str, digest: str) -> list[str]:
        result = await self._session.execute(
            select(tags.c.tag)
            .where(tags.c.repository == repository, tags.c.digest == digest)
            .order_by(tags.c.tag)
        )
        return list(result.scalars())

    async def indexes_listing(self, repository: str, digest: str) -> list[str]:
        result = await self._session.execute(
            select(manifest_references.c.parent_digest)
            .where(
                manifest_references.c.repository == repository, manifest_references.c.child_digest == digest
            )
            .order_by(manifest_references.c.parent_digest)
        )
        return list(result.scalars())

    async def manifests_using(self, repository: str, digest: str, limit: int) -> list[str]:
        result = await self._session.execute(
            select(manifest_blobs.c.manifest_digest)
            .where(manifest_blobs.c.repository == repository, manifest_blobs.c.blob_digest == digest)
            .order_by(manifest_blobs.c.manifest_digest)
            .limit(limit)
        )
        return list(result.scalars())

    async def repositories_linking(self, digest: str) -> int:
        result = await self._session.execute(_LINKING, {"digest": digest})
        return int(result.scalar_one())

    async def tags(self, repository: str, *, after: str | None, limit: int | None) -> list[str]:
        query = select(tags.c.tag).where(tags.c.repository == repository).order_by(tags.c.tag)
        if after is not None:
            query = query.where(tags.c.tag > after)
        if limit is not None:
            query = query.limit(limit)
        return list((await self._session.execute(query)).scalars())

    async def referrers(self, repository: str, subject: str, artifact_type: str | None) -> list[Referrer]:
        query = (
            select(manifests.c.media_type, manifests.c.digest, manifests.c.size, manifests.c.artifact_type)
            .where(manifests.c.repository == repository, manifests.c.subject_digest == subject)
            .order_by(manifests.c.digest)
        )
        if artifact_type is not None:
            query = query.where(manifests.c.artifact_type == artifact_type)
        result = await self._session.execute(query)
        return [Referrer(row.media_type, row.digest, row.size, row.artifact_type) for row in result]

    async def referrer_contents(self, repository: str, digests: Collection[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for chunk in _chunks(sorted(set(digests))):
            result = await self._session.execute(
                select(manifests.c.digest, manifests.c.content).where(
                    manifests.c.repository == repository, manifests.c.digest.in_(chunk)
                )
            )
            found.update((row.digest, row.content) for row in result)
        return found

    async def repository_names(self, *, after: str | None, limit: int | None) -> list[str]:
        query = select(repositories.c.name).order_by(repositories.c.name)
        if after is not None:
            query = query.where(repositories.c.name > after)
        if limit is not None:
            query = query.limit(limit)
        return list((await self._session.execute(query)).scalars())
