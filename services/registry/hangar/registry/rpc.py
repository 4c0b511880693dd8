"""The RegistryService gRPC servicer: protobuf -> App -> protobuf, nothing else (errors map in the kit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hangar.api.registry.v1 import registry_pb2, registry_pb2_grpc
from hangar.registry.app import App

SERVICE_NAME: str = registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name


class RegistryServicer(registry_pb2_grpc.RegistryServiceServicer):  # type: ignore[misc]
    def __init__(self, app: App) -> None:
        self._app = app

    async def PutManifest(
        self, request: registry_pb2.PutManifestRequest, context: Any
    ) -> registry_pb2.PutManifestResponse:
        digest, subject_digest = await self._app.put_manifest(
            request.repository, request.reference, request.media_type, request.content, request.config
        )
        return registry_pb2.PutManifestResponse(digest=digest, subject_digest=subject_digest)

    async def GetManifest(
        self, request: registry_pb2.GetManifestRequest, context: Any
    ) -> registry_pb2.GetManifestResponse:
        digest, media_type, content = await self._app.get_manifest(request.repository, request.reference)
        return registry_pb2.GetManifestResponse(digest=digest, media_type=media_type, content=content)

    async def ListTags(
        self, request: registry_pb2.ListTagsRequest, context: Any
    ) -> registry_pb2.ListTagsResponse:
        tags, more = await self._app.list_tags(
            request.repository, request.page_size or None, request.last or None
        )
        return registry_pb2.ListTagsResponse(repository=request.repository, tags=tags, more=more)

    async def LinkBlob(
        self, request: registry_pb2.LinkBlobRequest, context: Any
    ) -> registry_pb2.LinkBlobResponse:
        await self._app.link_blob(request.repository, request.digest, request.size)
        return registry_pb2.LinkBlobResponse()

    async def StatBlob(
        self, request: registry_pb2.StatBlobRequest, context: Any
    ) -> registry_pb2.StatBlobResponse:
        size = await self._app.stat_blob(request.repository, request.digest)
        return registry_pb2.StatBlobResponse(digest=request.digest, size=size)

    async def UnlinkBlob(
        self, request: registry_pb2.UnlinkBlobRequest, context: Any
    ) -> registry_pb2.UnlinkBlobResponse:
        digest, size = await self._app.unlink_blob(request.repository, request.digest)
        return registry_pb2.UnlinkBlobResponse(digest=digest, size=size)

    async def DeleteManifest(
        self, request: registry_pb2.DeleteManifestRequest, context: Any
    ) -> registry_pb2.DeleteManifestResponse:
        deletion = await self._app.delete_manifest(request.repository, request.reference)
        return registry_pb2.DeleteManifestResponse(
            digest=deletion.digest, deleted_tags=deletion.tags, manifest_deleted=deletion.manifest_deleted
        )

    async def ListReferrers(
        self, request: registry_pb2.ListReferrersRequest, context: Any
    ) -> registry_pb2.ListReferrersResponse:
        referrers = await self._app.list_referrers(
            request.repository, request.subject_digest, request.artifact_type or None
        )
        return registry_pb2.ListReferrersResponse(
            referrers=[
                registry_pb2.Descriptor(
                    media_type=r.media_type,
                    digest=r.digest,
                    size=r.size,
                    artifact_type=r.artifact_type,
                    annotations=r.annotations,
                )
                for r in referrers
            ]
        )

    async def ListRepositories(
        self, request: registry_pb2.ListRepositoriesRequest, context: Any
    ) -> registry_pb2.ListRepositoriesResponse:
        names, more = await self._app.list_repositories(request.page_size or None, request.last or None)
        return registry_pb2.ListRepositoriesResponse(repositories=names, more=more)


def registrations(app: App) -> list[tuple[Callable[[Any, Any], None], Any]]:
    """The servicers of this service, as `GrpcServer` takes them."""
    return [(registry_pb2_grpc.add_RegistryServiceServicer_to_server, RegistryServicer(app))]
