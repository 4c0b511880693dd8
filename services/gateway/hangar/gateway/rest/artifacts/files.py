"""File handlers: an upload goes to a blobstore upload session recorded on the version's file (BeginFile),
so any replica takes the next piece; downloads stream the blob, whole or a range (decision 0023)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from hangar.gateway.auth import LIST, PULL, PUSH
from hangar.gateway.clients.artifacts import (
    FILE_COMPLETE,
    FILE_UPLOADING,
    UPLOAD_PENDING,
    VersionFileInfo,
    VersionInfo,
)
from hangar.gateway.rest.artifact_access import ArtifactCaller
from hangar.gateway.rest.artifact_schemas import file_out
from hangar.gateway.rest.artifacts.base import HandlerBase
from hangar.gateway.rest.artifacts.paths import MAX_PATH_CHARS
from hangar.gateway.rest.artifacts.ranges import _byte_range, expected_digest, parse_piece
from hangar.gateway.rest.errors import ApiError
from hangar.kit.errors import DomainError, FailedPrecondition, InvalidArgument, NotFound

log = logging.getLogger(__name__)


class Files(HandlerBase):
    """The file handlers: uploads whole or in pieces, downloads, removal."""

    async def _forget_file(self, name: str, version: str, path: str, upload_id: str) -> None:
        """Undo a file whose upload failed its digest: nothing of it stays recorded."""
        await self._cancel(name, upload_id)
        try:
            await self.artifacts.remove_file(name, version, path)
        except DomainError as error:
            log.info("file %s of %s:%s was already gone: %s", path, name, version, error.code)

    async def _file(self, name: str, version: str, path: str) -> tuple[VersionInfo, VersionFileInfo]:
        found = await self._version(name, version)
        file = found.file(path)
        if file is None:
            raise NotFound(f"{name}:{found.version} has no file {path}", code="FILE_UNKNOWN")
        return found, file

    async def put_file(
        self,
        request: Request,
        caller: ArtifactCaller,
        name: str,
        org: str,
        kind: str,
        version: str,
        path: str,
    ) -> Response:
        check_path(path)
        await self.gate.require(caller, org, name, kind, PUSH)
        await self._repository(name, kind)
        piece = parse_piece(request.headers.get("content-range"))
        digest = expected_digest(request)
        length_header = request.headers.get("content-length")
        length = int(length_header) if length_header and length_header.isdigit() else None
        if piece is not None and length is not None and length != piece.length:
            raise InvalidArgument(
                f"Content-Length {length} is not the {piece.length} bytes Content-Range names",
                code="RANGE_INVALID",
            )
        whole = piece is None
        total = length if piece is None else piece.total
        final = whole or (total is not None and piece is not None and piece.end + 1 == total)
        if final and not whole and digest is None:
            raise InvalidArgument(
                "the last piece of a file must give its sha256 "
                "(X-Checksum-Sha256: <hex>, or Digest: sha-256=<base64>)",
                code="DIGEST_REQUIRED",
            )
        current = await self._version(name, version)
        if current.status != UPLOAD_PENDING:
            raise FailedPrecondition(
                f"version {name}:{current.version} is committed and cannot change", code="VERSION_COMMITTED"
            )
        file = current.file(path)
        if file is not None and file.status == FILE_COMPLETE:
            raise FailedPrecondition(
                f"file {path} was already uploaded to {name}:{version}; delete it first", code="FILE_EXISTS"
            )
        if piece is not None and piece.start != 0 and (file is None or file.status != FILE_UPLOADING):
            raise _wrong_offset(path, 0, total)  # nothing has arrived: refused before a session is made
        upload_id, received = await self._session(
            name, version, path, file, restart=whole, declared=total or 0
        )
        start = received if piece is None or piece.start is None else piece.start
        if start != received or (piece is not None and piece.start is None and received != piece.total):
            raise _wrong_offset(path, received, total)
        hasher = hashlib.sha256() if whole else None
        limit = None if piece is None else piece.length
        size = await self.blobstore.write(upload_id, received, _body(request, limit, hasher), owner=name)
        if piece is not None and size != received + piece.length:
            raise InvalidArgument(
                f"the body ended after {size - received} of the {piece.length} bytes Content-Range names; "
                f"resume from {size}",
                code="RANGE_INCOMPLETE",
                detail=str(size),
            )
        if whole and length is not None and size != length:
            raise InvalidArgument(
                f"the body is {size} bytes, not Content-Length {length}", code="RANGE_INCOMPLETE"
            )
        if not final:
            body = file_out(VersionFileInfo(path, FILE_UPLOADING, size=total or 0), size).model_dump(
                mode="json"
            )
            return JSONResponse(body, status_code=202, headers=_upload_headers(size, FILE_UPLOADING, total))
        if hasher is not None:
            actual = "sha256:" + hasher.hexdigest()
            if digest is not None and digest != actual:
                await self._forget_file(name, version, path, upload_id)
                raise _mismatch(path, digest, actual)
            digest = actual
        assert digest is not None
        try:
            blob = await self.blobstore.commit_upload(upload_id, digest, owner=name)
        except DomainError as error:
            if error.kind != "invalid_argument":
                raise
            await self._forget_file(name, version, path, upload_id)
            raise _mismatch(path, digest, "") from None
        done = await self.artifacts.complete_file(name, version, path, upload_id, blob.digest, blob.size)
        headers = {"ETag": f'"{blob.digest}"', **_upload_headers(blob.size, done.status)}
        return JSONResponse(file_out(done).model_dump(mode="json"), status_code=201, headers=headers)

    async def _session(
        self,
        name: str,
        version: str,
        path: str,
        file: VersionFileInfo | None,
        *,
        restart: bool,
        declared: int,
    ) -> tuple[str, int]:
        """The upload session of the file and the bytes it holds: the one recorded (unless a whole-file PUT
        restarts it), else a new one recorded with BeginFile (or the one another replica recorded first)."""
        if file is not None and file.status == FILE_UPLOADING:
            try:
                status = await self.blobstore.query_write_status(file.upload_id, owner=name)
            except DomainError as error:
                if error.kind != "not_found":
                    raise
                status = None
            if status is not None and not (restart and status.committed_size):
                return file.upload_id, status.committed_size
            await self._forget_file(name, version, path, file.upload_id)
        upload_id = await self.blobstore.start_upload(name)
        begun = await self.artifacts.begin_file(name, version, path, upload_id, size=declared)
        if begun.started:
            return upload_id, 0
        await self._cancel(name, upload_id)
        status = await self.blobstore.query_write_status(begun.file.upload_id, owner=name)
        return begun.file.upload_id, status.committed_size

    async def head_file(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, version: str, path: str
    ) -> Response:
        check_path(path)
        await self.gate.require(caller, org, name, kind, LIST)
        await self._repository(name, kind)
        _, file = await self._file(name, version, path)
        if file.status == FILE_UPLOADING:
            received = (await self._received(name, [file])).get(path, 0)
            return Response(status_code=200, headers=_upload_headers(received, file.status, file.size))
        headers = {
            **_upload_headers(file.size, file.status),
            "Content-Length": str(file.size),
            "Accept-Ranges": "bytes",
            "ETag": f'"{file.digest}"',
            "X-Checksum-Sha256": file.digest.removeprefix("sha256:"),
        }
        return Response(status_code=200, headers=headers, media_type="application/octet-stream")

    async def get_file(
        self,
        request: Request,
        caller: ArtifactCaller,
        name: str,
        org: str,
        kind: str,
        version: str,
        path: str,
    ) -> Response:
        check_path(path)
        await self.gate.require(caller, org, name, kind, PULL)
        await self._repository(name, kind)
        _, file = await self._file(name, version, path)
        if file.status == FILE_UPLOADING:
            raise FailedPrecondition(f"file {path} is still being uploaded", code="FILE_INCOMPLETE")
        headers = {
            "Accept-Ranges": "bytes",
            "ETag": f'"{file.digest}"',
            "X-Checksum-Sha256": file.digest.removeprefix("sha256:"),
            "Content-Disposition": f'attachment; filename="{path.rsplit("/", 1)[-1]}"',
        }
        first, last = _byte_range(request.headers.get("range"), file.size)
        status = 200
        if (first, last) != (0, file.size - 1):
            status = 206
            headers["Content-Range"] = f"bytes {first}-{last}/{file.size}"
        count = last - first + 1
        headers["Content-Length"] = str(count)
        chunks = await _started(self.blobstore.read(file.digest, first, count) if count else _nothing())
        return StreamingResponse(
            chunks, status_code=status, headers=headers, media_type="application/octet-stream"
        )

    async def delete_file(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, version: str, path: str
    ) -> None:
        check_path(path)
        await self.gate.require(caller, org, name, kind, PUSH)
        await self._repository(name, kind)
        _, file = await self._file(name, version, path)
        await self.artifacts.remove_file(name, version, path)
        if file.status == FILE_UPLOADING:
            await self._cancel(name, file.upload_id)


def check_path(path: str) -> None:
    """A file path inside a version: relative POSIX, no empty, `.` or `..` parts, printable (400)."""
    parts = path.split("/")
    if (
        not path
        or len(path) > MAX_PATH_CHARS
        or path.startswith("/")
        or "\\" in path
        or not path.isprintable()
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise InvalidArgument(
            f"file path {path[:80]!r} must be a relative POSIX path without '.', '..' or empty parts",
            code="PATH_INVALID",
        )


def _upload_headers(received: int, status: str, declared: int | None = None) -> dict[str, str]:
    headers = {"Upload-Offset": str(received), "X-Upload-Status": status}
    if received:
        headers["Range"] = f"bytes=0-{received - 1}"
    if declared:
        headers["Upload-Length"] = str(declared)
    return headers


def _wrong_offset(path: str, received: int, total: int | None) -> ApiError:
    return ApiError(
        416,
        "RANGE_INVALID",
        f"{received} bytes of {path} have arrived: the next piece starts at {received}",
        headers=_upload_headers(received, FILE_UPLOADING, total),
        detail={"offset": received},
    )


def _mismatch(path: str, expected: str, actual: str) -> InvalidArgument:
    found = f" (its content is {actual})" if actual else ""
    return InvalidArgument(
        f"file {path} is not {expected}{found}: nothing was recorded; upload the file again",
        code="DIGEST_MISMATCH",
    )


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover - makes this an async generator


async def _started(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`chunks` with its first item already read, so a missing blob fails before the response starts."""
    first = await anext(chunks, None)

    async def chained() -> AsyncIterator[bytes]:
        if first is not None:
            yield first
        async for chunk in chunks:
            yield chunk

    return chained()


async def _body(request: Request, limit: int | None, hasher: Any) -> AsyncIterator[bytes]:
    """The request body as it arrives: refused past `limit` bytes (413), hashed when `hasher` is given."""
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if limit is not None and received > limit:
            raise ApiError(
                413, "RANGE_INVALID", f"the body is longer than the {limit} bytes Content-Range names"
            )
        if hasher is not None:
            hasher.update(chunk)
        yield chunk
