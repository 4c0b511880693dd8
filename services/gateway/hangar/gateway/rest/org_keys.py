"""`/orgs/{org}/keys[/{id}]` (members' keys: view, revoke), `/orgs/{org}/service-keys[/{id}]` (+ `/rotate`).

Both are for ORG_OWNER and the org's USER_ADMIN: identity's ADD_USERS at org scope, which no other role holds
there. A key of another org answers 404 like a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Final

from fastapi import APIRouter, Body, Depends, Query
from starlette.responses import Response

from hangar.gateway.clients.model import KeyInfo, KeyScope
from hangar.gateway.rest.access import ADD_USERS, Caller
from hangar.gateway.rest.base import ERRORS, GuardedRoute, Rest
from hangar.gateway.rest.keys import IncludeDead, KeyPath, check_services, key_not_found
from hangar.gateway.rest.orgs import OrgPath
from hangar.gateway.rest.paging import DEFAULT_PAGE_SIZE, PageSize, PageToken, next_token
from hangar.gateway.rest.schemas import (
    CreateServiceKeyRequest,
    IssuedKeyOut,
    KeyOut,
    KeyPage,
    KeyScopeBody,
    Reason,
    RevokeKeyRequest,
    UpdateServiceKeyRequest,
    key_out,
    scope_of,
)
from hangar.kit.errors import InvalidArgument, NotFound

DEFAULT_REASON: Final = "revoked by admin"
UserFilter = Annotated[str, Query(max_length=128, description="Only this user's keys")]
ReasonQuery = Annotated[Reason | None, Query(description=f'Why; default "{DEFAULT_REASON}"')]


def router(rest: Rest) -> APIRouter:
    api = APIRouter(route_class=GuardedRoute, responses=ERRORS)
    authenticated = Depends(rest.caller)

    async def key_of(org: str, key_id: str, *, service: bool) -> KeyInfo:
        try:
            key = await rest.keys.get_key(key_id)
        except NotFound:
            raise key_not_found(key_id) from None
        if key.org != org or (key.key_type == "SERVICE") != service:
            raise key_not_found(key_id)
        return key

    async def scopes_in(org: str, bodies: Sequence[KeyScopeBody]) -> list[KeyScope]:
        """The scopes, each inside the org (and its team, when it names one that exists)."""
        scopes = [scope_of(body) for body in bodies]
        teams = {scope.team for scope in scopes if scope.team}
        if teams:
            known = {team.name for team in await rest.identity.list_teams(org)}
            unknown = sorted(teams - known)
            if unknown:
                raise InvalidArgument(f"scope team {unknown[0]} is not a team of {org}", code="SCOPE_INVALID")
        for scope in scopes:
            inside = f"{org}/{scope.team}/" if scope.team else f"{org}/"
            if scope.repository and not scope.repository.startswith(inside):
                raise InvalidArgument(
                    f"scope repository {scope.repository} is not in {inside.rstrip('/')}",
                    code="SCOPE_INVALID",
                )
        return scopes

    def page_of(keys: Sequence[KeyInfo], token: str) -> KeyPage:
        now = rest.wall_clock()
        return KeyPage(items=[key_out(key, now) for key in keys], next_page_token=next_token(token))

    # -- members' keys -------------------------------------------------------------------------------------

    @api.get("/orgs/{org}/keys", tags=["org keys"])
    async def list_member_keys(
        org: OrgPath,
        caller: Caller = authenticated,
        user_id: UserFilter = "",
        include_dead: IncludeDead = False,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
        page_token: PageToken = "",
    ) -> KeyPage:
        """The personal and legacy keys of the org's members (metadata only)."""
        await rest.gate.require(caller, org, ADD_USERS)
        page = await rest.keys.list_org_keys(
            org, page_size=page_size, page_token=page_token, user_id=user_id, include_dead=include_dead
        )
        return page_of([key for key in page.items if key.key_type != "SERVICE"], page.next_page_token)

    @api.delete("/orgs/{org}/keys/{key_id}", status_code=204, response_class=Response, tags=["org keys"])
    async def revoke_member_key(
        org: OrgPath,
        key_id: KeyPath,
        caller: Caller = authenticated,
        reason: ReasonQuery = None,
        body: Annotated[RevokeKeyRequest | None, Body()] = None,
    ) -> Response:
        """Revoke a member's key at once; the reason (query or body) is recorded in the audit log."""
        await rest.gate.require(caller, org, ADD_USERS)
        await key_of(org, key_id, service=False)
        await rest.keys.revoke_key(key_id, (body.reason if body else reason) or DEFAULT_REASON)
        rest.gate.key_changed(key_id, final=True)
        return Response(status_code=204)

    # -- service keys --------------------------------------------------------------------------------------

    @api.get("/orgs/{org}/service-keys", tags=["service keys"])
    async def list_service_keys(
        org: OrgPath,
        caller: Caller = authenticated,
        include_dead: IncludeDead = False,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
        page_token: PageToken = "",
    ) -> KeyPage:
        await rest.gate.require(caller, org, ADD_USERS)
        page = await rest.keys.list_org_keys(
            org, page_size=page_size, page_token=page_token, include_dead=include_dead
        )
        return page_of([key for key in page.items if key.key_type == "SERVICE"], page.next_page_token)

    @api.post("/orgs/{org}/service-keys", status_code=201, tags=["service keys"])
    async def create_service_key(
        org: OrgPath, body: CreateServiceKeyRequest, caller: Caller = authenticated
    ) -> IssuedKeyOut:
        """Issue a key the org owns (at most 50), with explicit scopes; its secret is shown once."""
        await rest.gate.require(caller, org, ADD_USERS)
        check_services(caller, body.services)
        scopes = await scopes_in(org, body.scopes)
        issued = await rest.keys.issue_service_key(
            org,
            body.name,
            sorted(set(body.services)),
            scopes,
            expires_in_seconds=body.expires_in_seconds or 0,
            created_by=caller.user_id,
        )
        return IssuedKeyOut(key=key_out(issued.key, rest.wall_clock()), secret=issued.secret)

    @api.get("/orgs/{org}/service-keys/{key_id}", tags=["service keys"])
    async def get_service_key(org: OrgPath, key_id: KeyPath, caller: Caller = authenticated) -> KeyOut:
        await rest.gate.require(caller, org, ADD_USERS)
        return key_out(await key_of(org, key_id, service=True), rest.wall_clock())

    @api.patch("/orgs/{org}/service-keys/{key_id}", tags=["service keys"])
    async def update_service_key(
        org: OrgPath, key_id: KeyPath, body: UpdateServiceKeyRequest, caller: Caller = authenticated
    ) -> KeyOut:
        """Rename a service key, replace its services or scopes, or (de)activate it."""
        if body.name is None and body.services is None and body.scopes is None and body.active is None:
            raise InvalidArgument(
                "nothing to change: give name, services, scopes or active", code="REQUEST_INVALID"
            )
        await rest.gate.require(caller, org, ADD_USERS)
        key = await key_of(org, key_id, service=True)
        if body.services is not None:
            check_services(caller, body.services)
        scopes = await scopes_in(org, body.scopes) if body.scopes is not None else None
        if body.name is not None or body.services is not None or scopes is not None:
            services = sorted(set(body.services)) if body.services is not None else None
            key = await rest.keys.update_key(key_id, name=body.name, services=services, scopes=scopes)
        if body.active is not None:
            key = await rest.keys.set_key_active(key_id, body.active)
        rest.gate.key_changed(key_id)
        return key_out(key, rest.wall_clock())

    @api.delete(
        "/orgs/{org}/service-keys/{key_id}", status_code=204, response_class=Response, tags=["service keys"]
    )
    async def delete_service_key(org: OrgPath, key_id: KeyPath, caller: Caller = authenticated) -> Response:
        await rest.gate.require(caller, org, ADD_USERS)
        await key_of(org, key_id, service=True)
        await rest.keys.delete_key(key_id)
        rest.gate.key_changed(key_id, final=True)
        return Response(status_code=204)

    @api.post("/orgs/{org}/service-keys/{key_id}/rotate", tags=["service keys"])
    async def rotate_service_key(
        org: OrgPath, key_id: KeyPath, caller: Caller = authenticated
    ) -> IssuedKeyOut:
        """A new secret for the service key (same id); the old secret stops working at once."""
        await rest.gate.require(caller, org, ADD_USERS)
        await key_of(org, key_id, service=True)
        rotated = await rest.keys.rotate_key(key_id)
        rest.gate.key_changed(key_id)
        return IssuedKeyOut(key=key_out(rotated.key, rest.wall_clock()), secret=rotated.secret)

    return api
