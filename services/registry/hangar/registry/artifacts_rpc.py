"""The ArtifactService gRPC servicer: protobuf -> ArtifactApp -> protobuf (errors map in the kit)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from hangar.api.registry.v1 import artifacts_pb2, artifacts_pb2_grpc
from hangar.registry.artifacts import ArtifactApp, FileRecord, RepositoryRecord, VersionRecord
from hangar.registry.domain.metadata import METADATA_FIELDS, RepositoryMetadata, VersionMetadata

ARTIFACT_SERVICE_NAME: str = artifacts_pb2.DESCRIPTOR.services_by_name["ArtifactService"].full_name


def _ms(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.timestamp() * 1000)


def _metadata_in(message: artifacts_pb2.RepositoryMetadata) -> RepositoryMetadata:
    values: dict[str, Any] = {field: getattr(message, field) for field in METADATA_FIELDS}
    values["labels"] = tuple(message.labels)
    return RepositoryMetadata(**values)


def _metadata_out(metadata: RepositoryMetadata) -> artifacts_pb2.RepositoryMetadata:
    values: dict[str, Any] = {field: getattr(metadata, field) for field in METADATA_FIELDS}
    values["labels"] = list(metadata.labels)
    return artifacts_pb2.RepositoryMetadata(**values)


def _version_metadata_in(message: artifacts_pb2.VersionMetadata) -> VersionMetadata:
    return VersionMetadata.of(
        description=message.description,
        accuracy=message.accuracy,
        epochs=message.epochs,
        batch_size=message.batch_size,
        gpu_model=message.gpu_model,
        memory_footprint_bytes=message.memory_footprint_bytes,
        attributes=dict(message.attributes),
    )


def _version_metadata_out(metadata: VersionMetadata) -> artifacts_pb2.VersionMetadata:
    return artifacts_pb2.VersionMetadata(
        description=metadata.description,
        accuracy=metadata.accuracy,
        epochs=metadata.epochs,
        batch_size=metadata.batch_size,
        gpu_model=metadata.gpu_model,
        memory_footprint_bytes=metadata.memory_footprint_bytes,
        attributes=metadata.attribute_map(),
    )


def repository_out(record: RepositoryRecord) -> artifacts_pb2.Repository:
    return artifacts_pb2.Repository(
        name=record.name,
        kind=record.kind,
        metadata=_metadata_out(record.metadata),
        latest_version=record.latest_version,
        latest_policy=record.latest_policy,
        version_count=record.version_count,
        size=record.size,
        created_at_ms=_ms(record.created_at),
        updated_at_ms=_ms(record.updated_at),
    )


def file_out(record: FileRecord) -> artifacts_pb2.VersionFile:
    return artifacts_pb2.VersionFile(
        path=record.path,
        status=record.status,
        digest=record.digest,
        size=record.size,
        upload_id=record.upload_id,
        updated_at_ms=_ms(record.updated_at),
    )


def version_out(record: VersionRecord) -> artifacts_pb2.Version:
    return artifacts_pb2.Version(
        repository=record.repository,
        version=record.version,
        status=record.status,
        metadata=_version_metadata_out(record.metadata),
        files=[file_out(f) for f in record.files],
        manifest_digest=record.manifest_digest,
        base_version=record.base_version,
        size=record.size,
        created_at_ms=_ms(record.created_at),
        committed_at_ms=_ms(record.committed_at),
        created_by=record.created_by,
    )


class ArtifactServicer(artifacts_pb2_grpc.ArtifactServiceServicer):  # type: ignore[misc]
    def __init__(self, app: ArtifactApp) -> None:
        self._app = app

    async def CreateRepository(
        self, request: artifacts_pb2.CreateRepositoryRequest, context: Any
    ) -> artifacts_pb2.CreateRepositoryResponse:
        record = await self._app.create_repository(
            request.name, request.kind, _metadata_in(request.metadata), request.latest_policy
        )
        return artifacts_pb2.CreateRepositoryResponse(repository=repository_out(record))

    async def UpdateRepository(
        self, request: artifacts_pb2.UpdateRepositoryRequest, context: Any
    ) -> artifacts_pb2.UpdateRepositoryResponse:
        record = await self._app.update_repository(
            request.name, _metadata_in(request.metadata), list(request.fields)
        )
        return artifacts_pb2.UpdateRepositoryResponse(repository=repository_out(record))

    async def GetRepository(
        self, request: artifacts_pb2.GetRepositoryRequest, context: Any
    ) -> artifacts_pb2.GetRepositoryResponse:
        return artifacts_pb2.GetRepositoryResponse(
            repository=repository_out(await self._app.get_repository(request.name))
        )

    async def SearchRepositories(
        self, request: artifacts_pb2.SearchRepositoriesRequest, context: Any
    ) -> artifacts_pb2.SearchRepositoriesResponse:
        found, token = await self._app.search_repositories(
            namespaces=list(request.namespaces),
            all_namespaces=request.all_namespaces,
            kind=request.kind,
            name_pattern=request.name_pattern,
            labels=list(request.labels),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return artifacts_pb2.SearchRepositoriesResponse(
            repositories=[repository_out(r) for r in found], next_page_token=token
        )

    async def CreateVersion(
        self, request: artifacts_pb2.CreateVersionRequest, context: Any
    ) -> artifacts_pb2.CreateVersionResponse:
        record = await self._app.create_version(
            request.repository,
            request.version,
            _version_metadata_in(request.metadata),
            base_version=request.base_version,
            create_kind=request.create_kind,
            created_by=request.created_by,
        )
        return artifacts_pb2.CreateVersionResponse(version=version_out(record))

    async def GetVersion(
        self, request: artifacts_pb2.GetVersionRequest, context: Any
    ) -> artifacts_pb2.GetVersionResponse:
        return artifacts_pb2.GetVersionResponse(
            version=version_out(await self._app.get_version(request.repository, request.version))
        )

    async def ListVersions(
        self, request: artifacts_pb2.ListVersionsRequest, context: Any
    ) -> artifacts_pb2.ListVersionsResponse:
        found, token = await self._app.list_versions(
            request.repository,
            order=request.order,
            page_size=request.page_size,
            page_token=request.page_token,
            include_pending=request.include_pending,
        )
        return artifacts_pb2.ListVersionsResponse(
            versions=[version_out(v) for v in found], next_page_token=token
        )

    async def BeginFile(
        self, request: artifacts_pb2.BeginFileRequest, context: Any
    ) -> artifacts_pb2.BeginFileResponse:
        record, started = await self._app.begin_file(
            request.repository, request.version, request.path, request.upload_id, request.size
        )
        return artifacts_pb2.BeginFileResponse(file=file_out(record), started=started)

    async def CompleteFile(
        self, request: artifacts_pb2.CompleteFileRequest, context: Any
    ) -> artifacts_pb2.CompleteFileResponse:
        record = await self._app.complete_file(
            request.repository, request.version, request.path, request.upload_id, request.digest, request.size
        )
        return artifacts_pb2.CompleteFileResponse(file=file_out(record))

    async def RemoveFile(
        self, request: artifacts_pb2.RemoveFileRequest, context: Any
    ) -> artifacts_pb2.RemoveFileResponse:
        await self._app.remove_file(request.repository, request.version, request.path)
        return artifacts_pb2.RemoveFileResponse()

    async def GetVersionConfig(
        self, request: artifacts_pb2.GetVersionConfigRequest, context: Any
    ) -> artifacts_pb2.GetVersionConfigResponse:
        media_type, content, digest = await self._app.get_version_config(request.repository, request.version)
        return artifacts_pb2.GetVersionConfigResponse(media_type=media_type, content=content, digest=digest)

    async def CommitVersion(
        self, request: artifacts_pb2.CommitVersionRequest, context: Any
    ) -> artifacts_pb2.CommitVersionResponse:
        record, manifest = await self._app.commit_version(
            request.repository, request.version, request.config_digest
        )
        return artifacts_pb2.CommitVersionResponse(version=version_out(record), manifest=manifest)

    async def DeleteVersion(
        self, request: artifacts_pb2.DeleteVersionRequest, context: Any
    ) -> artifacts_pb2.DeleteVersionResponse:
        await self._app.delete_version(request.repository, request.version)
        return artifacts_pb2.DeleteVersionResponse()

    async def SetLatest(
        self, request: artifacts_pb2.SetLatestRequest, context: Any
    ) -> artifacts_pb2.SetLatestResponse:
        record = await self._app.set_latest(request.repository, request.version, request.auto)
        return artifacts_pb2.SetLatestResponse(repository=repository_out(record))


def artifact_registrations(app: ArtifactApp) -> list[tuple[Callable[[Any, Any], None], Any]]:
    """The ArtifactService servicer, as `GrpcServer` takes it."""
    return [(artifacts_pb2_grpc.add_ArtifactServiceServicer_to_server, ArtifactServicer(app))]
