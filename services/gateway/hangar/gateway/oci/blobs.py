"""`GET`/`HEAD /v2/<name>/blobs/<digest>`: blobs this repository holds, streamed, with Range support.

When the blobstore offers presigned URLs (S3 with HANGAR_S3_REDIRECT), a GET, ranged or not, is answered
with 307 to the blob's own object instead, as the reference registry does; HEAD is always answered here.
When the gateway shares the filesystem blobstore's directory (HANGAR_SHARED_BLOB_DIR), a GET reads the
blob's file itself (`shared_files.SharedBlobFiles`), falling back to the stream whenever it cannot.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Final

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hangar.gateway.clients import BlobInfo, BlobstorePort, RegistryPort
from hangar.gateway.oci.access import Caller
from hangar.gateway.oci.errors import OciError
from hangar.gateway.oci.redirects import BlobRedirects
from hangar.gateway.oci.routes import Target
from hangar.gateway.oci.shared_files import SharedBlobFiles

OCTET_STREAM: Final = "application/octet-stream"
_RANGE: Final = re.compile(r"bytes=(?P<start>[0-9]*)-(?P<end>[0-9]*)")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one `[start, end]` (inclusive) byte range a `Range` header asks of `size` bytes, or None for all.

    Malformed and multi-range headers are ignored (RFC 9110 §14.2 lets a server send the whole
    representation); a well-formed range outside the blob is OciError RANGE_INVALID (416).
    """
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match["start"] and not match["end"]):
        return None
    if not match["start"]:  # suffix: the last N bytes
        length = int(match["end"])
        if length == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(0, size - length), size - 1
    start = int(match["start"])
    if match["end"] and int(match["end"]) < start:
        return None  # invalid: ignored
    if start >= size:
        raise _unsatisfiable(size)
    end = int(match["end"]) if match["end"] else size - 1
    return start, min(end, size - 1)


def _unsatisfiable(size: int) -> OciError:
    return OciError(
        "RANGE_INVALID",
        f"the requested range is not satisfiable for a blob of {size} bytes",
        headers={"Content-Range": f"bytes */{size}"},
    )


async def stream_from(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`first`, then the rest of the stream; closes the stream however the response ends."""
    try:
        if first:
            yield first
        async for chunk in rest:
            yield chunk
    finally:
        aclose = getattr(rest, "aclose", None)
        if aclose is not None:
            await aclose()


class Blobs:
    def __init__(
        self,
        registry: RegistryPort,
        blobstore: BlobstorePort,
        redirects: BlobRedirects | None = None,
        files: SharedBlobFiles | None = None,
    ) -> None:
        self._registry = registry
        self._blobstore = blobstore
        self._redirects = redirects if redirects is not None else BlobRedirects(blobstore)
        self._files = files

    async def _stat(self, target: Target) -> BlobInfo:
        # the registry knows which repository holds which blob; the blobstore alone would serve any
        return await self._registry.stat_blob(target.name, target.reference)

    @staticmethod
    def _headers(blob: BlobInfo, digest: str) -> dict[str, str]:
        return {
            "Docker-Content-Digest": digest,
            "Content-Type": OCTET_STREAM,
            "Accept-Ranges": "bytes",
            "ETag": f'"{digest}"',
            "Cache-Control": "max-age=31536000",
        }

    async def delete(self, request: Request, target: Target, caller: Caller) -> Response:
        """Remove the blob from this repository: 202 (docs/decisions/0017). The gateway keeps no blob cache,
        so the next request on any replica asks the registry and finds it gone; the bytes are reclaimed
        by the blobstore's garbage collection once no repository links the digest."""
        await self._registry.unlink_blob(target.name, target.reference)
        return Response(status_code=202, headers={"Content-Length": "0"})

    async def head(self, request: Request, target: Target, caller: Caller) -> Response:
        blob = await self._stat(target)
        headers = {**self._headers(blob, target.reference), "Content-Length": str(blob.size)}
        return Response(status_code=200, headers=headers)

    async def get(self, request: Request, target: Target, caller: Caller) -> Response:
        digest = target.reference
        # where the blob's file lies is asked alongside the membership check, and used only after it
        located = self._files.locate_early(digest) if self._files is not None else None
        try:
            return await self._get(request, target, located)
        finally:
            if located is not None:
                if not located.done():
                    located.cancel()
                elif not located.cancelled():
                    located.exception()  # retrieved: a failed membership check left it unused

    async def _get(
        self, request: Request, target: Target, located: asyncio.Task[str | None] | None
    ) -> Response:
        blob = await self._stat(target)
        digest = target.reference
        location = await self._redirects.location(digest)
        if location is not None:
            # after the same authorization and membership check; the client re-sends any Range to storage
            return Response(
                status_code=307,
                headers={"Location": location, "Docker-Content-Digest": digest, "Content-Length": "0"},
            )
        headers = self._headers(blob, digest)
        range_header = request.headers.get("range")
        if_range = request.headers.get("if-range")
        if if_range and if_range != headers["ETag"]:
            range_header = None  # the client's partial copy is of something else: send it all
        wanted = parse_range(range_header, blob.size)
        if wanted is None:
            offset, length, status = 0, blob.size, 200
        else:
            offset, length, status = wanted[0], wanted[1] - wanted[0] + 1, 206
            headers["Content-Range"] = f"bytes {wanted[0]}-{wanted[1]}/{blob.size}"
        headers["Content-Length"] = str(length)
        if length == 0:
            return Response(b"", status_code=status, headers=headers)
        if self._files is not None:
            direct = await self._files.open(digest, blob.size, offset, length, located)
            if direct is not None:
                if direct.rest is None:
                    return Response(direct.first, status_code=status, headers=headers)
                return StreamingResponse(
                    stream_from(direct.first, direct.rest), status_code=status, headers=headers
                )
        limit = 0 if offset + length == blob.size else length
        chunks = self._blobstore.read(digest, offset, limit)
        # the first chunk is awaited here, so a blob the store cannot serve is an error status, not a
        # truncated 200
        first = await anext(chunks, b"")
        return StreamingResponse(stream_from(first, chunks), status_code=status, headers=headers)
