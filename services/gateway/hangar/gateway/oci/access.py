"""Who may do what on /v2/: every request needs a credential granting the action on the repository.

A Bearer access token is verified locally (no round trip); an API key (Bearer `hgr_...` or Basic
`$oauthtoken:<key>`) is authenticated and authorized through short caches. No credential, or a token that
does not cover the request, gets 401 with a challenge naming the scope to ask /token for; a principal that
asked and was refused gets 403 DENIED saying which action is missing and why.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Final

from starlette.requests import Request

from hangar.gateway.auth import (
    LIST,
    PULL,
    PUSH,
    REPOSITORY,
    SERVICE,
    ApiKeyCredential,
    Authenticator,
    Authorizer,
    Scope,
    TokenClaims,
    holds,
    parse_authorization,
)
from hangar.gateway.clients import KeyInfo
from hangar.gateway.oci.errors import OciError, access_detail, challenge
from hangar.kit.errors import Unauthenticated

#: What a client asks /token for before listing the catalog (the distribution "registry" resource type).
CATALOG_SCOPE: Final = "registry:catalog:*"
_HOST: Final = re.compile(r"[A-Za-z0-9.\-]+(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?")


@dataclasses.dataclass(frozen=True)
class Caller:
    """An authenticated principal: a verified token's claims, or an authenticated API key (or both: a token
    granting the catalog, with the key it was exchanged for, to list what that key may see)."""

    subject: str
    claims: TokenClaims | None = None
    key: KeyInfo | None = None


def scope_actions(action: str) -> tuple[str, ...]:
    """The actions a challenge asks for: pushing also reads (blob checks), as docker and skopeo expect."""
    return (PULL, PUSH) if action == PUSH else (action,)


class AccessControl:
    def __init__(
        self,
        authenticator: Authenticator,
        authorizer: Authorizer,
        *,
        service: str = SERVICE,
        public_url: str = "",
    ) -> None:
        self._authenticator = authenticator
        self._authorizer = authorizer
        self._service = service
        self._public_url = public_url.rstrip("/")

    def base_url(self, request: Request) -> str:
        """The public base URL: configured, else the scheme and Host the client used (when well formed)."""
        if self._public_url:
            return self._public_url
        host = request.headers.get("host", "")
        if _HOST.fullmatch(host) is None:
            server = request.scope.get("server") or ("localhost", None)
            host = server[0] if server[1] in (None, 80, 443) else f"{server[0]}:{server[1]}"
        return f"{request.url.scheme}://{host}"

    def realm(self, request: Request) -> str:
        return f"{self.base_url(request)}/token"

    def unauthorized(
        self,
        request: Request,
        message: str,
        *,
        name: str = "",
        action: str = "",
        error: str = "",
        reason: str = "",
        scope: str = "",
    ) -> OciError:
        actions = scope_actions(action) if action else ()
        scope = scope or (f"{REPOSITORY}:{name}:{','.join(actions)}" if name and actions else "")
        detail: object = access_detail(name, actions) if name else None
        if reason:
            detail = {"reason": reason, "access": detail} if name else {"reason": reason}
        return OciError(
            "UNAUTHORIZED",
            message,
            detail=detail,
            headers={"WWW-Authenticate": challenge(self.realm(request), self._service, scope, error)},
        )

    async def identify(
        self, request: Request, *, name: str = "", action: str = "", scope: str = ""
    ) -> Caller:
        """The caller, or OciError 401 (with a challenge for `action` on `name`, or for `scope`) when there
        is none."""
        try:
            credential = parse_authorization(request.headers.get("authorization"))
            if credential is None:
                raise self.unauthorized(
                    request, "authentication required", name=name, action=action, scope=scope
                )
            if isinstance(credential, ApiKeyCredential):
                key = await self._authenticator.key(credential.secret)
                return Caller(subject=key.user_id or f"key:{key.key_id}", key=key)
            claims = self._authenticator.token(credential.token)
            return Caller(subject=claims.subject, claims=claims)
        except Unauthenticated as refused:
            error = "invalid_token" if refused.code.startswith("TOKEN") else ""
            raise self.unauthorized(
                request,
                refused.message,
                name=name,
                action=action,
                error=error,
                reason=refused.code,
                scope=scope,
            ) from None

    async def catalog_caller(self, request: Request) -> Caller:
        """The caller of `/v2/_catalog` (401 challenging for `registry:catalog:*` when there is none). A
        token granting the catalog comes with its key (looked up by id, cached, evicted by the revocation
        events), so the catalog shows what that key may see; the token's not-befores are checked first."""
        caller = await self.identify(request, scope=CATALOG_SCOPE)
        if caller.claims is None or not caller.claims.catalog:
            return caller
        try:
            key = await self._authenticator.key_of_token(caller.claims)
        except Unauthenticated as refused:
            error = "invalid_token" if refused.code.startswith("TOKEN") else ""
            raise self.unauthorized(
                request, refused.message, error=error, reason=refused.code, scope=CATALOG_SCOPE
            ) from None
        return Caller(subject=caller.subject, claims=caller.claims, key=key)

    async def require(self, request: Request, name: str, action: str) -> Caller:
        """The caller, if it may do `action` on repository `name`; else OciError 401 or 403."""
        caller = await self.identify(request, name=name, action=action)
        if caller.claims is not None:
            if caller.claims.allows(name, action):
                return caller
            reason = caller.claims.denial(name, action)
            if reason is None:  # never asked for: send the client back to /token for this scope
                raise self.unauthorized(
                    request,
                    f"the access token does not grant {action} on {name}",
                    name=name,
                    action=action,
                    error="insufficient_scope",
                )
            raise denied(name, action, reason)
        assert caller.key is not None
        decision = await self._authorizer.decide(caller.key, Scope(REPOSITORY, name, frozenset({action})))
        if not holds(decision.granted, action):
            raise denied(name, action, decision.reason)
        return caller

    async def allows(self, caller: Caller, name: str, action: str) -> bool:
        """Whether `caller` may do `action` on `name` (no error: for optional steps like a mount)."""
        if caller.claims is not None:
            return caller.claims.allows(name, action)
        if caller.key is None:
            return False
        decision = await self._authorizer.decide(caller.key, Scope(REPOSITORY, name, frozenset({action})))
        return action in decision.granted

    async def visible(self, caller: Caller, names: list[str]) -> set[str]:
        """The repositories among `names` that `caller` may list (the catalog's filter).

        An API key, and a token granting the catalog (whose key `catalog_caller` found), are decided per
        repository like any request with that key (identity's answers, cached); any other access token
        shows only the repositories it was granted at /token.
        """
        if caller.key is None:
            claims = caller.claims
            return {name for name in names if claims is not None and claims.allows(name, LIST)}
        scopes = [Scope(REPOSITORY, name, frozenset({LIST})) for name in names]
        decisions = await self._authorizer.decide_all(caller.key, scopes)
        return {decision.name for decision in decisions if holds(decision.granted, LIST)}


def denied(name: str, action: str, reason: str) -> OciError:
    return OciError(
        "DENIED",
        f"requested access to the resource is denied: {action} on {name}: {reason or 'no access'}",
        detail={"name": name, "action": action, "reason": reason},
    )
