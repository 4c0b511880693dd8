"""Sessions, invitations and /users/me: invite -> accept with a password -> log in -> act -> log out."""

from __future__ import annotations

import httpx

from hangar.gateway.testing import ADMIN_ONLY_KEY, ALICE, ALICE_PASSWORD, API, FakeWorld, bearer


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> str:
    response = await client.post(f"{API}/sessions", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return str(response.json()["session_token"])


async def test_logging_in_answers_a_session_token_its_expiry_and_the_user(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/sessions", json={"email": "alice@example.com", "password": ALICE_PASSWORD}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["session_token"].startswith("hgs_")
    assert body["expires_at"].endswith("Z")
    assert body["user"] == {"id": ALICE, "email": "alice@example.com", "display_name": ALICE}
    assert response.headers["Cache-Control"] == "no-store"


async def test_a_wrong_password_is_401_and_says_nothing_about_the_email(client: httpx.AsyncClient) -> None:
    wrong = await client.post(f"{API}/sessions", json={"email": "alice@example.com", "password": "nope"})
    unknown = await client.post(f"{API}/sessions", json={"email": "nobody@example.com", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert "nope" not in wrong.text


async def test_logging_out_ends_the_session_at_once(client: httpx.AsyncClient) -> None:
    token = await log_in(client, "alice@example.com", ALICE_PASSWORD)
    assert (await client.get(f"{API}/users/me", headers=bearer(token))).status_code == 200
    response = await client.delete(f"{API}/sessions/current", headers=bearer(token))
    assert response.status_code == 204
    after = await client.get(f"{API}/users/me", headers=bearer(token))
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "SESSION_INVALID"


async def test_logging_out_with_a_key_is_400_there_is_no_session(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"{API}/sessions/current", headers=bearer(ADMIN_ONLY_KEY))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "NOT_A_SESSION"


async def test_an_invited_user_accepts_logs_in_and_sees_their_memberships(client: httpx.AsyncClient) -> None:
    invited = await client.post(
        f"{API}/orgs/demo/users",
        json={"email": "new@example.com", "display_name": "New", "roles": ["REGISTRY_USER"]},
        headers=bearer(ADMIN_ONLY_KEY),
    )
    assert invited.status_code == 201, invited.text
    token = invited.json()["token"]

    accepted = await client.post(
        f"{API}/invitations/{token}/accept", json={"password": "a-long-password", "display_name": "Newton"}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["user"]["display_name"] == "Newton"
    assert accepted.json()["memberships"] == [{"org": "demo", "team": None, "roles": ["REGISTRY_USER"]}]

    session = await log_in(client, "new@example.com", "a-long-password")
    me = await client.get(f"{API}/users/me", headers=bearer(session))
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "new@example.com"


async def test_an_invitation_is_accepted_once(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    issued = await fakes.identity.invite_user(
        "demo", "x@example.com", "X", ["REGISTRY_READ"], invited_by=ALICE
    )
    first = await client.post(
        f"{API}/invitations/{issued.token}/accept", json={"password": "a-long-password"}
    )
    second = await client.post(
        f"{API}/invitations/{issued.token}/accept", json={"password": "a-long-password"}
    )
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "INVITATION_USED"


async def test_accepting_without_a_password_is_400_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/invitations/hgi_whatever/accept", json={})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("body.password")


async def test_users_me_lists_every_membership(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    fakes.identity.member("demo", ALICE, "REGISTRY_USER", team="vision")
    response = await client.get(f"{API}/users/me", headers=bearer(ADMIN_ONLY_KEY))
    assert response.json()["memberships"] == [
        {"org": "demo", "team": None, "roles": ["ORG_OWNER"]},
        {"org": "demo", "team": "vision", "roles": ["REGISTRY_USER"]},
    ]
