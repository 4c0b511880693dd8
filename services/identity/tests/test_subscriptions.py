"""Keys' events over the machine's real NATS land in the org audit log exactly once, despite redelivery."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import nats
import pytest
from nats.js.errors import NotFoundError
from sqlalchemy import select

from hangar.api.keys.v1 import events_pb2 as keys_events
from hangar.identity.app import App
from hangar.identity.subscriptions import subscriptions
from hangar.kit import messaging, schema, testing
from hangar.kit.context import ACTOR_HEADER, CAUSATION_HEADER, CORRELATION_HEADER
from hangar.kit.eventstore import EVENT_ID_HEADER, EVENT_TIME_HEADER, EVENT_TYPE_HEADER, MSG_ID_HEADER
from hangar.kit.messaging import EventConsumer
from hangar.kit.uow import UnitOfWork

pytestmark = pytest.mark.nats


@pytest.fixture
async def jetstream() -> AsyncIterator[tuple[Any, str, str]]:
    """The machine's NATS, with a stream and subject prefix of this test's own."""
    nc = await nats.connect(testing.SHARED_NATS_URL)
    js = nc.jetstream()
    stream, prefix = testing.unique_name("IDTEST"), testing.unique_name("idtest")
    await messaging.ensure_stream(js, stream, prefix)
    try:
        yield js, stream, prefix
    finally:
        with contextlib.suppress(Exception):
            await js.delete_stream(stream)
        await nc.close()


async def publish_key_revoked(
    js: Any, prefix: str, event_id: str, happened: datetime, *, msg_id: str | None = None
) -> None:
    """As keys' outbox relay publishes it (hangar.kit.eventstore's headers)."""
    payload = keys_events.KeyRevoked(key_id="k-1", org="acme", owner_user_id="u-carol", reason="compromised")
    await js.publish(
        f"{prefix}.keys.KeyRevoked",
        payload.SerializeToString(),
        headers={
            MSG_ID_HEADER: msg_id or event_id,
            EVENT_ID_HEADER: event_id,
            EVENT_TYPE_HEADER: "hangar.keys.v1.KeyRevoked",
            EVENT_TIME_HEADER: happened.isoformat(),
            ACTOR_HEADER: "u-admin",
            CORRELATION_HEADER: "corr-revoke",
            CAUSATION_HEADER: event_id,
        },
    )


async def test_a_published_key_revocation_enters_the_audit_log_once_despite_redelivery(
    app: App, jetstream: Any
) -> None:
    js, stream, prefix = jetstream
    await app.create_org("acme", "", "ada@example.com", "Ada")
    event_id = str(uuid.uuid4())
    happened = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    await publish_key_revoked(js, prefix, event_id, happened)
    # Published again under another NATS message id (a relay retry after a lost ack): only the inbox knows.
    await publish_key_revoked(js, prefix, event_id, happened, msg_id=str(uuid.uuid4()))

    # The first attempt fails at commit (the database went away): nak, rollback, redelivery.
    attempts = 0

    def flaky_uow() -> UnitOfWork[Any]:
        nonlocal attempts
        attempts += 1
        unit = app.uow()
        if attempts == 1:

            async def lost() -> None:
                raise ConnectionError("the database went away")

            unit.commit = lost  # type: ignore[method-assign]
        return unit

    consumer = EventConsumer(
        js,
        flaky_uow,
        name=testing.unique_name("identity"),
        stream=stream,
        subject_prefix=prefix,
        subscriptions=subscriptions(app),
    )
    task = asyncio.create_task(consumer.run())
    try:

        async def settled() -> bool:
            if task.done():
                task.result()  # the consumer died: say why
            try:
                info = await js.consumer_info(stream, consumer.name)
            except NotFoundError:  # not created yet
                return False
            return bool(
                info.num_ack_pending == 0 and info.num_pending == 0 and info.delivered.stream_seq == 2
            )

        await testing.eventually(settled, within=20)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 10)

    assert attempts >= 3  # the failed one, its redelivery, and the duplicate
    (entry,) = (await app.list_events("acme", types=["KeyRevoked"])).events
    assert (entry.event_id, entry.service, entry.org, entry.actor) == (event_id, "keys", "acme", "u-admin")
    assert (entry.time, entry.correlation_id) == (happened, "corr-revoke")
    assert json.loads(entry.payload_json)["reason"] == "compromised"
    async with app.uow(readonly=True) as uow:
        processed = (await uow.session.execute(select(schema.inbox.c.event_id))).scalars().all()
    assert processed == [event_id]
