"""Blob GETs read straight from the blob directory the gateway shares with a filesystem blobstore.

With `HANGAR_SHARED_BLOB_DIR` set to the directory the blobstore keeps blobs in (`HANGAR_BLOB_DIR`: one host
under `hangar up`, a shared volume in Kubernetes), a blob GET, after the usual authorization and registry
membership check, opens the blob's file and sends it, instead of streaming every byte blobstore -> gRPC ->
gateway (DESIGN §2, "a path on a shared volume"). The blobstore keeps ownership of the layout, uploads,
digest verification and the index: it says where a blob's file lies (`LocateBlob`), the gateway only reads.

- Locations are kept per digest (content-addressed, so a blob's file never changes; at most
  `MAX_CACHED_LOCATIONS`, LRU). A file found missing (garbage collection deleted it) forgets its digest.
- The path from the blobstore is opened strictly under the directory: one component at a time with
  `openat(O_NOFOLLOW)`, refusing empty, `.` and `..` components, so neither a hostile path nor a symlink
  (at any depth) leads outside it. The file must be a regular file of the size the registry recorded.
- Anything else (a missing, unreadable or mismatched file, a refused path, a blobstore that gives no path
  or does not know `LocateBlob`) is `None`: the caller streams the blob over gRPC as before, which is always
  correct. "No path" is a property of the deployment (S3, an older blobstore), so it is remembered for
  `UNAVAILABLE_TTL` seconds for every digest, as `redirects.BlobRedirects` does.
- Bytes are read off the event loop in `READ_SIZE` blocks (one thread hop opens the file and reads the
  first block; a blob that fits in it is answered with no stream at all), so memory stays bounded by the
  transport's flow control, as with the gRPC stream.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import stat
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Final

from hangar.gateway.caches import Lru
from hangar.gateway.clients import BlobstorePort
from hangar.kit.errors import DomainError, NotFound

log = logging.getLogger(__name__)

READ_SIZE: Final = 2 * 1024 * 1024
UNAVAILABLE_TTL: Final = 30.0
MAX_CACHED_LOCATIONS: Final = 10_000
MAX_PATH_COMPONENTS: Final = 16

_DIR_FLAGS: Final = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class Unusable(Exception):
    """The file cannot be served directly (the reason is the message); the blob is streamed instead."""


def path_components(relative: str) -> list[str]:
    """The components of a '/'-separated path relative to the shared directory; Unusable if it could name
    anything outside it (absolute, empty, `.` or `..` components, NUL, too deep)."""
    parts = relative.split("/")
    if (
        not relative
        or len(parts) > MAX_PATH_COMPONENTS
        or any(part in ("", ".", "..") or "\0" in part for part in parts)
    ):
        raise Unusable("the blobstore gave a path that is not strictly inside the shared directory")
    return parts


def open_under(root: Path, relative: str) -> int:
    """A read-only descriptor of the regular file `relative` names under `root`, following no symlink at or
    below `root` (each component opened with O_NOFOLLOW relative to its parent). FileNotFoundError if it
    is gone; Unusable (or another OSError) if it may not be read."""
    parts = path_components(relative)
    directory = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, _DIR_FLAGS, dir_fd=directory)
            except OSError as error:
                if isinstance(error, FileNotFoundError):
                    raise
                raise Unusable(
                    f"a directory on the blob's path cannot be opened ({error.strerror})"
                ) from None
            os.close(directory)
            directory = inner
        try:
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=directory)
        except OSError as error:
            if isinstance(error, FileNotFoundError):
                raise
            raise Unusable(f"the blob's file cannot be opened ({error.strerror})") from None
    finally:
        os.close(directory)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unusable("the blob's path is not a regular file")
        return fd
    except BaseException:
        os.close(fd)
        raise


@dataclasses.dataclass
class _Opened:
    fd: int  # -1 once everything asked for was read in `first`
    first: bytes


@dataclasses.dataclass(frozen=True)
class DirectRead:
    """A range of a blob read from the shared directory: its first block, and the rest to stream (None when
    the first block is all of it, and the file is already closed)."""

    first: bytes = dataclasses.field(repr=False)
    rest: AsyncIterator[bytes] | None


def _open_and_read_first(root: Path, relative: str, size: int, offset: int, length: int) -> _Opened:
    """Open the blob's file, check it holds `size` bytes, and read the first block of the wanted range."""
    fd = open_under(root, relative)
    try:
        actual = os.fstat(fd).st_size
        if actual != size:
            raise Unusable(f"the blob's file holds {actual} bytes, the registry recorded {size}")
        first = os.pread(fd, min(READ_SIZE, length), offset)
        if len(first) < min(READ_SIZE, length):
            raise Unusable("the blob's file ended early")
    except BaseException:
        os.close(fd)
        raise
    if len(first) == length:
        os.close(fd)
        return _Opened(-1, first)
    return _Opened(fd, first)


def _close_when_opened(opening: asyncio.Future[_Opened]) -> None:
    """A request cancelled while its file was being opened: close the descriptor it no longer wants."""
    if not opening.cancelled() and opening.exception() is None:
        opened = opening.result()
        if opened.fd >= 0:
            os.close(opened.fd)


class SharedBlobFiles:
    """Opens blobs in the directory shared with the blobstore (`root`), or says to stream them instead."""

    def __init__(
        self,
        blobstore: BlobstorePort,
        root: Path,
        *,
        clock: Callable[[], float] = time.monotonic,
        unavailable_ttl: float = UNAVAILABLE_TTL,
        capacity: int = MAX_CACHED_LOCATIONS,
    ) -> None:
        self._blobstore = blobstore
        self._root = root
        self._clock = clock
        self._unavailable_ttl = unavailable_ttl
        self._paths: Lru[str, str] = Lru(capacity)
        self._unavailable_until = float("-inf")

    def locate_early(self, digest: str) -> asyncio.Task[str | None] | None:
        """Ask the blobstore where the blob lies while the caller checks the repository holds it (a task
        to pass to `open`, which it is cancelled unless given to), or None when the answer is known
        already. Nothing is opened before `open`: the location alone serves nothing."""
        if self._clock() < self._unavailable_until or digest in self._paths:
            return None
        return asyncio.create_task(self._path(digest))

    async def open(
        self,
        digest: str,
        size: int,
        offset: int,
        length: int,
        located: asyncio.Task[str | None] | None = None,
    ) -> DirectRead | None:
        """The bytes `offset` to `offset + length` of the blob (of `size` bytes, as the registry says), read
        from the shared directory; or None: stream it over gRPC instead. `length` must be positive;
        `located` is `locate_early`'s task for this digest, if any."""
        relative = await (located if located is not None else self._path(digest))
        if relative is None:
            return None
        loop = asyncio.get_running_loop()
        opening = loop.run_in_executor(None, _open_and_read_first, self._root, relative, size, offset, length)
        try:
            opened = await asyncio.shield(opening)
        except asyncio.CancelledError:
            opening.add_done_callback(_close_when_opened)
            raise
        except FileNotFoundError:
            self._forget(digest)  # garbage collection raced this GET, or another replica's directory
            return None
        except (Unusable, OSError) as error:
            self._forget(digest)
            log.warning("blob %s is streamed from the blobstore: %s", digest, error)
            return None
        if opened.fd < 0:
            return DirectRead(opened.first, None)
        return DirectRead(opened.first, _FileChunks(opened.fd, offset + len(opened.first), offset + length))

    async def _path(self, digest: str) -> str | None:
        now = self._clock()
        if now < self._unavailable_until:
            return None
        cached = self._paths.get(digest)
        if cached is not None:
            return cached
        try:
            location = await self._blobstore.locate_blob(digest)
        except NotFound:
            return None  # the stream answers BLOB_UNKNOWN as before
        except DomainError as error:
            log.warning(
                "shared blob reads paused for %.0fs, blobs are streamed meanwhile: locating failed (%s)",
                self._unavailable_ttl,
                error.code,
            )
            self._pause(now)
            return None
        if location.path is None:
            self._pause(now)  # the blobstore's backend has no files (S3)
            return None
        return location.path if self.remember(digest, location.path) else None

    def remember(self, digest: str, relative: str) -> bool:
        """Keep where the blob lies (a LocateBlob answer, or `BlobInfo.path` of a commit, so a GET of a
        blob just pushed needs no LocateBlob); False, keeping nothing, while reads are paused or for a path
        that could lead outside the directory."""
        if self._clock() < self._unavailable_until:
            return False
        try:
            path_components(relative)
        except Unusable as error:
            log.warning("blob %s is streamed from the blobstore: %s", digest, error)
            return False
        self._paths.put(digest, relative)
        return True

    def _forget(self, digest: str) -> None:
        self._paths.pop(digest)

    def _pause(self, now: float) -> None:
        self._unavailable_until = now + self._unavailable_ttl
        self._paths.clear()


class _FileChunks:
    """Bytes `position` to `end` of an open file in READ_SIZE blocks read off the loop. The file is closed
    when the end is reached, on `aclose()`, on a failed read, or when the iterator is dropped unread."""

    def __init__(self, fd: int, position: int, end: int) -> None:
        self._fd = fd
        self._position = position
        self._end = end

    def __aiter__(self) -> _FileChunks:
        return self

    async def __anext__(self) -> bytes:
        if self._fd < 0 or self._position >= self._end:
            self._close()
            raise StopAsyncIteration
        want = min(READ_SIZE, self._end - self._position)
        loop = asyncio.get_running_loop()
        try:
            block = await loop.run_in_executor(None, os.pread, self._fd, want, self._position)
        except BaseException:
            self._close()
            raise
        if not block:  # committed files never shrink; a truncated response is all that is left to give
            self._close()
            raise OSError(f"the blob's file ended at byte {self._position}, short of {self._end}")
        self._position += len(block)
        return block

    async def aclose(self) -> None:
        self._close()

    def _close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def __del__(self) -> None:
        self._close()
