"""KeyExpired for keys nobody presents: the background sweep, bounded per pass, once per key."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hangar.keys.app import App
from hangar.keys.domain import KeyExpired, KeyScope, KeyStatus
from hangar.kit import schema, testing
from hangar.kit.errors import Unauthenticated
from hangar.kit.uow import UnitOfWorkFactory


async def expiries(uow: UnitOfWorkFactory[Any]) -> list[Any]:
    async with uow() as u:
        stored = await u.events.read_all()
    return [s.event for s in stored if isinstance(s.event, KeyExpired)]


async def issue(app: App, user: str = "u-1", expires: int | None = 3600) -> Any:
    view, _ = await app.issue_personal_key("acme", user, "ci", ["registry"], expires)
    return view


async def test_the_sweep_records_each_expiry_once_at_the_moment_of_expiry(
    app: App, uow: UnitOfWorkFactory[Any], clock: Any
) -> None:
    soon = await issue(app, "u-1", 3600)
    later = await issue(app, "u-2", 7200)
    never = await issue(app, "u-3", None)
    inactive = await issue(app, "u-4", 3600)
    await app.set_key_active(inactive.key_id, False)
    revoked = await issue(app, "u-5", 3600)
    await app.revoke_key(revoked.key_id, "leaked")
    bot, _ = await app.issue_service_key("acme", "bot", ["registry"], [KeyScope(("get",))], 3600, "u-admin")

    assert await app.expire_due_keys() == []
    clock.advance(3599)
    assert await app.expire_due_keys() == []

    clock.advance(1)  # the instant of expiry
    assert sorted(await app.expire_due_keys()) == sorted([soon.key_id, inactive.key_id, bot.key_id])
    clock.advance(3600 * 5)
    assert await app.expire_due_keys() == [later.key_id]
    assert await app.expire_due_keys() == []

    recorded = {e.key_id: e for e in await expiries(uow)}
    assert set(recorded) == {soon.key_id, inactive.key_id, bot.key_id, later.key_id}
    assert recorded[later.key_id] == KeyExpired(
        key_id=later.key_id, org="acme", owner_user_id="u-2", expired_at=later.expires_at
    )
    assert recorded[bot.key_id].owner_user_id == ""
    assert (await app.get_key(soon.key_id)).status is KeyStatus.EXPIRED
    assert (await app.get_key(never.key_id)).status is KeyStatus.ACTIVE
    assert (await app.get_key(revoked.key_id)).status is KeyStatus.REVOKED


async def test_a_pass_is_bounded(app: App, uow: UnitOfWorkFactory[Any], clock: Any) -> None:
    for i in range(5):
        await issue(app, f"u-{i}")
    clock.advance(3600)

    assert [len(await app.expire_due_keys(limit=2)) for _ in range(4)] == [2, 2, 1, 0]
    assert len(await expiries(uow)) == 5


async def test_the_sweep_and_a_lazy_expiry_record_it_once_together(
    app: App, uow: UnitOfWorkFactory[Any], clock: Any
) -> None:
    _, secret = await app.issue_personal_key("acme", "u-1", "ci", ["registry"], 3600)
    clock.advance(3600)

    with pytest.raises(Unauthenticated):
        await app.authenticate(secret)  # records it
    assert await app.expire_due_keys() == []
    with pytest.raises(Unauthenticated) as caught:
        await app.authenticate(secret)
    assert caught.value.code == "KEY_EXPIRED"
    assert len(await expiries(uow)) == 1


async def test_the_background_job_sweeps_every_interval_until_stopped(
    app: App, uow: UnitOfWorkFactory[Any], clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        await issue(app, f"u-{i}")
    passes: list[int] = []
    real = app.expire_due_keys

    async def counted(limit: int = 100) -> list[str]:
        if not passes:
            passes.append(-1)
            raise RuntimeError("the database went away")  # a failed pass does not end the job
        expired = await real(limit)
        passes.append(len(expired))
        return expired

    monkeypatch.setattr(app, "expire_due_keys", counted)
    stop = asyncio.Event()
    job = asyncio.create_task(app.run_expiry_sweep(stop, interval=0.02, batch=2))
    try:
        await testing.eventually(lambda: len(passes) >= 3, within=5)
        assert await expiries(uow) == []  # nothing is due yet
        clock.advance(3600)
        await testing.eventually(lambda: sum(n for n in passes if n > 0) == 5, within=5)
        # A full batch is followed at once by another pass: 2, 2, 1.
        assert [n for n in passes if n > 0] == [2, 2, 1]
    finally:
        stop.set()
        await asyncio.wait_for(job, 2)
    assert job.result() is None
    assert len(await expiries(uow)) == 5


async def test_the_background_job_stops_at_once_when_asked(app: App) -> None:
    stop = asyncio.Event()
    job = asyncio.create_task(app.run_expiry_sweep(stop, interval=3600))
    await asyncio.sleep(0.05)

    stop.set()

    await asyncio.wait_for(job, 1)


async def test_expiring_writes_nothing_but_the_events(
    app: App, uow: UnitOfWorkFactory[Any], clock: Any
) -> None:
    view = await issue(app)
    clock.advance(timedelta(hours=2).total_seconds())
    await app.expire_due_keys()

    async with uow() as u:
        types = (await u.session.execute(select(schema.events.c.type))).scalars().all()
    assert [t.rsplit(".", 1)[-1] for t in types] == ["KeyIssued", "KeyExpired"]
    assert (await app.get_key(view.key_id)).last_used_at is None
