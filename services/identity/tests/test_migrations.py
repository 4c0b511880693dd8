"""Upgrading a database made at revision i0001 keeps its data and backfills the org audit log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from hangar.identity.app import App
from hangar.identity.domain import Membership, Role
from hangar.identity.store import MIGRATIONS, PROJECTORS, SqlViews, codec, project
from hangar.identity.testing import RecordingNotifier, cheap_passwords
from hangar.kit import context, migrations
from hangar.kit.db import Database
from hangar.kit.testing import postgres_database, service_units_of_work
from hangar.kit.uow import UnitOfWorkFactory

R = Role


@asynccontextmanager
async def database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}"
        return
    async with postgres_database("hangar_identity_migration") as url:
        yield url


async def revision(url: str) -> str:
    db = Database(url)
    try:
        async with db.read_engine.connect() as session:
            return str((await session.execute(text("SELECT version_num FROM alembic_version"))).scalar())
    finally:
        await db.dispose()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_an_i0001_database_upgrades_with_its_data_intact_and_its_history_in_the_audit_log(
    kind: str, tmp_path: Path
) -> None:
    async with database(kind, tmp_path) as url:
        await migrations.upgrade(url, MIGRATIONS, revision="i0001")
        assert await revision(url) == "i0001"
        # The service as it was at i0001: only the read models of that revision are projected.
        db = Database(url)
        old = App(
            UnitOfWorkFactory(db, codec(), subject_prefix="hangar", projectors=[project], views=SqlViews),
            passwords=cheap_passwords(),
            notifier=RecordingNotifier(),
        )
        created = await old.create_org("acme", "Acme", "ada@example.com", "Ada")
        with context.bound(context.CallContext(actor=created.owner_user_id, correlation_id="corr-old")):
            await old.create_team("acme", "vision")
            bob = await old.add_user("acme", "vision", "bob@example.com", "Bob", [R.REGISTRY_USER])
        await db.dispose()

        async with service_units_of_work(
            url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews
        ) as uow:
            assert await revision(url) == "i0002"
            app = App(uow, passwords=cheap_passwords(), notifier=RecordingNotifier())

            assert (await app.get_org("acme")).display_name == "Acme"
            assert await app.list_teams("acme") == ["vision"]
            details = await app.get_user(email="bob@example.com")
            assert details.user == bob
            assert details.memberships == (Membership("acme", "vision", frozenset({R.REGISTRY_USER})),)
            owner = await app.get_user(user_id=created.owner_user_id)
            assert owner.memberships == (Membership("acme", None, frozenset({R.ORG_OWNER})),)

            history = (await app.list_events("acme")).events
            assert [(e.type.rsplit(".", 1)[-1], e.actor, e.service) for e in history] == [
                ("OrgCreated", "", "identity"),
                ("RolesChanged", "", "identity"),
                ("TeamCreated", created.owner_user_id, "identity"),
                ("RolesChanged", created.owner_user_id, "identity"),
            ]
            assert [e.correlation_id for e in history[2:]] == ["corr-old", "corr-old"]
            assert json.loads(history[3].payload_json) == {
                "org": "acme",
                "org_id": created.org_id,
                "roles": ["REGISTRY_USER"],
                "team": "vision",
                "user_id": bob.user_id,
            }
            assert json.loads(history[2].payload_json) == {"org_id": created.org_id, "team": "vision"}

            # What the upgrade added works on the old data.
            issued = await app.invite_user("acme", None, "carol@example.com", "Carol", [R.REGISTRY_READ])
            await app.accept_invitation(issued.token, "correct horse battery staple")
            started = await app.login("carol@example.com", "correct horse battery staple")
            assert (await app.verify_session(started.token)).user.email == "carol@example.com"
            await app.remove_user_from_team("acme", "vision", bob.user_id)
            after = (await app.list_events("acme")).events
            assert after[: len(history)] == history
            assert [e.type.rsplit(".", 1)[-1] for e in after[len(history) :]] == [
                "UserInvited",
                "RolesChanged",
                "InvitationAccepted",
                "UserRemovedFromTeam",
                "UserRemoved",
            ]
