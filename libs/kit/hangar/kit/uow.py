"""The unit of work: one database transaction holding events, projections, outbox rows and inbox rows."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from hangar.kit.codec import EventCodec
from hangar.kit.db import Database
from hangar.kit.errors import ConcurrencyConflict
from hangar.kit.eventstore import EventStore, OutboxMessage, Projector
from hangar.kit.inbox import Inbox

V = TypeVar("V")
#: Told the outbox rows a unit of work committed (none for a transaction that appended no event).
OnCommit = Callable[[Sequence[OutboxMessage]], None]
#: Builds a service's read-model queries (its `views`) on the session of a unit of work.
ViewsFactory = Callable[[AsyncConnection], Any]


class UnitOfWork(Generic[V]):
    """`async with uow:` opens a transaction; `await uow.commit()` commits; leaving without commit rolls back.

    `uow.events` is the event store, `uow.views` the service's read models: both on the same transaction,
    held by `uow.session`, a Core connection (every query is a Core statement: no ORM session to pay for).
    After a commit, `on_commit` gets the outbox rows the transaction wrote (the outbox relay publishes them
    from there, docs/decisions/0029).
    """

    def __init__(
        self,
        db: Database,
        codec: EventCodec,
        *,
        subject_prefix: str,
        projectors: Sequence[Projector],
        readonly: bool = False,
        on_commit: OnCommit | None = None,
        views: ViewsFactory | None = None,
    ) -> None:
        self._db = db
        self._views_factory = views
        self._views: Any = None
        self._codec = codec
        self._subject_prefix = subject_prefix
        self._projectors = projectors
        self._readonly = readonly
        self._on_commit = on_commit
        self._session: AsyncConnection | None = None
        self._written: list[OutboxMessage] = []

    @property
    def session(self) -> AsyncConnection:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    @property
    def events(self) -> EventStore:
        return EventStore(
            self.session,
            self._codec,
            subject_prefix=self._subject_prefix,
            projectors=self._projectors,
            written=self._written,
        )

    @property
    def views(self) -> V:
        if self._views is None:
            if self._views_factory is None:
                raise RuntimeError("this unit of work has no views")
            self._views = self._views_factory(self.session)
        return self._views  # type: ignore[no-any-return]

    def inbox(self, consumer: str) -> Inbox:
        return Inbox(self.session, consumer)

    async def __aenter__(self) -> UnitOfWork[V]:
        self._views = None
        self._written = []
        connection = await self._db.connect(readonly=self._readonly)
        try:
            await connection.begin()
        except BaseException:
            await connection.close()
            raise
        self._session = connection
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session, self._session = self.session, None
        try:
            if session.in_transaction():
                await session.rollback()
        finally:
            await session.close()

    async def commit(self) -> None:
        await self.session.commit()
        written, self._written = self._written, []
        if self._on_commit is not None and written:
            self._on_commit(written)


class UnitOfWorkFactory(Generic[V]):
    """Makes units of work for one service; hands the outbox relay what each commit wrote."""

    def __init__(
        self,
        db: Database,
        codec: EventCodec,
        *,
        subject_prefix: str,
        projectors: Sequence[Projector] = (),
        on_commit: OnCommit | None = None,
        views: ViewsFactory | None = None,
    ) -> None:
        self.db = db
        self.views = views
        self.codec = codec
        self.subject_prefix = subject_prefix
        self.projectors = list(projectors)
        self.on_commit = on_commit

    def __call__(self, *, readonly: bool = False) -> UnitOfWork[V]:
        return UnitOfWork(
            self.db,
            self.codec,
            subject_prefix=self.subject_prefix,
            projectors=self.projectors,
            readonly=readonly,
            on_commit=self.on_commit,
            views=self.views,
        )


T = TypeVar("T")


async def retry_on_conflict(
    command: Callable[[], Awaitable[T]], *, attempts: int = 8, backoff: float = 0.005
) -> T:
    """Run a command again when its append lost a race (ConcurrencyConflict); it reloads and re-decides.

    Commands must be whole units of work (open, load, decide, append, commit) so a retry sees fresh state.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await command()
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
            await asyncio.sleep(backoff * attempt * (1 + random.random()))  # noqa: S311 - jitter, not crypto
    raise AssertionError("unreachable")
