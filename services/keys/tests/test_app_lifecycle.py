"""Personal keys on a real SQLite database: rename, (de)activate, rotate, update services, delete, limits."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from hangar.keys.app import App
from hangar.keys.domain import ApiKey, KeyStatus
from hangar.keys.store import api_keys
from hangar.kit import schema
from hangar.kit.errors import FailedPrecondition, InvalidArgument, LimitExceeded, NotFound, Unauthenticated
from hangar.kit.uow import UnitOfWorkFactory


async def issue(app: App, user: str = "u-1", org: str = "acme", **kwargs: Any) -> tuple[Any, str]:
    return await app.issue_personal_key(
        org, user, kwargs.pop("name", "ci"), kwargs.pop("services", ["registry"]), kwargs.pop("expires", None)
    )


async def refusal(app: App, secret: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        await app.authenticate(secret)
    return caught.value.code


async def events_of(uow: UnitOfWorkFactory[Any], key_id: str) -> list[Any]:
    async with uow() as u:
        return [stored.event for stored in await u.events.load(ApiKey.stream_for(key_id))]


async def event_names(uow: UnitOfWorkFactory[Any], key_id: str) -> list[str]:
    return [type(event).__name__ for event in await events_of(uow, key_id)]


# -- rotation -----------------------------------------------------------------------------------------------


async def test_rotation_kills_the_old_secret_on_the_very_next_authenticate(
    app: App, uow: UnitOfWorkFactory[Any], clock: Any
) -> None:
    issued, old = await issue(app, expires=7200)
    await app.authenticate(old)  # warm: the key has a last use

    rotated, new = await app.rotate_key(issued.key_id)

    assert await refusal(app, old) == "KEY_INVALID"
    assert (await app.authenticate(new)).key_id == issued.key_id
    assert rotated.key_id == issued.key_id
    assert rotated.prefix == new[:12] != issued.prefix
    assert (rotated.name, rotated.services, rotated.expires_at) == (
        issued.name,
        issued.services,
        issued.expires_at,
    )
    assert rotated.last_used_at == clock.now  # the response carries the read model's metadata
    assert await event_names(uow, issued.key_id) == ["KeyIssued", "KeyRotated"]
    # Rotating again kills the second secret too.
    _, newest = await app.rotate_key(issued.key_id)
    assert await refusal(app, new) == "KEY_INVALID"
    assert (await app.authenticate(newest)).key_id == issued.key_id


async def test_rotation_draws_a_prefix_no_other_key_uses(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    from hangar.keys.domain import GeneratedSecret, KeySecret

    first, _ = await issue(app)
    second, _ = await issue(app, name="second")
    real = KeySecret.generate
    draws = iter([f"{first.prefix}_{'C' * 43}"])

    def generate() -> GeneratedSecret:
        secret = next(draws, None)
        return real() if secret is None else GeneratedSecret(secret, secret[:12], KeySecret.hash_of(secret))

    monkeypatch.setattr(KeySecret, "generate", staticmethod(generate))
    rotated, secret = await app.rotate_key(second.key_id)
    assert rotated.prefix != first.prefix
    assert (await app.authenticate(secret)).key_id == second.key_id


async def test_a_revoked_or_expired_key_cannot_be_rotated(app: App, clock: Any) -> None:
    revoked, _ = await issue(app)
    await app.revoke_key(revoked.key_id, "leaked")
    expiring, _ = await issue(app, name="short", expires=3600)
    clock.advance(3600)

    for key_id, code in ((revoked.key_id, "KEY_REVOKED"), (expiring.key_id, "KEY_EXPIRED")):
        with pytest.raises(FailedPrecondition) as caught:
            await app.rotate_key(key_id)
        assert caught.value.code == code


# -- activation ---------------------------------------------------------------------------------------------


async def test_deactivate_refuses_at_once_and_activate_restores(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    issued, secret = await issue(app)
    await app.authenticate(secret)

    inactive = await app.set_key_active(issued.key_id, False)
    assert inactive.status is KeyStatus.INACTIVE
    assert await refusal(app, secret) == "KEY_INACTIVE"
    assert (await app.get_key(issued.key_id)).status is KeyStatus.INACTIVE
    await app.set_key_active(issued.key_id, False)  # idempotent

    active = await app.set_key_active(issued.key_id, True)
    assert active.status is KeyStatus.ACTIVE
    assert (await app.authenticate(secret)).key_id == issued.key_id
    assert await event_names(uow, issued.key_id) == ["KeyIssued", "KeyDeactivated", "KeyActivated"]


async def test_inactive_keys_count_against_the_limit(app: App) -> None:
    keys = [await issue(app, name=f"key {i}") for i in range(8)]
    for view, _ in keys[:4]:
        await app.set_key_active(view.key_id, False)

    with pytest.raises(LimitExceeded) as caught:
        await issue(app, name="ninth")
    assert caught.value.code == "PERSONAL_KEY_LIMIT"

    await app.delete_key(keys[0][0].key_id)  # a deleted key frees its slot
    await issue(app, name="ninth")


async def test_an_expired_key_cannot_be_activated(app: App, clock: Any) -> None:
    issued, _ = await issue(app, expires=3600)
    await app.set_key_active(issued.key_id, False)
    clock.advance(3600)

    with pytest.raises(FailedPrecondition) as caught:
        await app.set_key_active(issued.key_id, True)
    assert caught.value.code == "KEY_EXPIRED"


# -- updates ------------------------------------------------------------------------------------------------


async def test_rename_and_update_services(app: App, uow: UnitOfWorkFactory[Any]) -> None:
    issued, secret = await issue(app)

    updated = await app.update_key(issued.key_id, name=" nightly ", services=["admin", "registry"])

    assert (updated.name, updated.services) == ("nightly", ("registry", "admin"))
    assert (await app.authenticate(secret)).services == ("registry", "admin")
    assert (await app.get_key(issued.key_id)).name == "nightly"
    assert await event_names(uow, issued.key_id) == ["KeyIssued", "KeyRenamed", "KeyServicesUpdated"]
    # The same values change nothing; nothing asked changes nothing.
    await app.update_key(issued.key_id, name="nightly", services=["registry", "admin"])
    await app.update_key(issued.key_id)
    assert len(await events_of(uow, issued.key_id)) == 3


async def test_an_update_is_all_or_nothing(app: App, uow: UnitOfWorkFactory[Any]) -> None:
    issued, _ = await issue(app)

    with pytest.raises(InvalidArgument) as caught:
        await app.update_key(issued.key_id, name="renamed", services=[])
    assert caught.value.code == "KEY_SERVICES_EMPTY"
    with pytest.raises(FailedPrecondition) as mismatch:
        await app.update_key(issued.key_id, name="renamed", scopes=[])
    assert mismatch.value.code == "KEY_TYPE_MISMATCH"

    assert (await app.get_key(issued.key_id)).name == "ci"
    assert await event_names(uow, issued.key_id) == ["KeyIssued"]


# -- deletion -----------------------------------------------------------------------------------------------


async def test_delete_revokes_and_hides_the_key(app: App, uow: UnitOfWorkFactory[Any], clock: Any) -> None:
    deleted, secret = await issue(app, name="doomed")
    clock.advance(1)
    kept, _ = await issue(app, name="kept")

    await app.delete_key(deleted.key_id)

    assert await refusal(app, secret) == "KEY_REVOKED"
    assert [k.key_id for k in await app.list_keys("u-1")] == [kept.key_id]
    assert [k.key_id for k in (await app.list_org_keys("acme")).keys] == [kept.key_id]
    dead = (await app.list_org_keys("acme", include_dead=True)).keys
    assert [(k.key_id, k.status, k.deleted) for k in dead] == [
        (deleted.key_id, KeyStatus.REVOKED, True),
        (kept.key_id, KeyStatus.ACTIVE, False),
    ]
    events = await events_of(uow, deleted.key_id)
    assert [type(e).__name__ for e in events] == ["KeyIssued", "KeyRevoked", "KeyDeleted"]
    assert events[1].reason == "deleted"
    async with uow() as u:
        row = (await u.session.execute(select(api_keys).where(api_keys.c.key_id == deleted.key_id))).one()
    assert (row.status, row.deleted) == ("revoked", True)


async def test_a_deleted_key_is_gone_for_every_command(app: App) -> None:
    issued, _ = await issue(app)
    await app.delete_key(issued.key_id)

    commands = [
        app.get_key(issued.key_id),
        app.delete_key(issued.key_id),
        app.revoke_key(issued.key_id, "again"),
        app.rotate_key(issued.key_id),
        app.set_key_active(issued.key_id, True),
        app.update_key(issued.key_id, name="x"),
    ]
    for command in commands:
        with pytest.raises(NotFound) as caught:
            await command
        assert caught.value.code == "KEY_NOT_FOUND"


async def test_commands_on_an_unknown_key_are_not_found(app: App, uow: UnitOfWorkFactory[Any]) -> None:
    for command in (
        app.rotate_key("nope"),
        app.set_key_active("nope", False),
        app.update_key("nope", name="x"),
        app.delete_key("nope"),
        app.delete_key(""),
    ):
        with pytest.raises(NotFound) as caught:
            await command
        assert caught.value.code == "KEY_NOT_FOUND"
    async with uow() as u:
        assert (await u.session.execute(select(schema.events.c.event_id))).all() == []
