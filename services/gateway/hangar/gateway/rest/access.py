"""Who calls the REST API and what they may do there: keys and sessions in, identity's decisions out.

A caller is a user: through a session token (`hgs_...`), or a personal or legacy key (`hgr_...`) that
includes the `admin` service (a legacy key carries all of the user's roles). Service keys manage nothing.
Either way the user acts with their *current* roles: every decision is identity's (CheckOrgAccess,
CheckGrant), cached for a few seconds, and forgotten at once when this replica changes that user.

An org or team the caller has no part in answers 404 exactly like one that does not exist; a caller who may
see it but not do the thing gets 403 with identity's reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Iterable
from typing import Final

from hangar.gateway.auth import ApiKeyCredential, Authenticator, Authorizer, TtlCache, parse_authorization
from hangar.gateway.auth.principals import secret_fingerprint
from hangar.gateway.clients.model import KeyInfo, Membership, Permission, VerifiedSession
from hangar.gateway.clients.ports import IdentityPort
from hangar.kit.errors import InvalidArgument, NotFound, PermissionDenied, Unauthenticated

SESSION_PREFIX: Final = "hgs_"
ADMIN_SERVICE: Final = "admin"
SESSION_CACHE_SECONDS: Final = 5.0
ACCESS_CACHE_SECONDS: Final = 5.0

VIEW_ORG: Final = "VIEW_ORG"
VIEW_USERS: Final = "VIEW_USERS"
ADD_USERS: Final = "ADD_USERS"
ADD_TEAMS: Final = "ADD_TEAMS"


@dataclasses.dataclass(frozen=True)
class Caller:
    """An authenticated user of the REST API, and the credential they came with."""

    user_id: str
    #: The key of the request; None when it came with a session.
    key: KeyInfo | None = None
    session: VerifiedSession | None = None
    #: The session token, to end the session on logout; never in a repr.
    session_token: str = dataclasses.field(default="", repr=False)

    @property
    def services(self) -> frozenset[str] | None:
        """The services a key caller's new keys may include; None when unrestricted (session, legacy)."""
        if self.key is None or self.key.key_type == "LEGACY":
            return None
        return self.key.services


def org_not_found(org: str) -> NotFound:
    """The one answer for an org that does not exist or that the caller has no part in."""
    return NotFound(f"org {org} not found", code="ORG_NOT_FOUND")


def team_not_found(org: str, team: str) -> NotFound:
    return NotFound(f"team {org}/{team} not found", code="TEAM_NOT_FOUND")


def user_not_found(org: str, user_id: str) -> NotFound:
    return NotFound(f"user {user_id} is not a member of {org}", code="USER_NOT_FOUND")


class Gatekeeper:
    """Authenticates REST callers and asks identity what they may do; both behind short caches."""

    def __init__(
        self,
        identity: IdentityPort,
        authenticator: Authenticator,
        authorizer: Authorizer | None = None,
        *,
        session_cache_seconds: float = SESSION_CACHE_SECONDS,
        access_cache_seconds: float = ACCESS_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._identity = identity
        self._authenticator = authenticator
        self._authorizer = authorizer
        self._wall_clock = wall_clock
        self._sessions: TtlCache[bytes, VerifiedSession | Unauthenticated] = TtlCache(
            session_cache_seconds, clock=clock
        )
        self._memberships: TtlCache[str, tuple[Membership, ...]] = TtlCache(access_cache_seconds, clock=clock)
        self._permissions: TtlCache[tuple[str, str, str, str], Permission] = TtlCache(
            access_cache_seconds, clock=clock
        )

    # -- who is calling ------------------------------------------------------------------------------------

    async def caller(self, authorization: str | None) -> Caller:
        """The user behind an Authorization header allowed on the management API; 401 or 403 otherwise."""
        credential = parse_authorization(authorization)
        if credential is None:
            raise Unauthenticated(
                "authentication required: send `Authorization: Bearer <API key or session token>`",
                code="CREDENTIAL_MISSING",
            )
        if isinstance(credential, ApiKeyCredential):
            return self._key_caller(await self._authenticator.key(credential.secret))
        if not credential.token.startswith(SESSION_PREFIX):
            raise Unauthenticated(
                "the REST API takes an API key (hgr_...) or a session token (hgs_...), not an access token",
                code="CREDENTIAL_INVALID",
            )
        session = await self._session(credential.token)
        return Caller(user_id=session.user.user_id, session=session, session_token=credential.token)

    def _key_caller(self, key: KeyInfo) -> Caller:
        if not key.user_id:
            raise PermissionDenied(
                f"API key {key.prefix} is a service key; service keys cannot use the management API",
                code="SERVICE_KEY_REFUSED",
            )
        if key.key_type != "LEGACY" and ADMIN_SERVICE not in key.services:
            raise PermissionDenied(
                f"API key {key.prefix} does not include the admin service", code="KEY_SERVICE_MISSING"
            )
        return Caller(user_id=key.user_id, key=key)

    async def _session(self, token: str) -> VerifiedSession:
        fingerprint = secret_fingerprint(token)
        cached = self._sessions.get(fingerprint)
        if cached is None:
            try:
                cached = await self._identity.verify_session(token)
            except Unauthenticated as refused:
                cached = refused
            self._sessions.put(fingerprint, cached)
        if isinstance(cached, Unauthenticated):
            raise Unauthenticated(cached.message, code=cached.code, detail=cached.detail)
        if cached.expires_at and self._wall_clock() >= cached.expires_at:
            raise Unauthenticated("the session has expired; log in again", code="SESSION_EXPIRED")
        if self._authenticator.session_ended(cached.session_id):
            raise Unauthenticated("the session has ended; log in again", code="SESSION_INVALID")
        return cached

    def forget_session(self, session: VerifiedSession, token: str) -> None:
        """The session was ended here: refuse its token at once (other replicas hear `SessionEnded`)."""
        fingerprint = secret_fingerprint(token)
        self._sessions.discard_where(lambda key, _: key == fingerprint)
        self._authenticator.forget_session(session.session_id)

    # -- what they may do ----------------------------------------------------------------------------------

    async def memberships(self, user_id: str) -> tuple[Membership, ...]:
        """Every membership of the user (cached briefly)."""
        cached = self._memberships.get(user_id)
        if cached is None:
            try:
                cached = (await self._identity.get_member(user_id)).memberships
            except NotFound:
                cached = ()
            self._memberships.put(user_id, cached)
        return cached

    async def orgs_of(self, caller: Caller) -> list[str]:
        return sorted({m.org for m in await self.memberships(caller.user_id)})

    async def require_member(self, caller: Caller, org: str) -> None:
        """404 unless the caller holds a role in the org or one of its teams."""
        if org not in await self.orgs_of(caller):
            raise org_not_found(org)

    async def permission(self, caller: Caller, org: str, capability: str, team: str = "") -> Permission:
        cache_key = (caller.user_id, org, team, capability)
        cached = self._permissions.get(cache_key)
        if cached is None:
            cached = await self._identity.check_org_access(caller.user_id, org, capability, team)
            self._permissions.put(cache_key, cached)
        return cached

    async def require(self, caller: Caller, org: str, capability: str, team: str = "") -> None:
        """404 when the caller may not see the org or team; 403 with identity's reason when they may see
        it but not use `capability` there."""
        await self.require_member(caller, org)
        if team and not (await self.permission(caller, org, VIEW_ORG, team)).allowed:
            raise team_not_found(org, team)
        if capability == VIEW_ORG and not team:
            return
        decision = await self.permission(caller, org, capability, team)
        if not decision.allowed:
            raise PermissionDenied(decision.denial_reason or "access denied", code="DENIED")

    async def require_grant(
        self,
        caller: Caller,
        org: str,
        roles: Iterable[str],
        *,
        team: str = "",
        user_id: str = "",
        email: str = "",
    ) -> None:
        """403 with identity's reason unless the caller may make `roles` the target's roles at the scope."""
        decision = await self._identity.check_grant(
            caller.user_id, org, sorted(roles), team=team, user_id=user_id, email=email
        )
        if not decision.allowed:
            raise PermissionDenied(decision.denial_reason or "you may not grant these roles", code="DENIED")

    async def require_revoke_all(
        self, caller: Caller, org: str, user_id: str, memberships: Iterable[Membership]
    ) -> None:
        """403 unless the caller may end every one of the user's memberships (to remove them from the org):
        a USER_ADMIN cannot remove someone holding a role it lacks."""
        checks = [
            self._identity.check_grant(caller.user_id, org, [], team=m.team, user_id=user_id)
            for m in memberships
        ]
        for decision in await asyncio.gather(*checks):
            if not decision.allowed:
                raise PermissionDenied(
                    decision.denial_reason or "you may not remove this user", code="DENIED"
                )

    async def resolve_org(self, caller: Caller, org: str | None) -> str:
        """The org a caller's new key belongs to: the one named (they must be in it), else the key's own org,
        else the only org they belong to."""
        orgs = await self.orgs_of(caller)
        if org:
            if org not in orgs:
                raise org_not_found(org)
            return org
        if caller.key is not None and caller.key.org in orgs:
            return caller.key.org
        if len(orgs) == 1:
            return orgs[0]
        if not orgs:
            raise NotFound("you are not a member of any org", code="ORG_NOT_FOUND")
        raise InvalidArgument(
            f"you belong to several orgs ({', '.join(orgs)}); name one in `org`", code="ORG_REQUIRED"
        )

    # -- forgetting ----------------------------------------------------------------------------------------

    def user_changed(self, user_id: str) -> None:
        """This replica changed the user's roles or removed them: every cache forgets them at once, and
        the tokens issued to them are refused."""
        self.forget_user(user_id)
        self._authenticator.forget_user(user_id)
        if self._authorizer is not None:
            self._authorizer.forget_user(user_id)

    def key_changed(self, key_id: str, *, final: bool = False) -> None:
        """This replica rotated, (de)activated or changed the key (`final`: revoked or deleted it)."""
        self._authenticator.forget_key(key_id, final=final)

    def forget_user(self, user_id: str) -> None:
        """Identity's answers about the user are stale (also on `RolesChanged`, `UserRemoved` events)."""
        self._memberships.discard_where(lambda key, _: key == user_id)
        self._permissions.discard_where(lambda key, _: key[0] == user_id)

    def forget_key(self, key_id: str) -> None:
        """Nothing here is kept per key: keys are the authenticator's."""

    def forget_everything(self) -> None:
        """Revocation events may have been missed: ask identity afresh about everyone and every session."""
        for cache in (self._sessions, self._memberships, self._permissions):
            cache.clear()
