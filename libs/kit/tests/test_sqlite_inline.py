"""SQLite on the event loop (decision 0026): writers of one process queue for the one write connection
without ever blocking the loop, and readers go on meanwhile."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

from sqlalchemy import func, select, text

from hangar.kit import migrations, schema
from hangar.kit.db import Database


async def test_a_second_writer_waits_for_the_first_without_blocking_the_loop(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kit.db'}"
    await migrations.upgrade(url, None)
    db = Database(url)
    assert db.engine.dialect.driver == "hangar_inline"
    order: list[str] = []
    ticks: list[float] = []
    stop = asyncio.Event()

    async def heartbeat() -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            await asyncio.sleep(0.005)

    async def writer(name: str, hold: float) -> None:
        async with db.engine.begin() as connection:  # BEGIN IMMEDIATE: SQLite's write lock
            order.append(f"{name} began")
            await connection.execute(text("INSERT INTO writer_probe (name) VALUES (:name)"), {"name": name})
            await asyncio.sleep(hold)  # awaits something else while holding the lock
            order.append(f"{name} commits")

    try:
        async with db.engine.begin() as connection:
            await connection.execute(text("CREATE TABLE writer_probe (name TEXT)"))
        beating = asyncio.create_task(heartbeat())
        first = asyncio.create_task(writer("first", 0.3))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(writer("second", 0))
        # a reader is not held up by either writer
        async with db.read_engine.connect() as reader:
            started = time.monotonic()
            await reader.execute(select(func.count()).select_from(schema.outbox))
            assert time.monotonic() - started < 0.1
        await asyncio.wait_for(asyncio.gather(first, second), timeout=10)
        stop.set()
        await beating
    finally:
        await db.dispose()
    assert order == ["first began", "first commits", "second began", "second commits"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    assert max(gaps) < 0.2, f"the loop stalled for {max(gaps):.3f}s"
