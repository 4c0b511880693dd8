"""Typed client of RegistryService: manifests, tags, and which blobs a repository holds."""

from __future__ import annotations

import grpc

from hangar.api.registry.v1 import registry_pb2, registry_pb2_grpc
from hangar.gateway.clients import rpc
from hangar.gateway.clients.model import (
    BlobInfo,
    DeletedManifest,
    PutManifestResult,
    Referrer,
    RepositoryPage,
    StoredManifest,
    TagPage,
)


class RegistryClient:
    """RegistryService over one channel; callers see dataclasses and DomainErrors, never stubs."""

    def __init__(self, channel: grpc.aio.Channel, timeout: float = rpc.UNARY_TIMEOUT) -> None:
        self._channel = channel
        self._stub = registry_pb2_grpc.RegistryServiceStub(channel)
        self._timeout = timeout

    async def put_manifest(
        self, repository: str, reference: str, media_type: str, content: bytes, *, config: bytes = b""
    ) -> PutManifestResult:
        """Store a manifest; `config`: the config blob of a model, resource or chart pushed under a tag."""
        request = registry_pb2.PutManifestRequest(
            repository=repository, reference=reference, media_type=media_type, content=content, config=config
        )
        with rpc.domain_errors():
            reply = await self._stub.PutManifest(request, timeout=self._timeout)
        return PutManifestResult(digest=reply.digest, subject_digest=reply.subject_digest)

    async def get_manifest(self, repository: str, reference: str) -> StoredManifest:
        request = registry_pb2.GetManifestRequest(repository=repository, reference=reference)
        with rpc.domain_errors():
            reply = await self._stub.GetManifest(request, timeout=self._timeout)
        return StoredManifest(digest=reply.digest, media_type=reply.media_type, content=bytes(reply.content))

    async def delete_manifest(self, repository: str, reference: str) -> DeletedManifest:
        request = registry_pb2.DeleteManifestRequest(repository=repository, reference=reference)
        with rpc.domain_errors():
            reply = await self._stub.DeleteManifest(request, timeout=self._timeout)
        return DeletedManifest(
            digest=reply.digest, tags=tuple(reply.deleted_tags), manifest_deleted=reply.manifest_deleted
        )

    async def list_tags(self, repository: str, page_size: int = 0, last: str = "") -> TagPage:
        request = registry_pb2.ListTagsRequest(repository=repository, page_size=page_size, last=last)
        with rpc.domain_errors():
            reply = await self._stub.ListTags(request, timeout=self._timeout)
        return TagPage(repository=reply.repository or repository, tags=tuple(reply.tags), more=reply.more)

    async def list_referrers(
        self, repository: str, subject_digest: str, artifact_type: str = ""
    ) -> tuple[Referrer, ...]:
        request = registry_pb2.ListReferrersRequest(
            repository=repository, subject_digest=subject_digest, artifact_type=artifact_type
        )
        with rpc.domain_errors():
            reply = await self._stub.ListReferrers(request, timeout=self._timeout)
        return tuple(
            Referrer(
                media_type=r.media_type,
                digest=r.digest,
                size=int(r.size),
                artifact_type=r.artifact_type,
                annotations=dict(r.annotations),
            )
            for r in reply.referrers
        )

    async def list_repositories(self, page_size: int = 0, last: str = "") -> RepositoryPage:
        request = registry_pb2.ListRepositoriesRequest(page_size=page_size, last=last)
        with rpc.domain_errors():
            reply = await self._stub.ListRepositories(request, timeout=self._timeout)
        return RepositoryPage(repositories=tuple(reply.repositories), more=reply.more)

    async def link_blob(self, repository: str, digest: str, size: int) -> None:
        request = registry_pb2.LinkBlobRequest(repository=repository, digest=digest, size=size)
        with rpc.domain_errors():
            await self._stub.LinkBlob(request, timeout=self._timeout)

    async def stat_blob(self, repository: str, digest: str) -> BlobInfo:
        request = registry_pb2.StatBlobRequest(repository=repository, digest=digest)
        with rpc.domain_errors():
            reply = await self._stub.StatBlob(request, timeout=self._timeout)
        return BlobInfo(digest=reply.digest or digest, size=int(reply.size))

    async def unlink_blob(self, repository: str, digest: str) -> BlobInfo:
        request = registry_pb2.UnlinkBlobRequest(repository=repository, digest=digest)
        with rpc.domain_errors():
            reply = await self._stub.UnlinkBlob(request, timeout=self._timeout)
        return BlobInfo(digest=reply.digest or digest, size=int(reply.size))

    async def serving(self) -> bool:
        return await rpc.serving(self._channel)
