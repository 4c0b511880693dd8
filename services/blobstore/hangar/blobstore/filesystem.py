"""The filesystem `BlobBackend`: blobs and resumable uploads as files under one root directory.

On-disk layout (this docstring and the `_*_path` methods are the only places that know it):

    <root>/blobs/<algorithm>/<first two hex>/<hex>   a committed blob, immutable, named by its digest
    <root>/uploads/<upload_id>                       the bytes received so far by an open upload
    <root>/staging/<upload_id>                       an upload being published by a commit; a file left here
                                                     is debris of a crash mid-commit, safe to delete

Upload ids and digests are validated by the domain before they become path components, so no request can
name a path outside the root. Several processes (gateway-facing replicas on a shared volume) may use one
root: every operation on an upload holds an exclusive `flock` on its file, and committed blobs are never
modified, only created and deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import fcntl
import hashlib
import os
from collections.abc import AsyncIterable, AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, ParamSpec, TypeVar

from hangar.blobstore.backend import HasherCache, MiB, RangedReads, unknown_blob
from hangar.blobstore.domain import (
    Digest,
    WrittenHash,
    check_offset,
    check_upload_id,
    unknown_upload,
    verify_digest,
)
from hangar.kit.errors import AlreadyExists, ConcurrencyConflict, DomainError, InvalidArgument
from hangar.kit.writeback import start_writeback

if TYPE_CHECKING:
    from hashlib import _Hash

_T = TypeVar("_T")
_P = ParamSpec("_P")

STREAMING_ALGORITHM: Final = "sha256"
"""The one algorithm hashed while bytes stream in; see `BlobIngester` for why there is only one."""

_WRITE_BATCH: Final = 4 * MiB  # incoming chunks are gathered to this size for one write+hash off the loop
_HASH_BLOCK: Final = 8 * MiB  # read size when an upload must be rehashed from disk
_LINK_UNSUPPORTED: Final = frozenset(
    {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK}
)  # errors of link() on filesystems without hard links


class FilesystemBackend(RangedReads):
    """Stores blobs under `root` (see the module docstring for the layout). Creates directories on demand."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._hashers = HasherCache()

    # -- the path scheme -------------------------------------------------------------------------------

    def _blob_path(self, digest: Digest) -> Path:
        return self._root / "blobs" / digest.algorithm / digest.hex[:2] / digest.hex

    def _upload_path(self, upload_id: str) -> Path:
        return self._root / "uploads" / check_upload_id(upload_id)

    def _staging_path(self, upload_id: str) -> Path:
        return self._root / "staging" / check_upload_id(upload_id)

    # -- BlobIngester ----------------------------------------------------------------------------------

    async def create_upload(self, upload_id: str) -> None:
        path = self._upload_path(upload_id)

        def create() -> None:
            # No fsync: an upload lost in a machine crash is unknown afterwards and the client starts over;
            # what must be durable is a committed blob, and `_publish` syncs that (file and name) once.
            _make_durable_dirs(path.parent)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            except FileExistsError:
                raise AlreadyExists(f"upload {upload_id} already exists") from None
            os.close(fd)

        await _off_loop(create)
        self._hashers.put(upload_id, 0, hashlib.new(STREAMING_ALGORITHM))

    def upload_file(self, upload_id: str) -> str:
        """`UploadLocator.upload_file`: the upload's file under the root, as writers sharing it open it."""
        return f"uploads/{check_upload_id(upload_id)}"

    def blob_file(self, digest: Digest) -> str:
        """`BlobLocator.blob_file`: the blob's path under the root, as readers sharing it open it."""
        return f"blobs/{digest.algorithm}/{digest.hex[:2]}/{digest.hex}"

    async def upload_size(self, upload_id: str) -> int:
        path = self._upload_path(upload_id)
        try:
            return (await _off_loop(os.stat, path)).st_size
        except FileNotFoundError:
            raise unknown_upload(upload_id) from None

    async def append(self, upload_id: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        async with self._locked_upload(upload_id) as upload:
            check_offset(offset, upload.size)
            # Behind after a restart, an evicted entry, or chunks written by another process (a writer
            # sharing the directory): the missing bytes are hashed from the file.
            hasher = await self._caught_up_hasher(upload_id, upload.fd, upload.size)
            hashed = _Hashed(upload.size)
            pending = bytearray()

            async def flush() -> None:
                nonlocal pending
                data, pending = pending, bytearray()
                await _off_loop(_write_and_hash, upload.fd, hashed, data, hasher)

            try:
                async for chunk in chunks:
                    pending += chunk
                    if len(pending) >= _WRITE_BATCH:
                        await flush()
            finally:
                # Bytes received before a broken stream are kept, so the client can resume after them. They
                # are not synced here: the commit syncs the file once before it becomes a blob, and bytes a
                # machine crash loses before that shrink the upload (the client resumes from its size) or
                # fail the commit's digest check, never a blob.
                try:
                    if pending:
                        await flush()
                finally:
                    # (position, hasher) always agree, even when this task was cancelled while a write
                    # ran (the thread advances both); bytes a failed write left on disk past the position
                    # are hashed from the file next time.
                    self._hashers.put(upload_id, hashed.position, hasher)
            return hashed.position

    async def commit(
        self, upload_id: str, expected: Digest, written: WrittenHash | None = None
    ) -> tuple[int, bool]:
        async with self._locked_upload(upload_id) as upload:
            streaming = expected.algorithm == STREAMING_ALGORITHM
            if streaming and written is not None and written.size == upload.size:
                # A writer sharing the directory wrote every byte and hashed them as it went (and the
                # lock held here means nothing is being added): no need to read the file again.
                self._hashers.drop(upload_id)
                actual = written.digest
            elif streaming:
                hasher = await self._caught_up_hasher(upload_id, upload.fd, upload.size)
                actual = Digest(expected.algorithm, hasher.hexdigest())
            else:
                self._hashers.drop(upload_id)
                hasher = await _off_loop(_hash_file, upload.fd, expected.hashlib_name, upload.size)
                actual = Digest(expected.algorithm, hasher.hexdigest())
            try:
                verify_digest(expected, actual)
            except InvalidArgument:
                await _off_loop(upload.path.unlink, missing_ok=True)
                raise
            new_content = await _off_loop(
                _publish, upload.fd, upload.path, self._staging_path(upload_id), self._blob_path(expected)
            )
            return upload.size, new_content

    async def cancel(self, upload_id: str) -> None:
        async with self._locked_upload(upload_id) as upload:
            await _off_loop(upload.path.unlink, missing_ok=True)
            self._hashers.drop(upload_id)

    async def _caught_up_hasher(self, upload_id: str, fd: int, size: int) -> _Hash:
        """The upload's sha256 hasher at `size`: the cached one, with the bytes written since it last hashed
        (by a writer sharing the directory, or another replica) hashed from the file; a fresh one over the
        whole file if there is none, or it is past `size` (bytes lost in a crash)."""
        cached = self._hashers.take_behind(upload_id, size)
        if cached is None:
            return await _off_loop(_hash_file, fd, STREAMING_ALGORITHM, size)
        position, hasher = cached
        if position < size:
            await _off_loop(_hash_file, fd, STREAMING_ALGORITHM, size, hasher=hasher, start=position)
        return hasher

    # -- BlobStatter, BlobReader, BlobDeleter ----------------------------------------------------------

    async def stat(self, digest: Digest) -> int | None:
        try:
            return (await _off_loop(os.stat, self._blob_path(digest))).st_size
        except FileNotFoundError:
            return None

    async def locate(self, digest: Digest) -> tuple[str, int] | None:
        """`BlobLocator.locate`: the blob's path under the root, as readers sharing the root open it."""
        size = await self.stat(digest)
        if size is None:
            return None
        return self.blob_file(digest), size

    async def _stream(self, digest: Digest, start: int, end: int, chunk_size: int) -> AsyncIterator[bytes]:
        path = self._blob_path(digest)

        def open_blob() -> int:
            try:
                return os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                raise unknown_blob(digest) from None

        fd = await _open_cancel_safely(open_blob)
        try:
            position = start
            while position < end:
                block = await _off_loop(os.pread, fd, min(chunk_size, end - position), position)
                if not block:
                    raise DomainError(f"blob {digest} on disk ends at byte {position}, short of {end}")
                position += len(block)
                yield block
        finally:
            os.close(fd)

    async def delete(self, digest: Digest) -> None:
        try:
            await _off_loop(os.unlink, self._blob_path(digest))
        except FileNotFoundError:
            raise unknown_blob(digest) from None

    # -- upload locking --------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _locked_upload(self, upload_id: str) -> AsyncIterator[_LockedUpload]:
        """Open the upload's file holding an exclusive flock, which every process's writers respect."""
        path = self._upload_path(upload_id)
        fd, size = await _open_cancel_safely(lambda: _open_and_lock(path, upload_id))
        try:
            yield _LockedUpload(path=path, fd=fd, size=size)
        finally:
            os.close(fd)  # releases the lock


@dataclasses.dataclass(frozen=True)
class _LockedUpload:
    path: Path
    fd: int
    size: int


async def _off_loop(func: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run blocking file I/O in a worker thread; a cancelled caller still waits for it to finish.

    A thread cannot be interrupted: returning early would let the caller close a descriptor the thread is
    still writing through, and a reused descriptor number would then receive the bytes.
    """
    running = asyncio.ensure_future(asyncio.to_thread(func, *args, **kwargs))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        while not running.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([running])
        raise


#: What a blocking open hands back: a descriptor, or a descriptor and the size it was opened at.
_Opened = TypeVar("_Opened", int, tuple[int, int])


async def _open_cancel_safely(opener: Callable[[], _Opened]) -> _Opened:
    """Run a blocking open in a thread; if the caller is cancelled meanwhile, close what it opened.

    A thread cannot be interrupted, so without this a cancelled request would leak the descriptor, and with
    it, for an upload, the lock.
    """
    opening = asyncio.ensure_future(asyncio.to_thread(opener))
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        opening.add_done_callback(_close_opened)
        raise


def _close_opened(opening: asyncio.Future[Any]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opened = opening.result()
        os.close(opened if isinstance(opened, int) else opened[0])


def _open_and_lock(path: Path, upload_id: str) -> tuple[int, int]:
    """The upload's file opened and exclusively locked, and its size as locked."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        raise unknown_upload(upload_id) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConcurrencyConflict(f"another operation on upload {upload_id} is in progress") from None
        # Between our open and our lock, a commit or cancel may have moved the file away: then the bytes we
        # hold are no longer the upload (they may even be a published blob) and must not be touched.
        try:
            current = os.stat(path)
        except FileNotFoundError:
            raise unknown_upload(upload_id) from None
        opened = os.fstat(fd)
        if (current.st_dev, current.st_ino) != (opened.st_dev, opened.st_ino):
            raise unknown_upload(upload_id)
    except BaseException:
        os.close(fd)
        raise
    return fd, opened.st_size


def _hash_file(fd: int, algorithm: str, size: int, *, hasher: _Hash | None = None, start: int = 0) -> _Hash:
    """Hash the first `size` bytes of a file (from `start`, into `hasher` if given) in fixed blocks: memory
    stays flat whatever the size."""
    if hasher is None:
        hasher = hashlib.new(algorithm)
    buffer = bytearray(max(min(_HASH_BLOCK, size - start), 0))
    view = memoryview(buffer)
    position = start
    while position < size:
        wanted = min(len(buffer), size - position)
        count = os.preadv(fd, [view[:wanted]], position)
        if count == 0:
            raise DomainError(f"file ends at byte {position}, short of {size}")
        hasher.update(view[:count])
        position += count
    return hasher


@dataclasses.dataclass
class _Hashed:
    """How far an upload's bytes are written and hashed: advanced with the hasher, in the same thread."""

    position: int


def _write_and_hash(fd: int, hashed: _Hashed, data: bytearray, hasher: _Hash) -> None:
    """Write all of `data` at `hashed.position`, then hash it and advance the position (the hasher only ever
    sees bytes that are on disk, and the position always says how far it has seen)."""
    view = memoryview(data)
    written = 0
    while written < len(view):
        written += os.pwrite(fd, view[written:], hashed.position + written)
    start_writeback(fd, hashed.position, len(view))  # the commit's fsync then waits for less
    hasher.update(view)
    hashed.position += len(view)


def _publish(fd: int, upload: Path, staging: Path, target: Path) -> bool:
    """Make the upload's bytes the blob at `target`; True if the blob is new, False if it already existed."""
    os.fsync(fd)  # durable before any name presents these bytes as a blob
    _make_durable_dirs(staging.parent)
    _make_durable_dirs(target.parent)
    # Moving the file out of uploads/ first means no writer can reach the bytes once they are a blob, even if
    # we crash before cleaning up.
    os.replace(upload, staging)
    try:
        new_content = _link_or_rename(staging, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.replace(staging, upload)  # no blob name was created: hand the upload back for a retry
        raise
    try:
        _fsync_dir(target.parent)
    finally:
        staging.unlink(missing_ok=True)
    return new_content


def _link_or_rename(staging: Path, target: Path) -> bool:
    """Give the complete file the name `target` unless it is taken; True if this call created the name."""
    try:
        # link() creates the name only if it is free, so of two racing commits of the same content exactly
        # one reports new content.
        os.link(staging, target)
        return True
    except FileExistsError:
        return False
    except OSError as error:
        if error.errno not in _LINK_UNSUPPORTED:
            raise
    # No hard links on this filesystem: an atomic rename instead. Racing commits of identical content may
    # then both report new content; the bytes stay correct either way.
    new_content = not target.exists()
    os.replace(staging, target)
    return new_content


def _make_durable_dirs(directory: Path) -> None:
    """Create `directory` and missing parents, syncing each new entry into its parent."""
    missing: list[Path] = []
    current = directory
    while not current.is_dir():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir()
        _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno != errno.EINVAL:  # some filesystems cannot sync a directory; nothing more to do there
            raise
    finally:
        os.close(fd)
