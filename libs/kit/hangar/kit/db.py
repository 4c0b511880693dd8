"""Async SQLAlchemy engines for SQLite (embedded) and PostgreSQL (distributed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from hangar.kit import sqlite_inline

#: How long a SQLite writer waits for the database's one write connection before giving up.
WRITE_WAIT_SECONDS = 60.0


class Database:
    """The engines of one service database.

    On SQLite every write transaction starts with BEGIN IMMEDIATE, so two writers queue on the lock instead
    of one failing when it upgrades a read lock; reads use a second engine with deferred transactions, so
    they never wait for a writer (WAL).
    """

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.is_postgres = parsed.get_backend_name() == "postgresql"
        if self.is_sqlite:
            # One write connection: a second writer of this process waits for it in the pool instead of
            # blocking the event loop on SQLite's write lock (sqlite_inline runs statements on the loop).
            self.engine = _sqlite_engine(
                url, immediate=True, pool_size=1, max_overflow=0, pool_timeout=WRITE_WAIT_SECONDS
            )
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            self.engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self.read_engine = self.engine

    async def connect(self, *, readonly: bool = False) -> AsyncConnection:
        """A connection from the write engine (or, `readonly`, the read engine); the caller begins and
        closes it."""
        return await (self.read_engine if readonly else self.engine).connect()

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


def _sqlite_engine(url: str, *, immediate: bool, **pool: Any) -> AsyncEngine:
    engine = create_async_engine(sqlite_inline.inline_url(url), connect_args={"timeout": 30}, **pool)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Straight to the driver: a statement of SQLAlchemy's own (exec_driver_sql) would cost an execution
        # context and a result per transaction for a statement that returns nothing.
        connection.connection.driver_connection.execute(begin)

    return engine
