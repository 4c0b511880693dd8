"""The keys App over a real SQLite database: issue, authenticate, limits, revocation, expiry, last use."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hangar.api.keys.v1 import events_pb2
from hangar.keys.app import App
from hangar.keys.domain import ApiKey, GeneratedSecret, KeyIssued, KeySecret, KeyStatus, KeyType
from hangar.keys.store import api_keys
from hangar.kit import schema
from hangar.kit.errors import ConcurrencyConflict, InvalidArgument, LimitExceeded, NotFound, Unauthenticated
from hangar.kit.uow import UnitOfWorkFactory

pytestmark = pytest.mark.asyncio


async def issue(app: App, user: str = "u-1", org: str = "acme", **kwargs: Any) -> tuple[Any, str]:
    return await app.issue_personal_key(
        org, user, kwargs.pop("name", "ci"), kwargs.pop("services", ["registry"]), kwargs.pop("expires", None)
    )


async def refusal(app: App, secret: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        await app.authenticate(secret)
    return caught.value.code


async def event_types(uow: UnitOfWorkFactory[Any], key_id: str | None = None) -> list[str]:
    async with uow() as u:
        query = select(schema.events.c.type).order_by(schema.events.c.position)
        if key_id is not None:
            query = query.where(schema.events.c.stream_id == ApiKey.stream_for(key_id))
        return [row.type.rsplit(".", 1)[-1] for row in await u.session.execute(query)]


async def row_counts(uow: UnitOfWorkFactory[Any]) -> tuple[int, int, int]:
    async with uow() as u:
        counts = []
        for table in (schema.events, schema.outbox, api_keys):
            counts.append((await u.session.execute(select(func.count()).select_from(table))).scalar_one())
        return counts[0], counts[1], counts[2]


# -- issue and authenticate ------------------------------------------------------------------------------


async def test_an_issued_key_authenticates_to_its_owner_and_records_its_use(app: App, clock: Any) -> None:
    issued, secret = await issue(app, services=["admin", "registry"], expires=7200)
    assert secret.startswith(issued.prefix + "_")
    assert issued.key_type is KeyType.PERSONAL
    assert issued.expires_at == clock.now + timedelta(hours=2)

    clock.advance(5)
    view = await app.authenticate(secret)

    assert (view.key_id, view.org, view.owner_user_id) == (issued.key_id, "acme", "u-1")
    assert view.services == ("registry", "admin")
    assert view.status is KeyStatus.ACTIVE
    assert view.last_used_at == clock.now
    assert (await app.get_key(issued.key_id)).last_used_at == clock.now


async def test_only_the_prefix_and_hash_of_a_secret_are_stored_anywhere(
    app: App, uow: UnitOfWorkFactory[Any], data_dir: Path
) -> None:
    issued, secret = await issue(app)
    await app.authenticate(secret)
    await app.revoke_key(issued.key_id, "done")

    random_part = secret[len(issued.prefix) + 1 :].encode()
    for path in data_dir.iterdir():  # the database, its WAL and shared memory
        content = path.read_bytes()
        assert secret.encode() not in content, path
        assert random_part not in content, path
    async with uow() as u:
        row = (await u.session.execute(select(api_keys))).mappings().one()
        outbox = (await u.session.execute(select(schema.outbox.c.payload))).scalars().all()
    assert row["prefix"] == secret[:12] == issued.prefix
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(dict(row))
    # The hash is kept in the event store, never published: the outbox message carries no hash.
    published = events_pb2.KeyIssued.FromString(outbox[0])
    assert published.prefix == issued.prefix
    assert published.secret_hash == ""
    assert secret not in repr(issued)


async def test_a_ninth_personal_key_is_refused_and_nothing_is_written(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    keys = [await issue(app, name=f"key {i}") for i in range(8)]
    other_user, _ = await issue(app, user="u-2")
    before = await row_counts(uow)

    with pytest.raises(LimitExceeded) as caught:
        await issue(app, name="one too many")

    assert caught.value.code == "PERSONAL_KEY_LIMIT"
    assert await row_counts(uow) == before
    # A revoked key frees its slot.
    await app.revoke_key(keys[0][0].key_id, "rotating")
    await issue(app, name="replacement")
    assert other_user.owner_user_id == "u-2"


async def test_an_expired_key_frees_its_slot(app: App, clock: Any) -> None:
    for i in range(8):
        await issue(app, name=f"key {i}", expires=3600 if i == 0 else None)
    clock.advance(3600)
    view, _ = await issue(app, name="after expiry")
    assert view.status is KeyStatus.ACTIVE


async def test_issue_refuses_bad_input_without_writing(app: App, uow: UnitOfWorkFactory[Any]) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"expires": 60}, "KEY_EXPIRY_TOO_SHORT"),
        ({"expires": -3600}, "KEY_EXPIRY_INVALID"),
        ({"expires": 2**63 - 1}, "KEY_EXPIRY_INVALID"),
        ({"expires": 10**12}, "KEY_EXPIRY_INVALID"),
        ({"services": ["billing"]}, "KEY_SERVICE_UNKNOWN"),
        ({"services": []}, "KEY_SERVICES_EMPTY"),
        ({"name": "   "}, "KEY_NAME_INVALID"),
    ]
    for kwargs, code in cases:
        with pytest.raises(InvalidArgument) as caught:
            await issue(app, **kwargs)
        assert caught.value.code == code
    assert await row_counts(uow) == (0, 0, 0)


# -- refusals --------------------------------------------------------------------------------------------


async def test_a_wrong_malformed_or_unknown_secret_is_refused(app: App) -> None:
    issued, secret = await issue(app)
    assert await refusal(app, f"{issued.prefix}_{'A' * 43}") == "KEY_INVALID"
    assert await refusal(app, KeySecret.generate().secret) == "KEY_INVALID"
    assert await refusal(app, "not-a-key") == "KEY_MALFORMED"
    assert await refusal(app, secret + "x" * 200) == "KEY_MALFORMED"
    assert (await app.get_key(issued.key_id)).last_used_at is None


async def test_a_revoked_key_is_refused_at_once(app: App, uow: UnitOfWorkFactory[Any]) -> None:
    issued, secret = await issue(app)
    await app.authenticate(secret)

    revoked = await app.revoke_key(issued.key_id, "leaked in a CI log")
    assert revoked.status is KeyStatus.REVOKED
    assert await refusal(app, secret) == "KEY_REVOKED"

    await app.revoke_key(issued.key_id, "again")  # records nothing more
    assert await event_types(uow, issued.key_id) == ["KeyIssued", "KeyRevoked"]
    assert (await app.get_key(issued.key_id)).status is KeyStatus.REVOKED


async def test_revoking_an_unknown_key_is_not_found(app: App) -> None:
    with pytest.raises(NotFound) as caught:
        await app.revoke_key("no-such-key", "why not")
    assert caught.value.code == "KEY_NOT_FOUND"
    with pytest.raises(NotFound):
        await app.get_key("no-such-key")


async def test_an_expired_key_is_refused_and_its_expiry_recorded_once(
    app: App, uow: UnitOfWorkFactory[Any], clock: Any
) -> None:
    issued, secret = await issue(app, expires=3600)
    await app.authenticate(secret)
    clock.advance(3600)  # the key is dead from the instant of its expiry

    assert [k.status for k in await app.list_keys("u-1")] == [KeyStatus.EXPIRED]
    assert await refusal(app, secret) == "KEY_EXPIRED"
    assert await event_types(uow, issued.key_id) == ["KeyIssued", "KeyExpired"]
    assert (await app.get_key(issued.key_id)).status is KeyStatus.EXPIRED

    clock.advance(60)
    assert await refusal(app, secret) == "KEY_EXPIRED"
    assert await event_types(uow, issued.key_id) == ["KeyIssued", "KeyExpired"]
    # Someone holding only the prefix learns nothing, and records nothing.
    assert await refusal(app, f"{issued.prefix}_{'A' * 43}") == "KEY_INVALID"


async def test_an_expired_key_is_not_recorded_by_a_wrong_secret(
    app: App, uow: UnitOfWorkFactory[Any], clock: Any
) -> None:
    issued, _ = await issue(app, expires=3600)
    clock.advance(7200)
    assert await refusal(app, f"{issued.prefix}_{'A' * 43}") == "KEY_INVALID"
    assert await event_types(uow, issued.key_id) == ["KeyIssued"]


# -- last use --------------------------------------------------------------------------------------------


async def test_last_use_is_written_at_most_once_a_minute(app: App, clock: Any) -> None:
    issued, secret = await issue(app)
    first = clock.now
    await app.authenticate(secret)
    clock.advance(30)
    assert (await app.authenticate(secret)).last_used_at == first
    assert (await app.get_key(issued.key_id)).last_used_at == first
    clock.advance(31)
    assert (await app.authenticate(secret)).last_used_at == clock.now
    assert (await app.get_key(issued.key_id)).last_used_at == clock.now


async def test_last_use_writes_no_event(app: App, uow: UnitOfWorkFactory[Any], clock: Any) -> None:
    _, secret = await issue(app)
    for _ in range(3):
        await app.authenticate(secret)
        clock.advance(120)
    assert await event_types(uow) == ["KeyIssued"]


# -- listing and revoking a user's keys ------------------------------------------------------------------


async def test_list_keys_shows_every_key_of_the_user_oldest_first(app: App, clock: Any) -> None:
    first, _ = await issue(app, name="first")
    clock.advance(1)
    await issue(app, name="second", org="other")
    await issue(app, user="u-2")
    await app.revoke_key(first.key_id, "old")

    listed = await app.list_keys("u-1")
    assert [(k.name, k.org, k.status) for k in listed] == [
        ("first", "acme", KeyStatus.REVOKED),
        ("second", "other", KeyStatus.ACTIVE),
    ]
    assert await app.list_keys("nobody") == []


async def append_legacy_key(uow: UnitOfWorkFactory[Any], clock: Any, org: str, user: str) -> str:
    """A legacy key as its (future) command would record it: issuance of legacy keys is not an RPC yet."""
    generated = KeySecret.generate()
    key_id = f"legacy-{user}-{org}"
    async with uow() as u:
        await u.events.append(
            ApiKey.stream_for(key_id),
            0,
            [
                KeyIssued(
                    key_id=key_id,
                    key_type=KeyType.LEGACY.value,
                    org=org,
                    owner_user_id=user,
                    name="legacy",
                    prefix=generated.prefix,
                    secret_hash=generated.secret_hash,
                    services=("registry", "admin"),
                    created_at=clock.now,
                    expires_at=None,
                )
            ],
        )
        await u.commit()
    return key_id


async def test_revoke_user_keys_revokes_only_that_users_keys_in_that_org(
    app: App, uow: UnitOfWorkFactory[Any], clock: Any
) -> None:
    mine = [await issue(app, name=f"mine {i}") for i in range(2)]
    legacy = await append_legacy_key(uow, clock, "acme", "u-1")
    elsewhere, elsewhere_secret = await issue(app, org="other")
    colleague, colleague_secret = await issue(app, user="u-2")
    already, _ = await issue(app, name="already revoked")
    await app.revoke_key(already.key_id, "earlier")

    revoked = await app.revoke_user_keys("acme", "u-1", "the user was removed from org acme")

    assert sorted(revoked) == sorted([mine[0][0].key_id, mine[1][0].key_id, legacy])
    for _, secret in mine:
        assert await refusal(app, secret) == "KEY_REVOKED"
    assert (await app.get_key(legacy)).status is KeyStatus.REVOKED
    assert (await app.authenticate(elsewhere_secret)).key_id == elsewhere.key_id
    assert (await app.authenticate(colleague_secret)).key_id == colleague.key_id
    assert await event_types(uow, already.key_id) == ["KeyIssued", "KeyRevoked"]
    assert await app.revoke_user_keys("acme", "u-1", "again") == []


# -- prefix collisions -----------------------------------------------------------------------------------


async def test_a_colliding_prefix_is_drawn_again(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = await issue(app)
    real = KeySecret.generate
    draws = iter([f"{first.prefix}_{'B' * 43}"])

    def generate() -> GeneratedSecret:
        secret = next(draws, None)
        return real() if secret is None else GeneratedSecret(secret, secret[:12], KeySecret.hash_of(secret))

    monkeypatch.setattr(KeySecret, "generate", staticmethod(generate))
    second, secret = await issue(app, name="second")
    assert second.prefix != first.prefix
    assert (await app.authenticate(secret)).key_id == second.key_id


async def test_a_prefix_taken_concurrently_is_a_conflict_the_command_retries(
    uow: UnitOfWorkFactory[Any], app: App, clock: Any
) -> None:
    first, _ = await issue(app)
    duplicate = KeyIssued(
        key_id="k-dup",
        key_type="personal",
        org="acme",
        owner_user_id="u-9",
        name="dup",
        prefix=first.prefix,
        secret_hash="0" * 64,
        services=("registry",),
        created_at=clock.now,
        expires_at=None,
    )
    async with uow() as u:
        with pytest.raises(ConcurrencyConflict):
            await u.events.append(ApiKey.stream_for("k-dup"), 0, [duplicate])
