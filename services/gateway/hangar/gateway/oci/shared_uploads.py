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
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import fcntl
import logging
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

from hangar.gateway.oci.shared_files import Unusable, path_components

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
    """Write all of `pieces` at `position` (pwritev may write less than asked: continue after it)."""
    views = [memoryview(piece) for piece in pieces]
    while views:
        written = os.pwritev(fd, views, position)
        position += written
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


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
            size = os.fstat(fd).st_size
            if offset is not None and offset != size:
                raise WrongOffset(size)
            return await self._write_chunks(fd, size, chunks)
        finally:
            os.close(fd)  # releases the lock

    @staticmethod
    async def _write_chunks(fd: int, position: int, chunks: AsyncIterator[bytes]) -> int:
        """Gather chunks into WRITE_BATCH writes off the loop, reading the next batch while one is written."""
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
                writing = asyncio.ensure_future(asyncio.to_thread(_write_all, fd, pieces, start))

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
