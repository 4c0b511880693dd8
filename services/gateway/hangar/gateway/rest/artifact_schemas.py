"""Models, resources, charts and containers as REST resources: request bodies (strict, no unknown fields),
responses, and how the artifacts client's values become responses."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Final, Literal

from pydantic import BaseModel, Field, StringConstraints

from hangar.gateway.clients.artifacts import (
    RepositoryInfo,
    RepositoryMetadataInfo,
    VersionFileInfo,
    VersionInfo,
    VersionMetadataInfo,
)
from hangar.gateway.rest.schemas import Body

#: One repository name component (OCI): what `{name}` in a path and `name` in a create hold.
REPOSITORY_NAME_PATTERN: Final = r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$"
#: A version name: an OCI tag.
VERSION_PATTERN: Final = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"

Kind = Literal["container", "model", "resource", "chart"]
#: read: view and download; write: also create, push and edit; admin: also delete; view: list and info only.
Permission = Literal["view", "read", "write", "admin"]

Text = Annotated[str, StringConstraints(max_length=1024)]
Markdown = Annotated[str, StringConstraints(max_length=256 * 1024 // 4)]
Label = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
]
RepositoryName = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=REPOSITORY_NAME_PATTERN)
]
VersionName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=VERSION_PATTERN)]
Count = Annotated[int, Field(ge=0, le=2**62)]


class RepositoryMetadataBody(Body):
    """What describes a repository; every field optional (PATCH changes only those sent)."""

    description: Text = ""
    labels: Annotated[list[Label], Field(max_length=64)] = []
    overview: Markdown = ""
    publisher: Text = ""
    built_by: Text = ""
    display_name: Text = ""
    application: Text = Field(default="", description="Models")
    framework: Text = Field(default="", description="Models")
    format: Text = Field(default="", description="Models")
    precision: Text = Field(default="", description="Models")
    setup: Markdown = Field(default="", description="Resources (markdown)")
    quick_start: Markdown = Field(default="", description="Resources (markdown)")
    release_notes: Markdown = Field(default="", description="Resources (markdown)")

    def info(self) -> RepositoryMetadataInfo:
        values = self.model_dump()
        values["labels"] = tuple(self.labels)
        return RepositoryMetadataInfo(**values)


class CreateRepositoryRequest(Body):
    name: RepositoryName = Field(description="The last component of the repository's name")
    metadata: RepositoryMetadataBody = RepositoryMetadataBody()
    latest_policy: Literal["auto", "manual"] = Field(
        default="auto", description="auto: each commit moves latest; manual: only PUT .../latest does"
    )


class VersionMetadataBody(Body):
    description: Text = ""
    accuracy: Annotated[str, StringConstraints(max_length=64)] = ""
    epochs: Count = 0
    batch_size: Count = 0
    gpu_model: Annotated[str, StringConstraints(max_length=128)] = ""
    memory_footprint_bytes: Count = 0
    attributes: Annotated[
        dict[Annotated[str, StringConstraints(min_length=1, max_length=128)], Text], Field(max_length=64)
    ] = {}

    def info(self) -> VersionMetadataInfo:
        return VersionMetadataInfo(**self.model_dump())


class CreateVersionRequest(Body):
    version: VersionName = Field(description="A tag other than latest, e.g. 1.2.0")
    metadata: VersionMetadataBody = VersionMetadataBody()
    base_version: Annotated[
        str, StringConstraints(max_length=128, pattern=r"^([A-Za-z0-9_][A-Za-z0-9._-]*)?$")
    ] = Field(default="", description="A committed version whose files this one starts with")


class SetLatestRequest(Body):
    version: VersionName | None = Field(
        default=None, description="A committed version (latest becomes manual)"
    )
    auto: bool = Field(default=False, description="true: each commit moves latest from now on")


class RepositoryMetadataOut(BaseModel):
    description: str
    labels: list[str]
    overview: str
    publisher: str
    built_by: str
    display_name: str
    application: str
    framework: str
    format: str
    precision: str
    setup: str
    quick_start: str
    release_notes: str


class RepositoryOut(BaseModel):
    name: str = Field(description="The full name: org/name or org/team/name")
    kind: Kind
    metadata: RepositoryMetadataOut
    latest_version: str | None
    latest_policy: str | None
    version_count: int
    size: int = Field(description="Bytes of the blobs the repository holds")
    created_at: datetime | None
    updated_at: datetime | None
    permission: Permission = Field(description="What the caller may do here")


class RepositoryPage(BaseModel):
    items: list[RepositoryOut]
    next_page_token: str | None


class FileOut(BaseModel):
    path: str
    status: Literal["UPLOADING", "COMPLETE", "INHERITED"]
    digest: str | None
    size: int = Field(description="Bytes; while uploading, those received so far")
    declared_size: int | None = Field(default=None, description="While uploading: the total announced")
    updated_at: datetime | None


class VersionMetadataOut(BaseModel):
    description: str
    accuracy: str
    epochs: int
    batch_size: int
    gpu_model: str
    memory_footprint_bytes: int
    attributes: dict[str, str]


class VersionOut(BaseModel):
    repository: str
    version: str
    status: Literal["UPLOAD_PENDING", "UPLOAD_COMPLETE"]
    metadata: VersionMetadataOut
    files: list[FileOut] | None = Field(default=None, description="Absent in listings")
    manifest_digest: str | None
    base_version: str | None
    size: int
    created_at: datetime | None
    committed_at: datetime | None
    created_by: str


class VersionPage(BaseModel):
    items: list[VersionOut]
    next_page_token: str | None


class FilePage(BaseModel):
    items: list[FileOut]


def _time(ms: int) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, UTC) if ms else None


def repository_out(repository: RepositoryInfo, permission: Permission) -> RepositoryOut:
    metadata = dataclasses.asdict(repository.metadata)
    metadata["labels"] = list(repository.metadata.labels)
    return RepositoryOut(
        name=repository.name,
        kind=repository.kind,  # type: ignore[arg-type]
        metadata=RepositoryMetadataOut(**metadata),
        latest_version=repository.latest_version or None,
        latest_policy=repository.latest_policy or None,
        version_count=repository.version_count,
        size=repository.size,
        created_at=_time(repository.created_at_ms),
        updated_at=_time(repository.updated_at_ms),
        permission=permission,
    )


def file_out(file: VersionFileInfo, received: int | None = None) -> FileOut:
    uploading = file.status == "UPLOADING"
    return FileOut(
        path=file.path,
        status=file.status,  # type: ignore[arg-type]
        digest=file.digest or None,
        size=(received or 0) if uploading else file.size,
        declared_size=(file.size or None) if uploading else None,
        updated_at=_time(file.updated_at_ms),
    )


def version_out(
    version: VersionInfo, *, with_files: bool = True, received: dict[str, int] | None = None
) -> VersionOut:
    metadata = dataclasses.asdict(version.metadata)
    metadata["attributes"] = dict(version.metadata.attributes)
    files = [file_out(f, (received or {}).get(f.path)) for f in version.files] if with_files else None
    return VersionOut(
        repository=version.repository,
        version=version.version,
        status=version.status,  # type: ignore[arg-type]
        metadata=VersionMetadataOut(**metadata),
        files=files,
        manifest_digest=version.manifest_digest or None,
        base_version=version.base_version or None,
        size=version.size,
        created_at=_time(version.created_at_ms),
        committed_at=_time(version.committed_at_ms),
        created_by=version.created_by,
    )
