"""An event published by identity is consumed by keys through NATS, in one trace."""

from __future__ import annotations

import asyncio

from hangar_harness import Hangar

from hangar.gateway.clients.identity import IdentityClient
from hangar.gateway.clients.keys import KeysClient
from hangar.kit.errors import Unauthenticated
from hangar.kit.grpcio import channel
from hangar.kit.testing import eventually


async def test_user_removed_in_identity_revokes_their_keys_in_keys_within_one_trace(hangar: Hangar) -> None:
    async with channel(hangar.grpc_address("identity")) as ic, channel(hangar.grpc_address("keys")) as kc:
        identity, keys = IdentityClient(ic), KeysClient(kc)
        user = await identity.add_user("demo", "leaver@example.com", "Leaver", ["REGISTRY_USER"])
        issued = await keys.issue_personal_key("demo", user.user_id, "laptop", ["registry"])
        assert (await keys.authenticate(issued.secret)).user_id == user.user_id

        await identity.remove_user("demo", user.user_id)

        async def revoked() -> bool:
            try:
                await keys.authenticate(issued.secret)
            except Unauthenticated as refused:
                return refused.code == "KEY_REVOKED"
            return False

        await eventually(revoked, within=15)

    def one_trace() -> bool:
        spans = hangar.spans()
        removals = [
            s for s in spans if s["service"] == "hangar-identity" and s["name"].endswith("/RemoveUser")
        ]
        consumed = [
            s
            for s in spans
            if s["service"] == "hangar-keys" and s["name"] == "consume hangar.identity.v1.UserRemoved"
        ]
        return bool(
            removals and consumed and {s["trace_id"] for s in removals} & {s["trace_id"] for s in consumed}
        )

    await eventually(one_trace, within=10)


def test_spans_of_the_consumer_name_their_parent_in_the_publishing_service(hangar: Hangar) -> None:
    asyncio.run(asyncio.sleep(0))  # the previous test produced the spans; this one reads their links
    spans = hangar.spans()
    consumed = [s for s in spans if s["name"] == "consume hangar.identity.v1.UserRemoved"]
    assert consumed, "no consumer span recorded"
    identity_span_ids = {s["span_id"] for s in spans if s["service"] == "hangar-identity"}
    assert any(s["parent_id"] in identity_span_ids for s in consumed)
