"""`/sessions` (console login and logout), `/invitations/{token}/accept`, and `/users/me`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from starlette.responses import Response

from hangar.gateway.rest.access import Caller
from hangar.gateway.rest.base import ERRORS, GuardedRoute, Rest
from hangar.gateway.rest.schemas import (
    AcceptInvitationRequest,
    LoginRequest,
    MemberOut,
    SessionOut,
    member_out,
    user_out,
)
from hangar.kit.errors import InvalidArgument

InvitationToken = Annotated[str, Path(min_length=1, max_length=512, description="The one-time token")]


def router(rest: Rest) -> APIRouter:
    api = APIRouter(route_class=GuardedRoute, responses=ERRORS)
    authenticated = Depends(rest.caller)
    anonymous = Depends(rest.anonymous)

    @api.post("/sessions", status_code=201, tags=["sessions"], dependencies=[anonymous])
    async def log_in(body: LoginRequest) -> SessionOut:
        """Start a session with an email and password; the token is shown once."""
        session = await rest.identity.login(body.email, body.password)
        return SessionOut(
            session_token=session.token,
            expires_at=datetime.fromtimestamp(session.expires_at, UTC),
            user=user_out(session.user),
        )

    @api.delete("/sessions/current", status_code=204, response_class=Response, tags=["sessions"])
    async def log_out(caller: Caller = authenticated) -> Response:
        """End the session whose token authenticates this request."""
        if caller.session is None:
            raise InvalidArgument(
                "this request carries an API key, not a session token: there is no session to end",
                code="NOT_A_SESSION",
            )
        await rest.identity.logout(caller.session_token)
        rest.gate.forget_session(caller.session, caller.session_token)
        return Response(status_code=204)

    @api.post("/invitations/{token}/accept", tags=["sessions"], dependencies=[anonymous])
    async def accept_invitation(token: InvitationToken, body: AcceptInvitationRequest) -> MemberOut:
        """Redeem an invitation once: set a password, and join the org (or team) with the invited roles."""
        member = await rest.identity.accept_invitation(token, body.password, body.display_name or "")
        rest.gate.forget_user(member.user.user_id)
        return member_out(member)

    @api.get("/users/me", tags=["users"])
    async def who_am_i(caller: Caller = authenticated) -> MemberOut:
        """The caller and every membership they hold."""
        member = await rest.identity.get_member(caller.user_id)
        return member_out(member)

    return api
