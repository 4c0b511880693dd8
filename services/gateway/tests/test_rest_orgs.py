"""Orgs and teams over REST: members see their org; teams only as far as their roles reach; strangers get
the same 404 as for an org that does not exist."""

from __future__ import annotations

import httpx

from hangar.gateway.testing import (
    ADMIN_ONLY_KEY,
    API,
    CAROL_KEY,
    DAVE_KEY,
    ERIN_KEY,
    ZED_KEY,
    FakeWorld,
    bearer,
)


async def test_a_member_gets_the_org(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/orgs/demo", headers=bearer(DAVE_KEY))
    assert response.status_code == 200
    assert response.json() == {"id": "org-demo", "name": "demo", "display_name": "Demo"}


async def test_a_team_only_member_sees_the_org_too(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{API}/orgs/demo", headers=bearer(ERIN_KEY))).status_code == 200


async def test_an_org_the_caller_is_not_in_looks_exactly_like_a_missing_one(
    client: httpx.AsyncClient,
) -> None:
    foreign = await client.get(f"{API}/orgs/acme", headers=bearer(ADMIN_ONLY_KEY))
    missing = await client.get(f"{API}/orgs/nosuchorg", headers=bearer(ADMIN_ONLY_KEY))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"]["code"] == missing.json()["error"]["code"] == "ORG_NOT_FOUND"
    assert foreign.json()["error"]["message"].replace("acme", "X") == missing.json()["error"][
        "message"
    ].replace("nosuchorg", "X")


async def test_a_malformed_org_name_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/orgs/Not_Valid!", headers=bearer(ADMIN_ONLY_KEY))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "REQUEST_INVALID"


async def test_the_owner_creates_and_lists_teams(client: httpx.AsyncClient) -> None:
    created = await client.post(
        f"{API}/orgs/demo/teams", json={"name": "robotics"}, headers=bearer(ADMIN_ONLY_KEY)
    )
    assert created.status_code == 201
    assert created.json() == {"org": "demo", "name": "robotics"}
    listed = await client.get(f"{API}/orgs/demo/teams", headers=bearer(ADMIN_ONLY_KEY))
    assert listed.json() == {
        "items": [{"org": "demo", "name": "robotics"}, {"org": "demo", "name": "vision"}],
        "next_page_token": None,
    }


async def test_a_user_admin_may_create_teams(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/orgs/demo/teams", json={"name": "robotics"}, headers=bearer(CAROL_KEY)
    )
    assert response.status_code == 201


async def test_a_registry_reader_may_not_create_teams_and_is_told_why(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/orgs/demo/teams", json={"name": "robotics"}, headers=bearer(DAVE_KEY)
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "DENIED"
    assert "add teams" in response.json()["error"]["message"]


async def test_an_existing_team_name_is_409(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/orgs/demo/teams", json={"name": "vision"}, headers=bearer(ADMIN_ONLY_KEY)
    )
    assert response.status_code == 409


async def test_members_list_only_the_teams_they_hold_a_role_in(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    fakes.identity.teams["demo"].add("secret-project")
    dave = await client.get(f"{API}/orgs/demo/teams", headers=bearer(DAVE_KEY))
    erin = await client.get(f"{API}/orgs/demo/teams", headers=bearer(ERIN_KEY))
    carol = await client.get(f"{API}/orgs/demo/teams", headers=bearer(CAROL_KEY))
    assert dave.json()["items"] == []
    assert [t["name"] for t in erin.json()["items"]] == ["vision"]
    assert [t["name"] for t in carol.json()["items"]] == ["secret-project", "vision"]


async def test_a_team_the_caller_cannot_see_is_a_404_like_a_missing_one(client: httpx.AsyncClient) -> None:
    hidden = await client.get(f"{API}/orgs/demo/teams/vision", headers=bearer(DAVE_KEY))
    missing = await client.get(f"{API}/orgs/demo/teams/nosuchteam", headers=bearer(DAVE_KEY))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["code"] == missing.json()["error"]["code"] == "TEAM_NOT_FOUND"


async def test_a_team_member_gets_their_team(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/orgs/demo/teams/vision", headers=bearer(ERIN_KEY))
    assert response.status_code == 200
    assert response.json() == {"org": "demo", "name": "vision"}


async def test_the_owner_gets_a_404_for_a_team_that_does_not_exist(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/orgs/demo/teams/nosuchteam", headers=bearer(ADMIN_ONLY_KEY))
    assert response.status_code == 404


async def test_team_lists_are_paginated(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    fakes.identity.teams["demo"].update({"a1", "a2", "a3"})
    first = await client.get(
        f"{API}/orgs/demo/teams", params={"page_size": 2}, headers=bearer(ADMIN_ONLY_KEY)
    )
    names = [t["name"] for t in first.json()["items"]]
    token = first.json()["next_page_token"]
    second = await client.get(
        f"{API}/orgs/demo/teams", params={"page_size": 2, "page_token": token}, headers=bearer(ADMIN_ONLY_KEY)
    )
    names += [t["name"] for t in second.json()["items"]]
    assert names == ["a1", "a2", "a3", "vision"]
    assert second.json()["next_page_token"] is None


async def test_a_page_token_we_did_not_hand_out_is_400(client: httpx.AsyncClient) -> None:
    for token in ("garbage", "b2Zmc2V0Oi0x", "çß", "a b"):
        response = await client.get(
            f"{API}/orgs/demo/teams", params={"page_token": token}, headers=bearer(ADMIN_ONLY_KEY)
        )
        assert response.status_code == 400, token
        assert response.json()["error"]["code"] in ("PAGE_TOKEN_INVALID", "REQUEST_INVALID")


async def test_a_stranger_owner_of_another_org_sees_nothing_of_demo(client: httpx.AsyncClient) -> None:
    for path in ("/orgs/demo", "/orgs/demo/teams", "/orgs/demo/users", "/orgs/demo/events"):
        response = await client.get(f"{API}{path}", headers=bearer(ZED_KEY))
        assert response.status_code == 404, path
