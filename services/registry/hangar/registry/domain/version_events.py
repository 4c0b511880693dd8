"""The events of a version's stream (`version-<hash>`), and the complete files they name."""

from __future__ import annotations

import dataclasses

from hangar.kit.events import DomainEvent
from hangar.registry.domain.metadata import VersionMetadata


@dataclasses.dataclass(frozen=True, order=True)
class FileRef:
    """A complete file of a version."""

    path: str
    digest: str
    size: int


@dataclasses.dataclass(frozen=True)
class VersionCreated(DomainEvent):
    repository: str
    version: str
    kind: str
    metadata: VersionMetadata
    base_version: str
    created_by: str
    inherited: tuple[FileRef, ...] = dataclasses.field(default=(), repr=False)


@dataclasses.dataclass(frozen=True)
class FileUploadStarted(DomainEvent):
    repository: str
    version: str
    path: str
    upload_id: str
    size: int


@dataclasses.dataclass(frozen=True)
class FileUploaded(DomainEvent):
    repository: str
    version: str
    path: str
    digest: str
    size: int


@dataclasses.dataclass(frozen=True)
class FileRemoved(DomainEvent):
    repository: str
    version: str
    path: str


@dataclasses.dataclass(frozen=True)
class VersionCommitted(DomainEvent):
    repository: str
    version: str
    manifest_digest: str
    config_digest: str
    size: int
    file_count: int


@dataclasses.dataclass(frozen=True)
class VersionDeleted(DomainEvent):
    repository: str
    version: str
    manifest_digest: str  # "" for a pending version
