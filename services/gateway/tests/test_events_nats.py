"""The revocation listener on a real NATS: events published by the services evict within the bound, a gateway
starts without NATS, catches up on what it missed, and distrusts earlier tokens after a reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import nats
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gateway_harness import running
from nats.js.api import StreamConfig

from hangar.api.identity.v1 import events_pb2 as identity_events
from hangar.api.keys.v1 import events_pb2 as keys_events
from hangar.gateway.app import create_app
from hangar.gateway.auth import Authenticator, Authorizer, Grant, TokenIssuer, TokenVerifier
from hangar.gateway.clients.fakes import FakeIdentity, FakeKeys
from hangar.gateway.events import EventListener, EventSettings, Revocations
from hangar.gateway.testing import ALICE, ALICE_KEY, FakeWorld, basic, bearer, fake_world
from hangar.kit import testing
from hangar.kit.errors import Unauthenticated
from hangar.kit.eventstore import EVENT_ID_HEADER, EVENT_TYPE_HEADER
from hangar.kit.natsserver import nats_server_binary

pytestmark = pytest.mark.nats

#: DESIGN §4: revocation is effective on every replica within 1 s.
REVOCATION_BOUND = 1.0


@contextlib.asynccontextmanager
async def event_stream() -> AsyncIterator[tuple[str, str]]:
    """A stream and subject prefix of this test's own on the shared NATS (deleted afterwards)."""
    stream, prefix = testing.unique_name("GWEVENTS"), testing.unique_name("gwevents")
    nc = await nats.connect(testing.SHARED_NATS_URL)
    try:
        await nc.jetstream().add_stream(StreamConfig(name=stream, subjects=[f"{prefix}.>"]))
        yield stream, prefix
    finally:
        with contextlib.suppress(Exception):
            await nc.jetstream().delete_stream(stream)
        await nc.close()


async def publish(prefix: str, event_type: str, payload: bytes, url: str = testing.SHARED_NATS_URL) -> None:
    """Publish as the services' outbox relay does: to JetStream, with the event headers."""
    nc = await nats.connect(url)
    try:
        subject = f"{prefix}.{event_type.split('.')[1]}.{event_type.rsplit('.', 1)[-1]}"
        headers = {EVENT_TYPE_HEADER: event_type, EVENT_ID_HEADER: testing.unique_name("event")}
        await nc.jetstream().publish(subject, payload, headers=headers, timeout=5)
    finally:
        await nc.close()


async def until_refused(
    client: httpx.AsyncClient, token: str, *, within: float
) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    while True:
        response = await client.get("/v2/demo/hello/tags/list", headers=bearer(token))
        if response.status_code in (401, 403) or time.monotonic() - started > within:
            return time.monotonic() - started, response
        await asyncio.sleep(0.005)


async def pull_token(client: httpx.AsyncClient) -> str:
    response = await client.get(
        "/token",
        params={"service": "hangar", "scope": "repository:demo/hello:pull"},
        headers=basic(ALICE_KEY),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


class Gateway:
    """The gateway app over fakes, listening for revocations under `prefix` on `url`."""

    def __init__(self, url: str, prefix: str, stream: str = "") -> None:
        self.world: FakeWorld = fake_world()
        settings = EventSettings(nats_url=url, subject_prefix=prefix, stream=stream)
        self.app = create_app(self.world.services(), Ed25519PrivateKey.generate(), events=settings)

    @property
    def listener(self) -> EventListener:
        listener = self.app.state.events
        assert isinstance(listener, EventListener)
        return listener


async def test_a_published_key_revoked_refuses_an_issued_token_within_the_bound() -> None:
    async with event_stream() as (stream, prefix):
        gateway = Gateway(testing.SHARED_NATS_URL, prefix, stream)
        async with running(gateway.app) as client:
            await asyncio.wait_for(gateway.listener.listening.wait(), 10)
            token = await pull_token(client)
            assert (await client.get("/v2/demo/hello/tags/list", headers=bearer(token))).status_code == 404
            ready = await client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["events"] == "connected"

            await publish(
                prefix,
                "hangar.keys.v1.KeyRevoked",
                keys_events.KeyRevoked(key_id="key-alice").SerializeToString(),
            )

            elapsed, refused = await until_refused(client, token, within=5)
            assert refused.status_code == 401 and elapsed < REVOCATION_BOUND
            assert refused.json()["errors"][0]["detail"]["reason"] == "KEY_REVOKED"


@pytest.mark.parametrize("event", ["UserRemoved", "RolesChanged"])
async def test_a_published_user_event_refuses_the_users_issued_token(event: str) -> None:
    async with event_stream() as (stream, prefix):
        gateway = Gateway(testing.SHARED_NATS_URL, prefix, stream)
        async with running(gateway.app) as client:
            await asyncio.wait_for(gateway.listener.listening.wait(), 10)
            token = await pull_token(client)
            message = getattr(identity_events, event)(org="demo", user_id=ALICE)

            await publish(prefix, f"hangar.identity.v1.{event}", message.SerializeToString())

            elapsed, refused = await until_refused(client, token, within=5)
            assert refused.status_code == 401 and elapsed < REVOCATION_BOUND
            assert refused.json()["errors"][0]["detail"]["reason"] == "TOKEN_REVOKED"
            # a token asked for afterwards reflects identity's current answer
            fresh = await pull_token(client)
            assert (await client.get("/v2/demo/hello/tags/list", headers=bearer(fresh))).status_code == 404


async def test_events_published_before_the_gateway_listened_are_replayed() -> None:
    signing = Ed25519PrivateKey.generate()
    earlier = TokenIssuer(signing).issue(ALICE, "key-alice", [Grant("demo/hello", frozenset({"pull"}))]).token
    other = TokenIssuer(signing).issue("user-bob", "key-bob", []).token
    async with event_stream() as (stream, prefix):
        await publish(
            prefix,
            "hangar.keys.v1.KeyRevoked",
            keys_events.KeyRevoked(key_id="key-alice").SerializeToString(),
        )
        authenticator = Authenticator(FakeKeys(), TokenVerifier(signing.public_key()))
        listener = EventListener(
            Revocations(authenticator, Authorizer(FakeIdentity())),
            EventSettings(nats_url=testing.SHARED_NATS_URL, subject_prefix=prefix, stream=stream),
        )
        await listener.start()
        try:
            await asyncio.wait_for(listener.listening.wait(), 10)
            with pytest.raises(Unauthenticated) as refused:
                authenticator.token(earlier)
            assert refused.value.code == "KEY_REVOKED"
            assert authenticator.token(other).subject == "user-bob"  # replay succeeded: no blanket refusal
        finally:
            await listener.stop()
        assert listener.status == "stopped"


# -- a NATS of the test's own, to stop and start ------------------------------------------------------------


@contextlib.contextmanager
def private_nats(port: int, store: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        testing.wait_for_port(port, timeout=10)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_the_gateway_starts_and_serves_without_nats_and_is_ready_once_it_listens(
    tmp_path: Path,
) -> None:
    port = testing.free_port()
    gateway = Gateway(f"nats://127.0.0.1:{port}", "hangar")
    started = time.monotonic()
    async with running(gateway.app) as client:
        assert time.monotonic() - started < 2
        assert (await client.get("/healthz")).status_code == 200
        token = await pull_token(client)
        assert (await client.get("/v2/demo/hello/tags/list", headers=bearer(token))).status_code == 404
        not_ready = await client.get("/readyz")
        assert not_ready.status_code == 503 and not_ready.json()["events"] == "connecting"

        with private_nats(port, tmp_path / "nats"):
            await asyncio.wait_for(gateway.listener.listening.wait(), 15)
            ready = await client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["events"] == "connected"


async def test_after_a_reconnect_caches_are_flushed_and_earlier_tokens_refused(tmp_path: Path) -> None:
    port = testing.free_port()
    gateway = Gateway(f"nats://127.0.0.1:{port}", "hangar")
    async with running(gateway.app) as client:
        with private_nats(port, tmp_path / "nats"):
            await asyncio.wait_for(gateway.listener.listening.wait(), 15)
            token = await pull_token(client)
            await client.get("/v2/demo/hello/tags/list", headers=basic(ALICE_KEY))
        calls = gateway.world.keys.authenticate_calls

        await testing.eventually(lambda: gateway.listener.status == "disconnected", within=10)
        # disconnected: nothing is reused, every raw key is asked of keys
        for _ in range(2):
            response = await client.get("/v2/demo/hello/tags/list", headers=basic(ALICE_KEY))
            assert response.status_code == 404
        assert gateway.world.keys.authenticate_calls == calls + 2
        assert (await client.get("/readyz")).json()["events"] == "disconnected"

        with private_nats(port, tmp_path / "nats"):
            await testing.eventually(lambda: gateway.listener.status == "connected", within=15)
            refused = await client.get("/v2/demo/hello/tags/list", headers=bearer(token))
            assert refused.status_code == 401
            assert refused.json()["errors"][0]["detail"]["reason"] == "TOKEN_REVOKED"
            fresh = await pull_token(client)
            assert (await client.get("/v2/demo/hello/tags/list", headers=bearer(fresh))).status_code == 404
