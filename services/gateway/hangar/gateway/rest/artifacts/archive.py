"""The archive handler: every file of a version as one tar (POSIX pax), streamed file after file."""

from __future__ import annotations

import tarfile
from collections.abc import AsyncIterator
from typing import Final

from starlette.responses import Response, StreamingResponse

from hangar.gateway.auth import PULL
from hangar.gateway.clients.artifacts import FILE_UPLOADING, VersionFileInfo
from hangar.gateway.rest.artifact_access import ArtifactCaller
from hangar.gateway.rest.artifacts.base import HandlerBase
from hangar.kit.errors import FailedPrecondition

TAR_BLOCK: Final = 512


def _tar_header(file: VersionFileInfo, mtime: int) -> bytes:
    info = tarfile.TarInfo(file.path)
    info.size = file.size
    info.mode = 0o644
    info.mtime = mtime
    return info.tobuf(format=tarfile.PAX_FORMAT, encoding="utf-8")


def _padding(size: int) -> int:
    return -size % TAR_BLOCK


class Archives(HandlerBase):
    """The archive handler."""

    async def archive(self, caller: ArtifactCaller, name: str, org: str, kind: str, version: str) -> Response:
        """Every file of the version in one tar (POSIX pax), streamed file after file."""
        await self.gate.require(caller, org, name, kind, PULL)
        await self._repository(name, kind)
        found = await self._version(name, version)
        incomplete = [f.path for f in found.files if f.status == FILE_UPLOADING]
        if incomplete:
            raise FailedPrecondition(
                f"{name}:{found.version} has files still uploading: {', '.join(incomplete)}",
                code="FILES_INCOMPLETE",
            )
        mtime = (found.committed_at_ms or found.created_at_ms) // 1000
        headers_of = [(_tar_header(f, mtime), f) for f in found.files]
        length = sum(len(h) + f.size + _padding(f.size) for h, f in headers_of) + 2 * TAR_BLOCK
        blobstore = self.blobstore

        async def stream() -> AsyncIterator[bytes]:
            for header, file in headers_of:
                yield header
                if file.size:
                    async for chunk in blobstore.read(file.digest, 0, file.size):
                        yield chunk
                yield b"\0" * _padding(file.size)
            yield b"\0" * (2 * TAR_BLOCK)

        filename = f"{name.rsplit('/', 1)[-1]}-{found.version}.tar"
        headers = {"Content-Length": str(length), "Content-Disposition": f'attachment; filename="{filename}"'}
        return StreamingResponse(stream(), headers=headers, media_type="application/x-tar")
