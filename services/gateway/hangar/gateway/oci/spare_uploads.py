"""Upload sessions opened ahead: a POST takes one of its repository's spares instead of waiting for one.

A push starts one upload per blob, one after another (skopeo, podman, docker: POST, PATCH, PUT per layer),
and each POST used to wait for the blobstore to open a session (a gRPC call and a write transaction). Here a
POST to a repository takes a session opened for that repository in the background, and when it took the
last one, asks for the next ones; only a repository's first POST (or one that finds the spares taken by
concurrent POSTs) waits. docs/decisions/0028-spare-upload-sessions.md, 0030-spare-sessions-in-batches.md.

- A spare is an ordinary session owned by its repository (the blobstore checks the owner on every use as
  before), handed out once, only to a POST that passed the push check for that repository.
- Spares are opened in batches, several in one call and one transaction: a repository's first refill opens
  one, and once a POST has taken the last spare of a batch, the refill opens twice as many, up to
  `max_batch`. A push of hundreds of blobs then costs the blobstore a call per `max_batch` blobs, while a
  push of one blob leaves a single spare behind.
- Spares are held for at most `capacity` repositories; those not taken within `max_age` seconds, those of
  repositories pushed out by newer ones and those left when the gateway stops are cancelled, so an idle
  gateway holds no open sessions it made ahead. A repository whose spares expire starts again at one.
- Opening spares is best effort: a failure is logged and the next POST opens its own session.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from hangar.gateway.clients import UploadStatus

log = logging.getLogger(__name__)

#: Repositories a replica keeps spare sessions for.
SPARE_CAPACITY: Final = 256
#: The most spares one refill opens (the blobstore opens at most 16 in one call).
MAX_BATCH: Final = 8
#: Seconds a spare waits for a POST before it is cancelled.
SPARE_MAX_AGE: Final = 30.0
#: Seconds the close waits for the last cancellations.
CLOSE_TIMEOUT: Final = 5.0

#: Opens `count` sessions owned by the repository, in one call.
Opener = Callable[[str, int], Awaitable[Sequence[UploadStatus]]]
Canceller = Callable[[str, str], Awaitable[None]]


@dataclasses.dataclass
class _Held:
    """A repository's spares (each with when it was opened, oldest first) and the size of its next refill."""

    sessions: collections.deque[tuple[UploadStatus, float]]
    batch: int
    refilled: float


class SpareUploads:
    """Sessions opened ahead, in growing batches, per repository that recently started uploads."""

    def __init__(
        self,
        open_uploads: Opener,
        cancel_upload: Canceller,
        *,
        capacity: int = SPARE_CAPACITY,
        max_batch: int = MAX_BATCH,
        max_age: float = SPARE_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open = open_uploads
        self._cancel = cancel_upload
        self._capacity = capacity
        self._max_batch = max_batch
        self._max_age = max_age
        self._clock = clock
        #: repository -> what is held for it; least recently refilled first
        self._held: collections.OrderedDict[str, _Held] = collections.OrderedDict()
        self._filling: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False

    async def take(self, repository: str) -> UploadStatus:
        """A new session owned by `repository`: a spare if it has one, else one opened now; when no spare
        is left after it, the next ones are opened in the background."""
        self._expire()
        held = self._held.get(repository)
        spare = self._pop_fresh(held) if held is not None else None
        if not self._closed and (held is None or not held.sessions):
            if spare is not None and held is not None:  # a whole batch used: a push is under way
                held.batch = min(held.batch * 2, self._max_batch)
            self._fill(repository)
        if spare is not None:
            return spare
        return (await self._open(repository, 1))[0]

    def spare_count(self) -> int:
        return sum(len(held.sessions) for held in self._held.values())

    async def close(self) -> None:
        """Stop opening spares and cancel those still held (waits at most CLOSE_TIMEOUT seconds)."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        for task in list(self._filling.values()):
            task.cancel()
        while self._held:
            self._drop(next(iter(self._held)))
        # a background open ending meanwhile hands its sessions to new cancellations: wait for those too
        deadline = asyncio.get_running_loop().time() + CLOSE_TIMEOUT
        while pending := [t for t in (*self._filling.values(), *self._background) if not t.done()]:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            await asyncio.wait(pending, timeout=remaining)

    # -- internals --------------------------------------------------------------------------------------

    def _pop_fresh(self, held: _Held) -> UploadStatus | None:
        """The oldest spare younger than max_age (older ones are cancelled), or None."""
        cutoff = self._clock() - self._max_age
        while held.sessions:
            session, opened = held.sessions.popleft()
            if opened > cutoff:
                return session
            self._discard(session)
        return None

    def _fill(self, repository: str) -> None:
        if repository in self._filling:
            return
        held = self._held.get(repository)
        count = held.batch if held is not None else 1
        self._filling[repository] = asyncio.create_task(self._opened_ahead(repository, count))
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep())

    async def _opened_ahead(self, repository: str, count: int) -> None:
        try:
            sessions = await self._open(repository, count)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("could not open spare upload sessions for %s", repository, exc_info=True)
            return
        finally:
            # no longer filling from here on (not from a done callback a loop turn later, when a take
            # in between would find a refill still listed and start none)
            self._filling.pop(repository, None)
        if self._closed:
            for session in sessions:
                self._discard(session)
            return
        now = self._clock()
        held = self._held.pop(repository, None)
        if held is None:
            held = _Held(collections.deque(), batch=1, refilled=now)
        held.sessions.extend((session, now) for session in sessions)
        held.refilled = now
        self._held[repository] = held  # the most recently refilled, last
        while len(self._held) > self._capacity:
            self._drop(next(iter(self._held)))

    def _expire(self) -> None:
        """Cancel the spares older than max_age, and forget repositories not refilled for as long (the
        least recently refilled come first)."""
        cutoff = self._clock() - self._max_age
        while self._held:
            repository, held = next(iter(self._held.items()))
            if held.refilled > cutoff:
                return
            self._drop(repository)

    def _drop(self, repository: str) -> None:
        held = self._held.pop(repository)
        for session, _opened in held.sessions:
            self._discard(session)

    async def _sweep(self) -> None:
        while not self._closed:
            await asyncio.sleep(self._max_age / 2)
            self._expire()

    def _discard(self, session: UploadStatus) -> None:
        task = asyncio.create_task(self._cancelled(session))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _cancelled(self, session: UploadStatus) -> None:
        with contextlib.suppress(Exception):
            await self._cancel(session.upload_id, session.owner)
