"""Revocation events: each one evicts what it names, and tokens issued before it are refused (no I/O here;
test_events_nats.py drives the same through a real NATS)."""

from __future__ import annotations

import asyncio
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf.message import Message

from hangar.api.identity.v1 import events_pb2 as identity_events
from hangar.api.keys.v1 import events_pb2 as keys_events
from hangar.gateway.auth import Authenticator, Authorizer, Grant, Scope, TokenIssuer, TokenVerifier
from hangar.gateway.clients import AccessResult, KeyInfo
from hangar.gateway.clients.fakes import FakeIdentity, FakeKeys
from hangar.gateway.events import MESSAGES, Revocations
from hangar.gateway.main import Settings
from hangar.kit.errors import Unauthenticated

SECRET = "hgr_abcdefgh_theSecretPart"
KEY = KeyInfo(key_id="k1", org="demo", user_id="u1", services=frozenset({"registry"}), prefix="hgr_abcdefgh")
PULL_HELLO = Scope("repository", "demo/hello", frozenset({"pull"}))


class WallClock:
    """Unix seconds that tests move by hand (from the real time: tokens are checked against it too)."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


class World:
    """An authenticator and authorizer over fakes, their revocations, and a token issuer on one clock."""

    def __init__(self) -> None:
        self.signing = Ed25519PrivateKey.generate()
        self.wall = WallClock()
        self.keys = FakeKeys()
        self.keys.add(SECRET, KEY)
        self.identity = FakeIdentity()
        self.identity.grant("u1", "demo/hello", "DOWNLOAD_ARTIFACTS")
        self.authenticator = Authenticator(
            self.keys, TokenVerifier(self.signing.public_key()), wall_clock=self.wall
        )
        self.authorizer = Authorizer(self.identity)
        self.revocations = Revocations(self.authenticator, self.authorizer)
        self.issuer = TokenIssuer(self.signing, clock=self.wall)

    def token(self, subject: str = "u1", key_id: str = "k1") -> str:
        return self.issuer.issue(subject, key_id, [Grant("demo/hello", frozenset({"pull"}))]).token

    def later(self, seconds: float = 0.01) -> None:
        self.wall.now += seconds


@pytest.fixture
def world() -> World:
    return World()


def payload(message: Message) -> bytes:
    return message.SerializeToString()


def refusal(world: World, token: str) -> str:
    with pytest.raises(Unauthenticated) as refused:
        world.authenticator.token(token)
    return refused.value.code


def test_every_subscribed_event_decodes_with_the_publishers_generated_class() -> None:
    assert set(MESSAGES) == {
        *(f"hangar.keys.v1.{name}" for name in ("KeyRevoked", "KeyExpired", "KeyRotated", "KeyDeactivated")),
        *(f"hangar.keys.v1.{name}" for name in ("KeyDeleted", "KeyScopesUpdated", "KeyServicesUpdated")),
        *(f"hangar.identity.v1.{name}" for name in ("UserRemoved", "RolesChanged", "UserRemovedFromTeam")),
        "hangar.identity.v1.SessionEnded",
    }
    for name, message in MESSAGES.items():
        assert message.DESCRIPTOR.full_name == name.replace("hangar.", "hangar.api.", 1)


async def test_key_revoked_refuses_a_token_issued_before_and_asks_keys_again(world: World) -> None:
    await world.authenticator.key(SECRET)
    token = world.token()
    assert world.authenticator.token(token).key_id == "k1"
    world.later()
    world.keys.refuse(SECRET, Unauthenticated("API key hgr_abcdefgh has been revoked", code="KEY_REVOKED"))

    world.revocations.apply("hangar.keys.v1.KeyRevoked", payload(keys_events.KeyRevoked(key_id="k1")))

    assert refusal(world, token) == "KEY_REVOKED"
    with pytest.raises(Unauthenticated) as refused:
        await world.authenticator.key(SECRET)
    assert refused.value.code == "KEY_REVOKED"
    assert world.keys.authenticate_calls == 2


@pytest.mark.parametrize("name", ["KeyRevoked", "KeyExpired", "KeyDeleted"])
def test_a_key_gone_for_good_has_every_token_refused_even_one_minted_after(world: World, name: str) -> None:
    world.revocations.apply(
        f"hangar.keys.v1.{name}", payload(MESSAGES[f"hangar.keys.v1.{name}"](key_id="k1"))
    )
    world.later(1)
    # e.g. minted by a replica that had not heard the event yet
    assert refusal(world, world.token()) == "KEY_REVOKED"


@pytest.mark.parametrize("name", ["KeyRotated", "KeyDeactivated", "KeyScopesUpdated", "KeyServicesUpdated"])
async def test_a_changed_key_refuses_older_tokens_but_not_newer_ones(world: World, name: str) -> None:
    await world.authenticator.key(SECRET)
    before = world.token()
    world.later()

    world.revocations.apply(
        f"hangar.keys.v1.{name}", payload(MESSAGES[f"hangar.keys.v1.{name}"](key_id="k1"))
    )

    assert refusal(world, before) == "KEY_REVOKED"
    world.later()
    assert world.authenticator.token(world.token()).key_id == "k1"
    await world.authenticator.key(SECRET)
    assert world.keys.authenticate_calls == 2  # the cached authentication was dropped


async def test_a_token_minted_in_the_same_second_after_the_event_is_accepted(world: World) -> None:
    second = world.wall.now
    world.wall.now = second + 0.2
    world.revocations.apply(
        "hangar.identity.v1.RolesChanged", payload(identity_events.RolesChanged(user_id="u1"))
    )
    world.wall.now = second + 0.7  # the same whole second as the event
    assert world.authenticator.token(world.token()).subject == "u1"


@pytest.mark.parametrize("name", ["UserRemoved", "RolesChanged", "UserRemovedFromTeam"])
async def test_a_user_event_refuses_the_users_earlier_tokens_and_asks_identity_again(
    world: World, name: str
) -> None:
    await world.authenticator.key(SECRET)
    assert (await world.authorizer.decide(KEY, PULL_HELLO)).granted == {"pull"}
    mine, theirs = world.token(), world.token("u2", "k2")
    world.later()
    world.identity.grants.clear()  # identity now answers with the user's current (no) roles

    event = MESSAGES[f"hangar.identity.v1.{name}"](user_id="u1", org="demo")
    world.revocations.apply(f"hangar.identity.v1.{name}", payload(event))

    assert refusal(world, mine) == "TOKEN_REVOKED"
    assert world.authenticator.token(theirs).subject == "u2"
    decision = await world.authorizer.decide(KEY, PULL_HELLO)
    assert decision.granted == frozenset() and world.identity.check_access_calls == 2
    await world.authenticator.key(SECRET)
    assert world.keys.authenticate_calls == 2


def test_session_ended_forgets_the_session(world: World) -> None:
    world.revocations.apply(
        "hangar.identity.v1.SessionEnded",
        payload(identity_events.SessionEnded(session_id="s1", user_id="u1")),
    )
    assert world.authenticator.session_ended("s1")
    assert not world.authenticator.session_ended("s2")


def test_an_undecodable_event_forgets_everything(world: World) -> None:
    token = world.token("u9", "k9")
    world.later()
    outcome = world.revocations.apply("hangar.keys.v1.KeyRevoked", b"\xff\xff\xff")
    assert "undecodable" in outcome
    assert refusal(world, token) == "TOKEN_REVOKED"


def test_an_event_naming_nobody_changes_nothing(world: World) -> None:
    token = world.token()
    world.later()
    outcome = world.revocations.apply("hangar.keys.v1.KeyRevoked", payload(keys_events.KeyRevoked()))
    assert outcome.startswith("ignored")
    assert world.authenticator.token(token).subject == "u1"


async def test_resynchronizing_flushes_every_cache_and_refuses_every_earlier_token(world: World) -> None:
    await world.authenticator.key(SECRET)
    await world.authorizer.decide(KEY, PULL_HELLO)
    before = world.token("anyone", "any-key")
    world.later()

    world.revocations.resynchronize()

    assert refusal(world, before) == "TOKEN_REVOKED"
    world.later()
    assert world.authenticator.token(world.token("anyone", "any-key")).subject == "anyone"
    await world.authenticator.key(SECRET)
    await world.authorizer.decide(KEY, PULL_HELLO)
    assert world.keys.authenticate_calls == 2 and world.identity.check_access_calls == 2


async def test_with_caching_off_every_lookup_goes_to_the_services(world: World) -> None:
    world.revocations.set_caching(False)
    for _ in range(3):
        await world.authenticator.key(SECRET)
        await world.authorizer.decide(KEY, PULL_HELLO)
    assert world.keys.authenticate_calls == 3 and world.identity.check_access_calls == 3
    world.revocations.set_caching(True)
    await world.authenticator.key(SECRET)
    await world.authenticator.key(SECRET)
    assert world.keys.authenticate_calls == 4


def test_not_befores_are_kept_only_as_long_as_a_token_may_live(world: World) -> None:
    world.revocations.apply(
        "hangar.identity.v1.UserRemoved", payload(identity_events.UserRemoved(user_id="u1"))
    )
    world.revocations.apply("hangar.keys.v1.KeyRevoked", payload(keys_events.KeyRevoked(key_id="k1")))
    world.later(300 + 10 + 1)  # token lifetime + leeway: every token issued before has expired
    world.revocations.apply(
        "hangar.identity.v1.UserRemoved", payload(identity_events.UserRemoved(user_id="u2"))
    )
    assert set(world.authenticator._revoked_users) == {"u2"}
    assert not world.authenticator._dead_keys and not world.authenticator._revoked_keys


class SlowKeys(FakeKeys):
    """Answers authentications only when released: a revocation can arrive while one is in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def authenticate(self, secret: str) -> KeyInfo:
        answer = await super().authenticate(secret)
        await self.release.wait()
        return answer


async def test_an_answer_in_flight_when_its_key_is_revoked_is_not_cached(world: World) -> None:
    keys = SlowKeys()
    keys.add(SECRET, KEY)
    authenticator = Authenticator(keys, TokenVerifier(world.signing.public_key()))
    lookup = asyncio.create_task(authenticator.key(SECRET))
    await asyncio.sleep(0)
    Revocations(authenticator, world.authorizer).apply(
        "hangar.keys.v1.KeyRevoked", payload(keys_events.KeyRevoked(key_id="k1"))
    )
    keys.release.set()
    assert await lookup == KEY  # answered (it began before the revocation) ...
    keys.refuse(SECRET, Unauthenticated("revoked", code="KEY_REVOKED"))
    with pytest.raises(Unauthenticated):  # ... but not reused
        await authenticator.key(SECRET)


class SlowIdentity(FakeIdentity):
    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def check_access(self, user_id: str, repository: str, capabilities: object) -> AccessResult:
        answer = await super().check_access(user_id, repository, capabilities)  # type: ignore[arg-type]
        await self.release.wait()
        return answer


async def test_a_decision_in_flight_when_roles_change_is_not_cached() -> None:
    identity = SlowIdentity()
    identity.grant("u1", "demo/hello", "DOWNLOAD_ARTIFACTS")
    authorizer = Authorizer(identity)
    decision = asyncio.create_task(authorizer.decide(KEY, PULL_HELLO))
    await asyncio.sleep(0)
    authorizer.forget_user("u1")
    identity.release.set()
    assert (await decision).granted == {"pull"}
    identity.grants.clear()
    assert (await authorizer.decide(KEY, PULL_HELLO)).granted == frozenset()


async def test_a_token_whose_grants_were_decided_across_a_role_change_is_refused(world: World) -> None:
    as_of = world.wall.now  # the token service notes the time before authenticating
    world.later()
    world.revocations.apply(
        "hangar.identity.v1.RolesChanged", payload(identity_events.RolesChanged(user_id="u1"))
    )
    world.later()
    token = world.issuer.issue("u1", "k1", [Grant("demo/hello", frozenset({"pull"}))], as_of=as_of).token
    assert refusal(world, token) == "TOKEN_REVOKED"


class RestCaches:
    """Another part of the gateway's caches (the REST API's), as the revocations see them."""

    def __init__(self) -> None:
        self.forgotten: list[str] = []

    def forget_user(self, user_id: str) -> None:
        self.forgotten.append(f"user {user_id}")

    def forget_key(self, key_id: str) -> None:
        self.forgotten.append(f"key {key_id}")

    def forget_everything(self) -> None:
        self.forgotten.append("everything")


def test_other_caches_forget_what_live_events_name_and_everything_on_resynchronizing(world: World) -> None:
    rest = RestCaches()
    revocations = Revocations(world.authenticator, world.authorizer, also=[rest])
    revocations.apply("hangar.identity.v1.UserRemoved", payload(identity_events.UserRemoved(user_id="u1")))
    revocations.apply("hangar.keys.v1.KeyRotated", payload(keys_events.KeyRotated(key_id="k1")))
    revocations.apply(  # replayed at start: those caches began empty
        "hangar.keys.v1.KeyRevoked",
        payload(keys_events.KeyRevoked(key_id="k2")),
        at=world.wall.now - 60,
        replay=True,
    )
    revocations.resynchronize()
    assert rest.forgotten == ["user u1", "key k1", "everything"]


def test_a_live_event_takes_effect_at_its_recorded_time_so_a_token_minted_after_it_stays_valid(
    world: World,
) -> None:
    grants = [Grant("demo/hello", frozenset({"pull"}))]
    recorded = world.wall.now
    before = world.issuer.issue("u1", "k1", grants, as_of=recorded - 0.5).token
    world.later(0.2)
    after = world.issuer.issue("u1", "k1", grants, as_of=world.wall.now).token  # fresh facts, new secret
    world.later(0.2)  # the event is heard only now, after `after` was minted
    world.revocations.apply(
        "hangar.keys.v1.KeyRotated", payload(keys_events.KeyRotated(key_id="k1")), at=recorded
    )
    assert refusal(world, before) == "KEY_REVOKED"
    assert world.authenticator.token(after).key_id == "k1"


def test_the_gateway_listens_where_its_settings_say(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANGAR_NATS_URL", "nats://10.0.0.5:4222")
    monkeypatch.setenv("HANGAR_SUBJECT_PREFIX", "staging")
    monkeypatch.setenv("HANGAR_NATS_STREAM", "STAGING")
    monkeypatch.setenv("HANGAR_TOKEN_TTL_SECONDS", "600")
    events = Settings().event_settings()
    assert events is not None
    assert (events.nats_url, events.subject_prefix, events.stream) == (
        "nats://10.0.0.5:4222",
        "staging",
        "STAGING",
    )
    assert events.replay_seconds >= 600
    monkeypatch.setenv("HANGAR_REVOCATION_EVENTS", "false")
    assert Settings().event_settings() is None
