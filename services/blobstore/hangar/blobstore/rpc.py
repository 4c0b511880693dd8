"""The BlobstoreService gRPC servicer: protobuf in, App calls, protobuf out; byte streams pass through."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from typing import Any, Final

from hangar.api.blobstore.v1 import blobstore_pb2, blobstore_pb2_grpc
from hangar.blobstore.app import App, DirectUrl
from hangar.blobstore.backend import MiB
from hangar.blobstore.domain import NoDirectUrl, WrittenHash, check_offset
from hangar.kit.errors import InvalidArgument

SERVICE_NAME: Final = blobstore_pb2.DESCRIPTOR.services_by_name["BlobstoreService"].full_name
_NO_DIRECT_URL: Final = {
    NoDirectUrl.DISABLED: blobstore_pb2.PresignBlobResponse.UNAVAILABLE_DISABLED,
    NoDirectUrl.BACKEND: blobstore_pb2.PresignBlobResponse.UNAVAILABLE_BACKEND,
}
READ_CHUNK: Final = 1 * MiB
"""Bytes per ReadResponse: large enough that per-message overhead is small, far below the message limit."""


class BlobstoreServicer(blobstore_pb2_grpc.BlobstoreServiceServicer):  # type: ignore[misc]
    def __init__(self, app: App) -> None:
        self._app = app

    async def StartUpload(
        self, request: blobstore_pb2.StartUploadRequest, context: Any
    ) -> blobstore_pb2.StartUploadResponse:
        first, *more = await self._app.start_uploads(request.owner, request.count or 1)
        return blobstore_pb2.StartUploadResponse(
            upload_id=first,
            path=self._app.upload_file(first) or "",
            more=[
                blobstore_pb2.OpenedUpload(upload_id=upload_id, path=self._app.upload_file(upload_id) or "")
                for upload_id in more
            ],
        )

    async def Write(
        self, request_iterator: AsyncIterable[blobstore_pb2.WriteRequest], context: Any
    ) -> blobstore_pb2.WriteResponse:
        requests = aiter(request_iterator)
        first = await anext(requests, None)
        if first is None or not first.upload_id:
            raise InvalidArgument(
                "the first message of a Write names the upload (upload_id)", code="BLOB_UPLOAD_INVALID"
            )
        size = await self._app.write(
            first.upload_id,
            None if first.append else first.write_offset,
            _data(first, requests),
            owner=first.owner or None,
        )
        return blobstore_pb2.WriteResponse(committed_size=size)

    async def QueryWriteStatus(
        self, request: blobstore_pb2.QueryWriteStatusRequest, context: Any
    ) -> blobstore_pb2.QueryWriteStatusResponse:
        owner, size = await self._app.query(request.upload_id, owner=request.owner or None)
        return blobstore_pb2.QueryWriteStatusResponse(
            upload_id=request.upload_id,
            owner=owner,
            committed_size=size,
            path=self._app.upload_file(request.upload_id) or "",
        )

    async def CommitUpload(
        self, request: blobstore_pb2.CommitUploadRequest, context: Any
    ) -> blobstore_pb2.CommitUploadResponse:
        written = None
        if request.HasField("written_hash"):
            written = WrittenHash.parse(request.written_hash.size, request.written_hash.sha256)
        digest, size = await self._app.commit(
            request.upload_id, request.digest, owner=request.owner or None, written=written
        )
        return blobstore_pb2.CommitUploadResponse(
            digest=digest, size=size, path=self._app.blob_file(digest) or ""
        )

    async def CancelUpload(
        self, request: blobstore_pb2.CancelUploadRequest, context: Any
    ) -> blobstore_pb2.CancelUploadResponse:
        await self._app.cancel(request.upload_id, owner=request.owner or None)
        return blobstore_pb2.CancelUploadResponse()

    async def Read(
        self, request: blobstore_pb2.ReadRequest, context: Any
    ) -> AsyncIterator[blobstore_pb2.ReadResponse]:
        chunks = await self._app.read(
            request.digest, request.read_offset, request.read_limit or None, chunk_size=READ_CHUNK
        )
        try:
            async for chunk in chunks:
                yield blobstore_pb2.ReadResponse(data=chunk)
        finally:
            if isinstance(chunks, AsyncGenerator):  # a client that hangs up early must not leak the file
                await chunks.aclose()

    async def StatBlob(
        self, request: blobstore_pb2.StatBlobRequest, context: Any
    ) -> blobstore_pb2.StatBlobResponse:
        size = await self._app.stat(request.digest)
        return blobstore_pb2.StatBlobResponse(digest=request.digest, size=size)

    async def PresignBlob(
        self, request: blobstore_pb2.PresignBlobRequest, context: Any
    ) -> blobstore_pb2.PresignBlobResponse:
        answer = await self._app.presign(request.digest)
        if isinstance(answer, DirectUrl):
            return blobstore_pb2.PresignBlobResponse(
                digest=request.digest, url=answer.url, expires_in_seconds=answer.expires_in
            )
        return blobstore_pb2.PresignBlobResponse(digest=request.digest, unavailable=_NO_DIRECT_URL[answer])

    async def LocateBlob(
        self, request: blobstore_pb2.LocateBlobRequest, context: Any
    ) -> blobstore_pb2.LocateBlobResponse:
        location = await self._app.locate(request.digest)
        return blobstore_pb2.LocateBlobResponse(
            digest=request.digest, path=location.path or "", size=location.size
        )


async def _data(
    first: blobstore_pb2.WriteRequest, rest: AsyncIterator[blobstore_pb2.WriteRequest]
) -> AsyncIterator[bytes]:
    """The bytes of a Write stream, one message at a time, checking each message continues the last.

    Each message's `data` is read once: protobuf copies a bytes field on every access.
    """
    data = first.data
    position = first.write_offset + len(data)
    if data:
        yield data
    async for request in rest:
        if request.upload_id and request.upload_id != first.upload_id:
            raise InvalidArgument(
                f"a Write stream writes to one upload: {first.upload_id}, not {request.upload_id}",
                code="BLOB_UPLOAD_INVALID",
            )
        if request.write_offset and first.append:
            raise InvalidArgument(
                "a Write at the upload's end (append) leaves write_offset 0 after its first message",
                code="BLOB_UPLOAD_INVALID",
            )
        if request.write_offset:  # 0 means "where the previous message ended"
            check_offset(request.write_offset, position)
        data = request.data
        if data:
            position += len(data)
            yield data
