"""OCI error codes, the one table from domain errors to HTTP status and body, and the 401 challenge.

Services raise domain errors with OCI codes where the spec has one (DIGEST_INVALID, MANIFEST_UNKNOWN...);
this module is where they become `{"errors":[{"code","message","detail"}]}` with the right status, and
nowhere else. The spec's list of codes is closed: a service code it lacks is answered with the spec code
clients understand (TRANSLATED_CODES), the service's code kept as the detail's `reason`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Final

from starlette.responses import JSONResponse, Response

from hangar.kit.errors import DomainError

log = logging.getLogger(__name__)

API_VERSION_HEADER: Final = {"Docker-Distribution-API-Version": "registry/2.0"}

#: Every code the gateway raises, and its status (distribution-spec error codes, the legacy TAG_INVALID the
#: spec lets clients meet, UNAVAILABLE, and the Docker registry's RANGE_INVALID and PAGINATION_NUMBER_INVALID,
#: which are answered with a spec code: SPEC_CODE_FOR).
STATUS_BY_CODE: Final[Mapping[str, int]] = {
    "BLOB_UNKNOWN": 404,
    "BLOB_UPLOAD_INVALID": 400,
    "BLOB_UPLOAD_UNKNOWN": 404,
    "DIGEST_INVALID": 400,
    "MANIFEST_BLOB_UNKNOWN": 400,
    "MANIFEST_INVALID": 400,
    "MANIFEST_UNKNOWN": 404,
    "NAME_INVALID": 400,
    "NAME_UNKNOWN": 404,
    "SIZE_INVALID": 400,
    "UNAUTHORIZED": 401,
    "DENIED": 403,
    "UNSUPPORTED": 405,
    "TOOMANYREQUESTS": 429,
    "RANGE_INVALID": 416,
    "TAG_INVALID": 400,
    "PAGINATION_NUMBER_INVALID": 400,
    "UNAVAILABLE": 503,
    "UNKNOWN": 500,
}

#: The same code answered differently on one resource: a manifest over the size limit is 413.
STATUS_BY_RESOURCE_CODE: Final[Mapping[tuple[str, str], int]] = {
    ("manifest", "SIZE_INVALID"): 413,
}

#: Service codes the spec has none for -> (the spec's code, status, the detail key listing the service's
#: detail, space-separated digests). The detail is `{"reason": <service code>, <key>: [digest, ...]}`.
#:
#: | service code        | answer     | when                                                             |
#: |---------------------|------------|------------------------------------------------------------------|
#: | MANIFEST_REFERENCED | 409 DENIED | DELETE of a manifest an index of the repository lists; message   |
#: |                     |            | and `detail.indexes` name the index, which must be deleted first |
#: | BLOB_REFERENCED     | 409 DENIED | DELETE of a blob a manifest of the repository names (config or   |
#: |                     |            | layer); `detail.manifests` names them: delete those first        |
TRANSLATED_CODES: Final[Mapping[str, tuple[str, int, str]]] = {
    "MANIFEST_REFERENCED": ("DENIED", 409, "indexes"),
    "BLOB_REFERENCED": ("DENIED", 409, "manifests"),
}

#: The same service code answered with another spec code on one resource: a manifest over the size limit
#: is MANIFEST_INVALID (SIZE_INVALID means a length that does not match the content), with status 413.
CODE_BY_RESOURCE_CODE: Final[Mapping[tuple[str, str], str]] = {
    ("manifest", "SIZE_INVALID"): "MANIFEST_INVALID",
}

#: Codes the gateway raises that the spec's closed list lacks (the Docker registry's) -> the spec code
#: answered in their place on the wire; the raised code stays in the detail's `reason` and the status is
#: kept. RANGE_INVALID is left only by a blob read outside the blob (uploads answer BLOB_UPLOAD_INVALID).
SPEC_CODE_FOR: Final[Mapping[str, str]] = {
    "RANGE_INVALID": "SIZE_INVALID",
    "PAGINATION_NUMBER_INVALID": "UNSUPPORTED",
}

#: A domain error whose code has no OCI meaning keeps its code; its kind decides the status.
STATUS_BY_KIND: Final[Mapping[str, int]] = {
    "invalid_argument": 400,
    "not_found": 404,
    "already_exists": 409,
    "failed_precondition": 409,
    "aborted": 409,
    "resource_exhausted": 429,
    "permission_denied": 403,
    "unauthenticated": 401,
    "out_of_range": 416,
    "internal": 500,
}

#: Kinds whose own code is replaced by the OCI one clients understand.
CODE_BY_KIND: Final[Mapping[str, str]] = {
    "permission_denied": "DENIED",
    "unauthenticated": "UNAUTHORIZED",
    "out_of_range": "RANGE_INVALID",
}


class OciError(Exception):
    """An error the OCI edge answers with: code, message, detail, and the status they imply."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        detail: Any = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail
        self.status = status or STATUS_BY_CODE.get(code, 400)
        self.headers = dict(headers or {})


def status_for(code: str, kind: str, resource: str = "") -> int:
    if (resource, code) in STATUS_BY_RESOURCE_CODE:
        return STATUS_BY_RESOURCE_CODE[(resource, code)]
    if code in STATUS_BY_CODE:
        return STATUS_BY_CODE[code]
    return STATUS_BY_KIND.get(kind, 500)


def from_domain(error: DomainError, resource: str = "") -> OciError:
    """The OCI error for a domain error a service raised, on `resource` (blob, upload, manifest, tags...)."""
    if error.code in TRANSLATED_CODES:
        code, status, key = TRANSLATED_CODES[error.code]
        return OciError(
            code, error.message, detail={"reason": error.code, key: error.detail.split()}, status=status
        )
    code = error.code
    if code not in STATUS_BY_CODE:
        code = CODE_BY_KIND.get(error.kind, code)
    status = status_for(code, error.kind, resource)
    code = CODE_BY_RESOURCE_CODE.get((resource, code), code)
    if status >= 500:
        if code == "UNAVAILABLE":
            log.warning("a backing service is unavailable: %s", error.message)
            return OciError(
                "UNAVAILABLE",
                "a backing service is unavailable; retry",
                status=503,
                headers={"Retry-After": "1"},
            )
        log.error("unexpected error from a service: %s %s", error.code, error.message)
        return OciError("UNKNOWN", "internal error", status=500)
    detail: Any = error.detail or None
    if error.kind == "unauthenticated":
        detail = {"reason": error.code}
    return OciError(code, error.message, detail=detail, status=status)


def error_response(error: OciError, *, head: bool = False) -> Response:
    """The response for `error`; a HEAD answer carries the status and headers but no body."""
    headers = {**API_VERSION_HEADER, **error.headers}
    code, detail = error.code, error.detail
    if code in SPEC_CODE_FOR:
        code = SPEC_CODE_FOR[error.code]
        extra = detail if isinstance(detail, dict) else ({} if detail is None else {"detail": detail})
        detail = {"reason": error.code, **extra}
    body = {"errors": [{"code": code, "message": error.message, "detail": detail}]}
    response = JSONResponse(body, status_code=error.status, headers=headers)
    if head:
        response.body = b""
    return response


def challenge(realm: str, service: str, scope: str = "", error: str = "") -> str:
    """`Bearer realm="<base>/token",service="hangar",scope="repository:<name>:<actions>"` (RFC 6750 §3)."""
    parts = [f'realm="{realm}"', f'service="{service}"']
    if scope:
        parts.append(f'scope="{scope}"')
    if error:
        parts.append(f'error="{error}"')
    return "Bearer " + ",".join(parts)


def access_detail(name: str, actions: Iterable[str]) -> list[dict[str, str]]:
    """The `detail` of an UNAUTHORIZED error: the access the request needs, as the token spec shows it."""
    return [{"Type": "repository", "Name": name, "Action": action} for action in actions]
