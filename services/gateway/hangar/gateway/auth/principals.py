"""Who is calling and what they may do: key authentication and access decisions, cached briefly.

Caches are bounded, short-lived and keyed by the SHA-256 of a secret (never the secret itself). They can be
told to forget a key, a user or a session (on `KeyRevoked`, `UserRemoved`, `RolesChanged`, `SessionEnded`
...), and then also refuse the access tokens already exchanged for that key or user for as long as such a
token may live: each forgotten key or user gets a not-before, and a key that is gone for good (revoked,
expired, deleted) has every token refused. `forget_everything` (the event feed was interrupted) flushes the
caches and raises one not-before for every token.

A lookup that was in flight when something was forgotten is answered but not cached, since its answer may
predate the change.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final, Generic, TypeVar

from hangar.gateway.auth.scopes import (
    REPOSITORY,
    Scope,
    actions_granted,
    capabilities_for,
    expand_actions,
    holds,
    with_implied,
    without_redundant,
)
from hangar.gateway.auth.service_scopes import ContainersOnly, RepositoryKinds, ScopeGrant, grant
from hangar.gateway.auth.signing import LEEWAY_SECONDS, TokenClaims, TokenVerifier
from hangar.gateway.clients.model import AccessResult, KeyInfo
from hangar.gateway.clients.ports import IdentityPort, KeysPort
from hangar.kit.errors import NotFound, Unauthenticated

REGISTRY_SERVICE: Final = "registry"
KEY_CACHE_SECONDS: Final = 10.0
ACCESS_CACHE_SECONDS: Final = 5.0
CACHE_MAX_ENTRIES: Final = 10_000

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """A bounded map whose entries expire `ttl` seconds after they were put; the oldest go first when full."""

    def __init__(
        self, ttl: float, max_entries: int = CACHE_MAX_ENTRIES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        #: False while nothing may be reused (the eviction feed is down): every lookup goes to the service.
        self.enabled = True

    def get(self, key: K) -> V | None:
        if not self.enabled:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if self._clock() >= expires:
            del self._entries[key]
            return None
        return value

    def put(self, key: K, value: V) -> None:
        if self._ttl <= 0 or not self.enabled:
            return
        self._entries.pop(key, None)
        self._entries[key] = (self._clock() + self._ttl, value)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def discard_where(self, predicate: Callable[[K, V], bool]) -> None:
        for key in [k for k, (_, v) in self._entries.items() if predicate(k, v)]:
            del self._entries[key]

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def secret_fingerprint(secret: str) -> bytes:
    """What a cache may hold in place of a secret."""
    return hashlib.sha256(secret.encode()).digest()


#: Refusals that a later change of the key can lift, so they are asked afresh every time.
TRANSIENT_REFUSALS = frozenset({"KEY_INACTIVE"})


class Authenticator:
    """Resolves API keys (through keys, cached) and access tokens (locally) to principals."""

    def __init__(
        self,
        keys: KeysPort,
        verifier: TokenVerifier,
        *,
        cache_seconds: float = KEY_CACHE_SECONDS,
        token_lifetime_seconds: float = 300.0,
        max_entries: int = CACHE_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._verifier = verifier
        # fingerprint -> (the keys service's answer, wall time just before it was asked)
        self._cache: TtlCache[bytes, tuple[KeyInfo | Unauthenticated, float]] = TtlCache(
            cache_seconds, max_entries, clock
        )
        # key id -> (the key, wall time just before it was asked): what a catalog token's key may see
        self._by_id: TtlCache[str, tuple[KeyInfo, float]] = TtlCache(cache_seconds, max_entries, clock)
        self._wall_clock = wall_clock
        #: How long a not-before must be kept: a token issued just before it may live this long.
        self._horizon = token_lifetime_seconds + LEEWAY_SECONDS
        # id -> wall time (unix seconds): refuse the tokens of that key / user whose facts were read before
        self._revoked_keys: dict[str, float] = {}
        self._revoked_users: dict[str, float] = {}
        # key id -> wall time it was gone for good: every token of it is refused
        self._dead_keys: dict[str, float] = {}
        # session id -> wall time it ended
        self._ended_sessions: dict[str, float] = {}
        self._not_before_all = 0.0
        #: Bumped by every forget_*: a lookup that saw it change while in flight is not cached.
        self._generation = 0

    async def key(self, secret: str) -> KeyInfo:
        """The key behind `secret`; Unauthenticated with the keys service's reason when refused."""
        return (await self.key_and_read_time(secret))[0]

    async def key_and_read_time(self, secret: str) -> tuple[KeyInfo, float]:
        """The key behind `secret`, and the wall time its facts were read from the keys service (earlier
        than now when they come from the cache): a token minted from them counts as issued no later."""
        fingerprint = secret_fingerprint(secret)
        entry = self._cache.get(fingerprint)
        if entry is None:
            generation = self._generation
            read_at = self._wall_clock()
            answer: KeyInfo | Unauthenticated
            try:
                answer = await self._keys.authenticate(secret)
            except Unauthenticated as refused:
                answer = refused
            entry = (answer, read_at)
            # An inactive key can be activated again: that refusal is never reused, the others are final.
            transient = isinstance(answer, Unauthenticated) and answer.code in TRANSIENT_REFUSALS
            if generation == self._generation and not transient:
                self._cache.put(fingerprint, entry)
        cached, read_at = entry
        if isinstance(cached, Unauthenticated):
            raise Unauthenticated(cached.message, code=cached.code, detail=cached.detail)
        if cached.expires_at and self._wall_clock() >= cached.expires_at:
            raise Unauthenticated(f"API key {cached.prefix} has expired", code="KEY_EXPIRED")
        return cached, read_at

    def token(self, token: str) -> TokenClaims:
        """A verified token's claims; refused when its key or user was revoked after it was issued."""
        claims = self._verifier.verify(token)
        read_at = (claims.issued_at_ms or claims.issued_at * 1000) / 1000
        if claims.key_id in self._dead_keys or self._refused(self._revoked_keys, claims.key_id, read_at):
            raise Unauthenticated(
                "the API key this token was issued for has been revoked or changed", code="KEY_REVOKED"
            )
        if self._refused(self._revoked_users, claims.subject, read_at):
            raise Unauthenticated(
                "this token's user was removed or their roles changed; ask /token for a new one",
                code="TOKEN_REVOKED",
            )
        if read_at <= self._not_before_all:
            raise Unauthenticated(
                "tokens issued before this gateway last resynchronized are no longer accepted; "
                "ask /token for a new one",
                code="TOKEN_REVOKED",
            )
        return claims

    async def key_of_token(self, claims: TokenClaims) -> KeyInfo:
        """The active key a verified token was exchanged for (by id, cached like `key`, evicted by the same
        events), for decisions the token does not hold itself (the catalog). Unauthenticated when the key
        is gone, inactive or expired, or is not the token's subject's."""
        entry = self._by_id.get(claims.key_id)
        if entry is None:
            generation = self._generation
            read_at = self._wall_clock()
            try:
                key = await self._keys.get_key(claims.key_id)
            except NotFound:
                raise Unauthenticated(
                    "the API key this token was issued for no longer exists", code="KEY_REVOKED"
                ) from None
            entry = (key, read_at)
            # only an active key is kept: an inactive one may be activated again, the others are final
            if generation == self._generation and key.status == "ACTIVE":
                self._by_id.put(claims.key_id, entry)
        key = entry[0]
        if key.status in ("REVOKED", "EXPIRED") or (key.expires_at and self._wall_clock() >= key.expires_at):
            raise Unauthenticated(
                "the API key this token was issued for has been revoked or has expired", code="KEY_REVOKED"
            )
        if key.status != "ACTIVE":
            raise Unauthenticated("the API key this token was issued for is not active", code="KEY_INACTIVE")
        if (key.user_id or f"key:{key.key_id}") != claims.subject:
            raise Unauthenticated("the access token's key is not its subject's", code="TOKEN_INVALID")
        return key

    def forget_key(self, key_id: str, *, final: bool = False, at: float | None = None) -> None:
        """The key changed (rotated, deactivated, new scopes...): drop it from the cache and refuse the
        tokens issued for it until now (`at`, unix seconds). `final` (revoked, expired, deleted): refuse
        every token of it, whenever issued."""
        since = self._wall_clock() if at is None else at
        self._generation += 1
        self._cache.discard_where(lambda _, v: isinstance(v[0], KeyInfo) and v[0].key_id == key_id)
        self._by_id.discard_where(lambda k, _: k == key_id)
        _raise(self._revoked_keys, key_id, since)
        if final:
            _raise(self._dead_keys, key_id, since)
        self._prune()

    def forget_user(self, user_id: str, *, at: float | None = None) -> None:
        """The user was removed or their roles changed: drop their keys from the cache and refuse the
        tokens issued to them until now (`at`)."""
        since = self._wall_clock() if at is None else at
        self._generation += 1
        self._cache.discard_where(lambda _, v: isinstance(v[0], KeyInfo) and v[0].user_id == user_id)
        self._by_id.discard_where(lambda _, v: v[0].user_id == user_id)
        _raise(self._revoked_users, user_id, since)
        self._prune()

    def forget_session(self, session_id: str, *, at: float | None = None) -> None:
        """A console session ended: whatever authenticates sessions must stop accepting it."""
        self._generation += 1
        _raise(self._ended_sessions, session_id, self._wall_clock() if at is None else at)
        self._prune()

    def session_ended(self, session_id: str) -> bool:
        """Whether `session_id` ended within the last token lifetime (for a cache of session lookups)."""
        return session_id in self._ended_sessions

    def forget_everything(self, *, at: float | None = None) -> None:
        """Revocations may have been missed: drop every cached key and refuse every token issued until now."""
        self._generation += 1
        self._cache.clear()
        self._by_id.clear()
        self._not_before_all = max(self._not_before_all, self._wall_clock() if at is None else at)

    def set_caching(self, enabled: bool) -> None:
        """Off: every key is asked of the keys service (while no revocation event can reach this gateway)."""
        self._generation += 1
        self._cache.enabled = enabled
        self._cache.clear()
        self._by_id.enabled = enabled
        self._by_id.clear()

    def _refused(self, revoked: dict[str, float], ident: str, read_at: float) -> bool:
        since = revoked.get(ident)
        return since is not None and read_at <= since

    def _prune(self) -> None:
        horizon = self._wall_clock() - self._horizon
        for revoked in (self._revoked_keys, self._revoked_users, self._dead_keys, self._ended_sessions):
            for ident in [i for i, since in revoked.items() if since < horizon]:
                del revoked[ident]


def _raise(not_before: dict[str, float], ident: str, since: float) -> None:
    not_before[ident] = max(not_before.get(ident, since), since)


@dataclasses.dataclass(frozen=True)
class Decision:
    """What a principal may do of what it asked on one repository, and why not the rest."""

    name: str
    granted: frozenset[str]
    denied: frozenset[str]
    reason: str = ""


class Authorizer:
    """Decides which asked actions a key's principal holds on a repository (identity's answer, cached)."""

    def __init__(
        self,
        identity: IdentityPort,
        *,
        kinds: RepositoryKinds | None = None,
        cache_seconds: float = ACCESS_CACHE_SECONDS,
        max_entries: int = CACHE_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._identity = identity
        self._kinds = kinds or ContainersOnly()
        # (user, repository, capabilities) -> (identity's answer, wall time just before it was asked)
        self._cache: TtlCache[tuple[str, str, frozenset[str]], tuple[AccessResult, float]] = TtlCache(
            cache_seconds, max_entries, clock
        )
        self._wall_clock = wall_clock
        self._generation = 0

    async def decide(self, key: KeyInfo, scope: Scope) -> Decision:
        return (await self._decide_timed(key, scope))[0]

    async def decide_all(self, key: KeyInfo, scopes: list[Scope]) -> list[Decision]:
        return (await self.decide_all_and_read_time(key, scopes))[0]

    async def decide_all_and_read_time(
        self, key: KeyInfo, scopes: list[Scope]
    ) -> tuple[list[Decision], float]:
        """The decisions, and the wall time of the oldest fact they rest on (now when none was cached)."""
        now = self._wall_clock()
        timed = await asyncio.gather(*(self._decide_timed(key, scope) for scope in scopes))
        return [d for d, _ in timed], min([now, *(t for _, t in timed)])

    async def _decide_timed(self, key: KeyInfo, scope: Scope) -> tuple[Decision, float]:
        now = self._wall_clock()
        asked = scope.actions
        if scope.type != REPOSITORY or not asked:
            return Decision(scope.name, frozenset(), asked, ""), now
        if REGISTRY_SERVICE not in key.services:
            reason = f"API key {key.prefix} does not include the registry service"
            return Decision(scope.name, frozenset(), asked, reason), now
        if not key.user_id:
            return await self._decide_for_service_key(key, scope), now
        implied = with_implied(asked)
        capabilities = capabilities_for(implied)
        cache_key = (key.user_id, scope.name, capabilities)
        entry = self._cache.get(cache_key)
        if entry is None:
            generation = self._generation
            entry = (await self._identity.check_access(key.user_id, scope.name, sorted(capabilities)), now)
            if generation == self._generation:
                self._cache.put(cache_key, entry)
        result, read_at = entry
        granted = without_redundant(actions_granted(implied, result.granted))
        # only what was asked counts as refused; an implied action refused is no refusal
        denied = frozenset(a for a in expand_actions(asked) if not holds(granted, a))
        reason = (result.denial_reason or "access denied") if denied else ""
        return Decision(scope.name, granted, denied, reason), read_at

    async def _decide_for_service_key(self, key: KeyInfo, scope: Scope) -> Decision:
        """A service key has no user: its own scopes (actions x entity types, narrowed) are the answer."""
        kind = await self._kinds.kind_of(scope.name)

        def granted_of(actions: frozenset[str]) -> ScopeGrant:
            label = key.prefix or key.key_id
            return grant(
                key.scopes, key_org=key.org, key_label=label, repository=scope.name, kind=kind, asked=actions
            )

        granted = without_redundant(granted_of(with_implied(scope.actions)).granted)
        denied = frozenset(a for a in expand_actions(scope.actions) if not holds(granted, a))
        reason = granted_of(expand_actions(scope.actions)).reason if denied else ""
        return Decision(scope.name, granted, denied, reason)

    def forget_user(self, user_id: str) -> None:
        """The user's roles changed: ask identity again next time."""
        self._generation += 1
        self._cache.discard_where(lambda k, _: k[0] == user_id)

    def forget_everything(self) -> None:
        self._generation += 1
        self._cache.clear()

    def set_caching(self, enabled: bool) -> None:
        """Off: every decision is asked of identity (while no revocation event can reach this gateway)."""
        self._generation += 1
        self._cache.enabled = enabled
        self._cache.clear()
