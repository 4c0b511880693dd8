"""`hangar.registry.artifacts.ArtifactViews` over the artifact tables: repositories, search, versions and
files as records."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hangar.registry.artifact_store.tables import (
    _blobs,
    _manifests,
    _metadata_of,
    _repositories,
    _tags,
    _version_metadata_of,
    repository_info,
    repository_labels,
    version_files,
    versions,
)
from hangar.registry.artifacts import FileRecord, RepositoryRecord, SearchFilter, VersionRecord
from hangar.registry.domain.versions import COMMITTED, UPLOADING

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

    _session: AsyncConnection

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
