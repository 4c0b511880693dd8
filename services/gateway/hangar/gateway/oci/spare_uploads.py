"""Upload sessions opened one step ahead: a POST takes its repository's spare instead of waiting for one.

A push starts one upload per blob, one after another (skopeo, podman, docker: POST, PATCH, PUT per layer),
and each POST used to wait for the blobstore to open a session (a gRPC call and a write transaction). Here a
POST to a repository takes the session opened for that repository in the background after its previous
POST, and asks for the next one; only a repository's first POST (or one that finds its spare taken by a
concurrent POST) waits. docs/decisions/0028-spare-upload-sessions.md.

- A spare is an ordinary session owned by its repository (the blobstore checks the owner on every use as
  before), handed out once, only to a POST that passed the push check for that repository.
- At most one spare per repository and `capacity` repositories; spares not taken within `max_age` seconds,
  spares pushed out by newer repositories and those left when the gateway stops are cancelled, so an idle
  gateway holds no open sessions it made ahead.
- Opening a spare is best effort: a failure is logged and the next POST opens its own session.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final

from hangar.gateway.clients import UploadStatus

log = logging.getLogger(__name__)

#: Repositories a replica keeps a spare session for.
SPARE_CAPACITY: Final = 256
#: Seconds a spare waits for a POST before it is cancelled.
SPARE_MAX_AGE: Final = 30.0
#: Seconds the close waits for the last cancellations.
CLOSE_TIMEOUT: Final = 5.0

Opener = Callable[[str], Awaitable[UploadStatus]]
Canceller = Callable[[str, str], Awaitable[None]]


class SpareUploads:
    """One session opened ahead per repository that recently started an upload."""

    def __init__(
        self,
        open_upload: Opener,
        cancel_upload: Canceller,
        *,
        capacity: int = SPARE_CAPACITY,
        max_age: float = SPARE_MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open = open_upload
        self._cancel = cancel_upload
        self._capacity = capacity
        self._max_age = max_age
        self._clock = clock
        #: repository -> (its spare, when it was opened); oldest first
        self._spares: collections.OrderedDict[str, tuple[UploadStatus, float]] = collections.OrderedDict()
        self._filling: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False

    async def take(self, repository: str) -> UploadStatus:
        """A new session owned by `repository`: its spare if it has one, else one opened now; either way
        the next one is opened in the background."""
        self._expire()
        spare = self._spares.pop(repository, None)
        if not self._closed:
            self._fill(repository)
        if spare is not None:
            return spare[0]
        return await self._open(repository)

    def spare_count(self) -> int:
        return len(self._spares)

    async def close(self) -> None:
        """Stop opening spares and cancel those still held (waits at most CLOSE_TIMEOUT seconds)."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        for task in list(self._filling.values()):
            task.cancel()
        while self._spares:
            self._discard(self._spares.popitem(last=False)[1][0])
        # a background open ending meanwhile hands its session to a new cancellation: wait for that too
        deadline = asyncio.get_running_loop().time() + CLOSE_TIMEOUT
        while pending := [t for t in (*self._filling.values(), *self._background) if not t.done()]:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            await asyncio.wait(pending, timeout=remaining)

    # -- internals --------------------------------------------------------------------------------------

    def _fill(self, repository: str) -> None:
        if repository in self._filling:
            return
        self._filling[repository] = asyncio.create_task(self._opened_ahead(repository))
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep())

    async def _opened_ahead(self, repository: str) -> None:
        try:
            session = await self._open(repository)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("could not open a spare upload session for %s", repository, exc_info=True)
            return
        finally:
            # no longer filling from here on (not from a done callback a loop turn later, when a take
            # in between would find a refill still listed and start none)
            self._filling.pop(repository, None)
        if self._closed or repository in self._spares:  # closed meanwhile, or a spare already
            self._discard(session)
            return
        self._spares[repository] = (session, self._clock())
        while len(self._spares) > self._capacity:
            self._discard(self._spares.popitem(last=False)[1][0])

    def _expire(self) -> None:
        """Cancel the spares older than max_age (the oldest come first)."""
        cutoff = self._clock() - self._max_age
        while self._spares:
            repository, (session, opened) = next(iter(self._spares.items()))
            if opened > cutoff:
                return
            del self._spares[repository]
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
