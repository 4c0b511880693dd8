"""What every gRPC client does alike: turn RPC failures into domain errors, and ask a channel's health."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hangar.kit.grpcio import error_from_rpc

#: Deadline of a unary call, in seconds; streams (blob bytes) have none.
UNARY_TIMEOUT: Final = 15.0
HEALTH_TIMEOUT: Final = 2.0


@contextmanager
def domain_errors() -> Iterator[None]:
    """Re-raise a failed RPC as the DomainError the service raised (code, kind and message kept)."""
    try:
        yield
    except grpc.aio.AioRpcError as exc:
        raise error_from_rpc(exc) from exc


async def serving(channel: grpc.aio.Channel, deadline: float = HEALTH_TIMEOUT) -> bool:
    """True when the server behind `channel` answers the standard health check with SERVING."""
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=deadline)
    except (TimeoutError, grpc.aio.AioRpcError):
        return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
