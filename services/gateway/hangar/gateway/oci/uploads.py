"""`/v2/<name>/blobs/uploads/[<id>]`: blob uploads — monolithic, chunked, resumable — and mounts.

The gateway holds no upload state: the blobstore keeps each session (owner, bytes received), so any replica
serves any chunk. A chunk goes to the blobstore's Write at once: at its Content-Range start, or at the
upload's end when it has none; the Write itself checks the session belongs to this repository and is open,
and refuses a wrong offset (416, after asking the blobstore where the upload ends). The closing PUT is one
CommitUpload (plus a Write if it carries bytes), which checks the same. Only requests without bytes ask the
blobstore for the session first.

With a blob directory shared with a filesystem blobstore (`shared_uploads`), chunks are written straight into
the upload's file instead; the blobstore still owns the session, its size and the digest check at commit.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from hangar.gateway.auth import PULL
from hangar.gateway.clients import BlobInfo, BlobstorePort, RegistryPort, UploadStatus
from hangar.gateway.oci.access import AccessControl, Caller
from hangar.gateway.oci.errors import OciError
from hangar.gateway.oci.routes import Target, check_digest, check_name
from hangar.gateway.oci.shared_files import SharedBlobFiles
from hangar.gateway.oci.shared_uploads import SharedUploadFiles, WrongOffset
from hangar.gateway.oci.spare_uploads import SpareUploads
from hangar.kit.errors import DomainError

log = logging.getLogger(__name__)

_CONTENT_RANGE: Final = re.compile(r"(?:bytes[ =])?(?P<start>[0-9]+)-(?P<end>[0-9]+)(?:/(?:[0-9]+|\*))?")
_UNKNOWN_UPLOAD_CODES: Final = frozenset({"BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID"})


def upload_location(name: str, upload_id: str) -> str:
    return f"/v2/{name}/blobs/uploads/{upload_id}"


def blob_location(name: str, digest: str) -> str:
    return f"/v2/{name}/blobs/{digest}"


def range_header(size: int) -> str:
    """`Range: 0-<last byte received>`; `0-0` before any byte arrives, as Docker's registry answers."""
    return f"0-{max(size - 1, 0)}"


def parse_content_range(header: str | None) -> tuple[int, int] | None:
    """The inclusive `(start, end)` of a chunk's `Content-Range: <start>-<end>`; None when absent."""
    if header is None or not header.strip():
        return None
    match = _CONTENT_RANGE.fullmatch(header.strip())
    if match is None:
        raise OciError("BLOB_UPLOAD_INVALID", "Content-Range must be <start>-<end> (inclusive byte offsets)")
    start, end = int(match["start"]), int(match["end"])
    if end < start:
        raise OciError(
            "BLOB_UPLOAD_INVALID",
            f"Content-Range {start}-{end} ends before it starts",
            detail={"reason": "RANGE_INVALID"},
            status=416,
        )
    return start, end


class Uploads:
    def __init__(
        self,
        registry: RegistryPort,
        blobstore: BlobstorePort,
        access: AccessControl,
        *,
        files: SharedUploadFiles | None = None,
        blob_files: SharedBlobFiles | None = None,
    ) -> None:
        self._registry = registry
        self._blobstore = blobstore
        self._access = access
        self._files = files
        self._blob_files = blob_files
        self.spares = SpareUploads(self._open_spares, self._discard)

    # -- POST /v2/<name>/blobs/uploads/ ----------------------------------------------------------------

    async def start(self, request: Request, target: Target, caller: Caller) -> Response:
        """A new session (202); `?digest=`: the whole blob in this request (201); `?mount=`: a mount."""
        name = target.name
        params = request.query_params
        mount = params.get("mount")
        if mount is not None:
            mounted = await self._mount(name, check_digest(mount), params.get("from"), caller)
            if mounted is not None:
                return self._created(name, mounted.digest)
        digest = params.get("digest")
        if digest is not None:
            check_digest(digest)
            upload_id = await self._start_upload(name)
            blob = await self._finish(
                request, Target(target.resource, name, upload_id), digest, offset=0, fresh=True
            )
            return self._created(name, blob.digest)
        upload_id = await self._start_upload(name)
        return self._accepted(name, upload_id, 0)

    async def _start_upload(self, name: str) -> str:
        started = await self.spares.take(name)
        if self._files is not None:
            self._files.remember(started.upload_id, name, started.path)
        return started.upload_id

    async def _mount(self, name: str, digest: str, source: str | None, caller: Caller) -> BlobInfo | None:
        """Link a blob of `source` into `name` if the caller may pull it there; None to upload instead."""
        if not source or source == name:
            return None
        try:
            check_name(source)
        except OciError:
            return None
        if not await self._access.allows(caller, source, PULL):
            return None  # as if the blob were not there: no hint about repositories the caller cannot read
        try:
            blob = await self._registry.stat_blob(source, digest)
        except DomainError as error:
            if error.kind == "not_found":
                return None
            raise
        await self._registry.link_blob(name, blob.digest, blob.size)
        return blob

    # -- GET, PATCH, PUT, DELETE /v2/<name>/blobs/uploads/<id> ----------------------------------------

    async def status(self, request: Request, target: Target, caller: Caller) -> Response:
        session = await self._session(target)
        return self._accepted(target.name, session.upload_id, session.committed_size, status=204)

    async def patch(self, request: Request, target: Target, caller: Caller) -> Response:
        """Append a chunk; 416 unless it starts where the upload ends."""
        start = self._chunk_start(request)
        size = await self._write(request, target, start)
        if size is None:  # no bytes: nothing asked the blobstore about the session yet
            size = (await self._checked_session(target, start)).committed_size
        return self._accepted(target.name, target.reference, size)

    async def put(self, request: Request, target: Target, caller: Caller) -> Response:
        """Close the session: append the final chunk (if any), verify the digest, link the blob (201)."""
        digest = request.query_params.get("digest")
        if not digest:
            raise OciError("DIGEST_INVALID", "the closing PUT must give the blob's digest: ?digest=<digest>")
        check_digest(digest)
        start = self._chunk_start(request)
        blob = await self._finish(request, target, digest, offset=start, fresh=False)
        return self._created(target.name, blob.digest)

    async def cancel(self, request: Request, target: Target, caller: Caller) -> Response:
        try:
            await self._blobstore.cancel_upload(target.reference, owner=target.name)
        except DomainError as error:
            raise self._unknown_if_missing(error, target.reference) from None
        return Response(status_code=204)

    # -- internals --------------------------------------------------------------------------------------

    async def _session(self, target: Target) -> UploadStatus:
        """The upload, if it exists, is open and belongs to this repository; else 404 BLOB_UPLOAD_UNKNOWN."""
        try:
            session = await self._blobstore.query_write_status(target.reference, owner=target.name)
        except DomainError as error:
            raise self._unknown_if_missing(error, target.reference) from None
        if session.owner and session.owner != target.name:
            raise self._unknown(target.reference)
        if self._files is not None:
            self._files.remember(target.reference, target.name, session.path)
        return session

    @staticmethod
    def _chunk_start(request: Request) -> int | None:
        """Where a chunk with a Content-Range starts (None without one); SIZE_INVALID unless it is as long
        as its Content-Length. That it starts where the upload ends is checked by the write."""
        chunk = parse_content_range(request.headers.get("content-range"))
        if chunk is None:
            return None
        start, end = chunk
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) != end - start + 1:
            raise OciError(
                "SIZE_INVALID",
                f"Content-Range {start}-{end} is {end - start + 1} bytes but Content-Length is {length}",
            )
        return start

    async def _checked_session(self, target: Target, start: int | None) -> UploadStatus:
        """The session (see `_session`), for a request without bytes; 416 unless its Content-Range (if
        any) starts where the upload ends."""
        session = await self._session(target)
        if start is not None and start != session.committed_size:
            raise self._out_of_order(
                target,
                session.committed_size,
                f"chunk starts at {start} but the upload holds {session.committed_size} bytes; "
                f"send the chunk starting at {session.committed_size}",
            )
        return session

    async def _write(self, request: Request, target: Target, offset: int | None) -> int | None:
        """Write the request's body at `offset` (None: at the upload's end); the upload's size after, or
        None when the body is empty (then nothing is sent, and nothing checked)."""
        body = request.stream()
        first = b""
        async for chunk in body:
            if chunk:
                first = chunk
                break
        if not first:
            return None
        if self._files is not None:
            written = await self._write_directly(target, offset, _prepend(first, body))
            if written is not None:
                return written
        try:
            return await self._blobstore.write(
                target.reference, offset, _prepend(first, body), owner=target.name
            )
        except DomainError as error:
            # a chunk at the wrong offset, or a write cut short: either way the client resumes from the
            # size the upload now has
            if error.kind == "out_of_range" or error.code in ("RANGE_INVALID", "WRITE_INTERRUPTED"):
                size = await self._current_size(target)
                raise self._out_of_order(target, size, error.message) from None
            raise self._unknown_if_missing(error, target.reference) from None

    async def _write_directly(
        self, target: Target, offset: int | None, chunks: AsyncIterator[bytes]
    ) -> int | None:
        """Write into the upload's file in the shared directory; None (nothing taken from `chunks`) when
        the chunk must go to the blobstore instead. 404 if the upload is not this repository's."""
        assert self._files is not None
        path = self._files.path(target.reference, target.name)
        if path is None:  # started on another replica, or before a restart: the blobstore says where
            path = (await self._session(target)).path
            if path is None:
                return None
        try:
            return await self._files.write(target.reference, path, offset, chunks)
        except WrongOffset as wrong:
            raise self._out_of_order(
                target,
                wrong.size,
                f"chunk starts at {offset} but the upload holds {wrong.size} bytes; "
                f"send the chunk starting at {wrong.size}",
            ) from None

    async def _finish(
        self, request: Request, target: Target, digest: str, *, offset: int | None, fresh: bool
    ) -> BlobInfo:
        """Write the rest of the body (at `offset`, None: at the upload's end), commit under `digest`, link
        the blob into the repository.

        A digest mismatch leaves nothing behind; a session made for this one request (`fresh`) is discarded
        on any failure, while a longer-lived one stays open for the client to resume.
        """
        try:
            if await self._write(request, target, offset) is None and offset is not None:
                await self._checked_session(target, offset)  # a Content-Range and no bytes
            try:
                written = self._files.written_hash(target.reference) if self._files is not None else None
                blob = await self._blobstore.commit_upload(
                    target.reference, digest, owner=target.name, written=written
                )
            except DomainError as error:
                raise self._unknown_if_missing(error, target.reference) from None
        except Exception as error:
            if fresh or (isinstance(error, DomainError) and error.code == "DIGEST_INVALID"):
                await self._discard(target.reference, target.name)
            raise
        if self._files is not None:
            self._files.forget(target.reference)  # committed: no chunk can follow
        if self._blob_files is not None and blob.path is not None:
            self._blob_files.remember(blob.digest, blob.path)  # a pull after this push needs no LocateBlob
        await self._registry.link_blob(target.name, blob.digest, blob.size)
        return blob

    async def _open_spares(self, owner: str, count: int) -> list[UploadStatus]:
        return await self._blobstore.open_uploads(owner, count)

    async def _discard(self, upload_id: str, owner: str) -> None:
        with contextlib.suppress(Exception):
            await self._blobstore.cancel_upload(upload_id, owner=owner)

    async def _current_size(self, target: Target) -> int:
        return (await self._session(target)).committed_size

    def _out_of_order(self, target: Target, size: int, message: str) -> OciError:
        """416 with the spec's BLOB_UPLOAD_INVALID, saying where the next chunk must start (`Range`)."""
        return OciError(
            "BLOB_UPLOAD_INVALID",
            message,
            detail={"reason": "RANGE_INVALID", "received": size},
            status=416,
            headers={
                "Location": upload_location(target.name, target.reference),
                "Range": range_header(size),
                "Docker-Upload-UUID": target.reference,
            },
        )

    @staticmethod
    def _unknown(upload_id: str) -> OciError:
        return OciError("BLOB_UPLOAD_UNKNOWN", f"upload {upload_id} is unknown to this repository")

    def _unknown_if_missing(self, error: DomainError, upload_id: str) -> DomainError | OciError:
        if error.code in _UNKNOWN_UPLOAD_CODES or error.kind == "not_found":
            return self._unknown(upload_id)
        return error

    @staticmethod
    def _accepted(name: str, upload_id: str, size: int, status: int = 202) -> Response:
        headers = {
            "Location": upload_location(name, upload_id),
            "Range": range_header(size),
            "Docker-Upload-UUID": upload_id,
        }
        if status != 204:
            headers["Content-Length"] = "0"
        return Response(status_code=status, headers=headers)

    @staticmethod
    def _created(name: str, digest: str) -> Response:
        return Response(
            status_code=201,
            headers={
                "Location": blob_location(name, digest),
                "Docker-Content-Digest": digest,
                "Content-Length": "0",
            },
        )


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk
