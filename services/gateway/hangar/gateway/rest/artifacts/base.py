"""The ground the artifact handlers share: the ports and gate, the caller, the repository a path names,
and the bytes an upload session holds."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Sequence

from fastapi import Request

from hangar.gateway.clients.artifacts import (
    FILE_UPLOADING,
    ArtifactsPort,
    RepositoryInfo,
    VersionFileInfo,
    VersionInfo,
)
from hangar.gateway.clients.ports import BlobstorePort, IdentityPort, RegistryPort
from hangar.gateway.rest.artifact_access import ArtifactCaller, ArtifactGate, repository_not_found
from hangar.gateway.rest.artifact_schemas import Permission
from hangar.gateway.rest.base import REQUEST_ID_HEADER
from hangar.kit import context
from hangar.kit.errors import DomainError, NotFound

log = logging.getLogger(__name__)


class HandlerBase:
    """What every artifact handler stands on: the artifacts, registry, blobstore and identity ports, the
    artifact gate, the caller, and the steps the handlers share."""

    def __init__(
        self,
        artifacts: ArtifactsPort,
        registry: RegistryPort,
        blobstore: BlobstorePort,
        identity: IdentityPort,
        gate: ArtifactGate,
    ) -> None:
        self.artifacts = artifacts
        self.registry = registry
        self.blobstore = blobstore
        self.identity = identity
        self.gate = gate

    async def caller(self, request: Request) -> AsyncIterator[ArtifactCaller]:
        caller = await self.gate.caller(request.headers.get("authorization"))
        actor = caller.user_id or (caller.key.key_id if caller.key else "")
        correlation = request.headers.get(REQUEST_ID_HEADER, "")[:128] or uuid.uuid4().hex
        with context.bound(context.CallContext(actor=actor, correlation_id=correlation)):
            yield caller

    # -- shared steps --------------------------------------------------------------------------------------

    async def _team_exists(self, org: str, team: str) -> None:
        if team and team not in {t.name for t in await self.identity.list_teams(org)}:
            raise NotFound(f"team {org}/{team} not found", code="TEAM_NOT_FOUND")

    async def _repository(self, name: str, kind: str) -> RepositoryInfo:
        """The repository, which must be of `kind` (a model addressed as a chart is not found)."""
        try:
            repository = await self.artifacts.get_repository(name)
        except DomainError as error:
            if error.code == "NAME_UNKNOWN":
                raise repository_not_found(name) from None
            raise
        if repository.kind != kind:
            raise repository_not_found(name)
        return repository

    async def _received(self, name: str, files: Sequence[VersionFileInfo]) -> dict[str, int]:
        """Bytes received so far by each uploading file's session."""
        uploading = [f for f in files if f.status == FILE_UPLOADING]

        async def size_of(file: VersionFileInfo) -> int:
            try:
                return (await self.blobstore.query_write_status(file.upload_id, owner=name)).committed_size
            except DomainError:
                return 0

        sizes = await asyncio.gather(*(size_of(f) for f in uploading))
        return {f.path: size for f, size in zip(uploading, sizes, strict=True)}

    async def _version(self, name: str, version: str) -> VersionInfo:
        return await self.artifacts.get_version(name, version)

    async def _cancel(self, name: str, upload_id: str) -> None:
        try:
            await self.blobstore.cancel_upload(upload_id, owner=name)
        except DomainError as error:
            log.info("upload %s of %s was already gone: %s", upload_id, name, error.code)


def _permission(value: str) -> Permission:
    return value if value in ("view", "read", "write", "admin") else "view"  # type: ignore[return-value]
