"""Service channels (`hangar.kit.grpcio.channel`) send the bound call context as metadata on every kind of
call, beside whatever metadata the caller passes itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from hangar.kit import context
from hangar.kit.grpcio import GrpcServer, channel

SERVICE = "hangar.test.Echo"


@pytest.fixture
async def address() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A server whose methods record each call's metadata (unary and server streaming, raw bytes)."""
    seen: list[dict[str, str]] = []

    def record(ctx: Any) -> None:
        seen.append({key: value for key, value in ctx.invocation_metadata() if isinstance(value, str)})

    async def unary(request: bytes, ctx: Any) -> bytes:
        record(ctx)
        return request

    async def streaming(request: bytes, ctx: Any) -> AsyncIterator[bytes]:
        record(ctx)
        yield request

    handler = grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Say": grpc.unary_unary_rpc_method_handler(unary),
            "Stream": grpc.unary_stream_rpc_method_handler(streaming),
        },
    )

    def add(_servicer: Any, server: Any) -> None:
        server.add_generic_rpc_handlers((handler,))

    server = GrpcServer("127.0.0.1:0", [(add, None)], [])
    await server.start()
    try:
        yield f"127.0.0.1:{server.port}", seen
    finally:
        await server.stop(grace=1)


async def test_every_call_carries_the_bound_context(address: tuple[str, list[dict[str, str]]]) -> None:
    target, seen = address
    bound = context.CallContext(actor="user-1", correlation_id="corr-1", causation_id="event-1")

    async with channel(target) as chan:
        say = chan.unary_unary(f"/{SERVICE}/Say")
        stream = chan.unary_stream(f"/{SERVICE}/Stream")
        with context.bound(bound):
            assert await say(b"hello") == b"hello"
            assert [reply async for reply in stream(b"hi")] == [b"hi"]

    assert len(seen) == 2
    for metadata in seen:
        assert metadata[context.ACTOR_HEADER] == "user-1"
        assert metadata[context.CORRELATION_HEADER] == "corr-1"
        assert metadata[context.CAUSATION_HEADER] == "event-1"


async def test_the_callers_own_metadata_is_kept_and_the_context_wins_a_clash(
    address: tuple[str, list[dict[str, str]]],
) -> None:
    target, seen = address

    async with channel(target) as chan:
        say = chan.unary_unary(f"/{SERVICE}/Say")
        with context.bound(context.CallContext(actor="user-1", correlation_id="corr-1")):
            await say(b"x", metadata=(("x-extra", "kept"), (context.CORRELATION_HEADER, "stale")))

    (metadata,) = seen
    assert metadata["x-extra"] == "kept"
    assert metadata[context.CORRELATION_HEADER] == "corr-1"
    assert metadata[context.ACTOR_HEADER] == "user-1"
