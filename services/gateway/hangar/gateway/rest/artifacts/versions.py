"""Version handlers: list, open, read, delete, list files, commit (the config blob stored once, then the
version becomes its manifest)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from hangar.gateway.auth import DELETE, LIST, PUSH
from hangar.gateway.clients.artifacts import FILE_UPLOADING
from hangar.gateway.rest.artifact_access import ArtifactCaller
from hangar.gateway.rest.artifact_schemas import (
    CreateVersionRequest,
    FilePage,
    VersionOut,
    VersionPage,
    file_out,
    version_out,
)
from hangar.gateway.rest.artifacts.base import HandlerBase
from hangar.gateway.rest.paging import next_token
from hangar.kit.errors import DomainError


class Versions(HandlerBase):
    """The version handlers."""

    async def list_versions(
        self,
        caller: ArtifactCaller,
        name: str,
        org: str,
        kind: str,
        *,
        order: str,
        include_pending: bool,
        page_size: int,
        page_token: str,
    ) -> VersionPage:
        await self.gate.require(caller, org, name, kind, LIST)
        await self._repository(name, kind)
        versions, token = await self.artifacts.list_versions(
            name, order=order, page_size=page_size, page_token=page_token, include_pending=include_pending
        )
        items = [version_out(v, with_files=False) for v in versions]
        return VersionPage(items=items, next_page_token=next_token(token))

    async def create_version(
        self, caller: ArtifactCaller, org: str, team: str, name: str, kind: str, body: CreateVersionRequest
    ) -> VersionOut:
        await self.gate.require(caller, org, name, kind, PUSH)
        await self._team_exists(org, team)
        created = await self.artifacts.create_version(
            name,
            body.version,
            metadata=body.metadata.info(),
            base_version=body.base_version,
            create_kind=kind,
            created_by=caller.user_id or (caller.key.key_id if caller.key else ""),
        )
        return version_out(created)

    async def get_version(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, version: str
    ) -> VersionOut:
        await self.gate.require(caller, org, name, kind, LIST)
        await self._repository(name, kind)
        found = await self._version(name, version)
        return version_out(found, received=await self._received(name, found.files))

    async def delete_version(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, version: str
    ) -> None:
        await self.gate.require(caller, org, name, kind, DELETE)
        await self._repository(name, kind)
        found = await self._version(name, version)
        await self.artifacts.delete_version(name, found.version)
        for file in found.files:
            if file.status == FILE_UPLOADING:
                await self._cancel(name, file.upload_id)

    async def list_files(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, version: str
    ) -> FilePage:
        await self.gate.require(caller, org, name, kind, LIST)
        await self._repository(name, kind)
        found = await self._version(name, version)
        received = await self._received(name, found.files)
        return FilePage(items=[file_out(f, received.get(f.path)) for f in found.files])

    async def commit(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, version: str
    ) -> VersionOut:
        """Store the version's config blob (once), link it, then commit: the version becomes its manifest."""
        await self.gate.require(caller, org, name, kind, PUSH)
        await self._repository(name, kind)
        config = await self.artifacts.get_version_config(name, version)
        try:
            await self.blobstore.stat_blob(config.digest)
        except DomainError as error:
            if error.kind != "not_found":
                raise
            upload_id = await self.blobstore.start_upload(name)
            await self.blobstore.write(upload_id, 0, _once(config.content), owner=name)
            await self.blobstore.commit_upload(upload_id, config.digest, owner=name)
        await self.registry.link_blob(name, config.digest, len(config.content))
        committed = await self.artifacts.commit_version(name, version, config.digest)
        return version_out(committed.version)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
