"""Listing repositories: an org's search across the namespaces the caller may see, and one namespace's
collection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from hangar.gateway.auth import LIST
from hangar.gateway.rest.artifact_access import ArtifactCaller, permission_of
from hangar.gateway.rest.artifact_schemas import RepositoryOut, RepositoryPage, repository_out
from hangar.gateway.rest.artifacts.base import HandlerBase, _permission
from hangar.gateway.rest.paging import next_token
from hangar.kit.errors import InvalidArgument
from hangar.kit.paging import decode_page_token, encode_page_token

#: The most namespaces one SearchRepositories takes (the registry's limit).
NAMESPACES_PER_SEARCH: Final = 100
_GROUPS: Final = "namespace-groups"


class Listings(HandlerBase):
    """The repository listings."""

    async def _rows(
        self,
        caller: ArtifactCaller,
        namespaces: dict[str, str],
        *,
        kind: str,
        q: str,
        labels: Sequence[str],
        page_size: int,
        page_token: str,
    ) -> RepositoryPage:
        if not namespaces:
            return RepositoryPage(items=[], next_page_token=None)
        # the registry searches at most NAMESPACES_PER_SEARCH namespaces at once: more are walked a group
        # at a time, the token saying which group and the registry's token within it
        groups = [
            sorted(namespaces)[i : i + NAMESPACES_PER_SEARCH]
            for i in range(0, len(namespaces), NAMESPACES_PER_SEARCH)
        ]
        group, inner = 0, page_token
        if len(groups) > 1:
            cursor = decode_page_token(page_token, _GROUPS) or {}
            group, inner = cursor.get("group", 0), cursor.get("token", "")
            if not isinstance(group, int) or not 0 <= group < len(groups) or not isinstance(inner, str):
                raise InvalidArgument("page_token is not one this API handed out", code="PAGE_TOKEN_INVALID")
        rows, token = await self.artifacts.search_repositories(
            namespaces=groups[group],
            kind=kind,
            name_pattern=q,
            labels=labels,
            page_size=page_size,
            page_token=inner,
        )
        if len(groups) > 1 and (token or group + 1 < len(groups)):
            token = encode_page_token({"group": group + (0 if token else 1), "token": token}, _GROUPS)
        items: list[RepositoryOut] = []
        for row in rows:
            permission = namespaces.get(row.name.rsplit("/", 1)[0], "")
            if caller.is_service_key:
                actions = await self.gate.actions(caller, row.name, row.kind)
                if LIST not in actions:
                    continue
                permission = permission_of(actions)
            items.append(repository_out(row, _permission(permission)))
        return RepositoryPage(items=items, next_page_token=next_token(token))

    async def search(
        self,
        caller: ArtifactCaller,
        org: str,
        *,
        kind: str,
        q: str,
        labels: Sequence[str],
        team: str,
        page_size: int,
        page_token: str,
    ) -> RepositoryPage:
        await self.gate.require_org(caller, org)
        if team:
            await self._team_exists(org, team)
            teams = [team]
        else:
            teams = [t.name for t in await self.identity.list_teams(org)]
        namespaces = await self.gate.visible_namespaces(caller, org, teams)
        if team:
            namespaces.pop(org, None)
        return await self._rows(
            caller, namespaces, kind=kind, q=q, labels=labels, page_size=page_size, page_token=page_token
        )

    async def list_in(
        self,
        caller: ArtifactCaller,
        org: str,
        team: str,
        kind: str,
        *,
        q: str,
        labels: Sequence[str],
        page_size: int,
        page_token: str,
    ) -> RepositoryPage:
        actions = await self.gate.require_namespace(caller, org, team, kind)
        namespace = f"{org}/{team}" if team else org
        return await self._rows(
            caller,
            {namespace: permission_of(actions)},
            kind=kind,
            q=q,
            labels=labels,
            page_size=page_size,
            page_token=page_token,
        )
