"""The token service (`/token`): an API key in, a short-lived signed access token with granted actions out.

Docker registry token spec: `GET /token?service=hangar&scope=repository:demo/hello:pull,push` (several
`scope` parameters allowed, `account` ignored) with Basic `$oauthtoken:<key>`; also the OAuth2 form
`POST /token` (grant_type=password). Scopes the caller may not have are left out of the token, not refused;
the token records why, so the registry can answer 403 with identity's reason. `registry:catalog:*` is granted
to every authenticated key: `/v2/_catalog` then lists what that key may see (docs/decisions/0015).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hangar.gateway.auth import (
    OAUTH_USERNAME,
    REPOSITORY,
    SERVICE,
    ApiKeyCredential,
    Authenticator,
    Authorizer,
    Denial,
    Grant,
    Scope,
    TokenCredential,
    TokenIssuer,
    parse_authorization,
    parse_scopes,
)
from hangar.gateway.auth.signing import CATALOG_NAME, REGISTRY_RESOURCE
from hangar.gateway.clients import KeyInfo
from hangar.kit.errors import DomainError, InvalidArgument, Unauthenticated

log = logging.getLogger(__name__)

MAX_FORM_BYTES: Final = 64 * 1024
_NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: The scope a client asks for before listing the catalog, as the token's `scope` echoes it.
CATALOG_SCOPE: Final = f"{REGISTRY_RESOURCE}:{CATALOG_NAME}:*"


def asks_catalog(scopes: list[Scope]) -> bool:
    """Whether `registry:catalog:<actions>` is among `scopes` (any action: `*` is the only one there is)."""
    return any(scope.type == REGISTRY_RESOURCE and scope.name == CATALOG_NAME for scope in scopes)


class TokenService:
    """Exchanges API keys for access tokens; the only place tokens are signed."""

    def __init__(
        self,
        authenticator: Authenticator,
        authorizer: Authorizer,
        issuer: TokenIssuer,
        service: str = SERVICE,
    ) -> None:
        self._authenticator = authenticator
        self._authorizer = authorizer
        self._issuer = issuer
        self._service = service

    def routes(self) -> list[Route]:
        return [Route("/token", self.get, methods=["GET"]), Route("/token", self.post, methods=["POST"])]

    async def get(self, request: Request) -> Response:
        as_of = self._issuer.now()
        try:
            self._check_service(request.query_params.get("service"))
            key, read_at = await self._key(parse_authorization(request.headers.get("authorization")))
            scopes = parse_scopes(request.query_params.getlist("scope"))
            body = await self._exchange(key, scopes, min(as_of, read_at))
        except DomainError as error:
            return _error_response(error)
        return JSONResponse(body, headers=_NO_STORE)

    async def post(self, request: Request) -> Response:
        """OAuth2 password grant (RFC 6749 §4.3): username `$oauthtoken`, password an API key."""
        try:
            form = await _form(request)
            grant_type = form.get("grant_type", "")
            if grant_type != "password":
                return JSONResponse(
                    {
                        "error": "unsupported_grant_type",
                        "error_description": "only grant_type=password is supported",
                    },
                    status_code=400,
                    headers=_NO_STORE,
                )
            self._check_service(form.get("service"))
            if form.get("username") != OAUTH_USERNAME:
                raise Unauthenticated(
                    f"the username must be {OAUTH_USERNAME} and the password an API key",
                    code="USERNAME_INVALID",
                )
            as_of = self._issuer.now()
            key, read_at = await self._key(ApiKeyCredential(form.get("password", "")))
            scopes = parse_scopes([form.get("scope", "")])
            body = await self._exchange(key, scopes, min(as_of, read_at))
        except DomainError as error:
            return _error_response(error)
        granted = [str(s) for s in scopes if s.type == REPOSITORY]
        body["scope"] = " ".join([*granted, CATALOG_SCOPE] if asks_catalog(scopes) else granted)
        return JSONResponse(body, headers=_NO_STORE)

    def _check_service(self, service: str | None) -> None:
        if service is not None and service != self._service:
            raise InvalidArgument(
                f"this token service issues tokens for service {self._service!r} only", code="SERVICE_INVALID"
            )

    async def _key(self, credential: ApiKeyCredential | TokenCredential | None) -> tuple[KeyInfo, float]:
        """The key, and the wall time its facts were read."""
        if credential is None:
            raise Unauthenticated(
                f"authentication required: username {OAUTH_USERNAME}, password an API key",
                code="CREDENTIAL_MISSING",
            )
        if isinstance(credential, TokenCredential):
            raise Unauthenticated(
                f"the token service takes an API key (Basic {OAUTH_USERNAME}:<key>), not an access token",
                code="CREDENTIAL_INVALID",
            )
        if not credential.secret:
            raise Unauthenticated("the password (an API key) is empty", code="CREDENTIAL_MALFORMED")
        return await self._authenticator.key_and_read_time(credential.secret)

    async def _exchange(self, key: KeyInfo, scopes: list[Scope], as_of: float) -> dict[str, Any]:
        """A token holding what `key` may do of `scopes`, counted as issued when the oldest fact it rests on
        was read (never after `as_of`, the start of the request): a change recorded after that refuses it."""
        repositories = [scope for scope in scopes if scope.type == REPOSITORY]
        decisions, access_read_at = await self._authorizer.decide_all_and_read_time(key, repositories)
        as_of = min(as_of, access_read_at)
        token = self._issuer.issue(
            subject=key.user_id or f"key:{key.key_id}",
            key_id=key.key_id,
            grants=[Grant(d.name, d.granted) for d in decisions],
            denials=[Denial(d.name, d.denied, d.reason) for d in decisions],
            not_after=key.expires_at,
            as_of=as_of,
            catalog=asks_catalog(scopes),
        )
        log.debug(
            "token issued to key %s: %s",
            key.prefix or key.key_id,
            ", ".join(
                [f"{d.name}:{','.join(sorted(d.granted)) or '-'}" for d in decisions]
                + ([CATALOG_SCOPE] if asks_catalog(scopes) else [])
            )
            or "no scope",
        )
        issued_at = datetime.fromtimestamp(token.issued_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "token": token.token,
            "access_token": token.token,
            "expires_in": token.expires_in,
            "issued_at": issued_at,
        }


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body of at most MAX_FORM_BYTES, first value of each field."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise InvalidArgument("the body must be application/x-www-form-urlencoded", code="REQUEST_INVALID")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise InvalidArgument("the form is too large", code="REQUEST_INVALID")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise InvalidArgument("the form is not UTF-8", code="REQUEST_INVALID") from None
    return {name: values[0] for name, values in fields.items()}


def _error_response(error: DomainError) -> Response:
    """The token service's own error edge: 401 says why a key was refused, never echoing the secret."""
    if isinstance(error, Unauthenticated) or error.kind == "unauthenticated":
        return JSONResponse(
            {
                "errors": [
                    {"code": "UNAUTHORIZED", "message": error.message, "detail": {"reason": error.code}}
                ]
            },
            status_code=401,
            headers={**_NO_STORE, "WWW-Authenticate": f'Basic realm="{SERVICE}"'},
        )
    if error.kind == "invalid_argument":
        return JSONResponse(
            {"errors": [{"code": error.code, "message": error.message, "detail": None}]},
            status_code=400,
            headers=_NO_STORE,
        )
    if error.code == "UNAVAILABLE":
        log.warning("token service: a backing service is unavailable: %s", error.message)
        return JSONResponse(
            {"errors": [{"code": "UNAVAILABLE", "message": "a backing service is unavailable; retry"}]},
            status_code=503,
            headers={**_NO_STORE, "Retry-After": "1"},
        )
    log.error("token service: unexpected %s: %s", error.code, error.message)
    return JSONResponse(
        {"errors": [{"code": "UNKNOWN", "message": "internal error"}]}, status_code=500, headers=_NO_STORE
    )
