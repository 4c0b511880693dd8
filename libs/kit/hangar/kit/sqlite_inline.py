"""SQLite for the async engine, executed on the event loop's own thread (docs/decisions/0026).

aiosqlite runs each connection on a thread of its own and crosses to it and back for every driver call: a
cursor, an execute, a fetch, a close; about eight crossings and as many event-loop wake-ups per statement,
which cost more CPU than the statements themselves (a write transaction of five statements spent ~0.5 ms
per statement in hand-offs). SQLite in WAL mode answers a query over a local file in microseconds, so this
dialect lets SQLAlchemy's async engine call the standard `sqlite3` module directly: it is SQLAlchemy's own
pysqlite dialect marked as async, with the async engine's pool.

What makes that safe:

- No statement waits for another connection of the process. Readers never wait in WAL mode. Writers would
  (BEGIN IMMEDIATE takes the database's write lock), and a blocked call here would block the loop, and so
  the very transaction holding the lock: `Database` gives each SQLite database one write connection
  (a pool of one), so a second writer of the process waits for the pool, asynchronously, never for the
  lock. Another process writing the same file (not a deployment Hangar makes) is waited for up to the busy
  timeout, with the loop blocked meanwhile.
- A commit in WAL mode with `synchronous=NORMAL` writes to the log without fsync; only the automatic
  checkpoint (every ~4 MiB of log) syncs, a few milliseconds now and then.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.util import await_

DRIVER = "hangar_inline"


class _Cursor(sqlite3.Cursor):
    """A sqlite3 cursor with the one coroutine SQLAlchemy's async results call on a cursor."""

    async def _async_soft_close(self) -> None:
        """Nothing to release early: rows are read from the cursor in the caller's thread as they are."""


class _Connection(sqlite3.Connection):
    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)


class InlineSQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite, usable by `create_async_engine`: every call completes without awaiting anything."""

    driver = DRIVER
    supports_statement_cache = True
    is_async = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        if cls._is_url_file_db(url):
            return pool.AsyncAdaptedQueuePool
        return pool.StaticPool

    def create_connect_args(self, url: URL) -> Any:
        args, kwargs = super().create_connect_args(url)
        kwargs["factory"] = _Connection
        return args, kwargs

    def get_driver_connection(self, connection: Any) -> Any:
        return connection

    # AsyncConnection.execute insists that a statement awaited something (to catch sync drivers used by
    # mistake): hand the loop a finished coroutine, which costs a greenlet switch and no loop iteration.
    def do_execute(self, cursor: Any, statement: Any, parameters: Any, context: Any = None) -> None:
        await_(_done())
        super().do_execute(cursor, statement, parameters, context)  # type: ignore[no-untyped-call]

    def do_executemany(self, cursor: Any, statement: Any, parameters: Any, context: Any = None) -> None:
        await_(_done())
        super().do_executemany(cursor, statement, parameters, context)  # type: ignore[no-untyped-call]

    def do_execute_no_params(self, cursor: Any, statement: Any, context: Any = None) -> None:
        await_(_done())
        super().do_execute_no_params(cursor, statement, context)  # type: ignore[no-untyped-call]


async def _done() -> None:
    return None


registry.register(f"sqlite.{DRIVER}", __name__, "InlineSQLiteDialect")


def inline_url(url: str | URL) -> URL:
    """The same SQLite database, through this dialect (any `sqlite+<driver>` URL)."""
    return make_url(url).set(drivername=f"sqlite+{DRIVER}")
