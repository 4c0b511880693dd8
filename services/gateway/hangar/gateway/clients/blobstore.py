"""Typed client of BlobstoreService: resumable uploads streamed in large messages, and range reads."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterator, Sequence
from typing import Final, TypeVar

import grpc

from hangar.api.blobstore.v1 import blobstore_pb2, blobstore_pb2_grpc
from hangar.gateway.clients import rpc
from hangar.gateway.clients.model import BlobInfo, BlobLocation, BlobUrl, UploadStatus, WrittenHash
from hangar.kit.errors import ConcurrencyConflict
from hangar.kit.grpcio import ERROR_CODE_KEY, error_from_rpc

MiB: Final = 1024 * 1024
#: Bytes gathered before a Write message is sent: few messages per blob, far below the 64 MiB limit.
WRITE_MESSAGE_BYTES: Final = 1 * MiB
#: The largest Write message; a body chunk bigger than this (possible in-process) is split.
WRITE_MESSAGE_MAX_BYTES: Final = 4 * MiB

T = TypeVar("T")


class BlobstoreClient:
    """BlobstoreService over one channel. Bytes stream through; no blob is ever held whole in memory."""

    def __init__(self, channel: grpc.aio.Channel, timeout: float = rpc.UNARY_TIMEOUT) -> None:
        self._channel = channel
        self._stub = blobstore_pb2_grpc.BlobstoreServiceStub(channel)
        self._timeout = timeout
        # Read's replies are taken apart by hand: each is a chunk of a blob (1 MiB), which protobuf would
        # copy twice more (parsing, then reading the field) on the way to the HTTP response.
        self._read = channel.unary_stream(
            READ_METHOD,
            request_serializer=blobstore_pb2.ReadRequest.SerializeToString,
            response_deserializer=read_response_data,
        )
        # Write's requests are serialized by hand for the same reason: the body's chunks are joined once,
        # straight into the message, instead of joined, copied into a WriteRequest and serialized again.
        self._write = channel.stream_unary(
            WRITE_METHOD,
            request_serializer=None,
            response_deserializer=blobstore_pb2.WriteResponse.FromString,
        )

    async def start_upload(self, owner: str) -> str:
        return (await self.open_upload(owner)).upload_id

    async def open_upload(self, owner: str) -> UploadStatus:
        return (await self.open_uploads(owner, 1))[0]

    async def open_uploads(self, owner: str, count: int) -> list[UploadStatus]:
        with rpc.domain_errors():
            reply = await self._stub.StartUpload(
                blobstore_pb2.StartUploadRequest(owner=owner, count=count), timeout=self._timeout
            )
        return [
            UploadStatus(
                upload_id=str(opened.upload_id), owner=owner, committed_size=0, path=opened.path or None
            )
            for opened in (reply, *reply.more)
        ]

    async def write(
        self, upload_id: str, offset: int | None, chunks: AsyncIterable[bytes], *, owner: str = ""
    ) -> int:
        """Append `chunks` to the upload at `offset` (None: wherever it ends, with no status round trip);
        return the upload's size after the write.

        Bytes are gathered into messages of at least 1 MiB (the last may be smaller). Nothing is written when
        `chunks` is empty: `offset` is returned (None: the upload's size, asked for). If `chunks` breaks off
        (the HTTP client went away), the bytes that arrived are kept, as ByteStream does, and the error is
        raised once the write has ended.
        """
        broken: list[Exception] = []
        messages = _write_requests(upload_id, offset, owner, chunks, broken)
        first = await anext(messages, None)
        if first is None:
            if broken:
                raise broken[0]
            if offset is None:
                return (await self.query_write_status(upload_id, owner=owner)).committed_size
            return offset
        # The request-iterator form, not call.write(): client interceptors that await the whole call
        # (OpenTelemetry's) would deadlock the write() form.
        call = self._write(_prepend(first, messages))
        try:
            reply = await call
        except grpc.aio.AioRpcError as exc:
            if _interrupted(exc):
                raise ConcurrencyConflict(
                    "the blobstore ended the write before every byte was sent; "
                    "ask for the upload's status and resume from there",
                    code="WRITE_INTERRUPTED",
                ) from exc
            raise error_from_rpc(exc) from exc
        except BaseException:
            call.cancel()
            raise
        if broken:
            raise broken[0]
        return int(reply.committed_size)

    async def query_write_status(self, upload_id: str, *, owner: str = "") -> UploadStatus:
        request = blobstore_pb2.QueryWriteStatusRequest(upload_id=upload_id, owner=owner)
        with rpc.domain_errors():
            reply = await self._stub.QueryWriteStatus(request, timeout=self._timeout)
        return UploadStatus(
            upload_id=reply.upload_id or upload_id,
            owner=reply.owner,
            committed_size=int(reply.committed_size),
            path=reply.path or None,
        )

    async def commit_upload(
        self, upload_id: str, digest: str, *, owner: str = "", written: WrittenHash | None = None
    ) -> BlobInfo:
        request = blobstore_pb2.CommitUploadRequest(upload_id=upload_id, digest=digest, owner=owner)
        if written is not None:
            request.written_hash.size = written.size
            request.written_hash.sha256 = written.sha256
        with rpc.domain_errors():
            reply = await self._stub.CommitUpload(request, timeout=self._timeout)
        return BlobInfo(digest=reply.digest or digest, size=int(reply.size), path=reply.path or None)

    async def cancel_upload(self, upload_id: str, *, owner: str = "") -> None:
        request = blobstore_pb2.CancelUploadRequest(upload_id=upload_id, owner=owner)
        with rpc.domain_errors():
            await self._stub.CancelUpload(request, timeout=self._timeout)

    async def read(self, digest: str, offset: int = 0, limit: int = 0) -> AsyncIterator[bytes]:
        """The blob's bytes from `offset`, `limit` of them (0: to the end), as the service streams them."""
        call = self._read(blobstore_pb2.ReadRequest(digest=digest, read_offset=offset, read_limit=limit))
        try:
            async for data in call:
                yield data
        except grpc.aio.AioRpcError as exc:
            raise error_from_rpc(exc) from exc
        finally:
            call.cancel()  # a reader that stops early must not leave the stream open

    async def stat_blob(self, digest: str) -> BlobInfo:
        with rpc.domain_errors():
            reply = await self._stub.StatBlob(
                blobstore_pb2.StatBlobRequest(digest=digest), timeout=self._timeout
            )
        return BlobInfo(digest=reply.digest or digest, size=int(reply.size))

    async def presign_blob(self, digest: str) -> BlobUrl | None:
        with rpc.domain_errors():
            reply = await self._stub.PresignBlob(
                blobstore_pb2.PresignBlobRequest(digest=digest), timeout=self._timeout
            )
        if not reply.url:
            return None
        return BlobUrl(digest=reply.digest or digest, url=reply.url, expires_in=int(reply.expires_in_seconds))

    async def locate_blob(self, digest: str) -> BlobLocation:
        with rpc.domain_errors():
            reply = await self._stub.LocateBlob(
                blobstore_pb2.LocateBlobRequest(digest=digest), timeout=self._timeout
            )
        return BlobLocation(digest=reply.digest or digest, path=reply.path or None, size=int(reply.size))

    async def serving(self) -> bool:
        return await rpc.serving(self._channel)


READ_METHOD: Final = "/hangar.api.blobstore.v1.BlobstoreService/Read"
WRITE_METHOD: Final = "/hangar.api.blobstore.v1.BlobstoreService/Write"
_READ_DATA_FIELD: Final = 1  # ReadResponse.data


def read_response_data(raw: bytes) -> memoryview:
    """The `data` field of a serialized ReadResponse, as a view of `raw` (no copy).

    Protobuf's wire format: a sequence of (varint key = field << 3 | wire type, value). Other fields are
    skipped, and the last `data` wins, as protobuf itself decides.
    """
    view = memoryview(raw)
    data = view[0:0]
    position = 0
    while position < len(view):
        key, position = _varint(view, position)
        field, wire_type = key >> 3, key & 7
        if wire_type == 2:  # length-delimited
            length, position = _varint(view, position)
            if position + length > len(view):
                raise ValueError("truncated ReadResponse")
            if field == _READ_DATA_FIELD:
                data = view[position : position + length]
            position += length
        elif wire_type == 0:
            _, position = _varint(view, position)
        elif wire_type == 1:
            position += 8
        elif wire_type == 5:
            position += 4
        else:
            raise ValueError(f"unexpected wire type {wire_type} in a ReadResponse")
    return data


def _varint(view: memoryview, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if position >= len(view) or shift > 63:
            raise ValueError("malformed varint in a ReadResponse")
        byte = view[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7


def _interrupted(error: grpc.aio.AioRpcError) -> bool:
    """The server ended the stream while a message was being sent: gRPC reports a local INTERNAL error
    ("Internal error from Core"), and the service's own status and trailers are lost."""
    trailers = error.trailing_metadata() or ()
    return error.code() == grpc.StatusCode.INTERNAL and not any(key == ERROR_CODE_KEY for key, _ in trailers)


def write_request(
    upload_id: str,
    offset: int,
    owner: str,
    pieces: Sequence[bytes | memoryview],
    size: int,
    *,
    append: bool = False,
) -> bytes:
    """A serialized WriteRequest whose data is `pieces` joined (`size` bytes): one copy of the bytes.

    Fields in number order, defaults left out, as protobuf writes them: 1 upload_id, 2 write_offset,
    3 data, 4 owner, 5 append.
    """
    head = bytearray()
    if upload_id:
        encoded = upload_id.encode()
        head += b"\x0a" + _encode_varint(len(encoded)) + encoded
    if offset:
        head += b"\x10" + _encode_varint(offset)
    if size:
        head += b"\x1a" + _encode_varint(size)
    tail = b""
    if owner:
        encoded = owner.encode()
        tail = b"\x22" + _encode_varint(len(encoded)) + encoded
    if append:
        tail += b"\x28\x01"
    return b"".join([head, *pieces, tail])


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


async def _write_requests(
    upload_id: str, offset: int | None, owner: str, chunks: AsyncIterable[bytes], broken: list[Exception]
) -> AsyncIterator[bytes]:
    """Serialized WriteRequests of at least WRITE_MESSAGE_BYTES (at most WRITE_MESSAGE_MAX_BYTES of data)
    from `chunks`; `offset` None: the first says `append` and none gives an offset.

    A failure of `chunks` ends the messages after what arrived, and is appended to `broken`.
    """
    position = offset
    first = True
    pending: list[bytes] = []
    pending_size = 0

    def serialize(pieces: Sequence[bytes | memoryview], size: int) -> bytes:
        nonlocal position, first
        append, first = position is None and first, False
        request = write_request(upload_id, position or 0, owner, pieces, size, append=append)
        if position is not None:
            position += size
        return request

    def flush() -> Iterator[bytes]:
        nonlocal pending, pending_size
        pieces, size = pending, pending_size
        pending, pending_size = [], 0
        if size <= WRITE_MESSAGE_MAX_BYTES:
            if size:
                yield serialize(pieces, size)
            return
        data = memoryview(b"".join(pieces))  # a chunk larger than a message (in-process): split it
        for start in range(0, size, WRITE_MESSAGE_MAX_BYTES):
            piece = data[start : start + WRITE_MESSAGE_MAX_BYTES]
            yield serialize([piece], len(piece))

    try:
        async for chunk in chunks:
            if not chunk:
                continue
            pending.append(bytes(chunk))
            pending_size += len(chunk)
            if pending_size >= WRITE_MESSAGE_BYTES:
                for message in flush():
                    yield message
    except Exception as exc:
        broken.append(exc)
    for message in flush():
        yield message


async def _prepend(first: T, rest: AsyncIterator[T]) -> AsyncIterator[T]:
    yield first
    async for item in rest:
        yield item
