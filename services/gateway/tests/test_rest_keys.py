"""API keys over REST: a user's own keys, admins' view of members' keys, and service keys. Secrets appear
once; someone else's key is a 404; limits are 409 and say which."""

from __future__ import annotations

import httpx

from hangar.gateway.testing import (
    ADMIN_ONLY_KEY,
    ALICE,
    ALICE_PASSWORD,
    API,
    CAROL,
    CAROL_KEY,
    DAVE_KEY,
    ERIN_KEY,
    ZED_KEY,
    FakeWorld,
    bearer,
)

OWNER = bearer(ADMIN_ONLY_KEY)


async def create_key(client: httpx.AsyncClient, headers: dict[str, str], **body: object) -> dict[str, object]:
    response = await client.post(f"{API}/users/me/keys", json={"name": "laptop", **body}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def session(client: httpx.AsyncClient) -> dict[str, str]:
    login = await client.post(
        f"{API}/sessions", json={"email": "alice@example.com", "password": ALICE_PASSWORD}
    )
    return bearer(login.json()["session_token"])


# -- personal keys ----------------------------------------------------------------------------------------


async def test_a_new_personal_key_is_shown_once_with_its_secret(client: httpx.AsyncClient) -> None:
    created = await create_key(client, OWNER, services=["admin"], expires_in_seconds=3600)
    key = created["key"]
    assert isinstance(key, dict)
    assert str(created["secret"]).startswith(str(key["prefix"]))
    assert key["type"] == "personal" and key["status"] == "active" and key["org"] == "demo"
    assert key["owner_user_id"] == ALICE and key["services"] == ["admin"] and key["expires_at"]
    fetched = await client.get(f"{API}/users/me/keys/{key['id']}", headers=OWNER)
    assert fetched.json() == key
    assert created["secret"] not in fetched.text


async def test_the_new_key_works_at_once(client: httpx.AsyncClient) -> None:
    created = await create_key(client, OWNER, services=["admin"])
    response = await client.get(f"{API}/orgs/demo", headers=bearer(str(created["secret"])))
    assert response.status_code == 200


async def test_a_key_that_never_expires_says_so(client: httpx.AsyncClient) -> None:
    created = await create_key(client, OWNER, services=["admin"])
    assert created["key"]["expires_at"] is None  # type: ignore[index]


async def test_a_lifetime_under_an_hour_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/users/me/keys",
        json={"name": "x", "services": ["admin"], "expires_in_seconds": 60},
        headers=OWNER,
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("body.expires_in_seconds")


async def test_a_key_cannot_mint_a_key_with_a_service_it_lacks(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    response = await client.post(
        f"{API}/users/me/keys", json={"name": "x", "services": ["registry"]}, headers=OWNER
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "KEY_SERVICE_MISSING"
    assert not [k for k in fakes.keys.by_id.values() if k.name == "x"]


async def test_a_session_may_create_a_key_with_any_service(client: httpx.AsyncClient) -> None:
    await create_key(client, await session(client), services=["registry", "admin"])


async def test_the_ninth_personal_key_is_409_personal_key_limit(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    headers = await session(client)
    existing = sum(1 for k in fakes.keys.by_id.values() if k.user_id == ALICE and k.key_type == "PERSONAL")
    for n in range(8 - existing):
        await create_key(client, headers, name=f"key {n}")
    response = await client.post(f"{API}/users/me/keys", json={"name": "ninth"}, headers=headers)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "PERSONAL_KEY_LIMIT" and "8" in error["message"]


async def test_the_caller_lists_their_own_keys_only(client: httpx.AsyncClient) -> None:
    await create_key(client, OWNER, services=["admin"])
    response = await client.get(f"{API}/users/me/keys", headers=OWNER)
    assert response.status_code == 200
    owners = {key["owner_user_id"] for key in response.json()["items"]}
    assert owners == {ALICE}
    assert all("secret" not in key for key in response.json()["items"])


async def test_someone_elses_key_is_404_exactly_like_a_missing_one(client: httpx.AsyncClient) -> None:
    for method in ("GET", "DELETE"):
        other = await client.request(method, f"{API}/users/me/keys/key-carol", headers=OWNER)
        missing = await client.request(method, f"{API}/users/me/keys/no-such-key", headers=OWNER)
        assert other.status_code == missing.status_code == 404
        assert other.json()["error"]["message"].replace("key-carol", "X") == missing.json()["error"][
            "message"
        ].replace("no-such-key", "X")
    other = await client.post(f"{API}/users/me/keys/key-carol/rotate", headers=OWNER)
    assert other.status_code == 404
    other = await client.patch(f"{API}/users/me/keys/key-carol", json={"active": False}, headers=OWNER)
    assert other.status_code == 404


async def test_rotating_gives_a_new_secret_and_kills_the_old_one_at_once(client: httpx.AsyncClient) -> None:
    created = await create_key(client, OWNER, services=["admin"])
    old = str(created["secret"])
    assert (await client.get(f"{API}/orgs/demo", headers=bearer(old))).status_code == 200
    key_id = created["key"]["id"]  # type: ignore[index]
    rotated = await client.post(f"{API}/users/me/keys/{key_id}/rotate", headers=OWNER)
    assert rotated.status_code == 200
    assert rotated.json()["key"]["id"] == key_id and rotated.json()["secret"] != old
    assert (await client.get(f"{API}/orgs/demo", headers=bearer(old))).status_code == 401
    assert (await client.get(f"{API}/orgs/demo", headers=bearer(rotated.json()["secret"]))).status_code == 200


async def test_deactivating_refuses_the_key_at_once_and_reactivating_restores_it(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    created = await create_key(client, OWNER, services=["admin"])
    secret, key_id = str(created["secret"]), created["key"]["id"]  # type: ignore[index]
    assert (await client.get(f"{API}/orgs/demo", headers=bearer(secret))).status_code == 200
    off = await client.patch(f"{API}/users/me/keys/{key_id}", json={"active": False}, headers=OWNER)
    assert off.status_code == 200 and off.json()["status"] == "inactive"
    refused = await client.get(f"{API}/orgs/demo", headers=bearer(secret))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "KEY_INACTIVE"
    on = await client.patch(f"{API}/users/me/keys/{key_id}", json={"active": True}, headers=OWNER)
    assert on.status_code == 200 and on.json()["status"] == "active"
    assert (await fakes.keys.authenticate(secret)).key_id == key_id


async def test_renaming_and_changing_services(client: httpx.AsyncClient) -> None:
    headers = await session(client)
    created = await create_key(client, headers, services=["admin"])
    key_id = created["key"]["id"]  # type: ignore[index]
    response = await client.patch(
        f"{API}/users/me/keys/{key_id}", json={"name": "desktop", "services": ["registry"]}, headers=headers
    )
    assert response.status_code == 200
    assert response.json()["name"] == "desktop" and response.json()["services"] == ["registry"]


async def test_an_empty_patch_is_400(client: httpx.AsyncClient) -> None:
    created = await create_key(client, OWNER, services=["admin"])
    response = await client.patch(f"{API}/users/me/keys/{created['key']['id']}", json={}, headers=OWNER)  # type: ignore[index]
    assert response.status_code == 400


async def test_deleting_a_key_refuses_it_and_hides_it(client: httpx.AsyncClient) -> None:
    created = await create_key(client, OWNER, services=["admin"])
    secret, key_id = str(created["secret"]), created["key"]["id"]  # type: ignore[index]
    assert (await client.get(f"{API}/orgs/demo", headers=bearer(secret))).status_code == 200
    assert (await client.delete(f"{API}/users/me/keys/{key_id}", headers=OWNER)).status_code == 204
    assert (await client.get(f"{API}/orgs/demo", headers=bearer(secret))).status_code == 401
    assert (await client.get(f"{API}/users/me/keys/{key_id}", headers=OWNER)).status_code == 404


async def test_a_legacy_key_is_regenerated_and_the_old_one_dies(client: httpx.AsyncClient) -> None:
    headers = await session(client)
    first = await client.post(f"{API}/users/me/legacy-key", headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["key"]["type"] == "legacy"
    old = first.json()["secret"]
    assert (await client.get(f"{API}/orgs/demo", headers=bearer(old))).status_code == 200
    second = await client.post(f"{API}/users/me/legacy-key", json={"org": "demo"}, headers=headers)
    assert second.status_code == 201
    assert (await client.get(f"{API}/orgs/demo", headers=bearer(old))).status_code == 401
    assert (await client.get(f"{API}/orgs/demo", headers=bearer(second.json()["secret"]))).status_code == 200


async def test_a_legacy_key_cannot_be_rotated(client: httpx.AsyncClient) -> None:
    headers = await session(client)
    legacy = await client.post(f"{API}/users/me/legacy-key", headers=headers)
    response = await client.post(f"{API}/users/me/keys/{legacy.json()['key']['id']}/rotate", headers=headers)
    assert response.status_code == 409


async def test_a_key_for_an_org_the_caller_is_not_in_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/users/me/keys", json={"name": "x", "services": ["admin"], "org": "acme"}, headers=OWNER
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "ORG_NOT_FOUND"


# -- members' keys, for admins ----------------------------------------------------------------------------


async def test_an_org_admin_sees_members_keys_but_no_secrets(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/orgs/demo/keys", headers=bearer(CAROL_KEY))
    assert response.status_code == 200
    owners = {key["owner_user_id"] for key in response.json()["items"]}
    assert {ALICE, CAROL} <= owners
    assert "acme" not in {key["org"] for key in response.json()["items"]}


async def test_members_keys_can_be_filtered_by_user(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/orgs/demo/keys", params={"user_id": CAROL}, headers=OWNER)
    assert {key["owner_user_id"] for key in response.json()["items"]} == {CAROL}


async def test_only_owners_and_org_user_admins_see_members_keys(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{API}/orgs/demo/keys", headers=bearer(DAVE_KEY))).status_code == 403
    assert (await client.get(f"{API}/orgs/demo/keys", headers=bearer(ERIN_KEY))).status_code == 403
    assert (await client.get(f"{API}/orgs/demo/keys", headers=bearer(ZED_KEY))).status_code == 404


async def test_an_admin_revokes_a_members_key_with_a_reason(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    response = await client.delete(f"{API}/orgs/demo/keys/key-dave", params={"reason": "left"}, headers=OWNER)
    assert response.status_code == 204
    assert fakes.keys.revocations["key-dave"] == "left"
    refused = await client.get(f"{API}/orgs/demo", headers=bearer(DAVE_KEY))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "KEY_REVOKED"


async def test_revoking_takes_the_reason_from_the_body_or_a_default(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    await client.request(
        "DELETE", f"{API}/orgs/demo/keys/key-dave", json={"reason": "lost laptop"}, headers=OWNER
    )
    await client.delete(f"{API}/orgs/demo/keys/key-erin", headers=OWNER)
    assert fakes.keys.revocations == {"key-dave": "lost laptop", "key-erin": "revoked by admin"}


async def test_a_key_of_another_org_cannot_be_revoked_through_this_one(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    response = await client.delete(f"{API}/orgs/demo/keys/key-zed", headers=OWNER)
    assert response.status_code == 404
    assert "key-zed" not in fakes.keys.revocations


# -- service keys -----------------------------------------------------------------------------------------


async def test_a_user_admin_creates_a_scoped_service_key(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/orgs/demo/service-keys",
        json={
            "name": "ci",
            "scopes": [
                {"actions": ["get", "list"], "entity_types": ["container"]},
                {"actions": ["push"], "team": "vision", "repository": "demo/vision/app"},
            ],
            "expires_in_seconds": 86400,
        },
        headers=bearer(CAROL_KEY),
    )
    assert response.status_code == 201, response.text
    key = response.json()["key"]
    assert key["type"] == "service" and key["owner_user_id"] is None and key["created_by"] == CAROL
    assert key["scopes"] == [
        {"actions": ["get", "list"], "entity_types": ["container"], "team": None, "repository": None},
        {"actions": ["push"], "entity_types": [], "team": "vision", "repository": "demo/vision/app"},
    ]
    listed = await client.get(f"{API}/orgs/demo/service-keys", headers=bearer(CAROL_KEY))
    assert [k["id"] for k in listed.json()["items"]] == [key["id"]]
    members = await client.get(f"{API}/orgs/demo/keys", headers=bearer(CAROL_KEY))
    assert key["id"] not in {k["id"] for k in members.json()["items"]}


async def test_a_scope_outside_the_org_or_its_team_is_400(client: httpx.AsyncClient) -> None:
    for scope in (
        {"actions": ["get"], "repository": "acme/app"},
        {"actions": ["get"], "team": "nosuchteam"},
        {"actions": ["get"], "team": "vision", "repository": "demo/app"},
        {"actions": ["fly"]},
        {"actions": []},
    ):
        response = await client.post(
            f"{API}/orgs/demo/service-keys", json={"name": "ci", "scopes": [scope]}, headers=bearer(CAROL_KEY)
        )
        assert response.status_code == 400, scope


async def test_service_keys_are_for_owners_and_org_user_admins_only(client: httpx.AsyncClient) -> None:
    body = {"name": "ci", "scopes": [{"actions": ["get"]}]}
    assert (
        await client.post(f"{API}/orgs/demo/service-keys", json=body, headers=bearer(DAVE_KEY))
    ).status_code == 403
    assert (await client.get(f"{API}/orgs/demo/service-keys", headers=bearer(ERIN_KEY))).status_code == 403


async def test_a_service_key_is_updated_rotated_and_deleted(client: httpx.AsyncClient) -> None:
    headers = bearer(CAROL_KEY)
    created = await client.post(
        f"{API}/orgs/demo/service-keys",
        json={"name": "ci", "scopes": [{"actions": ["get"]}]},
        headers=headers,
    )
    key_id = created.json()["key"]["id"]
    updated = await client.patch(
        f"{API}/orgs/demo/service-keys/{key_id}",
        json={"name": "ci-2", "scopes": [{"actions": ["get", "push"]}], "active": False},
        headers=headers,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "ci-2" and updated.json()["status"] == "inactive"
    assert updated.json()["scopes"][0]["actions"] == ["get", "push"]
    fetched = await client.get(f"{API}/orgs/demo/service-keys/{key_id}", headers=headers)
    assert fetched.json() == updated.json()
    rotated = await client.post(f"{API}/orgs/demo/service-keys/{key_id}/rotate", headers=headers)
    assert rotated.status_code == 200 and rotated.json()["secret"] != created.json()["secret"]
    assert (await client.delete(f"{API}/orgs/demo/service-keys/{key_id}", headers=headers)).status_code == 204
    assert (await client.get(f"{API}/orgs/demo/service-keys/{key_id}", headers=headers)).status_code == 404


async def test_a_personal_key_is_not_a_service_key(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/orgs/demo/service-keys/key-dave", headers=OWNER)
    assert response.status_code == 404
