"""Org and team members over REST: who may view, invite, grant and remove, decided by identity; a refusal
changes nothing."""

from __future__ import annotations

import httpx

from hangar.gateway.testing import (
    ADMIN_ONLY_KEY,
    ALICE,
    API,
    BOB,
    CAROL,
    CAROL_KEY,
    DAVE,
    DAVE_KEY,
    ERIN,
    ERIN_KEY,
    FakeWorld,
    bearer,
)

OWNER = bearer(ADMIN_ONLY_KEY)


async def test_those_who_may_view_users_list_the_org_by_email(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/orgs/demo/users", headers=bearer(CAROL_KEY))
    assert response.status_code == 200
    emails = [m["user"]["email"] for m in response.json()["items"]]
    assert emails == sorted(emails) and "erin@example.com" in emails
    erin = next(m for m in response.json()["items"] if m["user"]["id"] == ERIN)
    assert erin["memberships"] == [{"org": "demo", "team": "vision", "roles": ["REGISTRY_USER"]}]


async def test_a_registry_reader_may_not_view_users(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/orgs/demo/users", headers=bearer(DAVE_KEY))
    assert response.status_code == 403
    assert "view users" in response.json()["error"]["message"]


async def test_user_lists_are_paginated_with_the_services_token(client: httpx.AsyncClient) -> None:
    first = await client.get(f"{API}/orgs/demo/users", params={"page_size": 2}, headers=OWNER)
    assert len(first.json()["items"]) == 2
    token = first.json()["next_page_token"]
    rest = await client.get(
        f"{API}/orgs/demo/users", params={"page_size": 100, "page_token": token}, headers=OWNER
    )
    assert len(rest.json()["items"]) == 3 and rest.json()["next_page_token"] is None


async def test_the_owner_invites_with_any_roles(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    response = await client.post(
        f"{API}/orgs/demo/users",
        json={"email": "new@example.com", "display_name": "New", "roles": ["REGISTRY_ADMIN"]},
        headers=OWNER,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["token"]
    assert body["invitation"]["roles"] == ["REGISTRY_ADMIN"]
    assert body["invitation"]["invited_by"] == ALICE
    assert body["invitation"]["team"] is None and body["invitation"]["status"] == "pending"


async def test_a_registry_reader_cannot_invite(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    response = await client.post(
        f"{API}/orgs/demo/users",
        json={"email": "new@example.com", "roles": ["REGISTRY_READ"]},
        headers=bearer(DAVE_KEY),
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "DENIED"
    assert fakes.identity.invitations == {}


async def test_a_user_admin_invites_with_roles_it_holds(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/orgs/demo/users",
        json={"email": "new@example.com", "roles": ["REGISTRY_USER"]},
        headers=bearer(CAROL_KEY),
    )
    assert response.status_code == 201


async def test_a_user_admin_cannot_invite_with_a_role_it_lacks(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    response = await client.post(
        f"{API}/orgs/demo/users",
        json={"email": "new@example.com", "roles": ["REGISTRY_ADMIN"]},
        headers=bearer(CAROL_KEY),
    )
    assert response.status_code == 403
    assert "REGISTRY_ADMIN" in response.json()["error"]["message"]
    assert fakes.identity.invitations == {}


async def test_inviting_to_a_team_the_caller_cannot_see_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/orgs/demo/users",
        json={"email": "new@example.com", "roles": ["REGISTRY_READ"], "team": "vision"},
        headers=bearer(DAVE_KEY),
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "TEAM_NOT_FOUND"


async def test_an_invitation_with_no_roles_or_an_unknown_role_is_400(client: httpx.AsyncClient) -> None:
    for roles in ([], ["SUPERUSER"]):
        response = await client.post(
            f"{API}/orgs/demo/users", json={"email": "new@example.com", "roles": roles}, headers=OWNER
        )
        assert response.status_code == 400, roles
        assert response.json()["error"]["message"].startswith("body.roles")


async def test_a_member_is_shown_with_their_memberships_in_the_org(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/orgs/demo/users/{CAROL}", headers=OWNER)
    assert response.status_code == 200
    assert response.json()["memberships"] == [
        {"org": "demo", "team": None, "roles": ["REGISTRY_USER", "USER_ADMIN"]}
    ]


async def test_anyone_may_look_themselves_up_but_not_others_without_view_users(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get(f"{API}/orgs/demo/users/{DAVE}", headers=bearer(DAVE_KEY))).status_code == 200
    assert (await client.get(f"{API}/orgs/demo/users/{CAROL}", headers=bearer(DAVE_KEY))).status_code == 403


async def test_a_user_outside_the_org_is_404_like_an_unknown_one(client: httpx.AsyncClient) -> None:
    stranger = await client.get(f"{API}/orgs/demo/users/user-zed", headers=OWNER)
    unknown = await client.get(f"{API}/orgs/demo/users/user-nobody", headers=OWNER)
    assert stranger.status_code == unknown.status_code == 404
    assert stranger.json()["error"]["code"] == unknown.json()["error"]["code"] == "USER_NOT_FOUND"


async def test_the_owner_sets_roles(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    response = await client.put(
        f"{API}/orgs/demo/users/{BOB}/roles",
        json={"roles": ["REGISTRY_ADMIN", "REGISTRY_READ"]},
        headers=OWNER,
    )
    assert response.status_code == 200
    assert response.json()["memberships"] == [
        {"org": "demo", "team": None, "roles": ["REGISTRY_ADMIN", "REGISTRY_READ"]}
    ]
    assert fakes.identity.roles_of("demo", BOB) == {"REGISTRY_ADMIN", "REGISTRY_READ"}


async def test_a_user_admin_cannot_grant_registry_admin_it_lacks_and_nothing_changes(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    before = dict(fakes.identity.roles)
    response = await client.put(
        f"{API}/orgs/demo/users/{BOB}/roles",
        json={"roles": ["REGISTRY_ADMIN", "REGISTRY_READ"]},
        headers=bearer(CAROL_KEY),
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "DENIED" and "lacks REGISTRY_ADMIN" in error["message"]
    assert fakes.identity.roles == before


async def test_a_user_admin_grants_a_role_it_holds(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    response = await client.put(
        f"{API}/orgs/demo/users/{BOB}/roles",
        json={"roles": ["REGISTRY_READ", "REGISTRY_USER"]},
        headers=bearer(CAROL_KEY),
    )
    assert response.status_code == 200
    assert fakes.identity.roles_of("demo", BOB) == {"REGISTRY_READ", "REGISTRY_USER"}


async def test_a_user_admin_cannot_take_away_a_role_it_lacks(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    response = await client.put(
        f"{API}/orgs/demo/users/{BOB}/roles", json={"roles": ["REGISTRY_USER"]}, headers=bearer(CAROL_KEY)
    )
    assert response.status_code == 403
    assert "lacks REGISTRY_READ" in response.json()["error"]["message"]
    assert fakes.identity.roles_of("demo", BOB) == {"REGISTRY_READ"}


async def test_roles_changed_here_take_effect_at_once(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{API}/orgs/demo/users", headers=bearer(DAVE_KEY))).status_code == 403
    granted = await client.put(
        f"{API}/orgs/demo/users/{DAVE}/roles",
        json={"roles": ["REGISTRY_ADMIN", "REGISTRY_READ"]},
        headers=OWNER,
    )
    assert granted.status_code == 200
    assert (await client.get(f"{API}/orgs/demo/users", headers=bearer(DAVE_KEY))).status_code == 200


async def test_an_invalid_membership_is_refused_by_identity_with_400(client: httpx.AsyncClient) -> None:
    response = await client.put(
        f"{API}/orgs/demo/users/{BOB}/roles", json={"roles": ["USER_READ"]}, headers=OWNER
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MEMBERSHIP_INVALID"


async def test_a_third_owner_is_refused_with_409(client: httpx.AsyncClient) -> None:
    for user in (BOB, DAVE):
        response = await client.put(
            f"{API}/orgs/demo/users/{user}/roles", json={"roles": ["ORG_OWNER"]}, headers=OWNER
        )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "OWNER_LIMIT"


async def test_the_owner_removes_a_user_from_the_org(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    response = await client.delete(f"{API}/orgs/demo/users/{BOB}", headers=OWNER)
    assert response.status_code == 204
    assert response.content == b""
    assert not [k for k in fakes.identity.roles if k[0] == "demo" and k[2] == BOB]
    assert fakes.identity.events[-1].type == "hangar.identity.v1.UserRemoved"
    again = await client.delete(f"{API}/orgs/demo/users/{BOB}", headers=OWNER)
    assert again.status_code == 404


async def test_a_removed_user_is_locked_out_at_once(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{API}/orgs/demo", headers=bearer(CAROL_KEY))).status_code == 200
    assert (await client.delete(f"{API}/orgs/demo/users/{CAROL}", headers=OWNER)).status_code == 204
    assert (await client.get(f"{API}/orgs/demo", headers=bearer(CAROL_KEY))).status_code == 404


async def test_a_user_admin_cannot_remove_someone_holding_a_role_it_lacks(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    fakes.identity.member("demo", BOB, "REGISTRY_ADMIN", "REGISTRY_USER")
    response = await client.delete(f"{API}/orgs/demo/users/{BOB}", headers=bearer(CAROL_KEY))
    assert response.status_code == 403
    assert fakes.identity.roles_of("demo", BOB) == {"REGISTRY_ADMIN", "REGISTRY_USER"}


async def test_a_user_admin_removes_someone_holding_only_roles_it_holds(client: httpx.AsyncClient) -> None:
    await client.put(f"{API}/orgs/demo/users/{BOB}/roles", json={"roles": ["REGISTRY_USER"]}, headers=OWNER)
    response = await client.delete(f"{API}/orgs/demo/users/{BOB}", headers=bearer(CAROL_KEY))
    assert response.status_code == 204


async def test_the_last_owner_cannot_leave(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"{API}/orgs/demo/users/{ALICE}", headers=OWNER)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "LAST_OWNER"


async def test_team_members_are_listed_for_those_who_may_view_the_teams_users(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{API}/orgs/demo/teams/vision/users", headers=bearer(CAROL_KEY))
    assert response.status_code == 200
    assert [m["user"]["id"] for m in response.json()["items"]] == [ERIN]
    erin = await client.get(f"{API}/orgs/demo/teams/vision/users", headers=bearer(ERIN_KEY))
    assert erin.status_code == 403


async def test_a_member_of_the_org_is_added_to_a_team_by_email(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    response = await client.post(
        f"{API}/orgs/demo/teams/vision/users",
        json={"email": "bob@example.com", "roles": ["REGISTRY_USER"]},
        headers=bearer(CAROL_KEY),
    )
    assert response.status_code == 201, response.text
    assert {"org": "demo", "team": "vision", "roles": ["REGISTRY_USER"]} in response.json()["memberships"]
    assert fakes.identity.roles_of("demo", BOB, "vision") == {"REGISTRY_USER"}


async def test_someone_outside_the_org_cannot_be_added_to_a_team(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/orgs/demo/teams/vision/users",
        json={"user_id": "user-zed", "roles": ["REGISTRY_READ"]},
        headers=OWNER,
    )
    assert response.status_code == 404


async def test_adding_to_a_team_names_the_member_once(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/orgs/demo/teams/vision/users",
        json={"user_id": BOB, "email": "bob@example.com", "roles": ["REGISTRY_READ"]},
        headers=OWNER,
    )
    assert response.status_code == 400


async def test_removing_from_a_team_keeps_the_org_membership(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    fakes.identity.member("demo", BOB, "REGISTRY_USER", team="vision")
    response = await client.delete(f"{API}/orgs/demo/teams/vision/users/{BOB}", headers=bearer(CAROL_KEY))
    assert response.status_code == 204
    assert fakes.identity.roles_of("demo", BOB, "vision") == frozenset()
    assert fakes.identity.roles_of("demo", BOB) == {"REGISTRY_READ"}
    again = await client.delete(f"{API}/orgs/demo/teams/vision/users/{BOB}", headers=bearer(CAROL_KEY))
    assert again.status_code == 404
