"""What every REST resource module shares: the services, the gatekeeper, the caller dependencies that bind
the call context (actor, correlation) around the request, and the route class that maps errors once."""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any, Final

from fastapi import Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from hangar.gateway.clients.ports import IdentityPort, KeysPort
from hangar.gateway.rest.access import Caller, Gatekeeper
from hangar.gateway.rest.errors import ApiError, error_response, from_domain
from hangar.gateway.rest.schemas import ErrorBody
from hangar.kit import context
from hangar.kit.errors import DomainError

log = logging.getLogger(__name__)

REQUEST_ID_HEADER: Final = "x-request-id"

#: Documents the Bearer credential in the OpenAPI document; the header itself is read by the gatekeeper
#: (which also takes Basic `$oauthtoken:<key>`).
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API key (hgr_...) that includes the admin service, or a session token (hgs_...)",
)

#: Error answers every route may give, for the OpenAPI document.
ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "The request is not valid (which field, and why)",
        401: "No credential, or a refused one (KEY_EXPIRED, KEY_REVOKED, SESSION_EXPIRED...)",
        403: "Authenticated, but not allowed (identity's reason)",
        404: "No such resource, or one the caller may not see",
        409: "Conflicts with the current state, or a limit is reached",
        413: "The body is too large",
        415: "The body is not JSON",
    }.items()
}


@dataclasses.dataclass(frozen=True)
class Rest:
    """The REST edge's collaborators, handed to each resource module's `router()`."""

    identity: IdentityPort
    keys: KeysPort
    gate: Gatekeeper
    wall_clock: Callable[[], float] = time.time

    async def caller(
        self, request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
    ) -> AsyncIterator[Caller]:
        """The authenticated caller, acting as the call context's actor for the rest of the request."""
        caller = await self.gate.caller(request.headers.get("authorization"))
        with context.bound(context.CallContext(actor=caller.user_id, correlation_id=_correlation(request))):
            yield caller

    async def anonymous(self, request: Request) -> AsyncIterator[None]:
        """No credential needed (login, accepting an invitation): the call context has no actor."""
        with context.bound(context.CallContext(correlation_id=_correlation(request))):
            yield None


def _correlation(request: Request) -> str:
    return request.headers.get(REQUEST_ID_HEADER, "")[:128] or uuid.uuid4().hex


class GuardedRoute(APIRoute):
    """A route whose domain errors (from its dependencies too) become REST errors, and whose unexpected
    errors become a 500 in the same shape, logged without the request's credentials or body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as error:
                return error_response(from_domain(error))
            except ApiError as error:
                return error_response(error)
            except ClientDisconnect:
                log.info("client went away during %s %s", request.method, self.path)
                return Response(status_code=400)
            except (RequestValidationError, HTTPException):
                raise
            except Exception as error:
                log.error("unexpected error serving %s %s", request.method, self.path, exc_info=error)
                return error_response(ApiError(500, "INTERNAL", "internal error"))

        return guarded
