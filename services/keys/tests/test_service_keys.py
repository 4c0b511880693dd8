"""Service keys over a real SQLite database: scopes, the 50-per-org limit, independence from their creator."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from hangar.keys.app import App
from hangar.keys.domain import SERVICE_KEYS_PER_ORG, ApiKey, KeyScope, KeyStatus, KeyType
from hangar.keys.store import api_keys, codec
from hangar.kit import schema
from hangar.kit.errors import FailedPrecondition, InvalidArgument, LimitExceeded
from hangar.kit.uow import UnitOfWorkFactory

SCOPES = [
    KeyScope(("push", "get"), ("model", "container"), team="vision"),
    KeyScope(("list",), (), repository="acme/shared/datasets"),
]
CANONICAL = (
    KeyScope(("get", "push"), ("container", "model"), team="vision"),
    KeyScope(("list",), (), repository="acme/shared/datasets"),
)


async def issue_service(app: App, org: str = "acme", **kwargs: Any) -> tuple[Any, str]:
    return await app.issue_service_key(
        org,
        kwargs.pop("name", "deploy bot"),
        kwargs.pop("services", ["registry"]),
        kwargs.pop("scopes", SCOPES),
        kwargs.pop("expires", None),
        kwargs.pop("created_by", "u-admin"),
    )


async def row_counts(uow: UnitOfWorkFactory[Any]) -> tuple[int, int, int]:
    async with uow() as u:
        counts = []
        for table in (schema.events, schema.outbox, api_keys):
            counts.append((await u.session.execute(select(func.count()).select_from(table))).scalar_one())
        return counts[0], counts[1], counts[2]


async def test_a_service_key_authenticates_with_its_scopes(app: App, clock: Any) -> None:
    issued, secret = await issue_service(app, expires=86400)

    assert issued.key_type is KeyType.SERVICE
    assert (issued.owner_user_id, issued.created_by) == ("", "u-admin")
    assert issued.scopes == CANONICAL
    view = await app.authenticate(secret)
    assert (view.key_id, view.org, view.key_type) == (issued.key_id, "acme", KeyType.SERVICE)
    assert view.scopes == CANONICAL and view.created_by == "u-admin"
    assert view.last_used_at == clock.now
    assert (await app.get_key(issued.key_id)).scopes == CANONICAL


async def test_scopes_round_trip_through_the_stored_events(app: App, uow: UnitOfWorkFactory[Any]) -> None:
    issued, _ = await issue_service(app)
    await app.update_key(issued.key_id, scopes=[KeyScope(("delete",), ("chart",), team="acme/nlp")])

    async with uow() as u:
        stored = await u.events.load(ApiKey.stream_for(issued.key_id))
    # Decoded from the protobuf payload in the event store, not the objects appended.
    decoded = [codec().decode(s.type, codec().encode(s.event)[1]) for s in stored]
    assert decoded == [s.event for s in stored]
    assert decoded[0].scopes == CANONICAL  # type: ignore[attr-defined]

    key = ApiKey.rehydrate(issued.key_id, decoded)
    assert key.view.scopes == (KeyScope(("delete",), ("chart",), team="nlp"),)
    assert (await app.get_key(issued.key_id)).scopes == key.view.scopes


async def test_the_51st_service_key_is_refused_and_nothing_is_written(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    keys = [await issue_service(app, name=f"bot {i}") for i in range(SERVICE_KEYS_PER_ORG)]
    await issue_service(app, org="other", scopes=[KeyScope(("get",))])  # another org's keys do not count
    await app.issue_personal_key("acme", "u-1", "mine", ["registry"], None)  # nor do personal keys
    before = await row_counts(uow)

    with pytest.raises(LimitExceeded) as caught:
        await issue_service(app, name="one too many")

    assert caught.value.code == "SERVICE_KEY_LIMIT"
    assert "at most 50 service keys" in caught.value.message
    assert await row_counts(uow) == before
    # Inactive keys still count; a revoked or deleted one frees its slot.
    await app.set_key_active(keys[0][0].key_id, False)
    with pytest.raises(LimitExceeded):
        await issue_service(app, name="one too many")
    await app.delete_key(keys[1][0].key_id)
    await issue_service(app, name="replacement")


async def test_an_expired_service_key_frees_its_slot(app: App, clock: Any) -> None:
    for i in range(SERVICE_KEYS_PER_ORG):
        await issue_service(app, name=f"bot {i}", expires=3600 if i == 0 else None)
    clock.advance(3600)
    view, _ = await issue_service(app, name="after expiry")
    assert view.status is KeyStatus.ACTIVE


async def test_bad_service_keys_are_refused_without_writing(app: App, uow: UnitOfWorkFactory[Any]) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"scopes": []}, "SCOPE_INVALID"),
        ({"scopes": [KeyScope(())]}, "SCOPE_INVALID"),
        ({"scopes": [KeyScope(("get",), ("dataset",))]}, "SCOPE_INVALID"),
        ({"scopes": [KeyScope(("get",), team="other/vision")]}, "SCOPE_INVALID"),
        ({"scopes": [KeyScope(("get",), repository="other/bert")]}, "SCOPE_INVALID"),
        ({"services": []}, "KEY_SERVICES_EMPTY"),
        ({"expires": 60}, "KEY_EXPIRY_TOO_SHORT"),
        ({"name": ""}, "KEY_NAME_INVALID"),
        ({"created_by": ""}, "INVALID_ARGUMENT"),
    ]
    for kwargs, code in cases:
        with pytest.raises(InvalidArgument) as caught:
            await issue_service(app, **kwargs)
        assert caught.value.code == code, kwargs
    assert await row_counts(uow) == (0, 0, 0)


async def test_service_keys_survive_their_creators_removal(app: App, uow: UnitOfWorkFactory[Any]) -> None:
    bot, bot_secret = await issue_service(app, created_by="u-1")
    mine, _ = await app.issue_personal_key("acme", "u-1", "mine", ["registry"], None)

    revoked = await app.revoke_user_keys("acme", "u-1", "the user was removed from org acme")

    assert revoked == [mine.key_id]
    assert (await app.authenticate(bot_secret)).key_id == bot.key_id
    assert (await app.get_key(bot.key_id)).status is KeyStatus.ACTIVE


async def test_the_service_key_lifecycle(app: App, uow: UnitOfWorkFactory[Any]) -> None:
    issued, secret = await issue_service(app)

    await app.update_key(issued.key_id, name="release bot", services=["registry", "admin"])
    updated = await app.update_key(issued.key_id, scopes=[KeyScope(("get",))])
    assert (updated.name, updated.services, updated.scopes) == (
        "release bot",
        ("registry", "admin"),
        (KeyScope(("get",)),),
    )
    assert (await app.authenticate(secret)).scopes == (KeyScope(("get",)),)
    await app.set_key_active(issued.key_id, False)
    rotated, new_secret = await app.rotate_key(issued.key_id)
    assert rotated.status is KeyStatus.INACTIVE and rotated.scopes == (KeyScope(("get",)),)
    await app.set_key_active(issued.key_id, True)
    assert (await app.authenticate(new_secret)).scopes == (KeyScope(("get",)),)

    with pytest.raises(InvalidArgument) as caught:
        await app.update_key(issued.key_id, scopes=[])
    assert caught.value.code == "SCOPE_INVALID"

    async with uow() as u:
        names = [s.type.rsplit(".", 1)[-1] for s in await u.events.load(ApiKey.stream_for(issued.key_id))]
    assert names == [
        "KeyIssued",
        "KeyRenamed",
        "KeyServicesUpdated",
        "KeyScopesUpdated",
        "KeyDeactivated",
        "KeyRotated",
        "KeyActivated",
    ]


async def test_scopes_of_a_personal_key_cannot_be_updated(app: App) -> None:
    issued, _ = await app.issue_personal_key("acme", "u-1", "mine", ["registry"], None)

    with pytest.raises(FailedPrecondition) as caught:
        await app.update_key(issued.key_id, scopes=[KeyScope(("get",))])
    assert caught.value.code == "KEY_TYPE_MISMATCH"
