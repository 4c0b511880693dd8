"""Key authentication and access decisions: cached briefly, by fingerprint, and forgotten on demand."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hangar.gateway.auth import Authenticator, Authorizer, Grant, Scope, TokenIssuer, TokenVerifier, TtlCache
from hangar.gateway.clients import KeyInfo
from hangar.gateway.clients.fakes import FakeIdentity, FakeKeys
from hangar.kit.errors import Unauthenticated

SECRET = "hgr_abcdefgh_theSecretPart"
KEY = KeyInfo(key_id="k1", org="demo", user_id="u1", services=frozenset({"registry"}), prefix="hgr_abcdefgh")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def signing() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def authenticator(keys: FakeKeys, signing: Ed25519PrivateKey, clock: Clock | None = None) -> Authenticator:
    clock = clock or Clock()
    return Authenticator(keys, TokenVerifier(signing.public_key()), cache_seconds=10, clock=clock)


def test_a_ttl_cache_forgets_after_its_ttl_and_evicts_the_oldest_when_full() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(ttl=10, max_entries=2, clock=clock)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.get("a") is None and cache.get("b") == 2 and len(cache) == 2
    clock.now += 10
    assert cache.get("b") is None


async def test_a_key_is_asked_of_the_keys_service_once_within_the_cache_time(
    signing: Ed25519PrivateKey,
) -> None:
    keys = FakeKeys()
    keys.add(SECRET, KEY)
    clock = Clock()
    auth = authenticator(keys, signing, clock)
    assert await auth.key(SECRET) == KEY
    assert await auth.key(SECRET) == KEY
    assert keys.authenticate_calls == 1
    clock.now += 11
    await auth.key(SECRET)
    assert keys.authenticate_calls == 2


async def test_the_cache_never_holds_the_secret_itself(signing: Ed25519PrivateKey) -> None:
    keys = FakeKeys()
    keys.add(SECRET, KEY)
    auth = authenticator(keys, signing)
    await auth.key(SECRET)
    held = list(auth._cache._entries)
    assert held == [hashlib.sha256(SECRET.encode()).digest()]
    assert SECRET not in repr(auth._cache._entries)


async def test_a_refused_key_keeps_its_reason_and_is_not_asked_again_at_once(
    signing: Ed25519PrivateKey,
) -> None:
    keys = FakeKeys()
    keys.refuse(SECRET, Unauthenticated("API key hgr_abcdefgh has been revoked", code="KEY_REVOKED"))
    auth = authenticator(keys, signing)
    for _ in range(2):
        with pytest.raises(Unauthenticated, match="revoked") as refused:
            await auth.key(SECRET)
        assert refused.value.code == "KEY_REVOKED"
    assert keys.authenticate_calls == 1


async def test_an_inactive_key_is_asked_again_so_reactivation_works_on_the_next_request(
    signing: Ed25519PrivateKey,
) -> None:
    keys = FakeKeys()
    keys.refuse(SECRET, Unauthenticated("API key hgr_abcdefgh is inactive", code="KEY_INACTIVE"))
    auth = authenticator(keys, signing)
    with pytest.raises(Unauthenticated) as refused:
        await auth.key(SECRET)
    assert refused.value.code == "KEY_INACTIVE"
    keys.add(SECRET, KEY)  # activated again
    assert await auth.key(SECRET) == KEY
    assert keys.authenticate_calls == 2


async def test_a_cached_key_that_reaches_its_expiry_is_refused(signing: Ed25519PrivateKey) -> None:
    keys = FakeKeys()
    keys.add(
        SECRET, KeyInfo("k1", "demo", "u1", frozenset({"registry"}), expires_at=5000, prefix="hgr_abcdefgh")
    )
    wall = Clock()
    auth = Authenticator(keys, TokenVerifier(signing.public_key()), wall_clock=wall)
    await auth.key(SECRET)
    wall.now = 5000
    with pytest.raises(Unauthenticated) as refused:
        await auth.key(SECRET)
    assert refused.value.code == "KEY_EXPIRED"


async def test_forgetting_a_key_asks_again_and_refuses_its_live_tokens(signing: Ed25519PrivateKey) -> None:
    keys = FakeKeys()
    keys.add(SECRET, KEY)
    auth = authenticator(keys, signing)
    await auth.key(SECRET)
    token = TokenIssuer(signing).issue("u1", "k1", [Grant("demo/hello", frozenset({"pull"}))]).token
    assert auth.token(token).subject == "u1"
    auth.forget_key("k1")
    with pytest.raises(Unauthenticated) as refused:
        auth.token(token)
    assert refused.value.code == "KEY_REVOKED"
    await auth.key(SECRET)
    assert keys.authenticate_calls == 2


async def test_forgetting_a_user_refuses_their_live_tokens(signing: Ed25519PrivateKey) -> None:
    auth = authenticator(FakeKeys(), signing)
    token = TokenIssuer(signing).issue("u1", "k1", []).token
    auth.forget_user("u1")
    with pytest.raises(Unauthenticated):
        auth.token(token)


async def test_access_is_granted_per_action_from_identitys_capabilities() -> None:
    identity = FakeIdentity()
    identity.grant("u1", "demo/hello", "DOWNLOAD_ARTIFACTS")
    decision = await Authorizer(identity).decide(
        KEY, Scope("repository", "demo/hello", frozenset({"pull", "push"}))
    )
    assert decision.granted == {"pull"} and decision.denied == {"push"}
    assert "demo/hello" in decision.reason


async def test_a_key_without_the_registry_service_is_granted_nothing() -> None:
    identity = FakeIdentity()
    identity.grant("u1", "demo/hello", "DOWNLOAD_ARTIFACTS")
    admin_key = KeyInfo("k2", "demo", "u1", frozenset({"admin"}), prefix="hgr_zzzzzzzz")
    decision = await Authorizer(identity).decide(
        admin_key, Scope("repository", "demo/hello", frozenset({"pull"}))
    )
    assert decision.granted == frozenset()
    assert "registry service" in decision.reason
    assert identity.check_access_calls == 0


async def test_a_service_key_without_scopes_is_granted_nothing() -> None:
    service_key = KeyInfo(
        "k3", "demo", "", frozenset({"registry"}), prefix="hgr_svc00000", key_type="SERVICE"
    )
    decision = await Authorizer(FakeIdentity()).decide(
        service_key, Scope("repository", "demo/hello", frozenset({"pull"}))
    )
    assert decision.granted == frozenset() and decision.reason.startswith("missing scope: service key")


async def test_access_decisions_are_cached_briefly_and_forgotten_per_user() -> None:
    identity = FakeIdentity()
    identity.grant("u1", "demo/hello", "DOWNLOAD_ARTIFACTS")
    clock = Clock()
    authorizer = Authorizer(identity, cache_seconds=5, clock=clock)
    scope = Scope("repository", "demo/hello", frozenset({"pull"}))
    await authorizer.decide(KEY, scope)
    await authorizer.decide(KEY, scope)
    assert identity.check_access_calls == 1
    authorizer.forget_user("u1")
    await authorizer.decide(KEY, scope)
    clock.now += 6
    await authorizer.decide(KEY, scope)
    assert identity.check_access_calls == 3
