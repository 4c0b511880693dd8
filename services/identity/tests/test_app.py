"""Specification of the identity use cases, over a real SQLite database (events, projections, outbox)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from hangar.identity.app import App
from hangar.identity.domain import Capability, Membership, Role
from hangar.kit import schema
from hangar.kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    LimitExceeded,
    NotFound,
)

C = Capability
R = Role
EVERYTHING = frozenset(Capability)


async def outbox_subjects(app: App) -> list[str]:
    async with app.uow(readonly=True) as uow:
        rows = await uow.session.execute(select(schema.outbox.c.subject).order_by(schema.outbox.c.id))
        return [subject for (subject,) in rows]


async def event_count(app: App) -> int:
    async with app.uow(readonly=True) as uow:
        return int((await uow.session.execute(select(func.count()).select_from(schema.events))).scalar_one())


async def acme(app: App, *teams: str) -> str:
    """Org acme owned by ada@example.com, with the given teams; returns the owner's user id."""
    created = await app.create_org("acme", "Acme Corp", "ada@example.com", "Ada")
    for team in teams:
        await app.create_team("acme", team)
    return created.owner_user_id


# ---------------------------------------------------------------------------------------------------------
# Orgs and their owners
# ---------------------------------------------------------------------------------------------------------


async def test_the_creator_given_as_owner_may_do_everything_on_org_and_team_repositories(app: App) -> None:
    owner = await acme(app)

    for repository in ("acme/x", "acme/vision/x"):
        decision = await app.check_access(owner, repository, EVERYTHING)
        assert decision.granted == EVERYTHING
        assert not decision.denied


async def test_creating_an_org_registers_a_new_owner_and_publishes_its_events(app: App) -> None:
    created = await app.create_org("acme", "", "Ada@Example.com ", "Ada")

    org = await app.get_org("acme")
    assert (org.org_id, org.name, org.display_name) == (created.org_id, "acme", "acme")
    details = await app.get_user(email="ada@example.com")
    assert details.user.user_id == created.owner_user_id
    assert details.user.email == "ada@example.com"
    assert details.memberships == (Membership("acme", None, frozenset({R.ORG_OWNER})),)
    assert await outbox_subjects(app) == [
        "hangar.identity.UserRegistered",
        "hangar.identity.OrgCreated",
        "hangar.identity.RolesChanged",
    ]


async def test_an_owner_whose_email_is_known_is_reused_not_registered_again(app: App) -> None:
    first = await app.create_org("acme", "", "ada@example.com", "Ada")
    second = await app.create_org("globex", "", "ADA@example.com", "Someone Else")

    assert second.owner_user_id == first.owner_user_id
    assert (await outbox_subjects(app)).count("hangar.identity.UserRegistered") == 1
    details = await app.get_user(user_id=first.owner_user_id)
    assert details.user.display_name == "Ada"
    assert [m.org for m in details.memberships] == ["acme", "globex"]


async def test_org_names_are_unique(app: App) -> None:
    await acme(app)
    written = await event_count(app)

    with pytest.raises(AlreadyExists):
        await app.create_org("acme", "", "bob@example.com", "Bob")
    assert await event_count(app) == written


@pytest.mark.parametrize(
    ("name", "email", "owner_display_name"),
    [
        ("A", "ada@example.com", "Ada"),
        ("Acme", "ada@example.com", "Ada"),
        ("acme--corp", "ada@example.com", "Ada"),
        ("acme", "not-an-email", "Ada"),
        ("acme", "ada@example.com", "   "),
    ],
)
async def test_bad_input_to_create_org_is_refused_and_nothing_is_written(
    app: App, name: str, email: str, owner_display_name: str
) -> None:
    with pytest.raises(InvalidArgument):
        await app.create_org(name, "", email, owner_display_name)

    assert await event_count(app) == 0
    assert await outbox_subjects(app) == []
    with pytest.raises(NotFound):
        await app.get_user(email="ada@example.com")


async def test_concurrent_orgs_with_the_same_new_owner_register_that_owner_once(app: App) -> None:
    made = await asyncio.gather(
        *(app.create_org(name, "", "ada@example.com", "Ada") for name in ("acme", "globex", "initech"))
    )

    assert len({created.owner_user_id for created in made}) == 1
    assert (await outbox_subjects(app)).count("hangar.identity.UserRegistered") == 1


async def test_an_unknown_org_is_not_found(app: App) -> None:
    with pytest.raises(NotFound):
        await app.get_org("nowhere")
    with pytest.raises(NotFound):
        await app.add_user("nowhere", None, "bob@example.com", "Bob", [R.REGISTRY_READ])


# ---------------------------------------------------------------------------------------------------------
# Teams and users
# ---------------------------------------------------------------------------------------------------------


async def test_teams_are_listed_by_name_and_unique_in_their_org(app: App) -> None:
    await acme(app, "vision", "audio")

    assert await app.list_teams("acme") == ["audio", "vision"]
    with pytest.raises(AlreadyExists):
        await app.create_team("acme", "vision")
    with pytest.raises(InvalidArgument):
        await app.create_team("acme", "Vision")


async def test_a_user_added_to_a_team_reaches_that_teams_repositories_only(app: App) -> None:
    await acme(app, "vision")

    bob = await app.add_user("acme", "vision", "bob@example.com", "Bob", [R.REGISTRY_READ])

    team_repo = await app.check_access(bob.user_id, "acme/vision/x", [C.DOWNLOAD_ARTIFACTS])
    assert team_repo.granted == {C.DOWNLOAD_ARTIFACTS}
    org_repo = await app.check_access(bob.user_id, "acme/x", [C.DOWNLOAD_ARTIFACTS])
    assert org_repo.granted == frozenset()
    assert org_repo.denial_reason == "no role in org acme"
    push = await app.check_access(bob.user_id, "acme/vision/x", [C.PUSH_ARTIFACTS])
    assert push.denial_reason == "role REGISTRY_READ in team acme/vision does not allow push"


async def test_adding_a_user_again_replaces_the_roles_at_that_scope(app: App) -> None:
    await acme(app, "vision")
    bob = await app.add_user("acme", None, "bob@example.com", "Bob", [R.REGISTRY_READ])
    await app.add_user("acme", "vision", "bob@example.com", "", [R.REGISTRY_USER])

    again = await app.add_user("acme", None, "bob@example.com", "", [R.REGISTRY_ADMIN, R.REGISTRY_USER])

    assert again == bob
    details = await app.get_user(user_id=bob.user_id)
    assert details.memberships == (
        Membership("acme", None, frozenset({R.REGISTRY_ADMIN, R.REGISTRY_USER})),
        Membership("acme", "vision", frozenset({R.REGISTRY_USER})),
    )


async def test_adding_a_user_needs_a_role_and_a_valid_membership(app: App) -> None:
    await acme(app, "vision")
    written = await event_count(app)

    with pytest.raises(InvalidArgument):
        await app.add_user("acme", None, "bob@example.com", "Bob", [])
    with pytest.raises(InvalidArgument):
        await app.add_user("acme", None, "bob@example.com", "Bob", [R.USER_READ])
    with pytest.raises(InvalidArgument):
        await app.add_user("acme", "vision", "bob@example.com", "Bob", [R.ORG_OWNER])
    with pytest.raises(NotFound):
        await app.add_user("acme", "audio", "bob@example.com", "Bob", [R.REGISTRY_READ])
    assert await event_count(app) == written


async def test_a_third_owner_is_refused_and_nothing_is_written(app: App) -> None:
    await acme(app)
    await app.add_user("acme", None, "bob@example.com", "Bob", [R.ORG_OWNER])
    written = await event_count(app)

    with pytest.raises(LimitExceeded):
        await app.add_user("acme", None, "carol@example.com", "Carol", [R.ORG_OWNER])

    assert await event_count(app) == written
    with pytest.raises(NotFound):
        await app.get_user(email="carol@example.com")


async def test_set_roles_without_roles_ends_the_membership_at_that_scope_only(app: App) -> None:
    await acme(app, "vision")
    bob = await app.add_user("acme", None, "bob@example.com", "Bob", [R.REGISTRY_READ])
    await app.add_user("acme", "vision", "bob@example.com", "", [R.REGISTRY_USER])

    left = await app.set_roles("acme", "vision", bob.user_id, [])

    assert left == (Membership("acme", None, frozenset({R.REGISTRY_READ})),)
    assert (await app.get_user(user_id=bob.user_id)).memberships == left
    denied = await app.check_access(bob.user_id, "acme/vision/x", [C.VIEW_ARTIFACTS])
    assert denied.denial_reason == "no role in team acme/vision"


async def test_set_roles_for_an_unknown_user_is_not_found(app: App) -> None:
    await acme(app)

    with pytest.raises(NotFound):
        await app.set_roles("acme", None, "no-such-user", [R.REGISTRY_READ])


async def test_users_are_listed_by_email_in_pages_with_their_memberships_in_the_org(app: App) -> None:
    owner = await acme(app, "vision")
    for name in ("dave", "carol", "bob"):
        await app.add_user("acme", None, f"{name}@example.com", name.title(), [R.REGISTRY_READ])
    await app.add_user("acme", "vision", "carol@example.com", "", [R.REGISTRY_USER])
    await app.create_org("globex", "", "bob@example.com", "Bob")

    first = await app.list_users("acme", page_size=2)
    second = await app.list_users("acme", page_size=2, page_token=first.next_page_token)

    emails = [m.user.email for m in (*first.members, *second.members)]
    assert emails == ["ada@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]
    assert second.next_page_token == ""
    assert first.members[0].user.user_id == owner
    assert [m.org for m in first.members[1].memberships] == ["acme"]
    team = await app.list_users("acme", "vision")
    assert [m.user.email for m in team.members] == ["carol@example.com"]
    assert [m.team for m in team.members[0].memberships] == [None, "vision"]


async def test_listing_users_refuses_a_bad_page_token_and_an_unknown_team(app: App) -> None:
    await acme(app)

    for token in ("%%%", "\u00e9t\u00e9", "gA"):  # not base64url; not ASCII; not UTF-8
        with pytest.raises(InvalidArgument):
            await app.list_users("acme", page_token=token)
    with pytest.raises(NotFound):
        await app.list_users("acme", "vision")


async def test_an_unknown_user_is_not_found(app: App) -> None:
    with pytest.raises(NotFound):
        await app.get_user(user_id="no-such-user")
    with pytest.raises(NotFound):
        await app.get_user(email="nobody@example.com")
    with pytest.raises(InvalidArgument):
        await app.get_user()


# ---------------------------------------------------------------------------------------------------------
# Removing users
# ---------------------------------------------------------------------------------------------------------


async def test_removing_a_user_emits_user_removed_and_ends_every_membership_in_the_org(app: App) -> None:
    await acme(app, "vision")
    bob = await app.add_user("acme", None, "bob@example.com", "Bob", [R.REGISTRY_USER])
    await app.add_user("acme", "vision", "bob@example.com", "", [R.REGISTRY_ADMIN, R.REGISTRY_USER])
    await app.create_org("globex", "", "bob@example.com", "Bob")

    await app.remove_user("acme", bob.user_id)

    assert (await outbox_subjects(app))[-1] == "hangar.identity.UserRemoved"
    remaining = (await app.get_user(user_id=bob.user_id)).memberships
    assert [m.org for m in remaining] == ["globex"]
    for repository in ("acme/x", "acme/vision/x"):
        assert (await app.check_access(bob.user_id, repository, [C.VIEW_ARTIFACTS])).denied
    assert [m.user.email for m in (await app.list_users("acme")).members] == ["ada@example.com"]


async def test_the_last_owner_cannot_be_removed(app: App) -> None:
    owner = await acme(app)

    with pytest.raises(FailedPrecondition):
        await app.remove_user("acme", owner)


async def test_removing_a_non_member_is_not_found(app: App) -> None:
    await acme(app)

    with pytest.raises(NotFound):
        await app.remove_user("acme", "no-such-user")


# ---------------------------------------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------------------------------------


async def test_an_unknown_user_gets_the_same_answer_as_a_user_without_a_role(app: App) -> None:
    await acme(app)
    bob = await app.add_user("acme", None, "bob@example.com", "Bob", [R.REGISTRY_READ])

    stranger = await app.check_access("no-such-user", "acme/vision/x", [C.VIEW_ARTIFACTS])
    member = await app.check_access(bob.user_id, "acme/vision/x", [C.VIEW_ARTIFACTS])
    unknown_org = await app.check_access(bob.user_id, "globex/x", [C.VIEW_ARTIFACTS])

    assert stranger == member
    assert stranger.denial_reason == "no role in team acme/vision"
    assert unknown_org.denial_reason == "no role in org globex"


async def test_check_access_refuses_a_malformed_repository_and_an_empty_ask(app: App) -> None:
    owner = await acme(app)

    with pytest.raises(InvalidArgument):
        await app.check_access(owner, "acme/../x", [C.VIEW_ARTIFACTS])
    with pytest.raises(InvalidArgument):
        await app.check_access(owner, "acme", [C.VIEW_ARTIFACTS])
    with pytest.raises(InvalidArgument):
        await app.check_access(owner, "acme/x", [])


async def test_an_org_user_admin_may_add_users_to_every_team_but_a_team_reader_may_not(app: App) -> None:
    await acme(app, "vision")
    admin = await app.add_user("acme", None, "uma@example.com", "Uma", [R.USER_ADMIN])
    reader = await app.add_user("acme", "vision", "rob@example.com", "Rob", [R.REGISTRY_READ])

    assert not (await app.check_org_access(admin.user_id, "acme", "vision", C.ADD_USERS)).denied
    refused = await app.check_org_access(reader.user_id, "acme", "vision", C.ADD_USERS)
    assert refused.denial_reason == "role REGISTRY_READ in team acme/vision does not allow add users"


async def test_a_user_admin_may_grant_only_roles_it_holds_and_an_owner_anything(app: App) -> None:
    owner = await acme(app)
    admin = await app.add_user("acme", None, "uma@example.com", "Uma", [R.USER_ADMIN, R.REGISTRY_READ])

    held = await app.check_grant(admin.user_id, "acme", None, [R.REGISTRY_READ], email="new@example.com")
    lacking = await app.check_grant(admin.user_id, "acme", None, [R.REGISTRY_USER], email="new@example.com")
    revoke_owner = await app.check_grant(admin.user_id, "acme", None, [R.REGISTRY_READ], user_id=owner)
    by_owner = await app.check_grant(owner, "acme", None, [R.ORG_OWNER], user_id=admin.user_id)

    assert held.allowed
    assert not lacking.allowed
    assert "lacks REGISTRY_USER" in lacking.denial_reason
    assert not revoke_owner.allowed
    assert "lacks ORG_OWNER" in revoke_owner.denial_reason
    assert by_owner.allowed
