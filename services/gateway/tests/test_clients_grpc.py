"""The gRPC clients against in-process servers: messages, streaming, and errors rebuilt as domain errors."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import pytest

from hangar.api.blobstore.v1 import blobstore_pb2, blobstore_pb2_grpc
from hangar.api.identity.v1 import identity_pb2, identity_pb2_grpc, types_pb2
from hangar.api.keys.v1 import keys_pb2, keys_pb2_grpc
from hangar.api.registry.v1 import registry_pb2, registry_pb2_grpc
from hangar.gateway.clients import BlobstoreClient, IdentityClient, KeysClient, RegistryClient, WrittenHash
from hangar.gateway.clients.blobstore import WRITE_MESSAGE_BYTES, _write_requests, write_request
from hangar.kit.errors import DomainError, InvalidArgument, NotFound, OutOfRange, Unauthenticated
from hangar.kit.grpcio import GrpcServer, channel

MiB = 1024 * 1024


class Blobstore(blobstore_pb2_grpc.BlobstoreServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.messages: list[tuple[str, int, int, str]] = []
        self.data = bytearray()
        self.refuse_after_first = False
        self.commits: list[Any] = []
        self.starts: list[tuple[str, int]] = []

    async def Write(self, request_iterator: AsyncIterable[Any], context: Any) -> Any:
        async for request in request_iterator:
            self.messages.append((request.upload_id, request.write_offset, len(request.data), request.owner))
            if request.write_offset != len(self.data):
                raise OutOfRange("wrong offset", code="RANGE_INVALID")
            self.data += request.data
            if self.refuse_after_first:
                raise OutOfRange("refused", code="RANGE_INVALID")
        return blobstore_pb2.WriteResponse(committed_size=len(self.data))

    async def Read(self, request: Any, context: Any) -> AsyncIterator[Any]:
        if request.digest != "sha256:known":
            raise NotFound("no such blob", code="BLOB_UNKNOWN")
        end = len(self.data) if not request.read_limit else request.read_offset + request.read_limit
        for start in range(request.read_offset, end, MiB):
            yield blobstore_pb2.ReadResponse(data=bytes(self.data[start : min(start + MiB, end)]))

    async def CommitUpload(self, request: Any, context: Any) -> Any:
        self.commits.append(request)
        raise InvalidArgument("digest mismatch", code="DIGEST_INVALID")

    async def StartUpload(self, request: Any, context: Any) -> Any:
        self.starts.append((request.owner, request.count))
        ids = [f"up{index}" for index in range(1, (request.count or 1) + 1)]
        return blobstore_pb2.StartUploadResponse(
            upload_id=ids[0],
            path=f"uploads/{ids[0]}",
            more=[blobstore_pb2.OpenedUpload(upload_id=i, path=f"uploads/{i}") for i in ids[1:]],
        )

    async def QueryWriteStatus(self, request: Any, context: Any) -> Any:
        return blobstore_pb2.QueryWriteStatusResponse(
            upload_id=request.upload_id, owner="demo/hello", committed_size=len(self.data)
        )


class Keys(keys_pb2_grpc.KeysServiceServicer):  # type: ignore[misc]
    async def Authenticate(self, request: Any, context: Any) -> Any:
        if request.secret != "hgr_good0000_secret":
            raise Unauthenticated("API key hgr_abcdefgh has been revoked", code="KEY_REVOKED")
        key = keys_pb2.ApiKey(
            key_id="k1",
            type=keys_pb2.KEY_TYPE_PERSONAL,
            org="demo",
            owner_user_id="u1",
            prefix="hgr_good0000",
            services=["registry", "admin"],
            expires_at=123,
        )
        return keys_pb2.AuthenticateResponse(key=key)


class Identity(identity_pb2_grpc.IdentityServiceServicer):  # type: ignore[misc]
    async def CheckAccess(self, request: Any, context: Any) -> Any:
        self.asked = (request.user_id, request.repository, list(request.capabilities))
        return identity_pb2.CheckAccessResponse(
            granted=[types_pb2.CAPABILITY_DOWNLOAD_ARTIFACTS], denial_reason="no push role"
        )


class Registry(registry_pb2_grpc.RegistryServiceServicer):  # type: ignore[misc]
    async def ListTags(self, request: Any, context: Any) -> Any:
        return registry_pb2.ListTagsResponse(repository=request.repository, tags=["a", "b"], more=True)

    async def GetManifest(self, request: Any, context: Any) -> Any:
        raise NotFound("manifest unknown", code="MANIFEST_UNKNOWN")


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, Any]]:
    servicers = {"blobstore": Blobstore(), "keys": Keys(), "identity": Identity(), "registry": Registry()}
    server = GrpcServer(
        "127.0.0.1:0",
        [
            (blobstore_pb2_grpc.add_BlobstoreServiceServicer_to_server, servicers["blobstore"]),
            (keys_pb2_grpc.add_KeysServiceServicer_to_server, servicers["keys"]),
            (identity_pb2_grpc.add_IdentityServiceServicer_to_server, servicers["identity"]),
            (registry_pb2_grpc.add_RegistryServiceServicer_to_server, servicers["registry"]),
        ],
        [],
    )
    await server.start()
    async with channel(f"127.0.0.1:{server.port}") as ch:
        yield {**servicers, "channel": ch, "server": server}
    await server.stop(0)


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, total, size):
        yield bytes([start % 251]) * min(size, total - start)


async def test_writes_are_sent_in_messages_of_at_least_a_mebibyte(servers: dict[str, Any]) -> None:
    client = BlobstoreClient(servers["channel"])
    total = 3 * MiB + 12345
    size = await client.write("up1", 0, chunks(total), owner="demo/hello")
    messages = servers["blobstore"].messages
    assert size == total
    assert all(length >= WRITE_MESSAGE_BYTES for _, _, length, _ in messages[:-1])
    assert [offset for _, offset, _, _ in messages] == [
        sum(length for _, _, length, _ in messages[:i]) for i in range(len(messages))
    ]
    assert {(upload, owner) for upload, _, _, owner in messages} == {("up1", "demo/hello")}


async def test_an_empty_write_sends_nothing(servers: dict[str, Any]) -> None:
    assert await BlobstoreClient(servers["channel"]).write("up1", 7, chunks(0)) == 7
    assert servers["blobstore"].messages == []


async def test_a_write_at_the_end_says_append_first_and_never_states_an_offset() -> None:
    messages = [
        blobstore_pb2.WriteRequest.FromString(raw)
        async for raw in _write_requests("up1", None, "demo/hello", chunks(3 * MiB), [])
    ]
    assert [(m.append, m.write_offset) for m in messages] == [(True, 0), (False, 0), (False, 0)]
    assert sum(len(m.data) for m in messages) == 3 * MiB
    expected = blobstore_pb2.WriteRequest(upload_id="up1", data=b"ab", owner="o", append=True)
    assert write_request("up1", 0, "o", [b"a", b"b"], 2, append=True) == expected.SerializeToString()


async def test_a_write_refused_mid_stream_is_a_domain_error(servers: dict[str, Any]) -> None:
    servers["blobstore"].refuse_after_first = True
    with pytest.raises(DomainError) as refused:
        await BlobstoreClient(servers["channel"]).write("up1", 0, chunks(8 * MiB))
    # gRPC loses the service's status when it ends the stream while a message is being sent
    assert (refused.value.code, refused.value.kind) in {
        ("RANGE_INVALID", "out_of_range"),
        ("WRITE_INTERRUPTED", "aborted"),
    }


async def test_reads_stream_the_requested_range(servers: dict[str, Any]) -> None:
    servers["blobstore"].data = bytearray(bytes(range(256)) * 10_000)
    client = BlobstoreClient(servers["channel"])
    whole = b"".join([c async for c in client.read("sha256:known")])
    part = b"".join([c async for c in client.read("sha256:known", 1000, 5000)])
    assert whole == bytes(servers["blobstore"].data)
    assert part == whole[1000:6000]


async def test_a_read_of_an_unknown_blob_is_blob_unknown(servers: dict[str, Any]) -> None:
    with pytest.raises(NotFound) as refused:
        [c async for c in BlobstoreClient(servers["channel"]).read("sha256:unknown")]
    assert refused.value.code == "BLOB_UNKNOWN"


async def test_a_refused_commit_keeps_its_code(servers: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await BlobstoreClient(servers["channel"]).commit_upload("up1", "sha256:x", owner="demo/hello")
    assert refused.value.code == "DIGEST_INVALID"


async def test_a_commit_carries_the_writers_hash_only_when_there_is_one(servers: dict[str, Any]) -> None:
    client = BlobstoreClient(servers["channel"])
    for written in (None, WrittenHash(5, "ab" * 32)):
        with pytest.raises(InvalidArgument):
            await client.commit_upload("up1", "sha256:x", owner="demo/hello", written=written)
    without, with_hash = servers["blobstore"].commits
    assert not without.HasField("written_hash")
    assert (with_hash.written_hash.size, with_hash.written_hash.sha256) == (5, "ab" * 32)


async def test_uploads_opened_at_once_come_back_in_order_each_with_its_file(servers: dict[str, Any]) -> None:
    client = BlobstoreClient(servers["channel"])

    opened = await client.open_uploads("demo/hello", 3)
    one = await client.open_upload("demo/hello")

    assert [(s.upload_id, s.owner, s.committed_size, s.path) for s in opened] == [
        (f"up{i}", "demo/hello", 0, f"uploads/up{i}") for i in (1, 2, 3)
    ]
    assert (one.upload_id, one.path) == ("up1", "uploads/up1")
    assert servers["blobstore"].starts == [("demo/hello", 3), ("demo/hello", 1)]


async def test_upload_status_names_its_owner(servers: dict[str, Any]) -> None:
    status = await BlobstoreClient(servers["channel"]).query_write_status("up1")
    assert (status.upload_id, status.owner, status.committed_size) == ("up1", "demo/hello", 0)


async def test_authenticate_returns_the_key_and_its_principal(servers: dict[str, Any]) -> None:
    key = await KeysClient(servers["channel"]).authenticate("hgr_good0000_secret")
    assert (key.key_id, key.org, key.user_id, key.expires_at, key.key_type) == (
        "k1",
        "demo",
        "u1",
        123,
        "PERSONAL",
    )
    assert key.services == {"registry", "admin"}


async def test_a_refused_key_is_unauthenticated_with_the_keys_reason(servers: dict[str, Any]) -> None:
    with pytest.raises(Unauthenticated) as refused:
        await KeysClient(servers["channel"]).authenticate("hgr_bad00000_secret")
    assert refused.value.code == "KEY_REVOKED" and "revoked" in refused.value.message


async def test_check_access_speaks_capability_names(servers: dict[str, Any]) -> None:
    result = await IdentityClient(servers["channel"]).check_access(
        "u1", "demo/hello", ["DOWNLOAD_ARTIFACTS", "PUSH_ARTIFACTS"]
    )
    assert result.granted == {"DOWNLOAD_ARTIFACTS"} and result.denial_reason == "no push role"
    assert servers["identity"].asked == (
        "u1",
        "demo/hello",
        [types_pb2.CAPABILITY_DOWNLOAD_ARTIFACTS, types_pb2.CAPABILITY_PUSH_ARTIFACTS],
    )


async def test_an_unknown_capability_is_refused_before_any_call(servers: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        await IdentityClient(servers["channel"]).check_access("u1", "demo/hello", ["FLY"])


async def test_registry_answers_become_values_and_errors(servers: dict[str, Any]) -> None:
    client = RegistryClient(servers["channel"])
    page = await client.list_tags("demo/hello", page_size=2)
    assert (page.repository, page.tags, page.more) == ("demo/hello", ("a", "b"), True)
    with pytest.raises(NotFound) as refused:
        await client.get_manifest("demo/hello", "nope")
    assert refused.value.code == "MANIFEST_UNKNOWN"


async def test_serving_follows_the_health_service(servers: dict[str, Any]) -> None:
    client = RegistryClient(servers["channel"])
    assert await client.serving() is True
    await servers["server"].stop(0)
    assert await client.serving() is False


async def test_an_unreachable_service_is_unavailable_not_a_crash() -> None:
    async with channel("127.0.0.1:1") as ch:
        client = KeysClient(ch, timeout=2)
        with pytest.raises(DomainError) as failed:
            await client.authenticate("hgr_good0000_secret")
        assert failed.value.code == "UNAVAILABLE"
        assert await client.serving() is False


async def test_a_body_that_breaks_off_keeps_what_arrived_and_raises(servers: dict[str, Any]) -> None:
    class HungUp(Exception):
        pass

    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * (2 * MiB)
        raise HungUp

    with pytest.raises(HungUp):
        await BlobstoreClient(servers["channel"]).write("up1", 0, broken())
    assert len(servers["blobstore"].data) == 2 * MiB
