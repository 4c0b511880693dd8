"""Identity's store: events survive the codec unchanged, and the app works the same on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from hangar.identity.app import App
from hangar.identity.domain import (
    Capability,
    OrgCreated,
    Role,
    RolesChanged,
    TeamCreated,
    UserRegistered,
    UserRemoved,
)
from hangar.identity.store import MIGRATIONS, PROJECTORS, SqlViews, codec
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
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_identity_event_survives_the_codec_under_its_stable_name(event: DomainEvent) -> None:
    registry = codec()
    entry, payload = registry.encode(event)

    assert entry.name == f"hangar.identity.v1.{type(event).__name__}"
    assert registry.decode(entry.name, payload) == event
    assert registry.public_payload(event) == payload  # identity has no private fields


@pytest.mark.postgres
async def test_the_app_migrates_decides_and_resolves_owner_races_on_postgresql() -> None:
    async with (
        postgres_database("hangar_identity_test") as url,
        service_units_of_work(url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews) as uow,
    ):
        app = App(uow)
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
