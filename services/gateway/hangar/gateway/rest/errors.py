"""The REST edge's one error table: domain errors and refused requests -> status and
`{"error": {"code", "message", "detail"}}`, here and nowhere else.

A domain error keeps its code (`KEY_EXPIRED`, `PERSONAL_KEY_LIMIT`, `ORG_NOT_FOUND`...): its kind decides the
status. Limits are 409, not 429: retrying later does not help, the caller must free something first.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hangar.kit.errors import DomainError

log = logging.getLogger(__name__)

#: A domain error's kind -> HTTP status.
STATUS_BY_KIND: Final[Mapping[str, int]] = {
    "invalid_argument": 400,
    "out_of_range": 400,
    "unauthenticated": 401,
    "permission_denied": 403,
    "not_found": 404,
    "already_exists": 409,
    "failed_precondition": 409,
    "aborted": 409,
    "resource_exhausted": 409,
    "internal": 500,
}

#: Codes whose status is not their kind's.
STATUS_BY_CODE: Final[Mapping[str, int]] = {"UNAVAILABLE": 503}

#: HTTP errors raised by routing itself -> the code answered with.
CODE_BY_STATUS: Final[Mapping[int, str]] = {
    400: "REQUEST_INVALID",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}

#: The challenge of every 401 (RFC 6750): send a key or a session token as a Bearer credential.
CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="hangar"'}


class ApiError(Exception):
    """An error the REST edge answers with."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.headers = dict(headers or {})


def from_domain(error: DomainError) -> ApiError:
    """The answer to a domain error a service (or the gateway) raised."""
    status = STATUS_BY_CODE.get(error.code) or STATUS_BY_KIND.get(error.kind, 500)
    if error.code == "UNAVAILABLE":
        log.warning("a backing service is unavailable: %s", error.message)
        return ApiError(
            503, "UNAVAILABLE", "a backing service is unavailable; retry", headers={"Retry-After": "1"}
        )
    if status >= 500:
        log.error("unexpected error from a service: %s %s", error.code, error.message)
        return ApiError(500, "INTERNAL", "internal error")
    headers = CHALLENGE if status == 401 else None
    return ApiError(status, error.code, error.message, detail=error.detail or None, headers=headers)


def from_http(exc: HTTPException) -> ApiError:
    """Routing's own refusals (no such route, method not allowed...)."""
    code = CODE_BY_STATUS.get(exc.status_code, "REQUEST_INVALID" if exc.status_code < 500 else "INTERNAL")
    message = str(exc.detail) if exc.status_code < 500 else "internal error"
    if exc.status_code == 404:
        message = "no such resource"
    allowed = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow")
    if exc.status_code == 405 and allowed:
        message = f"method not allowed here; allowed: {allowed}"
    return ApiError(exc.status_code, code, message, headers=exc.headers)


def from_validation(errors: Sequence[Any]) -> ApiError:
    """A request that does not fit its schema: 400, saying which field and why, first problem first."""
    problems = [_problem(error) for error in errors]
    if not problems:
        return ApiError(400, "REQUEST_INVALID", "the request is not valid")
    first = problems[0]
    message = f"{first['field']}: {first['problem']}" if first["field"] else first["problem"]
    return ApiError(400, "REQUEST_INVALID", message, detail={"problems": problems})


def _problem(error: Any) -> dict[str, str]:
    location = [str(part) for part in error.get("loc", ())]
    kind = error.get("type", "")
    if kind == "json_invalid":
        return {"field": "body", "problem": "is not valid JSON"}
    if location == ["body"] and kind == "missing":
        return {"field": "body", "problem": "is required (a JSON object)"}
    if location[:1] == ["body"] and kind in ("model_attributes_type", "dict_type", "model_type"):
        return {"field": ".".join(location), "problem": "must be a JSON object"}
    field = ".".join(location)
    problem = str(error.get("msg", "is not valid"))
    if kind == "extra_forbidden":
        problem = "is not a field of this request"
    return {"field": field, "problem": problem}


def error_response(error: ApiError) -> Response:
    body = {"error": {"code": error.code, "message": error.message, "detail": error.detail}}
    return JSONResponse(body, status_code=error.status, headers=error.headers)


async def handle_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(from_domain(exc))


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(from_http(exc))


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(from_validation(exc.errors()))


EXCEPTION_HANDLERS: Final = {
    DomainError: handle_domain_error,
    ApiError: handle_api_error,
    HTTPException: handle_http_error,
    RequestValidationError: handle_validation_error,
}
