"""Who may do what with artifacts over REST: the caller (session, personal or legacy key with the `registry`
service, service key) and, per repository, the actions of DESIGN §1's matrix.

- `list`: view (list, info) — every role but USER_READ; `pull`: download (REGISTRY_READ and up, not
  USER_ADMIN); `push`: create, upload, edit information (REGISTRY_USER and up); `delete` (REGISTRY_ADMIN).
- A user's actions are identity's CheckAccess on the repository (through the Authorizer's cache, which the
  revocation events evict); a service key's are its own scopes, with the repository's kind known from the
  path. Identity's decision does not depend on whether the repository exists, so a namespace is decided by
  any name in it.
- What the caller may not even list answers 404 exactly like a missing repository (team content is
  invisible to other teams); what they may list but not do answers 403 with the reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Final

from hangar.gateway.auth import (
    ACTIONS,
    DELETE,
    LIST,
    PULL,
    PUSH,
    REPOSITORY,
    ApiKeyCredential,
    Authenticator,
    Authorizer,
    Scope,
    parse_authorization,
)
from hangar.gateway.auth.service_scopes import grant
from hangar.gateway.clients.model import KeyInfo
from hangar.gateway.rest.access import Caller, Gatekeeper, org_not_found, team_not_found
from hangar.kit.errors import NotFound, PermissionDenied, Unauthenticated

REGISTRY_SERVICE: Final = "registry"
#: A name standing for "any repository of this namespace" (identity's decision ignores the name).
_ANY: Final = "any"


@dataclasses.dataclass(frozen=True)
class ArtifactCaller:
    """A caller of the artifact API: a user (session or key), or a service key (`user_id` empty)."""

    user_id: str
    key: KeyInfo | None = None

    @property
    def is_service_key(self) -> bool:
        return self.key is not None and not self.key.user_id


def repository_not_found(name: str) -> NotFound:
    """The one answer for a repository that does not exist or that the caller may not see."""
    return NotFound(f"repository {name} not found", code="NAME_UNKNOWN")


def permission_of(actions: frozenset[str]) -> str:
    if DELETE in actions:
        return "admin"
    if PUSH in actions:
        return "write"
    if PULL in actions:
        return "read"
    return "view"


class ArtifactGate:
    """Authenticates artifact callers and decides their actions per repository (cached by the Authorizer)."""

    def __init__(self, gate: Gatekeeper, authenticator: Authenticator, authorizer: Authorizer) -> None:
        self._gate = gate
        self._authenticator = authenticator
        self._authorizer = authorizer

    async def caller(self, authorization: str | None) -> ArtifactCaller:
        credential = parse_authorization(authorization)
        if isinstance(credential, ApiKeyCredential):
            key = await self._authenticator.key(credential.secret)
            if key.key_type != "LEGACY" and REGISTRY_SERVICE not in key.services:
                raise PermissionDenied(
                    f"API key {key.prefix} does not include the registry service", code="KEY_SERVICE_MISSING"
                )
            return ArtifactCaller(user_id=key.user_id, key=key)
        if credential is None:
            raise Unauthenticated(
                "authentication required: send `Authorization: Bearer <API key or session token>`",
                code="CREDENTIAL_MISSING",
            )
        # a session token (or a refusal saying what is accepted)
        session_caller = await self._gate.caller(authorization)
        return ArtifactCaller(user_id=session_caller.user_id)

    async def actions(self, caller: ArtifactCaller, repository: str, kind: str) -> frozenset[str]:
        """The actions (list, pull, push, delete) the caller holds on `repository` of kind `kind`."""
        key = caller.key
        if key is not None and not key.user_id:
            label = key.prefix or key.key_id
            granted = grant(
                key.scopes, key_org=key.org, key_label=label, repository=repository, kind=kind, asked=ACTIONS
            ).granted
        else:
            principal = key or KeyInfo(
                key_id="", org="", user_id=caller.user_id, services=frozenset({REGISTRY_SERVICE})
            )
            granted = (
                await self._authorizer.decide(principal, Scope(REPOSITORY, repository, ACTIONS))
            ).granted
        return granted | {LIST} if PULL in granted else granted

    async def reason(self, caller: ArtifactCaller, repository: str, kind: str, action: str) -> str:
        key = caller.key
        if key is not None and not key.user_id:
            label = key.prefix or key.key_id
            asked = frozenset({action})
            return grant(
                key.scopes, key_org=key.org, key_label=label, repository=repository, kind=kind, asked=asked
            ).reason
        principal = key or KeyInfo(
            key_id="", org="", user_id=caller.user_id, services=frozenset({REGISTRY_SERVICE})
        )
        decision = await self._authorizer.decide(
            principal, Scope(REPOSITORY, repository, frozenset({action}))
        )
        return decision.reason

    async def require_org(self, caller: ArtifactCaller, org: str) -> None:
        """404 unless the caller belongs to the org (a service key: is the org's)."""
        if caller.is_service_key:
            assert caller.key is not None
            if caller.key.org != org:
                raise org_not_found(org)
            return
        if org not in await self._gate.orgs_of(Caller(user_id=caller.user_id)):
            raise org_not_found(org)

    async def require_namespace(
        self, caller: ArtifactCaller, org: str, team: str, kind: str
    ) -> frozenset[str]:
        """The caller's actions in the namespace (org or org/team); 404 when they may not see it."""
        await self.require_org(caller, org)
        namespace = f"{org}/{team}" if team else org
        actions = await self.actions(caller, f"{namespace}/{_ANY}", kind)
        if LIST not in actions:
            raise team_not_found(org, team) if team else org_not_found(org)
        return actions

    async def require(
        self, caller: ArtifactCaller, org: str, repository: str, kind: str, action: str
    ) -> frozenset[str]:
        """The caller's actions on the repository; 404 when they may not see it, 403 (with the reason) when
        they may see it but not do `action`."""
        await self.require_org(caller, org)
        actions = await self.actions(caller, repository, kind)
        if LIST not in actions:
            raise repository_not_found(repository)
        if action not in actions:
            reason = await self.reason(caller, repository, kind, action)
            raise PermissionDenied(reason or "access denied", code="DENIED")
        return actions

    async def visible_namespaces(self, caller: ArtifactCaller, org: str, teams: list[str]) -> dict[str, str]:
        """The namespaces of the org (the org's own and each team's) whose content the caller may list, with
        the permission there (a service key: whatever its scopes give, decided per repository later)."""
        namespaces = [org, *(f"{org}/{team}" for team in teams)]
        if caller.is_service_key:
            return dict.fromkeys(namespaces, "")
        decided = await asyncio.gather(*(self.actions(caller, f"{ns}/{_ANY}", "") for ns in namespaces))
        return {
            ns: permission_of(actions)
            for ns, actions in zip(namespaces, decided, strict=True)
            if LIST in actions
        }
