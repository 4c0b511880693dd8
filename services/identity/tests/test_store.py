"""Identity's store: events survive the codec unchanged, and the app works the same on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from hangar.identity.app import App, to_micros
from hangar.identity.domain import (
    Capability,
    InvitationAccepted,
    OrgCreated,
    PasswordSet,
    Role,
    RolesChanged,
    SessionEnded,
    SessionStarted,
    TeamCreated,
    UserInvited,
    UserRegistered,
    UserRemoved,
    UserRemovedFromTeam,
)
from hangar.identity.store import MIGRATIONS, PROJECTORS, SqlViews, codec
from hangar.identity.testing import RecordingNotifier, cheap_passwords
from hangar.kit.errors import Unauthenticated
from hangar.kit.events import DomainEvent
from hangar.kit.testing import postgres_database, service_units_of_work

EVENTS: list[DomainEvent] = [
    OrgCreated(org_id="o1", name="acme", display_name="Acme"),
    UserRegistered(user_id="u1", email="ada@example.com", display_name="Ada"),
    TeamCreated(org_id="o1", team="vision"),
    RolesChanged(org_id="o1", org="acme", team=None, user_id="u1", roles=("ORG_OWNER",)),
    RolesChanged(org_id="o1", org="acme", team="vision", user_id="u1", roles=("REGISTRY_USER", "USER_ADMIN")),
    RolesChanged(org_id="o1", org="acme", team="vision", user_id="u1", roles=()),
    UserRemoved(org_id="o1", org="acme", user_id="u1"),
    UserRemovedFromTeam(org_id="o1", org="acme", team="vision", user_id="u1"),
    InvitationAccepted(
        invitation_id="i1", org_id="o1", org="acme", team=None, user_id="u1", email="ada@example.com"
    ),
    SessionEnded(session_id="s1", user_id="u1"),
]
WHEN = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
#: Events with private fields, and those fields.
PRIVATE: list[tuple[DomainEvent, str]] = [
    (
        UserInvited(
            invitation_id="i1",
            org_id="o1",
            org="acme",
            team="vision",
            email="ada@example.com",
            display_name="Ada",
            roles=("REGISTRY_READ",),
            invited_by="u0",
            token_hash="a" * 64,
            expires_at=WHEN,
        ),
        "token_hash",
    ),
    (PasswordSet(user_id="u1", password_hash="$argon2id$v=19$m=65536,t=3,p=4$salt$hash"), "password_hash"),
    (SessionStarted(session_id="s1", user_id="u1", token_hash="b" * 64, expires_at=WHEN), "token_hash"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_identity_event_survives_the_codec_under_its_stable_name(event: DomainEvent) -> None:
    registry = codec()
    entry, payload = registry.encode(event)

    assert entry.name == f"hangar.identity.v1.{type(event).__name__}"
    assert registry.decode(entry.name, payload) == event
    assert registry.public_payload(event) == payload  # nothing private in these


@pytest.mark.parametrize(("event", "field"), PRIVATE, ids=lambda e: type(e).__name__)
def test_hashes_are_kept_in_the_store_and_cleared_from_what_is_published(
    event: DomainEvent, field: str
) -> None:
    registry = codec()
    entry, payload = registry.encode(event)

    assert registry.decode(entry.name, payload) == event
    public = entry.proto.FromString(registry.public_payload(event))
    assert getattr(public, field) == ""
    assert getattr(entry.proto.FromString(payload), field) == getattr(event, field)


@pytest.mark.postgres
async def test_the_app_migrates_decides_and_resolves_owner_races_on_postgresql() -> None:
    async with (
        postgres_database("hangar_identity_test") as url,
        service_units_of_work(url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews) as uow,
    ):
        app = App(uow, passwords=cheap_passwords(), notifier=RecordingNotifier())
        made = await asyncio.gather(
            *(app.create_org(name, "", "ada@example.com", "Ada") for name in ("acme", "globex", "initech"))
        )
        await app.create_team("acme", "vision")
        bob = await app.add_user("acme", "vision", "bob@example.com", "Bob", [Role.REGISTRY_READ])
        owner = made[0].owner_user_id

        assert len({created.owner_user_id for created in made}) == 1  # one user despite the race
        decision = await app.check_access(owner, "acme/vision/x", frozenset(Capability))
        assert not decision.denied
        assert [m.org for m in (await app.get_user(user_id=owner)).memberships] == [
            "acme",
            "globex",
            "initech",
        ]
        members = await app.list_users("acme", page_size=1)
        assert [m.user.email for m in members.members] == ["ada@example.com"]
        rest = await app.list_users("acme", page_token=members.next_page_token)
        assert [m.user.user_id for m in rest.members] == [bob.user_id]
        await app.remove_user("acme", bob.user_id)
        assert (await app.check_access(bob.user_id, "acme/vision/x", [Capability.VIEW_ARTIFACTS])).denied


@pytest.mark.postgres
async def test_invitations_sessions_and_the_audit_log_on_postgresql() -> None:
    async with (
        postgres_database("hangar_identity_test") as url,
        service_units_of_work(url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews) as uow,
    ):
        app = App(uow, passwords=cheap_passwords(), notifier=RecordingNotifier())
        await app.create_org("acme", "", "ada@example.com", "Ada")
        await app.create_team("acme", "vision")
        issued = await app.invite_user("acme", "vision", "carol@example.com", "Carol", [Role.REGISTRY_USER])
        password = "correct horse battery staple"

        results = await asyncio.gather(
            *(app.accept_invitation(issued.token, password) for _ in range(3)), return_exceptions=True
        )
        assert sorted(getattr(r, "code", "accepted") for r in results) == [
            "INVITATION_USED",
            "INVITATION_USED",
            "accepted",
        ]
        started = await app.login("carol@example.com", password)
        verified = await app.verify_session(started.token)
        assert verified.user.email == "carol@example.com"
        assert verified.expires_at == started.expires_at
        await app.logout(started.token)
        with pytest.raises(Unauthenticated):
            await app.verify_session(started.token)
        with pytest.raises(Unauthenticated):
            await app.login("carol@example.com", "not the password at all")
        await app.remove_user_from_team("acme", "vision", verified.user.user_id)

        events = (await app.list_events("acme", page_size=4)).events
        assert [e.type.rsplit(".", 1)[-1] for e in events] == [
            "OrgCreated",
            "RolesChanged",
            "TeamCreated",
            "UserInvited",
        ]
        assert "token_hash" not in json.loads(events[3].payload_json)
        removed = await app.list_events(
            "acme", types=["UserRemovedFromTeam", "hangar.identity.v1.UserRemoved"]
        )
        assert len(removed.events) == 2
        since = await app.list_events("acme", since=to_micros(events[3].time))
        assert since.events[0] == events[3]
