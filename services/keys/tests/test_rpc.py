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


# -- service, legacy and lifecycle RPCs ------------------------------------------------------------------


def scope(*actions: str, entity_types: tuple[str, ...] = (), team: str = "", repository: str = "") -> Any:
    return keys_pb2.KeyScope(
        actions=list(actions), entity_types=list(entity_types), team=team, repository=repository
    )


async def issue_service(stub: Any, **fields: Any) -> Any:
    request = {
        "org": "acme",
        "name": "deploy bot",
        "services": ["registry"],
        "scopes": [scope("push", "get", entity_types=("model",), team="vision"), scope("list")],
        "created_by": "u-admin",
        **fields,
    }
    return await stub.IssueServiceKey(keys_pb2.IssueServiceKeyRequest(**request))


def scopes_of(key: Any) -> list[tuple[list[str], list[str], str, str]]:
    return [(list(s.actions), list(s.entity_types), s.team, s.repository) for s in key.scopes]


async def test_service_key_scopes_round_trip_over_grpc(stub: Any) -> None:
    issued = await issue_service(stub, expires_in_seconds=86400)
    expected = [(["get", "push"], ["model"], "vision", ""), (["list"], [], "", "")]

    assert issued.key.type == keys_pb2.KEY_TYPE_SERVICE
    assert (issued.key.owner_user_id, issued.key.created_by) == ("", "u-admin")
    assert scopes_of(issued.key) == expected
    authenticated = await stub.Authenticate(keys_pb2.AuthenticateRequest(secret=issued.secret))
    assert scopes_of(authenticated.key) == expected
    assert authenticated.key.created_by == "u-admin"

    updated = await stub.UpdateKey(
        keys_pb2.UpdateKeyRequest(
            key_id=issued.key.key_id,
            scopes=[scope("delete", repository="acme/vision/bert")],
            update_scopes=True,
        )
    )
    assert scopes_of(updated.key) == [(["delete"], [], "", "acme/vision/bert")]
    got = await stub.GetKey(keys_pb2.GetKeyRequest(key_id=issued.key.key_id))
    assert scopes_of(got.key) == scopes_of(updated.key)

    error = await rpc_error(issue_service(stub, scopes=[scope("get", repository="other/bert")]))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert trailer(error, ERROR_CODE_KEY) == "SCOPE_INVALID"
    assert "not in org acme" in (error.details() or "")


async def test_the_51st_service_key_is_resource_exhausted(stub: Any) -> None:
    for i in range(50):
        await issue_service(stub, name=f"bot {i}")
    error = await rpc_error(issue_service(stub, name="one too many"))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert trailer(error, ERROR_CODE_KEY) == "SERVICE_KEY_LIMIT"


async def test_legacy_key_regeneration_over_grpc(stub: Any) -> None:
    first = await stub.IssueLegacyKey(keys_pb2.IssueLegacyKeyRequest(org="acme", user_id="u-1"))
    second = await stub.IssueLegacyKey(keys_pb2.IssueLegacyKeyRequest(org="acme", user_id="u-1"))

    assert second.key.type == keys_pb2.KEY_TYPE_LEGACY
    assert list(second.key.services) == ["registry", "admin"] and second.key.expires_at == 0
    error = await rpc_error(stub.Authenticate(keys_pb2.AuthenticateRequest(secret=first.secret)))
    assert trailer(error, ERROR_CODE_KEY) == "KEY_REVOKED"
    error = await rpc_error(stub.RotateKey(keys_pb2.RotateKeyRequest(key_id=second.key.key_id)))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert trailer(error, ERROR_CODE_KEY) == "KEY_TYPE_MISMATCH"


async def test_rotate_deactivate_update_and_delete_over_grpc(stub: Any) -> None:
    issued = await issue(stub)
    key_id = issued.key.key_id

    rotated = await stub.RotateKey(keys_pb2.RotateKeyRequest(key_id=key_id))
    assert rotated.key.key_id == key_id and rotated.key.prefix != issued.key.prefix
    error = await rpc_error(stub.Authenticate(keys_pb2.AuthenticateRequest(secret=issued.secret)))
    assert (error.code(), trailer(error, ERROR_CODE_KEY)) == (grpc.StatusCode.UNAUTHENTICATED, "KEY_INVALID")

    inactive = await stub.SetKeyActive(keys_pb2.SetKeyActiveRequest(key_id=key_id, active=False))
    assert inactive.key.status == keys_pb2.KEY_STATUS_INACTIVE
    error = await rpc_error(stub.Authenticate(keys_pb2.AuthenticateRequest(secret=rotated.secret)))
    assert trailer(error, ERROR_CODE_KEY) == "KEY_INACTIVE"
    await stub.SetKeyActive(keys_pb2.SetKeyActiveRequest(key_id=key_id, active=True))
    await stub.Authenticate(keys_pb2.AuthenticateRequest(secret=rotated.secret))

    # Only the fields present change: no name leaves the name alone.
    updated = await stub.UpdateKey(
        keys_pb2.UpdateKeyRequest(key_id=key_id, services=["admin"], update_services=True)
    )
    assert (updated.key.name, list(updated.key.services)) == ("ci", ["admin"])
    renamed = await stub.UpdateKey(keys_pb2.UpdateKeyRequest(key_id=key_id, name="nightly", services=["x"]))
    assert (renamed.key.name, list(renamed.key.services)) == ("nightly", ["admin"])
    error = await rpc_error(stub.UpdateKey(keys_pb2.UpdateKeyRequest(key_id=key_id, update_services=True)))
    assert (error.code(), trailer(error, ERROR_CODE_KEY)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "KEY_SERVICES_EMPTY",
    )
    error = await rpc_error(
        stub.UpdateKey(keys_pb2.UpdateKeyRequest(key_id=key_id, scopes=[scope("get")], update_scopes=True))
    )
    assert (error.code(), trailer(error, ERROR_CODE_KEY)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "KEY_TYPE_MISMATCH",
    )

    assert await stub.DeleteKey(keys_pb2.DeleteKeyRequest(key_id=key_id)) == keys_pb2.DeleteKeyResponse()
    error = await rpc_error(stub.Authenticate(keys_pb2.AuthenticateRequest(secret=rotated.secret)))
    assert trailer(error, ERROR_CODE_KEY) == "KEY_REVOKED"
    for call in (
        stub.GetKey(keys_pb2.GetKeyRequest(key_id=key_id)),
        stub.DeleteKey(keys_pb2.DeleteKeyRequest(key_id=key_id)),
        stub.RotateKey(keys_pb2.RotateKeyRequest(key_id=key_id)),
    ):
        error = await rpc_error(call)
        assert (error.code(), trailer(error, ERROR_CODE_KEY)) == (grpc.StatusCode.NOT_FOUND, "KEY_NOT_FOUND")
    assert (await stub.ListKeys(keys_pb2.ListKeysRequest(user_id="u-1"))).keys == []


async def test_list_org_keys_over_grpc(stub: Any, clock: Any) -> None:
    ids = []
    for i in range(3):
        clock.advance(1)
        ids.append((await issue(stub, user_id=f"u-{i}", name=f"k{i}")).key.key_id)
    clock.advance(1)
    ids.append((await issue_service(stub)).key.key_id)
    await stub.RevokeKey(keys_pb2.RevokeKeyRequest(key_id=ids[0], reason="leaked"))

    first = await stub.ListOrgKeys(keys_pb2.ListOrgKeysRequest(org="acme", page_size=2))
    assert [k.key_id for k in first.keys] == ids[1:3] and first.next_page_token
    rest = await stub.ListOrgKeys(
        keys_pb2.ListOrgKeysRequest(org="acme", page_size=2, page_token=first.next_page_token)
    )
    assert [k.key_id for k in rest.keys] == ids[3:] and rest.next_page_token == ""
    assert scopes_of(rest.keys[0])  # metadata includes a service key's scopes

    dead = await stub.ListOrgKeys(keys_pb2.ListOrgKeysRequest(org="acme", include_dead=True))
    assert [k.key_id for k in dead.keys] == ids
    assert dead.keys[0].status == keys_pb2.KEY_STATUS_REVOKED
    one = await stub.ListOrgKeys(keys_pb2.ListOrgKeysRequest(org="acme", user_id="u-2"))
    assert [k.key_id for k in one.keys] == [ids[2]]

    error = await rpc_error(stub.ListOrgKeys(keys_pb2.ListOrgKeysRequest(org="acme", page_token="junk")))
    assert (error.code(), trailer(error, ERROR_CODE_KEY)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "PAGE_TOKEN_INVALID",
    )
