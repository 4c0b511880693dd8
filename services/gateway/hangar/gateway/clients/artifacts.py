"""Typed client of ArtifactService (registry): models, resources and charts — metadata, versions, files,
commits, `latest`, and the one listing over every kind (containers included).

The dataclasses mirror the proto messages field by field (snake_case, tuples for repeated fields,
millisecond times as ints). Every method raises `hangar.kit.errors.DomainError` with the service's code
(NAME_UNKNOWN, VERSION_EXISTS, FILES_INCOMPLETE, ...), never a gRPC exception.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Final, Protocol

import grpc

from hangar.api.registry.v1 import artifacts_pb2, artifacts_pb2_grpc
from hangar.gateway.clients import rpc

#: The kinds a repository may have (DESIGN §1).
KINDS: Final = frozenset({"container", "model", "resource", "chart"})
#: The kinds ArtifactService creates (containers come into being by an OCI push).
ARTIFACT_KINDS: Final = frozenset({"model", "resource", "chart"})
#: RepositoryMetadata's fields, as UpdateRepository's `fields` names them.
REPOSITORY_METADATA_FIELDS: Final = (
    "description",
    "labels",
    "overview",
    "publisher",
    "built_by",
    "display_name",
    "application",
    "framework",
    "format",
    "precision",
    "setup",
    "quick_start",
    "release_notes",
)
#: Version statuses and file statuses.
UPLOAD_PENDING: Final = "UPLOAD_PENDING"
UPLOAD_COMPLETE: Final = "UPLOAD_COMPLETE"
FILE_UPLOADING: Final = "UPLOADING"
FILE_COMPLETE: Final = "COMPLETE"
FILE_INHERITED: Final = "INHERITED"


@dataclasses.dataclass(frozen=True)
class RepositoryMetadataInfo:
    """What describes a repository; kind-specific fields are empty for other kinds."""

    description: str = ""
    labels: tuple[str, ...] = ()
    #: Markdown.
    overview: str = ""
    publisher: str = ""
    built_by: str = ""
    display_name: str = ""
    #: Models.
    application: str = ""
    framework: str = ""
    format: str = ""
    precision: str = ""
    #: Resources: markdown documents.
    setup: str = ""
    quick_start: str = ""
    release_notes: str = ""


@dataclasses.dataclass(frozen=True)
class RepositoryInfo:
    """One repository of any kind with its summary."""

    #: org/name or org/team/name.
    name: str
    #: container, model, resource or chart.
    kind: str
    metadata: RepositoryMetadataInfo = RepositoryMetadataInfo()
    #: The version `latest` points at; "" when none.
    latest_version: str = ""
    #: "auto" or "manual".
    latest_policy: str = ""
    #: Committed versions (models, resources, charts) or tags (containers).
    version_count: int = 0
    #: Bytes of the blobs the repository links.
    size: int = 0
    #: Unix milliseconds.
    created_at_ms: int = 0
    updated_at_ms: int = 0


@dataclasses.dataclass(frozen=True)
class VersionMetadataInfo:
    """What describes a version."""

    description: str = ""
    #: Kept as text, as entered ("0.913").
    accuracy: str = ""
    epochs: int = 0
    batch_size: int = 0
    gpu_model: str = ""
    memory_footprint_bytes: int = 0
    attributes: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class VersionFileInfo:
    """One file of a version."""

    #: Relative POSIX path inside the version.
    path: str
    #: UPLOADING, COMPLETE or INHERITED.
    status: str
    #: The blob's digest once complete; "" while uploading.
    digest: str = ""
    #: Bytes once complete; the declared size (0 if unknown) while uploading.
    size: int = 0
    #: The blobstore upload session while uploading; "" once complete.
    upload_id: str = ""
    updated_at_ms: int = 0


@dataclasses.dataclass(frozen=True)
class VersionInfo:
    """One version of a model, resource or chart (`files` is empty in listings)."""

    repository: str
    version: str
    #: UPLOAD_PENDING or UPLOAD_COMPLETE.
    status: str
    metadata: VersionMetadataInfo = VersionMetadataInfo()
    files: tuple[VersionFileInfo, ...] = ()
    #: The committed manifest's digest; "" while pending.
    manifest_digest: str = ""
    base_version: str = ""
    #: Sum of complete files' sizes.
    size: int = 0
    created_at_ms: int = 0
    committed_at_ms: int = 0
    #: The principal that created it.
    created_by: str = ""

    def file(self, path: str) -> VersionFileInfo | None:
        return next((f for f in self.files if f.path == path), None)


@dataclasses.dataclass(frozen=True)
class BegunFile:
    """BeginFile's answer: the file as recorded, and whether the caller's upload session is the one in use
    (`started` false: another upload of the path was already running, and `file.upload_id` names it)."""

    file: VersionFileInfo
    started: bool


@dataclasses.dataclass(frozen=True)
class VersionConfig:
    """The OCI config blob a commit of a version will name."""

    media_type: str
    content: bytes = dataclasses.field(repr=False)
    digest: str = ""


@dataclasses.dataclass(frozen=True)
class CommittedVersion:
    """A version just committed, and its manifest as stored."""

    version: VersionInfo
    manifest: bytes = dataclasses.field(repr=False)


class ArtifactsPort(Protocol):
    async def search_repositories(
        self,
        *,
        namespaces: Sequence[str] | None,
        kind: str = "",
        name_pattern: str = "",
        labels: Sequence[str] = (),
        page_size: int = 100,
        page_token: str = "",
    ) -> tuple[list[RepositoryInfo], str]: ...

    async def get_repository(self, name: str) -> RepositoryInfo: ...

    async def create_repository(
        self,
        name: str,
        kind: str,
        metadata: RepositoryMetadataInfo | None = None,
        *,
        latest_policy: str = "",
    ) -> RepositoryInfo: ...

    async def update_repository(
        self, name: str, metadata: RepositoryMetadataInfo, fields: Sequence[str]
    ) -> RepositoryInfo: ...

    async def create_version(
        self,
        repository: str,
        version: str,
        *,
        metadata: VersionMetadataInfo | None = None,
        base_version: str = "",
        create_kind: str = "",
        created_by: str = "",
    ) -> VersionInfo: ...

    async def get_version(self, repository: str, version: str) -> VersionInfo: ...

    async def list_versions(
        self,
        repository: str,
        *,
        order: str = "semver",
        page_size: int = 100,
        page_token: str = "",
        include_pending: bool = False,
    ) -> tuple[list[VersionInfo], str]: ...

    async def begin_file(
        self, repository: str, version: str, path: str, upload_id: str, size: int = 0
    ) -> BegunFile: ...

    async def complete_file(
        self, repository: str, version: str, path: str, upload_id: str, digest: str, size: int
    ) -> VersionFileInfo: ...

    async def remove_file(self, repository: str, version: str, path: str) -> None: ...

    async def get_version_config(self, repository: str, version: str) -> VersionConfig: ...

    async def commit_version(self, repository: str, version: str, config_digest: str) -> CommittedVersion: ...

    async def delete_version(self, repository: str, version: str) -> None: ...

    async def set_latest(
        self, repository: str, version: str = "", *, auto: bool = False
    ) -> RepositoryInfo: ...

    async def serving(self) -> bool: ...


class ArtifactsClient:
    """ArtifactService over one channel (the registry's); callers see dataclasses and DomainErrors."""

    def __init__(self, channel: grpc.aio.Channel, timeout: float = rpc.UNARY_TIMEOUT) -> None:
        self._channel = channel
        self._stub = artifacts_pb2_grpc.ArtifactServiceStub(channel)
        self._timeout = timeout

    async def search_repositories(
        self,
        *,
        namespaces: Sequence[str] | None,
        kind: str = "",
        name_pattern: str = "",
        labels: Sequence[str] = (),
        page_size: int = 100,
        page_token: str = "",
    ) -> tuple[list[RepositoryInfo], str]:
        request = artifacts_pb2.SearchRepositoriesRequest(
            namespaces=list(namespaces or ()),
            all_namespaces=namespaces is None,
            kind=kind,
            name_pattern=name_pattern,
            labels=list(labels),
            page_size=page_size,
            page_token=page_token,
        )
        with rpc.domain_errors():
            reply = await self._stub.SearchRepositories(request, timeout=self._timeout)
        return [repository_from_proto(r) for r in reply.repositories], reply.next_page_token

    async def get_repository(self, name: str) -> RepositoryInfo:
        with rpc.domain_errors():
            reply = await self._stub.GetRepository(
                artifacts_pb2.GetRepositoryRequest(name=name), timeout=self._timeout
            )
        return repository_from_proto(reply.repository)

    async def create_repository(
        self,
        name: str,
        kind: str,
        metadata: RepositoryMetadataInfo | None = None,
        *,
        latest_policy: str = "",
    ) -> RepositoryInfo:
        request = artifacts_pb2.CreateRepositoryRequest(
            name=name,
            kind=kind,
            metadata=repository_metadata_to_proto(metadata or RepositoryMetadataInfo()),
            latest_policy=latest_policy,
        )
        with rpc.domain_errors():
            reply = await self._stub.CreateRepository(request, timeout=self._timeout)
        return repository_from_proto(reply.repository)

    async def update_repository(
        self, name: str, metadata: RepositoryMetadataInfo, fields: Sequence[str]
    ) -> RepositoryInfo:
        request = artifacts_pb2.UpdateRepositoryRequest(
            name=name, metadata=repository_metadata_to_proto(metadata), fields=list(fields)
        )
        with rpc.domain_errors():
            reply = await self._stub.UpdateRepository(request, timeout=self._timeout)
        return repository_from_proto(reply.repository)

    async def create_version(
        self,
        repository: str,
        version: str,
        *,
        metadata: VersionMetadataInfo | None = None,
        base_version: str = "",
        create_kind: str = "",
        created_by: str = "",
    ) -> VersionInfo:
        request = artifacts_pb2.CreateVersionRequest(
            repository=repository,
            version=version,
            metadata=version_metadata_to_proto(metadata or VersionMetadataInfo()),
            base_version=base_version,
            create_kind=create_kind,
            created_by=created_by,
        )
        with rpc.domain_errors():
            reply = await self._stub.CreateVersion(request, timeout=self._timeout)
        return version_from_proto(reply.version)

    async def get_version(self, repository: str, version: str) -> VersionInfo:
        request = artifacts_pb2.GetVersionRequest(repository=repository, version=version)
        with rpc.domain_errors():
            reply = await self._stub.GetVersion(request, timeout=self._timeout)
        return version_from_proto(reply.version)

    async def list_versions(
        self,
        repository: str,
        *,
        order: str = "semver",
        page_size: int = 100,
        page_token: str = "",
        include_pending: bool = False,
    ) -> tuple[list[VersionInfo], str]:
        request = artifacts_pb2.ListVersionsRequest(
            repository=repository,
            order=order,
            page_size=page_size,
            page_token=page_token,
            include_pending=include_pending,
        )
        with rpc.domain_errors():
            reply = await self._stub.ListVersions(request, timeout=self._timeout)
        return [version_from_proto(v) for v in reply.versions], reply.next_page_token

    async def begin_file(
        self, repository: str, version: str, path: str, upload_id: str, size: int = 0
    ) -> BegunFile:
        request = artifacts_pb2.BeginFileRequest(
            repository=repository, version=version, path=path, upload_id=upload_id, size=size
        )
        with rpc.domain_errors():
            reply = await self._stub.BeginFile(request, timeout=self._timeout)
        return BegunFile(file=file_from_proto(reply.file), started=reply.started)

    async def complete_file(
        self, repository: str, version: str, path: str, upload_id: str, digest: str, size: int
    ) -> VersionFileInfo:
        request = artifacts_pb2.CompleteFileRequest(
            repository=repository, version=version, path=path, upload_id=upload_id, digest=digest, size=size
        )
        with rpc.domain_errors():
            reply = await self._stub.CompleteFile(request, timeout=self._timeout)
        return file_from_proto(reply.file)

    async def remove_file(self, repository: str, version: str, path: str) -> None:
        request = artifacts_pb2.RemoveFileRequest(repository=repository, version=version, path=path)
        with rpc.domain_errors():
            await self._stub.RemoveFile(request, timeout=self._timeout)

    async def get_version_config(self, repository: str, version: str) -> VersionConfig:
        request = artifacts_pb2.GetVersionConfigRequest(repository=repository, version=version)
        with rpc.domain_errors():
            reply = await self._stub.GetVersionConfig(request, timeout=self._timeout)
        return VersionConfig(media_type=reply.media_type, content=bytes(reply.content), digest=reply.digest)

    async def commit_version(self, repository: str, version: str, config_digest: str) -> CommittedVersion:
        request = artifacts_pb2.CommitVersionRequest(
            repository=repository, version=version, config_digest=config_digest
        )
        with rpc.domain_errors():
            reply = await self._stub.CommitVersion(request, timeout=self._timeout)
        return CommittedVersion(version=version_from_proto(reply.version), manifest=bytes(reply.manifest))

    async def delete_version(self, repository: str, version: str) -> None:
        request = artifacts_pb2.DeleteVersionRequest(repository=repository, version=version)
        with rpc.domain_errors():
            await self._stub.DeleteVersion(request, timeout=self._timeout)

    async def set_latest(self, repository: str, version: str = "", *, auto: bool = False) -> RepositoryInfo:
        request = artifacts_pb2.SetLatestRequest(repository=repository, version=version, auto=auto)
        with rpc.domain_errors():
            reply = await self._stub.SetLatest(request, timeout=self._timeout)
        return repository_from_proto(reply.repository)

    async def serving(self) -> bool:
        return await rpc.serving(self._channel)


# -- protobuf <-> dataclasses -------------------------------------------------------------------------------


def repository_metadata_from_proto(message: artifacts_pb2.RepositoryMetadata) -> RepositoryMetadataInfo:
    return RepositoryMetadataInfo(
        description=message.description,
        labels=tuple(message.labels),
        overview=message.overview,
        publisher=message.publisher,
        built_by=message.built_by,
        display_name=message.display_name,
        application=message.application,
        framework=message.framework,
        format=message.format,
        precision=message.precision,
        setup=message.setup,
        quick_start=message.quick_start,
        release_notes=message.release_notes,
    )


def repository_metadata_to_proto(metadata: RepositoryMetadataInfo) -> artifacts_pb2.RepositoryMetadata:
    values = dataclasses.asdict(metadata)
    values["labels"] = list(metadata.labels)
    return artifacts_pb2.RepositoryMetadata(**values)


def repository_from_proto(message: artifacts_pb2.Repository) -> RepositoryInfo:
    return RepositoryInfo(
        name=message.name,
        kind=message.kind,
        metadata=repository_metadata_from_proto(message.metadata),
        latest_version=message.latest_version,
        latest_policy=message.latest_policy,
        version_count=int(message.version_count),
        size=int(message.size),
        created_at_ms=int(message.created_at_ms),
        updated_at_ms=int(message.updated_at_ms),
    )


def version_metadata_from_proto(message: artifacts_pb2.VersionMetadata) -> VersionMetadataInfo:
    return VersionMetadataInfo(
        description=message.description,
        accuracy=message.accuracy,
        epochs=int(message.epochs),
        batch_size=int(message.batch_size),
        gpu_model=message.gpu_model,
        memory_footprint_bytes=int(message.memory_footprint_bytes),
        attributes=dict(message.attributes),
    )


def version_metadata_to_proto(metadata: VersionMetadataInfo) -> artifacts_pb2.VersionMetadata:
    return artifacts_pb2.VersionMetadata(
        description=metadata.description,
        accuracy=metadata.accuracy,
        epochs=metadata.epochs,
        batch_size=metadata.batch_size,
        gpu_model=metadata.gpu_model,
        memory_footprint_bytes=metadata.memory_footprint_bytes,
        attributes=dict(metadata.attributes),
    )


def file_from_proto(message: artifacts_pb2.VersionFile) -> VersionFileInfo:
    return VersionFileInfo(
        path=message.path,
        status=message.status,
        digest=message.digest,
        size=int(message.size),
        upload_id=message.upload_id,
        updated_at_ms=int(message.updated_at_ms),
    )


def version_from_proto(message: artifacts_pb2.Version) -> VersionInfo:
    return VersionInfo(
        repository=message.repository,
        version=message.version,
        status=message.status,
        metadata=version_metadata_from_proto(message.metadata),
        files=tuple(file_from_proto(f) for f in message.files),
        manifest_digest=message.manifest_digest,
        base_version=message.base_version,
        size=int(message.size),
        created_at_ms=int(message.created_at_ms),
        committed_at_ms=int(message.committed_at_ms),
        created_by=message.created_by,
    )
