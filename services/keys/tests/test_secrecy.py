"""Secrets are shown once: never stored, published or logged, whichever command made them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hangar.api.keys.v1 import events_pb2
from hangar.keys.app import App
from hangar.keys.domain import KeyScope, KeySecret
from hangar.kit import schema
from hangar.kit.uow import UnitOfWorkFactory


async def test_no_secret_is_stored_published_or_logged(
    app: App, uow: UnitOfWorkFactory[Any], data_dir: Path, caplog: pytest.LogCaptureFixture, clock: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets: list[str] = []
    personal, secret = await app.issue_personal_key("acme", "u-1", "ci", ["registry"], 3600)
    secrets.append(secret)
    bot, secret = await app.issue_service_key("acme", "bot", ["registry"], [KeyScope(("get",))], None, "u-9")
    secrets.append(secret)
    _, secret = await app.issue_legacy_key("acme", "u-1")
    secrets.append(secret)
    _, secret = await app.issue_legacy_key("acme", "u-1")  # regenerated
    secrets.append(secret)
    _, secret = await app.rotate_key(bot.key_id)
    secrets.append(secret)
    for secret in (secrets[0], secrets[3], secrets[4]):  # the ones still valid
        await app.authenticate(secret)
    await app.set_key_active(personal.key_id, False)
    await app.update_key(bot.key_id, name="bot 2", scopes=[KeyScope(("list",))])
    await app.delete_key(personal.key_id)
    clock.advance(7200)
    await app.expire_due_keys()
    for secret in secrets:  # refusals of every kind
        try:
            await app.authenticate(secret)
        except Exception as refusal:
            assert secret not in str(refusal) and secret[12:] not in repr(refusal)

    hashes = {KeySecret.hash_of(secret) for secret in secrets}
    for path in data_dir.iterdir():  # the database, its WAL and shared memory
        content = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in content, path
            assert secret[13:].encode() not in content, path  # the random part alone
    for secret in secrets:
        assert secret not in caplog.text and secret[13:] not in caplog.text
    # Even at DEBUG, the drivers log SQL parameters (the hash, never a secret); our own logs hold neither.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("hangar"))
    assert not any(h in ours for h in hashes)

    async with uow() as u:
        published = (await u.session.execute(select(schema.outbox.c.payload))).scalars().all()
    for payload in published:
        assert not any(h.encode() in payload for h in hashes)
        assert not any(secret.encode() in payload for secret in secrets)
    # The rotated hash is private too: the published KeyRotated has none.
    async with uow() as u:
        rotated = (
            await u.session.execute(
                select(schema.outbox.c.payload).where(schema.outbox.c.subject.like("%.KeyRotated"))
            )
        ).scalar_one()
    message = events_pb2.KeyRotated.FromString(rotated)
    assert message.key_id == bot.key_id and message.prefix == secrets[4][:12] and message.secret_hash == ""
