"""KeysService over in-process gRPC: messages, and domain errors as status codes with hangar-error-code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from hangar.api.keys.v1 import keys_pb2, keys_pb2_grpc
from hangar.keys.app import App
from hangar.keys.rpc import SERVICE_NAME, registrations
from hangar.kit.grpcio import ERROR_CODE_KEY, GrpcServer, channel


@pytest.fixture
async def stub(app: App) -> AsyncIterator[Any]:
    server = GrpcServer("127.0.0.1:0", registrations(app), [SERVICE_NAME])
    await server.start()
    try:
        async with channel(f"127.0.0.1:{server.port}") as ch:
            yield keys_pb2_grpc.KeysServiceStub(ch)
    finally:
        await server.stop(0)


def trailer(error: grpc.aio.AioRpcError, key: str) -> str:
    return str(dict(error.trailing_metadata() or ())[key])


async def rpc_error(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def issue(stub: Any, **fields: Any) -> Any:
    request = {"org": "acme", "user_id": "u-1", "name": "ci", "services": ["registry"], **fields}
    return await stub.IssuePersonalKey(keys_pb2.IssuePersonalKeyRequest(**request))


async def test_authenticate_with_a_bad_secret_is_unauthenticated_with_the_reason(stub: Any) -> None:
    issued = await issue(stub)
    wrong = f"{issued.key.prefix}_{'A' * 43}"

    error = await rpc_error(stub.Authenticate(keys_pb2.AuthenticateRequest(secret=wrong)))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert trailer(error, ERROR_CODE_KEY) == "KEY_INVALID"
    assert wrong not in (error.details() or "")

    error = await rpc_error(stub.Authenticate(keys_pb2.AuthenticateRequest(secret="hunter2")))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert trailer(error, ERROR_CODE_KEY) == "KEY_MALFORMED"
    assert "hunter2" not in (error.details() or "")


async def test_issue_authenticate_list_get_and_revoke_over_grpc(stub: Any, clock: Any) -> None:
    issued = await issue(stub, services=["registry", "admin"], expires_in_seconds=7200)
    created = int(clock.now.timestamp())
    assert issued.secret.startswith(issued.key.prefix + "_")
    assert issued.key.type == keys_pb2.KEY_TYPE_PERSONAL
    assert issued.key.status == keys_pb2.KEY_STATUS_ACTIVE
    assert (issued.key.created_at, issued.key.expires_at) == (created, created + 7200)
    assert list(issued.key.services) == ["registry", "admin"]

    authenticated = await stub.Authenticate(keys_pb2.AuthenticateRequest(secret=issued.secret))
    assert authenticated.key.key_id == issued.key.key_id
    assert (authenticated.key.org, authenticated.key.owner_user_id) == ("acme", "u-1")
    assert authenticated.key.last_used_at == created

    listed = await stub.ListKeys(keys_pb2.ListKeysRequest(user_id="u-1"))
    assert [k.key_id for k in listed.keys] == [issued.key.key_id]
    got = await stub.GetKey(keys_pb2.GetKeyRequest(key_id=issued.key.key_id))
    assert got.key.prefix == issued.key.prefix

    revoked = await stub.RevokeKey(keys_pb2.RevokeKeyRequest(key_id=issued.key.key_id, reason="leaked"))
    assert revoked.key.status == keys_pb2.KEY_STATUS_REVOKED
    error = await rpc_error(stub.Authenticate(keys_pb2.AuthenticateRequest(secret=issued.secret)))
    assert trailer(error, ERROR_CODE_KEY) == "KEY_REVOKED"


async def test_a_key_that_never_expires_has_expires_at_zero(stub: Any) -> None:
    issued = await issue(stub, expires_in_seconds=0)
    assert issued.key.expires_at == 0
    assert issued.key.last_used_at == 0


async def test_domain_refusals_map_to_status_codes(stub: Any) -> None:
    for i in range(8):
        await issue(stub, name=f"key {i}")
    error = await rpc_error(issue(stub, name="ninth"))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert trailer(error, ERROR_CODE_KEY) == "PERSONAL_KEY_LIMIT"

    error = await rpc_error(issue(stub, user_id="u-2", services=["nope"]))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert trailer(error, ERROR_CODE_KEY) == "KEY_SERVICE_UNKNOWN"

    error = await rpc_error(stub.GetKey(keys_pb2.GetKeyRequest(key_id="missing")))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert trailer(error, ERROR_CODE_KEY) == "KEY_NOT_FOUND"
