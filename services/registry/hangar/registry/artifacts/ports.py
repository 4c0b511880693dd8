"""The records ArtifactApp answers with and the read models it decides on (`ArtifactViews`, over
`hangar.registry.artifact_store`), and the blob-linking port."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime
from typing import Any, Protocol

from hangar.registry.domain.metadata import RepositoryMetadata, VersionMetadata


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
