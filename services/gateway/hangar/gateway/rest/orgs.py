"""`/orgs/{org}` and `/orgs/{org}/teams[/{team}]`: the org, and its teams as the caller may see them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from hangar.gateway.rest.access import ADD_TEAMS, VIEW_ORG, Caller, team_not_found
from hangar.gateway.rest.base import ERRORS, GuardedRoute, Rest
from hangar.gateway.rest.paging import DEFAULT_PAGE_SIZE, PageSize, PageToken, cut
from hangar.gateway.rest.schemas import (
    NAME_PATTERN,
    CreateTeamRequest,
    OrgOut,
    TeamOut,
    TeamPage,
    org_out,
    team_out,
)

OrgPath = Annotated[str, Path(min_length=2, max_length=64, pattern=NAME_PATTERN)]
TeamPath = Annotated[str, Path(min_length=2, max_length=64, pattern=NAME_PATTERN)]


def router(rest: Rest) -> APIRouter:
    api = APIRouter(route_class=GuardedRoute, responses=ERRORS, tags=["orgs"])
    authenticated = Depends(rest.caller)

    @api.get("/orgs/{org}")
    async def get_org(org: OrgPath, caller: Caller = authenticated) -> OrgOut:
        """The org, to any of its members."""
        await rest.gate.require_member(caller, org)
        return org_out(await rest.identity.get_org(org))

    @api.get("/orgs/{org}/teams")
    async def list_teams(
        org: OrgPath,
        caller: Caller = authenticated,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
        page_token: PageToken = "",
    ) -> TeamPage:
        """The org's teams the caller may see: all of them for ORG_OWNER and org USER_ADMIN, else those the
        caller holds a role in."""
        await rest.gate.require_member(caller, org)
        teams = await rest.identity.list_teams(org)
        if not (await rest.gate.permission(caller, org, ADD_TEAMS)).allowed:
            mine = {m.team for m in await rest.gate.memberships(caller.user_id) if m.org == org and m.team}
            teams = tuple(team for team in teams if team.name in mine)
        items, token = cut(teams, page_size, page_token)
        return TeamPage(items=[team_out(team) for team in items], next_page_token=token)

    @api.post("/orgs/{org}/teams", status_code=201)
    async def create_team(org: OrgPath, body: CreateTeamRequest, caller: Caller = authenticated) -> TeamOut:
        """Create a team (ORG_OWNER, org USER_ADMIN)."""
        await rest.gate.require(caller, org, ADD_TEAMS)
        return team_out(await rest.identity.create_team(org, body.name))

    @api.get("/orgs/{org}/teams/{team}")
    async def get_team(org: OrgPath, team: TeamPath, caller: Caller = authenticated) -> TeamOut:
        """A team, to those who may see it."""
        await rest.gate.require(caller, org, VIEW_ORG, team)
        for known in await rest.identity.list_teams(org):
            if known.name == team:
                return team_out(known)
        raise team_not_found(org, team)

    return api
