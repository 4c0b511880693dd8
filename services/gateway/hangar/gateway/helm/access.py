"""Who may see and download which charts: API keys (Basic `$oauthtoken:<key>` as `helm repo add` sends it,
or Bearer) and access tokens, decided with the gateway's cached authenticator and authorizer.

- A user's key: identity's roles, which DESIGN §1 grants per namespace (a role at org scope covers the
  org's own repositories, one at team scope that team's) — so one decision covers a whole index.
- A service key: its own scopes on each chart repository, entity type `chart`.
- An access token: what it was granted at /token, repository by repository.

Listing needs `list` (VIEW_ARTIFACTS: USER_ADMIN has it), downloading `pull` (DOWNLOAD_ARTIFACTS).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Final

from hangar.gateway.auth import (
    LIST,
    PULL,
    REPOSITORY,
    ApiKeyCredential,
    Authenticator,
    Authorizer,
    Scope,
    TokenClaims,
    holds,
    parse_authorization,
)
from hangar.gateway.auth.service_scopes import CHART, grant
from hangar.gateway.clients.model import KeyInfo
from hangar.kit.errors import Unauthenticated

REGISTRY_SERVICE: Final = "registry"
#: The repository name a namespace-wide decision is asked about (identity decides by namespace).
_PROBE: Final = "helm-index"


@dataclasses.dataclass(frozen=True)
class HelmCaller:
    subject: str
    key: KeyInfo | None = None
    claims: TokenClaims | None = None


@dataclasses.dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""


class HelmAccess:
    def __init__(self, authenticator: Authenticator, authorizer: Authorizer) -> None:
        self._authenticator = authenticator
        self._authorizer = authorizer

    async def identify(self, authorization: str | None) -> HelmCaller:
        """The caller; Unauthenticated (with the reason) when there is no usable credential."""
        credential = parse_authorization(authorization)
        if credential is None:
            raise Unauthenticated(
                "authentication required: helm repo add --username '$oauthtoken' --password <API key>",
                code="CREDENTIAL_MISSING",
            )
        if isinstance(credential, ApiKeyCredential):
            key = await self._authenticator.key(credential.secret)
            return HelmCaller(subject=key.user_id or f"key:{key.key_id}", key=key)
        claims = self._authenticator.token(credential.token)
        return HelmCaller(subject=claims.subject, claims=claims)

    async def decide(self, caller: HelmCaller, repository: str, action: str) -> Verdict:
        """Whether `caller` may `action` (list, pull) on chart repository `repository`, and why not."""
        if caller.claims is not None:
            if caller.claims.allows(repository, action):
                return Verdict(True)
            reason = caller.claims.denial(repository, action)
            return Verdict(False, reason or f"the access token does not grant {action} on {repository}")
        key = caller.key
        if key is None:
            return Verdict(False, "no credential")
        if REGISTRY_SERVICE not in key.services:
            return Verdict(False, f"API key {key.prefix} does not include the registry service")
        if not key.user_id:
            answer = grant(
                key.scopes,
                key_org=key.org,
                key_label=key.prefix or key.key_id,
                repository=repository,
                kind=CHART,
                asked=[action],
            )
            return Verdict(holds(answer.granted, action), answer.reason)
        decision = await self._authorizer.decide(key, Scope(REPOSITORY, repository, frozenset({action})))
        return Verdict(holds(decision.granted, action), decision.reason)

    async def visible(
        self, caller: HelmCaller, namespace: str, repositories: Iterable[str]
    ) -> set[str] | None:
        """The repositories among `repositories` (all in `namespace`) the caller may list; None when the
        caller may see nothing of the namespace at all (answered like a namespace that does not exist)."""
        names = sorted(set(repositories))
        if caller.key is not None and caller.key.user_id:
            # a user's roles are per namespace: one decision (cached by the authorizer) covers every chart
            verdict = await self.decide(caller, f"{namespace}/{_PROBE}", LIST)
            return set(names) if verdict.allowed else None
        shown = set()
        for name in names:
            if (await self.decide(caller, name, LIST)).allowed:
                shown.add(name)
        if shown:
            return shown
        probe = await self.decide(caller, f"{namespace}/{_PROBE}", LIST)
        return set() if probe.allowed else None

    async def namespace_hidden(self, caller: HelmCaller, namespace: str) -> bool:
        """True when a user's key holds no role that lets it list in `namespace` (known before any chart is
        looked at); service keys and tokens are decided chart by chart, so False for them."""
        if caller.key is not None and caller.key.user_id:
            return not (await self.decide(caller, f"{namespace}/{_PROBE}", LIST)).allowed
        return False

    async def may_download(self, caller: HelmCaller, repository: str) -> tuple[Verdict, Verdict]:
        """(may list, may pull) on `repository`."""
        listing = await self.decide(caller, repository, LIST)
        if not listing.allowed:
            return listing, Verdict(False, listing.reason)
        return listing, await self.decide(caller, repository, PULL)
