"""Legacy keys: one per user per org; regenerating revokes the previous one in the same transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from hangar.keys.app import App
from hangar.keys.domain import ApiKey, KeyRevoked, KeyStatus, KeyType
from hangar.kit.errors import FailedPrecondition, InvalidArgument, Unauthenticated
from hangar.kit.uow import UnitOfWorkFactory


async def refusal(app: App, secret: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        await app.authenticate(secret)
    return caught.value.code


async def test_a_legacy_key_has_every_service_and_never_expires(app: App, clock: Any) -> None:
    issued, secret = await app.issue_legacy_key("acme", "u-1")

    assert issued.key_type is KeyType.LEGACY
    assert (issued.org, issued.owner_user_id, issued.created_by) == ("acme", "u-1", "u-1")
    assert issued.services == ("registry", "admin")
    assert issued.expires_at is None
    clock.advance(timedelta(days=365 * 20).total_seconds())
    assert (await app.authenticate(secret)).key_id == issued.key_id


async def test_a_second_legacy_key_revokes_the_first(app: App, uow: UnitOfWorkFactory[Any]) -> None:
    first, first_secret = await app.issue_legacy_key("acme", "u-1")
    elsewhere, elsewhere_secret = await app.issue_legacy_key("other", "u-1")
    colleague, _ = await app.issue_legacy_key("acme", "u-2")

    second, second_secret = await app.issue_legacy_key("acme", "u-1")

    assert second.key_id != first.key_id
    assert await refusal(app, first_secret) == "KEY_REVOKED"
    assert (await app.authenticate(second_secret)).key_id == second.key_id
    assert (await app.authenticate(elsewhere_secret)).key_id == elsewhere.key_id
    assert (await app.get_key(colleague.key_id)).status is KeyStatus.ACTIVE
    async with uow() as u:
        stored = await u.events.load(ApiKey.stream_for(first.key_id))
    assert stored[-1].event == KeyRevoked(
        key_id=first.key_id, org="acme", owner_user_id="u-1", reason="regenerated"
    )
    listed = {k.key_id: (k.key_type, k.status) for k in await app.list_keys("u-1") if k.org == "acme"}
    assert listed == {
        first.key_id: (KeyType.LEGACY, KeyStatus.REVOKED),
        second.key_id: (KeyType.LEGACY, KeyStatus.ACTIVE),
    }
    live = (await app.list_org_keys("acme", user_id="u-1")).keys
    assert [k.key_id for k in live] == [second.key_id]


async def test_regenerating_after_deletion_issues_a_new_one(app: App) -> None:
    first, _ = await app.issue_legacy_key("acme", "u-1")
    await app.delete_key(first.key_id)

    second, secret = await app.issue_legacy_key("acme", "u-1")

    assert (await app.authenticate(secret)).key_id == second.key_id


async def test_legacy_keys_do_not_count_against_personal_keys(app: App) -> None:
    await app.issue_legacy_key("acme", "u-1")
    for i in range(8):
        await app.issue_personal_key("acme", "u-1", f"k{i}", ["registry"], None)


async def test_a_legacy_key_is_regenerated_or_deleted_nothing_else(app: App) -> None:
    issued, _ = await app.issue_legacy_key("acme", "u-1")

    for command in (
        app.rotate_key(issued.key_id),
        app.set_key_active(issued.key_id, False),
        app.update_key(issued.key_id, name="mine"),
    ):
        with pytest.raises(FailedPrecondition) as caught:
            await command
        assert caught.value.code == "KEY_TYPE_MISMATCH"
    await app.delete_key(issued.key_id)


async def test_a_legacy_key_needs_an_org_and_a_user(app: App) -> None:
    for org, user in (("", "u-1"), ("acme", ""), ("acme", "u 1")):
        with pytest.raises(InvalidArgument):
            await app.issue_legacy_key(org, user)
