"""BlobstoreService over in-process gRPC: streamed writes and reads, errors as statuses and trailers."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from hangar.api.blobstore.v1 import blobstore_pb2, blobstore_pb2_grpc
from hangar.blobstore.app import App
from hangar.blobstore.backend import MiB
from hangar.blobstore.filesystem import FilesystemBackend
from hangar.blobstore.rpc import SERVICE_NAME, BlobstoreServicer
from hangar.kit.grpcio import ERROR_CODE_KEY, GrpcServer, channel

pytestmark = pytest.mark.asyncio

OWNER = "acme/platform/api"
pb = blobstore_pb2


@pytest.fixture
async def stub(
    tmp_path: Path, sqlite_url: str, open_units_of_work: Callable[[str], Any]
) -> AsyncIterator[blobstore_pb2_grpc.BlobstoreServiceStub]:
    async with open_units_of_work(sqlite_url) as uow:
        app = App(uow, FilesystemBackend(tmp_path / "blobs"))
        server = GrpcServer(
            "127.0.0.1:0",
            [(blobstore_pb2_grpc.add_BlobstoreServiceServicer_to_server, BlobstoreServicer(app))],
            [SERVICE_NAME],
        )
        await server.start()
        try:
            async with channel(f"127.0.0.1:{server.port}") as chan:
                yield blobstore_pb2_grpc.BlobstoreServiceStub(chan)
        finally:
            await server.stop(grace=1)


def sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def pieces(data: bytes, size: int = MiB) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def write_requests(upload_id: str, offset: int, data: bytes, size: int = MiB) -> Iterator[Any]:
    """The Write protocol: the first message names the upload and offset, later ones only carry data."""
    for index, piece in enumerate(pieces(data, size)):
        if index == 0:
            yield pb.WriteRequest(upload_id=upload_id, write_offset=offset, data=piece)
        else:
            yield pb.WriteRequest(data=piece)


async def start(stub: Any) -> str:
    return str((await stub.StartUpload(pb.StartUploadRequest(owner=OWNER))).upload_id)


async def read(stub: Any, digest: str, offset: int = 0, limit: int = 0) -> list[bytes]:
    call = stub.Read(pb.ReadRequest(digest=digest, read_offset=offset, read_limit=limit))
    return [response.data async for response in call]


def error_code(error: grpc.aio.AioRpcError) -> str | None:
    return dict(error.trailing_metadata() or ()).get(ERROR_CODE_KEY)


async def test_a_20_mib_blob_streams_in_and_reads_back_identical(stub: Any) -> None:
    data = os.urandom(20 * MiB)
    upload_id = await start(stub)

    written = await stub.Write(write_requests(upload_id, 0, data))
    committed = await stub.CommitUpload(pb.CommitUploadRequest(upload_id=upload_id, digest=sha256(data)))
    chunks = await read(stub, sha256(data))

    assert written.committed_size == len(data)
    assert (committed.digest, committed.size) == (sha256(data), len(data))
    assert hashlib.sha256(b"".join(chunks)).hexdigest() == hashlib.sha256(data).hexdigest()
    assert max(len(chunk) for chunk in chunks) <= MiB
    stat = await stub.StatBlob(pb.StatBlobRequest(digest=sha256(data)))
    assert (stat.digest, stat.size) == (sha256(data), len(data))


async def test_a_ranged_read_returns_exactly_that_range(stub: Any) -> None:
    data = os.urandom(3 * MiB + 123)
    upload_id = await start(stub)
    await stub.Write(write_requests(upload_id, 0, data))
    await stub.CommitUpload(pb.CommitUploadRequest(upload_id=upload_id, digest=sha256(data)))

    ranged = await read(stub, sha256(data), offset=MiB - 5, limit=2 * MiB)
    tail = await read(stub, sha256(data), offset=len(data) - 10)

    assert b"".join(ranged) == data[MiB - 5 : 3 * MiB - 5]
    assert b"".join(tail) == data[-10:]


async def test_an_upload_resumes_in_a_new_write_stream_from_the_reported_size(stub: Any) -> None:
    data = os.urandom(2 * MiB + 7)
    upload_id = await start(stub)

    await stub.Write(write_requests(upload_id, 0, data[:MiB]))
    status = await stub.QueryWriteStatus(pb.QueryWriteStatusRequest(upload_id=upload_id))
    resumed = await stub.Write(write_requests(upload_id, status.committed_size, data[MiB:], size=100_000))

    assert (status.upload_id, status.owner, status.committed_size) == (upload_id, OWNER, MiB)
    assert resumed.committed_size == len(data)


async def test_later_messages_may_repeat_the_upload_id_and_state_their_offset(stub: Any) -> None:
    upload_id = await start(stub)
    requests = [
        pb.WriteRequest(upload_id=upload_id, write_offset=0, data=b"abc"),
        pb.WriteRequest(upload_id=upload_id, write_offset=3, data=b"def"),
        pb.WriteRequest(write_offset=0, data=b"ghi"),  # 0: "where the last message ended"
        pb.WriteRequest(),
    ]

    assert (await stub.Write(iter(requests))).committed_size == 9


async def test_a_write_at_the_wrong_offset_is_out_of_range_and_changes_nothing(stub: Any) -> None:
    upload_id = await start(stub)
    await stub.Write(write_requests(upload_id, 0, b"0123456789"))

    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Write(write_requests(upload_id, 4, b"xyz"))

    assert error.value.code() is grpc.StatusCode.OUT_OF_RANGE
    assert error_code(error.value) == "RANGE_INVALID"
    status = await stub.QueryWriteStatus(pb.QueryWriteStatusRequest(upload_id=upload_id))
    assert status.committed_size == 10


async def test_a_message_that_skips_ahead_mid_stream_is_refused_after_keeping_what_came_before(
    stub: Any,
) -> None:
    upload_id = await start(stub)
    requests = [
        pb.WriteRequest(upload_id=upload_id, write_offset=0, data=b"abc"),
        pb.WriteRequest(write_offset=10, data=b"def"),
    ]

    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Write(iter(requests))

    assert error.value.code() is grpc.StatusCode.OUT_OF_RANGE
    assert error_code(error.value) == "RANGE_INVALID"
    status = await stub.QueryWriteStatus(pb.QueryWriteStatusRequest(upload_id=upload_id))
    assert status.committed_size == 3


@pytest.mark.parametrize(
    "requests",
    [
        [],
        [pb.WriteRequest(write_offset=0, data=b"abc")],
    ],
    ids=["empty stream", "no upload id"],
)
async def test_a_write_stream_must_first_name_its_upload(stub: Any, requests: list[Any]) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Write(iter(requests))

    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error_code(error.value) == "BLOB_UPLOAD_INVALID"


async def test_a_write_stream_cannot_switch_uploads(stub: Any) -> None:
    first, second = await start(stub), await start(stub)
    requests = [
        pb.WriteRequest(upload_id=first, data=b"abc"),
        pb.WriteRequest(upload_id=second, data=b"def"),
    ]

    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Write(iter(requests))

    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error_code(error.value) == "BLOB_UPLOAD_INVALID"


async def test_a_wrong_digest_is_invalid_and_nothing_is_stored(stub: Any) -> None:
    upload_id = await start(stub)
    await stub.Write(write_requests(upload_id, 0, b"layer bytes"))

    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.CommitUpload(pb.CommitUploadRequest(upload_id=upload_id, digest=sha256(b"other")))

    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error_code(error.value) == "DIGEST_INVALID"
    for digest in (sha256(b"other"), sha256(b"layer bytes")):
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.StatBlob(pb.StatBlobRequest(digest=digest))
        assert missing.value.code() is grpc.StatusCode.NOT_FOUND
        assert error_code(missing.value) == "BLOB_UNKNOWN"
    with pytest.raises(grpc.aio.AioRpcError) as closed:
        await stub.QueryWriteStatus(pb.QueryWriteStatusRequest(upload_id=upload_id))
    assert closed.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert error_code(closed.value) == "BLOB_UPLOAD_UNKNOWN"


async def test_reading_an_unknown_blob_or_beyond_its_end_fails_before_any_byte(stub: Any) -> None:
    upload_id = await start(stub)
    await stub.Write(write_requests(upload_id, 0, b"0123456789"))
    await stub.CommitUpload(pb.CommitUploadRequest(upload_id=upload_id, digest=sha256(b"0123456789")))

    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await read(stub, sha256(b"never stored"))
    with pytest.raises(grpc.aio.AioRpcError) as beyond:
        await read(stub, sha256(b"0123456789"), offset=5, limit=6)

    assert unknown.value.code() is grpc.StatusCode.NOT_FOUND
    assert error_code(unknown.value) == "BLOB_UNKNOWN"
    assert beyond.value.code() is grpc.StatusCode.OUT_OF_RANGE
    assert error_code(beyond.value) == "RANGE_INVALID"


async def test_start_upload_opens_as_many_uploads_as_counted_each_with_its_file(stub: Any) -> None:
    started = await stub.StartUpload(pb.StartUploadRequest(owner=OWNER, count=3))

    opened = [(started.upload_id, started.path), *((more.upload_id, more.path) for more in started.more)]
    assert len({upload_id for upload_id, _ in opened}) == 3
    for upload_id, path in opened:
        status = await stub.QueryWriteStatus(pb.QueryWriteStatusRequest(upload_id=upload_id, owner=OWNER))
        assert (status.owner, status.committed_size, status.path) == (OWNER, 0, path)
    single = await stub.StartUpload(pb.StartUploadRequest(owner=OWNER))
    assert single.upload_id and not single.more


async def test_start_upload_refuses_more_than_16_at_once(stub: Any) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.StartUpload(pb.StartUploadRequest(owner=OWNER, count=17))

    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "1 to 16" in (error.value.details() or "")


async def test_a_cancelled_upload_is_gone(stub: Any) -> None:
    upload_id = await start(stub)
    await stub.Write(write_requests(upload_id, 0, b"abc"))

    await stub.CancelUpload(pb.CancelUploadRequest(upload_id=upload_id, owner=OWNER))

    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Write(write_requests(upload_id, 3, b"def"))
    assert error.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert error_code(error.value) == "BLOB_UPLOAD_UNKNOWN"


async def test_an_upload_is_not_found_by_a_caller_naming_another_owner(stub: Any) -> None:
    upload_id = await start(stub)

    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Write(iter([pb.WriteRequest(upload_id=upload_id, owner="acme/other", data=b"abc")]))

    assert error.value.code() is grpc.StatusCode.NOT_FOUND
    assert error_code(error.value) == "BLOB_UPLOAD_UNKNOWN"


async def test_streaming_a_large_upload_through_keeps_memory_flat(stub: Any) -> None:
    upload_id = await start(stub)
    piece = os.urandom(MiB)
    total = 64 * MiB

    def requests() -> Iterator[Any]:
        yield pb.WriteRequest(upload_id=upload_id, write_offset=0, data=piece)
        for _ in range(total // MiB - 1):
            yield pb.WriteRequest(data=piece)

    tracemalloc.start()
    try:
        written = await stub.Write(requests())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert written.committed_size == total
    assert peak < total // 3, f"peak {peak / MiB:.1f} MiB while streaming {total // MiB} MiB"


async def test_a_write_marked_append_lands_where_the_upload_ends(stub: Any) -> None:
    upload_id = await start(stub)
    await stub.Write(write_requests(upload_id, 0, b"abc"))
    requests = [
        pb.WriteRequest(upload_id=upload_id, append=True, data=b"def"),
        pb.WriteRequest(data=b"ghi"),
    ]

    assert (await stub.Write(iter(requests))).committed_size == 9
    committed = await stub.CommitUpload(
        pb.CommitUploadRequest(upload_id=upload_id, digest=sha256(b"abcdefghi"))
    )
    assert committed.size == 9


async def test_an_append_write_whose_later_message_states_an_offset_is_refused(stub: Any) -> None:
    upload_id = await start(stub)
    requests = [
        pb.WriteRequest(upload_id=upload_id, append=True, data=b"abc"),
        pb.WriteRequest(write_offset=3, data=b"def"),
    ]

    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Write(iter(requests))

    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error_code(error.value) == "BLOB_UPLOAD_INVALID"
