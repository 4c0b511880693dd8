"""`/orgs/{org}/users[/{user_id}]` (invite, roles, remove) and `/orgs/{org}/teams/{team}/users[/{user_id}]`.

Adding and granting are decided by identity: CheckOrgAccess (may the caller add users here) and CheckGrant
(may the caller give or take these roles; a USER_ADMIN only roles it holds). Nothing is written unless both
allow it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from hangar.gateway.clients.model import Member, Membership
from hangar.gateway.rest.access import ADD_USERS, VIEW_USERS, Caller, user_not_found
from hangar.gateway.rest.base import ERRORS, GuardedRoute, Rest
from hangar.gateway.rest.orgs import OrgPath, TeamPath
from hangar.gateway.rest.paging import DEFAULT_PAGE_SIZE, PageSize, PageToken, next_token
from hangar.gateway.rest.schemas import (
    AddTeamMemberRequest,
    InviteRequest,
    IssuedInvitationOut,
    MemberOut,
    SetRolesRequest,
    UserPage,
    invitation_out,
    member_out,
)
from hangar.kit.errors import InvalidArgument, NotFound

UserPath = Annotated[str, Path(min_length=1, max_length=128, description="A user id")]


def router(rest: Rest) -> APIRouter:
    api = APIRouter(route_class=GuardedRoute, responses=ERRORS, tags=["users"])
    authenticated = Depends(rest.caller)

    async def member_of(org: str, user_id: str) -> tuple[Member, tuple[Membership, ...]]:
        """The user and their memberships in `org`; 404 when they hold none."""
        try:
            member = await rest.identity.get_member(user_id)
        except NotFound:
            raise user_not_found(org, user_id) from None
        held = tuple(m for m in member.memberships if m.org == org)
        if not held:
            raise user_not_found(org, user_id)
        return member, held

    @api.get("/orgs/{org}/users")
    async def list_users(
        org: OrgPath,
        caller: Caller = authenticated,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
        page_token: PageToken = "",
    ) -> UserPage:
        """The org's members by email, with their memberships in the org (VIEW_USERS)."""
        await rest.gate.require(caller, org, VIEW_USERS)
        page = await rest.identity.list_users(org, page_size=page_size, page_token=page_token)
        return UserPage(
            items=[member_out(m, org) for m in page.items], next_page_token=next_token(page.next_page_token)
        )

    @api.post("/orgs/{org}/users", status_code=201)
    async def invite_user(
        org: OrgPath, body: InviteRequest, caller: Caller = authenticated
    ) -> IssuedInvitationOut:
        """Invite someone by email to the org or one team, with roles; the acceptance token is shown once."""
        team = body.team or ""
        await rest.gate.require(caller, org, ADD_USERS, team)
        await rest.gate.require_grant(caller, org, body.roles, team=team, email=body.email)
        issued = await rest.identity.invite_user(
            org, body.email, body.display_name, body.roles, invited_by=caller.user_id, team=team
        )
        return IssuedInvitationOut(invitation=invitation_out(issued.invitation), token=issued.token)

    @api.get("/orgs/{org}/users/{user_id}")
    async def get_user(org: OrgPath, user_id: UserPath, caller: Caller = authenticated) -> MemberOut:
        """A member and their memberships in the org (VIEW_USERS; anyone may look themselves up)."""
        if user_id == caller.user_id:
            await rest.gate.require_member(caller, org)
        else:
            await rest.gate.require(caller, org, VIEW_USERS)
        member, _ = await member_of(org, user_id)
        return member_out(member, org)

    @api.put("/orgs/{org}/users/{user_id}/roles")
    async def set_roles(
        org: OrgPath, user_id: UserPath, body: SetRolesRequest, caller: Caller = authenticated
    ) -> MemberOut:
        """Make `roles` the member's roles at the org (or one team); an empty list ends that membership."""
        team = body.team or ""
        await rest.gate.require(caller, org, ADD_USERS, team)
        member, _ = await member_of(org, user_id)
        await rest.gate.require_grant(caller, org, body.roles, team=team, user_id=user_id)
        memberships = await rest.identity.set_roles(org, user_id, body.roles, team)
        rest.gate.user_changed(user_id)
        return member_out(Member(member.user, memberships), org)

    @api.delete("/orgs/{org}/users/{user_id}", status_code=204, response_class=Response)
    async def remove_user(org: OrgPath, user_id: UserPath, caller: Caller = authenticated) -> Response:
        """Remove the user from the org: every membership ends, and their keys of the org are revoked."""
        await rest.gate.require(caller, org, ADD_USERS)
        _, held = await member_of(org, user_id)
        await rest.gate.require_revoke_all(caller, org, user_id, held)
        await rest.identity.remove_user(org, user_id)
        rest.gate.user_changed(user_id)
        return Response(status_code=204)

    @api.get("/orgs/{org}/teams/{team}/users")
    async def list_team_users(
        org: OrgPath,
        team: TeamPath,
        caller: Caller = authenticated,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
        page_token: PageToken = "",
    ) -> UserPage:
        """The team's members by email, with their memberships in the org (VIEW_USERS in the team)."""
        await rest.gate.require(caller, org, VIEW_USERS, team)
        page = await rest.identity.list_users(org, team, page_size=page_size, page_token=page_token)
        return UserPage(
            items=[member_out(m, org) for m in page.items], next_page_token=next_token(page.next_page_token)
        )

    @api.post("/orgs/{org}/teams/{team}/users", status_code=201)
    async def add_team_user(
        org: OrgPath, team: TeamPath, body: AddTeamMemberRequest, caller: Caller = authenticated
    ) -> MemberOut:
        """Give a member of the org roles in the team (by user id or email)."""
        if (body.user_id is None) == (body.email is None):
            raise InvalidArgument(
                "name the member by user_id or by email, exactly one", code="REQUEST_INVALID"
            )
        await rest.gate.require(caller, org, ADD_USERS, team)
        user_id = body.user_id
        if user_id is None:
            assert body.email is not None
            try:
                user_id = (await rest.identity.get_user_by_email(body.email)).user_id
            except NotFound:
                raise user_not_found(org, body.email) from None
        member, _ = await member_of(org, user_id)
        await rest.gate.require_grant(caller, org, body.roles, team=team, user_id=user_id)
        memberships = await rest.identity.set_roles(org, user_id, body.roles, team)
        rest.gate.user_changed(user_id)
        return member_out(Member(member.user, memberships), org)

    @api.delete("/orgs/{org}/teams/{team}/users/{user_id}", status_code=204, response_class=Response)
    async def remove_team_user(
        org: OrgPath, team: TeamPath, user_id: UserPath, caller: Caller = authenticated
    ) -> Response:
        """End the user's membership of the team (their org membership stays)."""
        await rest.gate.require(caller, org, ADD_USERS, team)
        _, held = await member_of(org, user_id)
        if not any(m.team == team for m in held):
            raise NotFound(f"user {user_id} is not a member of {org}/{team}", code="USER_NOT_FOUND")
        await rest.gate.require_grant(caller, org, [], team=team, user_id=user_id)
        await rest.identity.remove_user_from_team(org, team, user_id)
        rest.gate.user_changed(user_id)
        return Response(status_code=204)

    return api
