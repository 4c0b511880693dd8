"""UserRemoved from identity, over the machine's real NATS, revokes the user's personal and legacy keys in
that org, once; service keys the user created belong to the org and survive."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from sqlalchemy import select

from hangar.api.identity.v1 import events_pb2 as identity_events
from hangar.keys.app import App
from hangar.keys.domain import KeyScope, KeyStatus, KeyType
from hangar.keys.subscriptions import subscriptions
from hangar.kit import messaging, schema, testing
from hangar.kit.errors import Unauthenticated
from hangar.kit.eventstore import EVENT_ID_HEADER, EVENT_TYPE_HEADER, MSG_ID_HEADER
from hangar.kit.messaging import EventConsumer
from hangar.kit.uow import UnitOfWorkFactory

pytestmark = pytest.mark.nats


@pytest.fixture
async def jetstream() -> AsyncIterator[tuple[Any, str, str]]:
    """The machine's NATS, with a stream and subject prefix of this test's own."""
    nc = await nats.connect(testing.SHARED_NATS_URL)
    js = nc.jetstream()
    stream, prefix = testing.unique_name("KEYSTEST"), testing.unique_name("keystest")
    await messaging.ensure_stream(js, stream, prefix)
    try:
        yield js, stream, prefix
    finally:
        with contextlib.suppress(Exception):
            await js.delete_stream(stream)
        await nc.close()


async def publish_user_removed(
    js: Any, prefix: str, event_id: str, org: str, user_id: str, *, msg_id: str | None = None
) -> None:
    """As identity's outbox relay would publish it (hangar.kit.eventstore headers)."""
    payload = identity_events.UserRemoved(org_id=f"org-{org}", org=org, user_id=user_id)
    await js.publish(
        f"{prefix}.identity.UserRemoved",
        payload.SerializeToString(),
        headers={
            MSG_ID_HEADER: msg_id or event_id,
            EVENT_ID_HEADER: event_id,
            EVENT_TYPE_HEADER: "hangar.identity.v1.UserRemoved",
        },
    )


async def revocations(uow: UnitOfWorkFactory[Any]) -> int:
    async with uow() as u:
        rows = await u.session.execute(
            select(schema.events.c.event_id).where(schema.events.c.type == "hangar.keys.v1.KeyRevoked")
        )
        return len(rows.all())


async def test_user_removed_revokes_the_users_keys_in_that_org_once(
    app: App, uow: UnitOfWorkFactory[Any], jetstream: Any
) -> None:
    js, stream, prefix = jetstream
    mine = [await app.issue_personal_key("acme", "u-1", f"k{i}", ["registry"], None) for i in range(3)]
    _, elsewhere = await app.issue_personal_key("other", "u-1", "k", ["registry"], None)
    _, colleague = await app.issue_personal_key("acme", "u-2", "k", ["registry"], None)
    _, legacy = await app.issue_legacy_key("acme", "u-1")
    bot, bot_secret = await app.issue_service_key(
        "acme", "bot", ["registry"], [KeyScope(("get",))], None, "u-1"
    )

    event_id = str(uuid.uuid4())
    await publish_user_removed(js, prefix, event_id, "acme", "u-1")
    # Redelivered under another NATS message id (a relay retry after a lost ack): only the inbox can tell.
    await publish_user_removed(js, prefix, event_id, "acme", "u-1", msg_id=str(uuid.uuid4()))

    consumer = EventConsumer(
        js,
        uow,
        name=testing.unique_name("keys"),
        stream=stream,
        subject_prefix=prefix,
        subscriptions=subscriptions(app),
    )
    task = asyncio.create_task(consumer.run())
    try:

        async def all_revoked() -> bool:
            keys = await app.list_keys("u-1")
            return [k.status for k in keys if k.org == "acme"] == [KeyStatus.REVOKED] * 4

        await testing.eventually(all_revoked, within=15)

        async def both_handled() -> bool:
            info = await js.consumer_info(stream, consumer.name)
            return bool(
                info.num_ack_pending == 0 and info.num_pending == 0 and info.delivered.stream_seq == 2
            )

        await testing.eventually(both_handled, within=15)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 10)

    assert await revocations(uow) == 4
    for _, secret in [*mine, (None, legacy)]:
        with pytest.raises(Unauthenticated) as caught:
            await app.authenticate(secret)
        assert caught.value.code == "KEY_REVOKED"
    assert (await app.authenticate(elsewhere)).org == "other"
    assert (await app.authenticate(colleague)).owner_user_id == "u-2"
    survivor = await app.authenticate(bot_secret)
    assert (survivor.key_id, survivor.key_type, survivor.created_by) == (bot.key_id, KeyType.SERVICE, "u-1")
    async with uow() as u:
        processed = (await u.session.execute(select(schema.inbox.c.event_id))).scalars().all()
    assert processed == [event_id]
