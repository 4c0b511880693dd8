"""Test support shared by every service's tests: throwaway PostgreSQL databases, NATS, free ports."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg

from hangar.kit import migrations
from hangar.kit.codec import EventCodec
from hangar.kit.db import Database
from hangar.kit.eventstore import Projector
from hangar.kit.natsserver import nats_server_binary
from hangar.kit.uow import UnitOfWorkFactory, ViewsFactory

POSTGRES_DSN = os.environ.get("HANGAR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
SHARED_NATS_URL = os.environ.get("HANGAR_TEST_NATS", "nats://127.0.0.1:4222")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@asynccontextmanager
async def postgres_database(prefix: str = "hangar_test") -> AsyncIterator[str]:
    """Create a database with a unique name on the test PostgreSQL; yield its SQLAlchemy URL; drop it."""
    name = unique_name(prefix)
    admin = await asyncpg.connect(POSTGRES_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = POSTGRES_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        admin = await asyncpg.connect(POSTGRES_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@contextmanager
def nats_server(store_dir: Path) -> Iterator[str]:
    """Run a private JetStream-enabled nats-server on a free loopback port; yield its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=10)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def wait_for_port(port: int, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


async def eventually(check: object, *, within: float = 10.0, interval: float = 0.05) -> None:
    """Await `check()` (sync or async) until it returns truthy, or fail after `within` seconds."""
    deadline = time.monotonic() + within
    last: object = None
    while time.monotonic() < deadline:
        last = check()  # type: ignore[operator]
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {within}s (last result {last!r})")


@asynccontextmanager
async def service_units_of_work(
    database_url: str,
    codec: EventCodec,
    migrations_dir: Path,
    *,
    projectors: Sequence[Projector] = (),
    views: ViewsFactory | None = None,
) -> AsyncIterator[UnitOfWorkFactory[Any]]:
    """A migrated service database and its unit-of-work factory, without NATS (for app and store tests)."""
    await migrations.upgrade(database_url, migrations_dir)
    db = Database(database_url)
    try:
        yield UnitOfWorkFactory(db, codec, subject_prefix="hangar", projectors=projectors, views=views)
    finally:
        await db.dispose()
