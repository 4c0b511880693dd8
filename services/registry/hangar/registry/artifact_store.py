"""The read models of models, resources and charts (and every repository's listing data), their projector,
the views `hangar.registry.artifacts` decides on, and the codec entries of the artifact events.

Tables: `repository_info` (a row per repository of any kind: namespace, metadata, `latest`), its
`repository_labels`, `versions` and `version_files`. They live in their own SQLAlchemy metadata (migration
r0003); the registry's core tables are referenced here by name only, so this module does not import
`hangar.registry.store` (which mixes these views into its `SqlViews`). Projections run in the appending
transaction, as in the rest of the registry (docs/decisions/0004).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Text,
    case,
    column,
    delete,
    exists,
    func,
    insert,
    select,
    table,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from hangar.api.registry.v1 import artifact_events_pb2
from hangar.kit.codec import EventCodec
from hangar.kit.eventstore import StoredEvent
from hangar.registry.artifacts import FileRecord, RepositoryRecord, SearchFilter, VersionRecord
from hangar.registry.domain.artifacts import (
    LatestMoved,
    LatestPolicyChanged,
    MetadataUpdated,
    RepositoryKindChanged,
)
from hangar.registry.domain.metadata import (
    ARTIFACT_KINDS,
    DOCUMENT_FIELDS,
    LATEST_AUTO,
    Attribute,
    RepositoryMetadata,
    VersionMetadata,
)
from hangar.registry.domain.repository import RepositoryCreated, TagDeleted, TagMoved
from hangar.registry.domain.versions import (
    COMMITTED,
    COMPLETE,
    INHERITED,
    PENDING,
    UPLOADING,
    FileRemoved,
    FileUploaded,
    FileUploadStarted,
    VersionCommitted,
    VersionCreated,
    VersionDeleted,
    version_sort_key,
)


def _sorted_text(length: int) -> TypeEngine[str]:
    """Text compared and ordered byte by byte on every backend (SQLite's BINARY; PostgreSQL's "C")."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


Name = _sorted_text(255)
VersionName = _sorted_text(128)
DigestText = String(135)

artifact_metadata = MetaData()

repository_info = Table(
    "repository_info",
    artifact_metadata,
    Column("name", Name, primary_key=True),
    # "acme" or "acme/vision": where the repository lives.
    Column("namespace", Name, nullable=False),
    Column("metadata", Text, nullable=False),  # RepositoryMetadata as JSON
    Column("latest_version", VersionName, nullable=False),
    Column("latest_policy", String(8), nullable=False),  # "" for containers
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_repository_info_namespace", "namespace", "name"),
)

repository_labels = Table(
    "repository_labels",
    artifact_metadata,
    Column("repository", Name, primary_key=True),
    Column("label", String(64), primary_key=True),
    Index("ix_repository_labels_label", "label", "repository"),
)

versions = Table(
    "versions",
    artifact_metadata,
    Column("repository", Name, primary_key=True),
    Column("version", VersionName, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("metadata", Text, nullable=False),  # VersionMetadata as JSON
    Column("base_version", VersionName, nullable=False),
    Column("manifest_digest", DigestText, nullable=False),
    Column("config_digest", DigestText, nullable=False),
    Column("size", BigInteger, nullable=False),  # of a committed version
    Column("created_by", String(256), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("committed_at", DateTime(timezone=True), nullable=True),
    Column("created_position", BigInteger, nullable=False),
    # The "semver" listing order (hangar.registry.domain.versions.version_sort_key).
    Column("sort_key", _sorted_text(512), nullable=False),
    Index("ix_versions_sort", "repository", "sort_key"),
    Index("ix_versions_created", "repository", "created_position"),
)

version_files = Table(
    "version_files",
    artifact_metadata,
    Column("repository", Name, primary_key=True),
    Column("version", VersionName, primary_key=True),
    Column("path", _sorted_text(1024), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("digest", DigestText, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("upload_id", String(256), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The registry's own tables (hangar.registry.store), by name: only what the listing reads.
_repositories = table(
    "repositories",
    column("name", String),
    column("kind", String),
    column("created_at", DateTime(timezone=True)),
)
_blobs = table("blobs", column("repository", String), column("size", BigInteger))
_tags = table("tags", column("repository", String), column("tag", String))
_manifests = table("manifests", column("repository", String), column("digest", String))


def register_artifact_events(codec: EventCodec) -> None:
    """The artifact events and their messages; inherited file lists and markdown stay in the event store."""
    codec.register(MetadataUpdated, artifact_events_pb2.MetadataUpdated, private=sorted(DOCUMENT_FIELDS))
    codec.register(VersionCreated, artifact_events_pb2.VersionCreated, private=["inherited"])
    codec.register(FileUploadStarted, artifact_events_pb2.FileUploadStarted)
    codec.register(FileUploaded, artifact_events_pb2.FileUploaded)
    codec.register(FileRemoved, artifact_events_pb2.FileRemoved)
    codec.register(VersionCommitted, artifact_events_pb2.VersionCommitted)
    codec.register(VersionDeleted, artifact_events_pb2.VersionDeleted)
    codec.register(LatestMoved, artifact_events_pb2.LatestMoved)
    codec.register(LatestPolicyChanged, artifact_events_pb2.LatestPolicyChanged)
    codec.register(RepositoryKindChanged, artifact_events_pb2.RepositoryKindChanged)


def _metadata_json(metadata: RepositoryMetadata) -> str:
    return json.dumps(dataclasses.asdict(metadata), sort_keys=True, separators=(",", ":"))


def _metadata_of(text: str) -> RepositoryMetadata:
    values = json.loads(text)
    values["labels"] = tuple(values.get("labels", ()))
    return RepositoryMetadata(**values)


def _version_metadata_json(metadata: VersionMetadata) -> str:
    document = dataclasses.asdict(metadata)
    document["attributes"] = [[a.key, a.value] for a in metadata.attributes]
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _version_metadata_of(text: str) -> VersionMetadata:
    values = json.loads(text)
    values["attributes"] = tuple(Attribute(k, v) for k, v in values.get("attributes", ()))
    return VersionMetadata(**values)


def namespace_of(repository: str) -> str:
    return repository.rsplit("/", 1)[0]


# -- projection -----------------------------------------------------------------------------------------


async def _touch(session: AsyncSession, repository: str, at: datetime) -> None:
    await session.execute(
        update(repository_info).where(repository_info.c.name == repository).values(updated_at=at)
    )


async def _put_file(session: AsyncSession, event: Any, at: datetime, **values: Any) -> None:
    where = (
        version_files.c.repository == event.repository,
        version_files.c.version == event.version,
        version_files.c.path == event.path,
    )
    await session.execute(delete(version_files).where(*where))
    await session.execute(
        insert(version_files).values(
            repository=event.repository, version=event.version, path=event.path, updated_at=at, **values
        )
    )


async def project_artifacts(session: AsyncSession, stored: StoredEvent) -> None:
    """Keep the artifact read models in step with the registry events, in the appending transaction."""
    at = stored.recorded_at
    match stored.event:
        case RepositoryCreated() as created:
            await session.execute(
                insert(repository_info).values(
                    name=created.repository,
                    namespace=namespace_of(created.repository),
                    metadata=_metadata_json(RepositoryMetadata()),
                    latest_version="",
                    latest_policy=LATEST_AUTO if created.kind in ARTIFACT_KINDS else "",
                    updated_at=at,
                )
            )
        case MetadataUpdated() as updated:
            await session.execute(
                update(repository_info)
                .where(repository_info.c.name == updated.repository)
                .values(metadata=_metadata_json(updated.metadata), updated_at=at)
            )
            await session.execute(
                delete(repository_labels).where(repository_labels.c.repository == updated.repository)
            )
            if updated.labels:
                await session.execute(
                    insert(repository_labels),
                    [{"repository": updated.repository, "label": label} for label in updated.labels],
                )
        case LatestMoved() as moved:
            await session.execute(
                update(repository_info)
                .where(repository_info.c.name == moved.repository)
                .values(latest_version=moved.version, updated_at=at)
            )
        case LatestPolicyChanged() as changed:
            await session.execute(
                update(repository_info)
                .where(repository_info.c.name == changed.repository)
                .values(latest_policy=changed.policy, updated_at=at)
            )
        case RepositoryKindChanged() as changed:
            await session.execute(
                update(_repositories)
                .where(_repositories.c.name == changed.repository)
                .values(kind=changed.kind)
            )
            await session.execute(
                update(repository_info)
                .where(repository_info.c.name == changed.repository)
                .values(latest_policy=LATEST_AUTO, updated_at=at)
            )
        case TagMoved() | TagDeleted():
            await _touch(session, stored.event.repository, at)
        case VersionCreated() as created:
            await session.execute(
                insert(versions).values(
                    repository=created.repository,
                    version=created.version,
                    kind=created.kind,
                    status=PENDING,
                    metadata=_version_metadata_json(created.metadata),
                    base_version=created.base_version,
                    manifest_digest="",
                    config_digest="",
                    size=0,
                    created_by=created.created_by,
                    created_at=at,
                    committed_at=None,
                    created_position=stored.position,
                    sort_key=version_sort_key(created.version),
                )
            )
            if created.inherited:
                await session.execute(
                    insert(version_files),
                    [
                        {
                            "repository": created.repository,
                            "version": created.version,
                            "path": f.path,
                            "status": INHERITED,
                            "digest": f.digest,
                            "size": f.size,
                            "upload_id": "",
                            "updated_at": at,
                        }
                        for f in created.inherited
                    ],
                )
        case FileUploadStarted() as started:
            await _put_file(
                session,
                started,
                at,
                status=UPLOADING,
                digest="",
                size=started.size,
                upload_id=started.upload_id,
            )
        case FileUploaded() as uploaded:
            await _put_file(
                session,
                uploaded,
                at,
                status=COMPLETE,
                digest=uploaded.digest,
                size=uploaded.size,
                upload_id="",
            )
        case FileRemoved() as removed:
            await session.execute(
                delete(version_files).where(
                    version_files.c.repository == removed.repository,
                    version_files.c.version == removed.version,
                    version_files.c.path == removed.path,
                )
            )
        case VersionCommitted() as committed:
            await session.execute(
                update(versions)
                .where(versions.c.repository == committed.repository, versions.c.version == committed.version)
                .values(
                    status=COMMITTED,
                    manifest_digest=committed.manifest_digest,
                    config_digest=committed.config_digest,
                    size=committed.size,
                    committed_at=at,
                )
            )
            await _touch(session, committed.repository, at)
        case VersionDeleted() as deleted:
            for model in (version_files, versions):
                await session.execute(
                    delete(model).where(
                        model.c.repository == deleted.repository, model.c.version == deleted.version
                    )
                )
            await _touch(session, deleted.repository, at)


# -- views ----------------------------------------------------------------------------------------------

#: Rows a search reads per query when its pattern needs filtering in Python; at most _MAX_SCANS queries.
_SCAN_CHUNK = 500
_MAX_SCANS = 40


def like_pattern(pattern: str) -> str:
    """A SQL LIKE pattern (escape "\\") matching at least every name the shell pattern matches (fnmatch:
    `*` any text, `?` one character, `[...]` one of a set: kept exact by filtering in Python after)."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "*":
            out.append("%")
        elif char == "?":
            out.append("_")
        elif char == "[":
            close = pattern.find(
                "]", index + 2 if pattern[index + 1 : index + 2] in ("!", "]") else index + 1
            )
            if close == -1:
                out.append("[")  # fnmatch takes an unclosed "[" literally
            else:
                out.append("_")
                index = close
        elif char in "%_\\":
            out.append("\\" + char)
        else:
            out.append(char)
        index += 1
    return "".join(out)


_PLAIN_PATTERN = re.compile(r"[^\[\]]*")


class ArtifactSqlViews:
    """`hangar.registry.artifacts.ArtifactViews` over the tables above (mixed into store.SqlViews)."""

    _session: AsyncSession

    def _repository_query(self) -> Any:
        committed = (
            select(func.count())
            .select_from(versions)
            .where(versions.c.repository == _repositories.c.name, versions.c.status == COMMITTED)
            .scalar_subquery()
        )
        tagged = (
            select(func.count())
            .select_from(_tags)
            .where(_tags.c.repository == _repositories.c.name)
            .scalar_subquery()
        )
        size = (
            select(func.coalesce(func.sum(_blobs.c.size), 0))
            .where(_blobs.c.repository == _repositories.c.name)
            .scalar_subquery()
        )
        return select(
            _repositories.c.name,
            _repositories.c.kind,
            _repositories.c.created_at,
            repository_info.c.metadata,
            repository_info.c.latest_version,
            repository_info.c.latest_policy,
            repository_info.c.updated_at,
            case((_repositories.c.kind == "container", tagged), else_=committed).label("version_count"),
            size.label("size"),
        ).select_from(_repositories.join(repository_info, repository_info.c.name == _repositories.c.name))

    @staticmethod
    def _repository_record(row: Any) -> RepositoryRecord:
        return RepositoryRecord(
            name=row.name,
            kind=row.kind,
            metadata=_metadata_of(row.metadata),
            latest_version=row.latest_version,
            latest_policy=row.latest_policy,
            version_count=int(row.version_count or 0),
            size=int(row.size or 0),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def artifact_repository(self, repository: str) -> RepositoryRecord | None:
        result = await self._session.execute(
            self._repository_query().where(_repositories.c.name == repository)
        )
        row = result.one_or_none()
        return None if row is None else self._repository_record(row)

    async def search_repositories(
        self, search: SearchFilter, *, after: str | None, limit: int
    ) -> tuple[list[RepositoryRecord], str | None]:
        query = self._repository_query().order_by(_repositories.c.name)
        if not search.all_namespaces:
            query = query.where(repository_info.c.namespace.in_(sorted(search.namespaces)))
        if search.kind:
            query = query.where(_repositories.c.kind == search.kind)
        for label in search.labels:
            query = query.where(
                exists().where(
                    repository_labels.c.repository == _repositories.c.name, repository_labels.c.label == label
                )
            )
        pattern = search.name_pattern
        exact = not pattern or _PLAIN_PATTERN.fullmatch(pattern) is not None
        if pattern:
            query = query.where(_repositories.c.name.like(like_pattern(pattern), escape="\\"))
        found: list[RepositoryRecord] = []
        cursor = after
        for _ in range(_MAX_SCANS):
            chunk = query if cursor is None else query.where(_repositories.c.name > cursor)
            rows = list(await self._session.execute(chunk.limit(limit if exact else _SCAN_CHUNK)))
            for row in rows:
                # LIKE is case-insensitive on SQLite and knows no [sets]: fnmatch decides exactly.
                if not pattern or fnmatch.fnmatchcase(row.name, pattern):
                    found.append(self._repository_record(row))
                    if len(found) == limit:
                        return found, None
            if exact or len(rows) < _SCAN_CHUNK:
                return found, None
            cursor = rows[-1].name
        # Scanned enough for one call: the caller pages on from the last name read.
        return found, cursor

    async def has_other_manifests(self, repository: str, digest: str) -> bool:
        result = await self._session.execute(
            select(_manifests.c.digest)
            .where(_manifests.c.repository == repository, _manifests.c.digest != digest)
            .limit(1)
        )
        return result.first() is not None

    async def lock_version(self, repository: str, version: str) -> VersionRecord | None:
        return await self._version(repository, version, lock=True)

    async def version(self, repository: str, version: str) -> VersionRecord | None:
        return await self._version(repository, version, lock=False)

    async def _version(self, repository: str, version: str, *, lock: bool) -> VersionRecord | None:
        query = self._version_query().where(
            versions.c.repository == repository, versions.c.version == version
        )
        if lock:
            query = query.with_for_update(of=versions)
        row = (await self._session.execute(query)).one_or_none()
        return None if row is None else self._version_record(row)

    @staticmethod
    def _version_query() -> Any:
        pending_size = (
            select(func.coalesce(func.sum(version_files.c.size), 0))
            .where(
                version_files.c.repository == versions.c.repository,
                version_files.c.version == versions.c.version,
                version_files.c.status != UPLOADING,
            )
            .scalar_subquery()
        )
        return select(
            versions,
            case((versions.c.status == COMMITTED, versions.c.size), else_=pending_size).label("total_size"),
        )

    @staticmethod
    def _version_record(row: Any, files: Sequence[FileRecord] = ()) -> VersionRecord:
        return VersionRecord(
            repository=row.repository,
            version=row.version,
            kind=row.kind,
            status=row.status,
            metadata=_version_metadata_of(row.metadata),
            base_version=row.base_version,
            manifest_digest=row.manifest_digest,
            config_digest=row.config_digest,
            size=int(row.total_size or 0),
            created_by=row.created_by,
            created_at=row.created_at,
            committed_at=row.committed_at,
            sort_key=row.sort_key,
            created_position=row.created_position,
            files=tuple(files),
        )

    async def version_files(self, repository: str, version: str) -> list[FileRecord]:
        result = await self._session.execute(
            select(version_files)
            .where(version_files.c.repository == repository, version_files.c.version == version)
            .order_by(version_files.c.path)
        )
        return [FileRecord(r.path, r.status, r.digest, r.size, r.upload_id, r.updated_at) for r in result]

    async def newest_committed(self, repository: str) -> str:
        result = await self._session.execute(
            select(versions.c.version)
            .where(versions.c.repository == repository, versions.c.status == COMMITTED)
            .order_by(versions.c.committed_at.desc(), versions.c.created_position.desc())
            .limit(1)
        )
        return result.scalar_one_or_none() or ""

    async def versions_page(
        self, repository: str, *, order: str, after: Collection[Any] | None, limit: int, include_pending: bool
    ) -> list[VersionRecord]:
        query = self._version_query().where(versions.c.repository == repository)
        if not include_pending:
            query = query.where(versions.c.status == COMMITTED)
        if order == "created":
            query = query.order_by(versions.c.created_position.desc())
            if after is not None:
                (position,) = after
                query = query.where(versions.c.created_position < position)
        else:
            query = query.order_by(versions.c.sort_key)
            if after is not None:
                (key,) = after
                query = query.where(versions.c.sort_key > key)
        result = await self._session.execute(query.limit(limit))
        return [self._version_record(row) for row in result]
