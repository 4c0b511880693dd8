"""Who is calling and what they may do: key authentication and access decisions, cached briefly.

Caches are bounded, short-lived and keyed by the SHA-256 of a secret (never the secret itself). They can be
told to forget a key or a user (on `KeyRevoked`, `UserRemoved`, `RolesChanged`), and then also refuse the
access tokens already exchanged for that key or user for as long as such a token may live.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final, Generic, TypeVar

from hangar.gateway.auth.scopes import REPOSITORY, Scope, actions_granted, capabilities_for
from hangar.gateway.auth.signing import TokenClaims, TokenVerifier
from hangar.gateway.clients.model import AccessResult, KeyInfo
from hangar.gateway.clients.ports import IdentityPort, KeysPort
from hangar.kit.errors import Unauthenticated

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

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if self._clock() >= expires:
            del self._entries[key]
            return None
        return value

    def put(self, key: K, value: V) -> None:
        if self._ttl <= 0:
            return
        self._entries.pop(key, None)
        self._entries[key] = (self._clock() + self._ttl, value)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def discard_where(self, predicate: Callable[[K, V], bool]) -> None:
        for key in [k for k, (_, v) in self._entries.items() if predicate(k, v)]:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)


def secret_fingerprint(secret: str) -> bytes:
    """What a cache may hold in place of a secret."""
    return hashlib.sha256(secret.encode()).digest()


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
        self._cache: TtlCache[bytes, KeyInfo | Unauthenticated] = TtlCache(cache_seconds, max_entries, clock)
        self._wall_clock = wall_clock
        self._token_lifetime = token_lifetime_seconds
        # id -> wall time until which tokens of that key / user issued before it are refused
        self._revoked_keys: dict[str, float] = {}
        self._revoked_users: dict[str, float] = {}

    async def key(self, secret: str) -> KeyInfo:
        """The key behind `secret`; Unauthenticated with the keys service's reason when refused."""
        fingerprint = secret_fingerprint(secret)
        cached = self._cache.get(fingerprint)
        if cached is None:
            try:
                cached = await self._keys.authenticate(secret)
            except Unauthenticated as refused:
                cached = refused
            self._cache.put(fingerprint, cached)
        if isinstance(cached, Unauthenticated):
            raise Unauthenticated(cached.message, code=cached.code, detail=cached.detail)
        if cached.expires_at and self._wall_clock() >= cached.expires_at:
            raise Unauthenticated(f"API key {cached.prefix} has expired", code="KEY_EXPIRED")
        return cached

    def token(self, token: str) -> TokenClaims:
        """A verified token's claims; refused when its key or user was revoked after it was issued."""
        claims = self._verifier.verify(token)
        now = self._wall_clock()
        if self._refused(self._revoked_keys, claims.key_id, claims.issued_at, now):
            raise Unauthenticated(
                "the API key this token was issued for has been revoked", code="KEY_REVOKED"
            )
        if self._refused(self._revoked_users, claims.subject, claims.issued_at, now):
            raise Unauthenticated("this token's user has been removed", code="TOKEN_REVOKED")
        return claims

    def forget_key(self, key_id: str) -> None:
        """The key was revoked (or changed): drop it from the cache and refuse its live tokens."""
        self._cache.discard_where(lambda _, v: isinstance(v, KeyInfo) and v.key_id == key_id)
        self._revoked_keys[key_id] = self._wall_clock()
        self._prune()

    def forget_user(self, user_id: str) -> None:
        """The user was removed: drop their keys from the cache and refuse their live tokens."""
        self._cache.discard_where(lambda _, v: isinstance(v, KeyInfo) and v.user_id == user_id)
        self._revoked_users[user_id] = self._wall_clock()
        self._prune()

    def _refused(self, revoked: dict[str, float], ident: str, issued_at: int, now: float) -> bool:
        since = revoked.get(ident)
        return since is not None and issued_at <= since and now < since + self._token_lifetime

    def _prune(self) -> None:
        horizon = self._wall_clock() - self._token_lifetime
        for revoked in (self._revoked_keys, self._revoked_users):
            for ident in [i for i, since in revoked.items() if since < horizon]:
                del revoked[ident]


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
        cache_seconds: float = ACCESS_CACHE_SECONDS,
        max_entries: int = CACHE_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._identity = identity
        self._cache: TtlCache[tuple[str, str, frozenset[str]], AccessResult] = TtlCache(
            cache_seconds, max_entries, clock
        )

    async def decide(self, key: KeyInfo, scope: Scope) -> Decision:
        asked = scope.actions
        if scope.type != REPOSITORY or not asked:
            return Decision(scope.name, frozenset(), asked, "")
        if REGISTRY_SERVICE not in key.services:
            return Decision(
                scope.name, frozenset(), asked, f"API key {key.prefix} does not include the registry service"
            )
        if not key.user_id:
            return Decision(
                scope.name,
                frozenset(),
                asked,
                f"API key {key.prefix} is a service key; service keys cannot use the registry yet",
            )
        capabilities = capabilities_for(asked)
        cache_key = (key.user_id, scope.name, capabilities)
        result = self._cache.get(cache_key)
        if result is None:
            result = await self._identity.check_access(key.user_id, scope.name, sorted(capabilities))
            self._cache.put(cache_key, result)
        granted = actions_granted(asked, result.granted)
        denied = asked - granted
        reason = (result.denial_reason or "access denied") if denied else ""
        return Decision(scope.name, granted, denied, reason)

    async def decide_all(self, key: KeyInfo, scopes: list[Scope]) -> list[Decision]:
        return list(await asyncio.gather(*(self.decide(key, scope) for scope in scopes)))

    def forget_user(self, user_id: str) -> None:
        """The user's roles changed: ask identity again next time."""
        self._cache.discard_where(lambda k, _: k[0] == user_id)
