"""The blobstore's commands and queries: upload sessions in the event store, bytes in a `BlobBackend`."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from hangar.blobstore.backend import (
    DEFAULT_READ_CHUNK,
    BlobBackend,
    BlobLocator,
    BlobPresigner,
    UploadLocator,
)
from hangar.blobstore.domain import (
    CANCELLED_BY_CLIENT,
    DEFAULT_REDIRECT_EXPIRY_SECONDS,
    DIGEST_MISMATCH,
    BlobCollection,
    Digest,
    NoDirectUrl,
    UploadSession,
    UploadState,
    WrittenHash,
    check_access,
    check_redirect_expiry,
    check_upload_id,
    require_open,
)
from hangar.kit.errors import FailedPrecondition, InvalidArgument, NotFound
from hangar.kit.uow import UnitOfWork, UnitOfWorkFactory, retry_on_conflict

#: The most uploads one StartUpload opens (one transaction; a gateway's sessions opened ahead).
MAX_UPLOADS_AT_ONCE = 16


@dataclasses.dataclass(frozen=True)
class UploadView:
    upload_id: str
    owner: str
    state: UploadState
    created_at: datetime
    updated_at: datetime


@dataclasses.dataclass(frozen=True)
class BlobView:
    digest: str
    size: int
    created_at: datetime


@dataclasses.dataclass(frozen=True)
class DirectUrl:
    """A presigned URL of a stored blob, valid for `expires_in` seconds from when it was made."""

    url: str = dataclasses.field(repr=False)  # a bearer capability: kept out of reprs and logs
    expires_in: int


@dataclasses.dataclass(frozen=True)
class BlobLocation:
    """Where a stored blob's file lies relative to the backend's root (None: the backend has no files)."""

    path: str | None
    size: int


@dataclasses.dataclass(frozen=True)
class Redirects:
    """Whether readers may be sent straight to storage (HANGAR_S3_REDIRECT), and for how long a URL lives."""

    enabled: bool = False
    expires_in: int = DEFAULT_REDIRECT_EXPIRY_SECONDS

    def __post_init__(self) -> None:
        check_redirect_expiry(self.expires_in)


class Views(Protocol):
    """The read models the app queries (implemented by `store.SqlViews`)."""

    async def upload(self, upload_id: str) -> UploadView | None: ...

    async def blob(self, digest: str) -> BlobView | None: ...

    async def condemned(self, digest: str) -> bool:
        """Whether garbage collection has condemned the blob (and not spared or deleted it since)."""
        ...

    async def lock_collection(self, digest: str) -> None:
        """Hold the digest's garbage-collection row (if it has one) until the unit of work ends: a sweep
        deleting the blob and an upload sparing it then happen one after the other."""
        ...

    async def condemned_before(self, cutoff: datetime, limit: int) -> list[str]:
        """Digests condemned at or before `cutoff`, oldest first, at most `limit`."""
        ...


def new_upload_id() -> str:
    return uuid.uuid4().hex


def utc_now() -> datetime:
    return datetime.now(UTC)


log = logging.getLogger(__name__)


class App:
    """Upload sessions (start, write, query, commit, cancel) and blobs (stat, read).

    Session state lives in the event store, and so survives restarts and is shared by every replica; bytes
    live in the backend. Writes check the session in the read model and go straight to the backend (no event
    per chunk); reads never touch the database.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory[Views],
        backend: BlobBackend,
        new_id: Callable[[], str] = new_upload_id,
        *,
        presigner: BlobPresigner | None = None,
        locator: BlobLocator | None = None,
        upload_locator: UploadLocator | None = None,
        redirects: Redirects = Redirects(),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._uow = uow
        self._backend = backend
        self._new_id = new_id
        self._presigner = presigner
        self._locator = locator
        self._upload_locator = upload_locator
        self._redirects = redirects
        self._clock = clock

    # -- upload sessions -------------------------------------------------------------------------------

    async def start_upload(self, owner: str) -> str:
        """Open an upload for `owner` (a repository path); returns its id."""
        return (await self.start_uploads(owner, 1))[0]

    async def start_uploads(self, owner: str, count: int) -> list[str]:
        """Open `count` uploads for `owner` at once, recorded in one transaction; returns their ids in
        order. Nothing is left behind if any of them cannot be opened."""
        if not 1 <= count <= MAX_UPLOADS_AT_ONCE:
            raise InvalidArgument(f"open 1 to {MAX_UPLOADS_AT_ONCE} uploads at once, not {count}")
        sessions = [UploadSession.start(self._new_id(), owner) for _ in range(count)]
        created: list[str] = []
        try:
            for session in sessions:
                await self._backend.create_upload(session.id)
                created.append(session.id)
            async with self._uow() as uow:
                for session in sessions:
                    await uow.events.append(session.stream_id, 0, session.collect())
                await uow.commit()
        except BaseException:
            for upload_id in created:
                with contextlib.suppress(Exception):
                    await self._backend.cancel(upload_id)
            raise
        return [session.id for session in sessions]

    def upload_file(self, upload_id: str) -> str | None:
        """The upload's data file relative to the blob directory, for writers sharing it (filesystem), or
        None when the backend has no files. Says nothing about the session: ask `query`."""
        if self._upload_locator is None:
            return None
        return self._upload_locator.upload_file(upload_id)

    def blob_file(self, digest: str) -> str | None:
        """Where a committed blob's file lies relative to the blob directory, for readers sharing it
        (filesystem), or None when the backend has no files. Says nothing about the blob: ask `stat`."""
        if self._locator is None:
            return None
        return self._locator.blob_file(Digest.parse(digest))

    async def write(
        self,
        upload_id: str,
        offset: int | None,
        chunks: AsyncIterable[bytes],
        *,
        owner: str | None = None,
    ) -> int:
        """Append `chunks` at `offset` (the bytes received so far; None: wherever the upload ends now);
        returns how many bytes the upload holds.

        A wrong offset is OutOfRange (RANGE_INVALID) and writes nothing (so does a write at the end that a
        concurrent write to the same upload overtakes). If `chunks` raises, the bytes that came before are
        kept and the error propagates.
        """
        await self._open_session(upload_id, owner, "write to")
        if offset is None:
            offset = await self._backend.upload_size(upload_id)
        return await self._backend.append(upload_id, offset, chunks)

    async def query(self, upload_id: str, *, owner: str | None = None) -> tuple[str, int]:
        """The owner of an open upload and how many bytes it holds (the offset of the next write)."""
        session = await self._open_session(upload_id, owner, "query")
        return session.owner, await self._backend.upload_size(upload_id)

    async def commit(
        self,
        upload_id: str,
        digest: str,
        *,
        owner: str | None = None,
        written: WrittenHash | None = None,
    ) -> tuple[str, int]:
        """Store the upload as the blob `digest`; returns the canonical digest and the blob's size.

        `written`: the hash a writer sharing the backend's files computed as it wrote (`WrittenHash`).

        Content that does not hash to `digest` is discarded, the session is cancelled and InvalidArgument
        (DIGEST_INVALID) is raised: nothing becomes visible. Committing again as the same digest answers the
        same (a retry after a lost reply).
        """
        expected = Digest.parse(digest)
        check_upload_id(upload_id)
        # One read-only transaction: the session, and whether garbage collection condemned the digest.
        async with self._uow(readonly=True) as uow:
            session = await _load_session(uow, upload_id)
            condemned = await uow.views.condemned(str(expected))
        session.check_access(owner)
        size = session.committed_as(expected)
        if size is not None:
            return str(expected), size
        require_open(upload_id, session.state, "commit")
        # Before the backend may deduplicate against stored bytes: a condemned blob is spared first, so a
        # sweep cannot delete the bytes this commit is about to rely on (docs/decisions/0017).
        if condemned:
            await self._spare(str(expected))
        try:
            size, new_content = await self._backend.commit(upload_id, expected, written)
        except InvalidArgument as refused:
            if refused.code == "DIGEST_INVALID":
                # The backend already discarded the bytes; a session closed meanwhile needs nothing more.
                with contextlib.suppress(FailedPrecondition):
                    await self._record(upload_id, lambda s: s.cancel(DIGEST_MISMATCH))
            raise
        # The backend verified the content against `expected`, so it is also the actual digest.
        await self._record(
            upload_id, lambda s: s.commit(expected, expected, size, new_content), loaded=session
        )
        return str(expected), size

    async def cancel(self, upload_id: str, *, owner: str | None = None) -> None:
        """Discard an open upload and its bytes."""
        await self._open_session(upload_id, owner, "cancel")
        # Bytes first: an upload being written to refuses (ConcurrencyConflict) and nothing is recorded. If
        # recording fails after the bytes are gone, a retry finds no bytes and records the cancel.
        with contextlib.suppress(NotFound):
            await self._backend.cancel(upload_id)
        await self._record(upload_id, lambda s: s.cancel(CANCELLED_BY_CLIENT))

    # -- blobs -----------------------------------------------------------------------------------------

    async def stat(self, digest: str) -> int:
        """The size of a stored blob; NotFound (BLOB_UNKNOWN) if there is none."""
        canonical = str(Digest.parse(digest))
        async with self._uow(readonly=True) as uow:
            blob = await uow.views.blob(canonical)
        if blob is None:
            raise NotFound(f"blob {canonical} does not exist", code="BLOB_UNKNOWN")
        return blob.size

    async def presign(self, digest: str) -> DirectUrl | NoDirectUrl:
        """A presigned URL of a stored blob, or why there is none; NotFound (BLOB_UNKNOWN) if no such blob.

        Existence is checked in the read model and the URL is signed locally: no request to storage.
        """
        parsed = Digest.parse(digest)
        await self.stat(str(parsed))
        if not self._redirects.enabled:
            return NoDirectUrl.DISABLED
        if self._presigner is None:
            return NoDirectUrl.BACKEND
        expires_in = self._redirects.expires_in
        return DirectUrl(await self._presigner.presign(parsed, expires_in), expires_in)

    async def locate(self, digest: str) -> BlobLocation:
        """Where a stored blob's file lies (filesystem), or a location without a path (S3); NotFound
        (BLOB_UNKNOWN) if no such blob. With files, existence is the file's, as for `read`."""
        parsed = Digest.parse(digest)
        if self._locator is None:
            return BlobLocation(None, await self.stat(str(parsed)))
        found = await self._locator.locate(parsed)
        if found is None:
            raise NotFound(f"blob {parsed} does not exist", code="BLOB_UNKNOWN")
        return BlobLocation(*found)

    async def read(
        self, digest: str, offset: int = 0, length: int | None = None, *, chunk_size: int = DEFAULT_READ_CHUNK
    ) -> AsyncIterator[bytes]:
        """Stream a blob, or `length` bytes of it from `offset` (to the end if None), from the backend.

        Awaiting checks the blob exists (NotFound, BLOB_UNKNOWN) and the range fits (OutOfRange,
        RANGE_INVALID) before any byte is sent; then iterate the result.
        """
        return await self._backend.read(Digest.parse(digest), offset, length, chunk_size)

    # -- garbage collection (docs/decisions/0017) ------------------------------------------------------

    async def note_orphaned(self, uow: UnitOfWork[Any], digest: str, generation: int) -> None:
        """The registry reports no repository links `digest` (as of `generation`): condemn it, in the
        consumer's unit of work (committed with its inbox row). An older report than one applied is
        ignored."""
        collection = await _load_collection(uow, str(Digest.parse(digest)))
        collection.orphaned(generation, self._clock())
        await _append(uow, collection)

    async def note_referenced(self, uow: UnitOfWork[Any], digest: str, generation: int) -> None:
        """The registry reports a repository links `digest` again (as of `generation`): spare it."""
        collection = await _load_collection(uow, str(Digest.parse(digest)))
        collection.referenced(generation)
        await _append(uow, collection)

    async def collect_garbage(self, grace: timedelta, limit: int = 100) -> int:
        """Delete the bytes of at most `limit` blobs condemned for longer than `grace`; return how many.

        One blob per transaction: its garbage-collection row is held while the bytes are deleted and
        BlobDeleted is recorded, so an upload of the same content waits and then finds the blob gone (and
        stores it anew), or spares it first and the sweep skips it. A crash after the bytes went and before
        the commit leaves the blob condemned; the next sweep finds no bytes and records the deletion.
        """
        if limit <= 0:
            return 0
        async with self._uow(readonly=True) as uow:
            due = await uow.views.condemned_before(self._clock() - grace, limit)
        deleted = 0
        for digest in due:
            try:
                if await retry_on_conflict(functools.partial(self._collect, digest, grace)):
                    deleted += 1
            except Exception:
                log.warning("garbage collection of %s failed; the next sweep retries", digest, exc_info=True)
        return deleted

    async def _collect(self, digest: str, grace: timedelta) -> bool:
        async with self._uow() as uow:
            await uow.views.lock_collection(digest)
            collection = await _load_collection(uow, digest)
            if not collection.collectable(self._clock(), grace):
                return False
            blob = await uow.views.blob(digest)
            parsed = Digest.parse(digest)
            size = blob.size if blob is not None else (await self._backend.stat(parsed) or 0)
            with contextlib.suppress(NotFound):
                await self._backend.delete(parsed)
            collection.delete(self._clock(), grace, size)
            await _append(uow, collection)
            await uow.commit()
        log.info("garbage collection deleted %s (%d bytes)", digest, size)
        return True

    async def _spare(self, digest: str) -> None:
        """Record that an upload relies on a condemned blob's bytes (under the row lock the sweep takes)."""

        async def spare() -> None:
            async with self._uow() as uow:
                await uow.views.lock_collection(digest)
                collection = await _load_collection(uow, digest)
                collection.uploaded()
                if await _append(uow, collection):
                    await uow.commit()

        await retry_on_conflict(spare)

    # -- internals -------------------------------------------------------------------------------------

    async def _open_session(self, upload_id: str, owner: str | None, action: str) -> UploadView:
        """The read model's view of an upload the caller may see, refusing one that is not open."""
        check_upload_id(upload_id)
        async with self._uow(readonly=True) as uow:
            view = await uow.views.upload(upload_id)
        check_access(upload_id, None if view is None else view.owner, owner)
        assert view is not None
        require_open(upload_id, view.state, action)
        return view

    async def _record(
        self,
        upload_id: str,
        decide: Callable[[UploadSession], None],
        *,
        loaded: UploadSession | None = None,
    ) -> None:
        """Load the session, let `decide` record events on it, append them; re-decide after a lost race.

        `loaded`: the session as read earlier (nothing recorded on it), decided on first instead of loading
        it again; the append is at the version it was read at, so a change since makes it a lost race.
        """
        given = loaded

        async def attempt() -> None:
            nonlocal given
            async with self._uow() as uow:
                session = given if given is not None else await _load_session(uow, upload_id)
                given = None
                decide(session)
                await uow.events.append(session.stream_id, session.loaded_version, session.collect())
                await uow.commit()

        await retry_on_conflict(attempt)


async def _append(uow: UnitOfWork[Any], collection: BlobCollection) -> bool:
    """Append what `collection` recorded, at the version it was loaded at; whether there was anything."""
    expected, events = collection.loaded_version, collection.collect()
    if events:
        await uow.events.append(collection.stream_id, expected, events)
    return bool(events)


async def _load_collection(uow: UnitOfWork[Any], digest: str) -> BlobCollection:
    stored = await uow.events.load(BlobCollection.stream_for(digest))
    return BlobCollection.rehydrate(digest, (record.event for record in stored))


async def _load_session(uow: UnitOfWork[Views], upload_id: str) -> UploadSession:
    stored = await uow.events.load(UploadSession.stream_for(upload_id))
    return UploadSession.rehydrate(upload_id, (record.event for record in stored))
