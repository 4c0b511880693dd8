"""`/orgs/{org}/events`: the org's audit log (identity's and keys' events), oldest first, for those who may
view users."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hangar.gateway.rest.access import VIEW_USERS, Caller
from hangar.gateway.rest.base import ERRORS, GuardedRoute, Rest
from hangar.gateway.rest.orgs import OrgPath
from hangar.gateway.rest.paging import DEFAULT_PAGE_SIZE, PageSize, PageToken, next_token
from hangar.gateway.rest.schemas import EventPage, event_out

EventTypes = Annotated[
    list[Annotated[str, Query(min_length=1, max_length=200)]],
    Query(max_length=50, description="Only these types (hangar.identity.v1.UserRemoved or UserRemoved)"),
]
Actor = Annotated[str, Query(max_length=128, description="Only events caused by this user id")]
Since = Annotated[datetime | None, Query(description="Only events at or after this time (RFC 3339)")]


def router(rest: Rest) -> APIRouter:
    api = APIRouter(route_class=GuardedRoute, responses=ERRORS, tags=["audit"])
    authenticated = Depends(rest.caller)

    @api.get("/orgs/{org}/events")
    async def list_events(
        org: OrgPath,
        caller: Caller = authenticated,
        type: EventTypes = [],  # noqa: B006 - the query parameter's name; FastAPI copies defaults
        actor: Actor = "",
        since: Since = None,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
        page_token: PageToken = "",
    ) -> EventPage:
        await rest.gate.require(caller, org, VIEW_USERS)
        page = await rest.identity.list_events(
            org,
            types=type,
            actor=actor,
            since=_micros(since),
            page_size=page_size,
            page_token=page_token,
        )
        return EventPage(
            items=[event_out(event) for event in page.items], next_page_token=next_token(page.next_page_token)
        )

    return api


def _micros(when: datetime | None) -> int:
    if when is None:
        return 0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, int(when.timestamp() * 1_000_000))
