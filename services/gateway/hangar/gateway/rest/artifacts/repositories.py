"""Repository handlers: create, read, change metadata, point `latest`."""

from __future__ import annotations

from hangar.gateway.auth import LIST, PUSH
from hangar.gateway.rest.artifact_access import ArtifactCaller, permission_of
from hangar.gateway.rest.artifact_schemas import (
    CreateRepositoryRequest,
    RepositoryMetadataBody,
    RepositoryOut,
    SetLatestRequest,
    repository_out,
)
from hangar.gateway.rest.artifacts.base import HandlerBase, _permission
from hangar.kit.errors import InvalidArgument


class Repositories(HandlerBase):
    """The repository handlers."""

    async def create_repository(
        self, caller: ArtifactCaller, org: str, team: str, kind: str, body: CreateRepositoryRequest
    ) -> RepositoryOut:
        name = "/".join(p for p in (org, team, body.name) if p)
        actions = await self.gate.require(caller, org, name, kind, PUSH)
        await self._team_exists(org, team)
        created = await self.artifacts.create_repository(
            name, kind, body.metadata.info(), latest_policy=body.latest_policy
        )
        return repository_out(created, _permission(permission_of(actions)))

    async def get_repository(self, caller: ArtifactCaller, name: str, org: str, kind: str) -> RepositoryOut:
        actions = await self.gate.require(caller, org, name, kind, LIST)
        return repository_out(await self._repository(name, kind), _permission(permission_of(actions)))

    async def update_repository(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, body: RepositoryMetadataBody
    ) -> RepositoryOut:
        actions = await self.gate.require(caller, org, name, kind, PUSH)
        await self._repository(name, kind)
        fields = sorted(body.model_fields_set)
        if not fields:
            raise InvalidArgument("name at least one metadata field to change", code="REQUEST_INVALID")
        updated = await self.artifacts.update_repository(name, body.info(), fields)
        return repository_out(updated, _permission(permission_of(actions)))

    async def set_latest(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, body: SetLatestRequest
    ) -> RepositoryOut:
        actions = await self.gate.require(caller, org, name, kind, PUSH)
        await self._repository(name, kind)
        if body.auto == (body.version is not None):
            raise InvalidArgument('send either {"version": "<v>"} or {"auto": true}', code="REQUEST_INVALID")
        updated = await self.artifacts.set_latest(name, body.version or "", auto=body.auto)
        return repository_out(updated, _permission(permission_of(actions)))
