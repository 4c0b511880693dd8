"""Upload chunks written straight into the upload's file in the blob directory shared with the blobstore.

With `HANGAR_SHARED_BLOB_DIR` set (see `shared_files`), a PATCH or PUT body goes into the upload's data file
on the shared volume instead of blobstore -> gRPC -> file (DESIGN §2, "a path on a shared volume"). The
blobstore keeps ownership of the session (it says where the file lies: `StartUpload`, `QueryWriteStatus`),
of the upload's size (the file's size, which it reads at status and commit time), and of digest
verification (it hashes at commit the bytes it did not write itself, from the file).

- The file is opened strictly under the directory (each component with `openat(O_NOFOLLOW)`, no empty, `.`
  or `..` component: `shared_files.path_components`), must be a regular file, and is written only while
  holding its exclusive `flock`, the lock every blobstore operation on the upload takes; after locking, the
  name must still be the opened file (a commit or cancel moves it away first).
- A chunk is written only at the file's end: a Content-Range that does not start there is refused (416) with
  nothing written; without a Content-Range the chunk goes at the end.
- Which file belongs to which upload and repository is learnt from the blobstore (the upload this replica
  started, or a `QueryWriteStatus` that checked the owner), and kept per upload id (ids are never reused).
- Anything that prevents the direct write before a byte is taken from the request (the setting off, a
  backend without files, a missing, refused or busy file) is `None`: the caller streams the chunk over gRPC
  as before, which answers every error as it always did.
- The bytes are hashed (sha256) as they are written, in the same thread, for as long as this process wrote
  every byte of the upload from the first: `written_hash` then tells the commit their digest, and the
  blobstore need not read the file again (it uses the hash only if the upload holds exactly as many bytes;
  `WrittenHash` in the blobstore's contract). A chunk that finds the file longer than this process hashed
  (another replica or the blobstore wrote some), or another file under the upload's name, ends the hashing
  for that upload.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import fcntl
import hashlib
import logging
import os
import stat
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Final

from hangar.gateway.clients import WrittenHash
from hangar.gateway.oci.shared_files import Unusable, path_components
from hangar.kit.writeback import start_writeback

log = logging.getLogger(__name__)

WRITE_BATCH: Final = 4 * 1024 * 1024
MAX_KNOWN_UPLOADS: Final = 10_000

_DIR_FLAGS: Final = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS: Final = os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class WrongOffset(Exception):
    """The chunk does not start at the upload's end; nothing was written."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def open_upload_under(root: Path, relative: str) -> int | None:
    """A write descriptor of the upload file `relative` names under `root`, holding its exclusive flock; None
    when it is gone (committed, cancelled) or busy (another writer holds the lock). Unusable (or another
    OSError) if it may not be written. No symlink is followed at or below `root`."""
    parts = path_components(relative)
    directory = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, _DIR_FLAGS, dir_fd=directory)
            except FileNotFoundError:
                return None
            except OSError as error:
                raise Unusable(
                    f"a directory on the upload's path cannot be opened ({error.strerror})"
                ) from None
            os.close(directory)
            directory = inner
        try:
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=directory)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise Unusable(f"the upload's file cannot be opened ({error.strerror})") from None
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):
                raise Unusable("the upload's path is not a regular file")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return None
            # Between the open and the lock a commit or cancel may have moved the file away: its bytes are
            # then no longer the upload (maybe a blob) and must not be touched.
            try:
                current = os.stat(parts[-1], dir_fd=directory, follow_symlinks=False)
            except FileNotFoundError:
                os.close(fd)
                return None
            if (current.st_dev, current.st_ino) != (opened.st_dev, opened.st_ino):
                os.close(fd)
                return None
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise
        return fd
    finally:
        os.close(directory)


def _write_all(fd: int, pieces: list[bytes], position: int) -> None:
    """Write all of `pieces` at `position` (pwritev may write less than asked: continue after it), then
    start their writeback, so the commit's fsync finds little left to wait for."""
    start = position
    views = [memoryview(piece) for piece in pieces]
    while views:
        written = os.pwritev(fd, views, position)
        position += written
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]
    start_writeback(fd, start, position - start)


class _RunningHash:
    """The sha256 of an upload's bytes [0, size) as this process wrote them: advanced by the writing thread
    after each write, read by a commit (the lock keeps size and digest consistent)."""

    def __init__(self, inode: tuple[int, int]) -> None:
        self.inode = inode
        self._lock = threading.Lock()
        self._hasher = hashlib.sha256()
        self._size = 0
        self._broken = False

    def continues(self, inode: tuple[int, int], size: int) -> bool:
        """Whether bytes written at `size` into the file `inode` continue what was hashed."""
        with self._lock:
            return not self._broken and inode == self.inode and size == self._size

    def write(self, fd: int, pieces: list[bytes], position: int) -> None:
        """Write `pieces` at `position`, then hash them if they continue the hash; a write that fails
        part-way, or bytes elsewhere, end it (the commit then reads the file)."""
        try:
            _write_all(fd, pieces, position)
        except BaseException:
            with self._lock:
                self._broken = True
            raise
        with self._lock:
            if self._broken or position != self._size:
                self._broken = True
                return
            for piece in pieces:
                self._hasher.update(piece)
            self._size += sum(len(piece) for piece in pieces)

    def snapshot(self) -> WrittenHash | None:
        """The size and sha256 of every byte written so far, or None once the hash ended."""
        with self._lock:
            if self._broken:
                return None
            return WrittenHash(self._size, self._hasher.copy().hexdigest())


async def _finish(running: asyncio.Future[None]) -> None:
    """Await a thread's write; a cancelled caller still waits for it (the descriptor must outlive it)."""
    try:
        await asyncio.shield(running)
    except asyncio.CancelledError:
        while not running.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([running])
        raise


@dataclasses.dataclass
class _Known:
    owner: str
    path: str
    hashed: _RunningHash | None = None


class SharedUploadFiles:
    """Writes upload chunks into their files under `root` (the directory shared with the blobstore)."""

    def __init__(self, root: Path, *, capacity: int = MAX_KNOWN_UPLOADS) -> None:
        self._root = root
        self._capacity = capacity
        self._known: collections.OrderedDict[str, _Known] = collections.OrderedDict()

    def remember(self, upload_id: str, owner: str, path: str | None) -> None:
        """The blobstore said `upload_id` belongs to `owner` and its data is the file `path` (None: none)."""
        if path is None:
            return
        try:
            path_components(path)
        except Unusable as error:
            log.warning("upload %s is streamed to the blobstore: %s", upload_id, error)
            return
        known = self._known.get(upload_id)
        if known is None or (known.owner, known.path) != (owner, path):
            self._known[upload_id] = _Known(owner, path)
        self._known.move_to_end(upload_id)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)

    def path(self, upload_id: str, owner: str) -> str | None:
        """The upload's file, if the blobstore said it belongs to `owner`; None if not known here."""
        known = self._known.get(upload_id)
        if known is None or known.owner != owner:
            return None
        return known.path

    def forget(self, upload_id: str) -> None:
        self._known.pop(upload_id, None)

    def written_hash(self, upload_id: str) -> WrittenHash | None:
        """The size and sha256 of the upload's bytes if this process wrote and hashed all of them, from the
        first; None otherwise. Only a commit of exactly that many bytes uses it (the blobstore checks)."""
        known = self._known.get(upload_id)
        if known is None or known.hashed is None:
            return None
        return known.hashed.snapshot()

    def _running_hash(
        self, upload_id: str, path: str, inode: tuple[int, int], size: int
    ) -> _RunningHash | None:
        """The hash the bytes written now at `size` into the file `inode` continue: a new one for an empty
        file, the upload's if it covers exactly the file's `size` bytes; None (and the upload hashed no more
        here) otherwise."""
        known = self._known.get(upload_id)
        if known is None or known.path != path:
            return None
        if known.hashed is None and size == 0:
            known.hashed = _RunningHash(inode)
        if known.hashed is not None and not known.hashed.continues(inode, size):
            known.hashed = None
        return known.hashed

    async def write(
        self, upload_id: str, path: str, offset: int | None, chunks: AsyncIterator[bytes]
    ) -> int | None:
        """Write `chunks` into the upload's file at `offset` (None: at its end); the file's size after. None,
        with nothing taken from `chunks`, when the file cannot be written here (the caller streams them to
        the blobstore instead). WrongOffset, with nothing written, unless `offset` is the file's size. If
        `chunks` breaks off, the bytes received before are kept and the error propagates."""
        loop = asyncio.get_running_loop()
        opening = loop.run_in_executor(None, open_upload_under, self._root, path)
        try:
            fd = await asyncio.shield(opening)
        except asyncio.CancelledError:
            opening.add_done_callback(_close_when_opened)
            raise
        except (Unusable, OSError) as error:
            self.forget(upload_id)
            log.warning("upload %s is streamed to the blobstore: %s", upload_id, error)
            return None
        if fd is None:
            self.forget(upload_id)  # gone (committed, cancelled) or busy: the blobstore answers either
            return None
        try:
            opened = os.fstat(fd)
            size = opened.st_size
            if offset is not None and offset != size:
                raise WrongOffset(size)
            hashed = self._running_hash(upload_id, path, (opened.st_dev, opened.st_ino), size)
            return await self._write_chunks(fd, size, chunks, hashed.write if hashed else _write_all)
        finally:
            os.close(fd)  # releases the lock

    @staticmethod
    async def _write_chunks(
        fd: int,
        position: int,
        chunks: AsyncIterator[bytes],
        write: Callable[[int, list[bytes], int], None],
    ) -> int:
        """Gather chunks into WRITE_BATCH writes off the loop (`write(fd, pieces, position)` in a thread,
        one after another), reading the next batch while one is written."""
        pending: list[bytes] = []
        pending_size = 0
        writing: asyncio.Future[None] | None = None

        async def flush() -> None:
            nonlocal pending, pending_size, position, writing
            if writing is not None:
                running, writing = writing, None
                await _finish(running)
            if pending_size:
                pieces, start = pending, position
                pending, position, pending_size = [], position + pending_size, 0
                writing = asyncio.ensure_future(asyncio.to_thread(write, fd, pieces, start))

        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                pending.append(bytes(chunk))
                pending_size += len(chunk)
                if pending_size >= WRITE_BATCH:
                    await flush()
        finally:
            # bytes received before a broken body are kept, as the blobstore's Write keeps them
            await flush()
            if writing is not None:
                await _finish(writing)
        return position


def _close_when_opened(opening: asyncio.Future[int | None]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        fd = opening.result()
        if fd is not None:
            os.close(fd)
