"""/token: API keys in, signed tokens with granted actions out; refusals say why and never echo a secret."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import httpx
import jwt

from hangar.gateway.testing import ADMIN_ONLY_KEY, ALICE, ALICE_KEY, BOB_KEY, FakeWorld, basic
from hangar.kit.errors import DomainError, Unauthenticated

TokenFor = Callable[..., Awaitable[str]]


def claims_of(token: str) -> dict[str, object]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


async def test_a_valid_key_gets_a_token_with_the_granted_actions(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/token",
        params={"service": "hangar", "scope": "repository:demo/hello:pull,push", "account": "$oauthtoken"},
        headers=basic(ALICE_KEY),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 300
    assert datetime.strptime(body["issued_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert response.headers["Cache-Control"] == "no-store"
    claims = claims_of(body["token"])
    assert claims["sub"] == ALICE and claims["key_id"] == "key-alice"
    assert claims["access"] == [{"type": "repository", "name": "demo/hello", "actions": ["pull", "push"]}]


async def test_denied_scopes_are_left_out_of_the_token_not_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/token",
        params=[("scope", "repository:demo/hello:pull,push"), ("scope", "repository:demo/secret:pull")],
        headers=basic(BOB_KEY),
    )
    assert response.status_code == 200
    claims = claims_of(response.json()["token"])
    assert claims["access"] == [{"type": "repository", "name": "demo/hello", "actions": ["pull"]}]
    denied = {d["name"]: d["actions"] for d in claims["denied"]}  # type: ignore[attr-defined]
    assert denied == {"demo/hello": ["push"], "demo/secret": ["pull"]}


async def test_a_login_without_scope_gets_a_token_with_no_access(client: httpx.AsyncClient) -> None:
    response = await client.get("/token", params={"service": "hangar"}, headers=basic(ALICE_KEY))
    assert response.status_code == 200
    assert claims_of(response.json()["token"])["access"] == []


async def test_a_wrong_key_is_401_with_the_reason_and_without_the_secret(client: httpx.AsyncClient) -> None:
    wrong = "hgr_alice123_notTheRightSecretAtAll"
    response = await client.get(
        "/token", params={"scope": "repository:demo/hello:pull"}, headers=basic(wrong)
    )
    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert error["code"] == "UNAUTHORIZED"
    assert error["message"] == "the API key is not valid"
    assert error["detail"] == {"reason": "KEY_INVALID"}
    assert wrong not in response.text


async def test_a_revoked_key_is_told_it_was_revoked(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    fakes.keys.refuse(ALICE_KEY, Unauthenticated("API key hgr_alice123 has been revoked", code="KEY_REVOKED"))
    response = await client.get("/token", headers=basic(ALICE_KEY))
    assert response.status_code == 401
    assert "revoked" in response.json()["errors"][0]["message"]
    assert response.json()["errors"][0]["detail"] == {"reason": "KEY_REVOKED"}


async def test_an_expired_key_is_told_it_expired(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    fakes.keys.refuse(
        ALICE_KEY, Unauthenticated("API key hgr_alice123 expired at 2024-01-01", code="KEY_EXPIRED")
    )
    response = await client.get("/token", headers=basic(ALICE_KEY))
    assert response.status_code == 401 and "expired" in response.json()["errors"][0]["message"]


async def test_no_credentials_is_401_asking_for_basic(client: httpx.AsyncClient) -> None:
    response = await client.get("/token", params={"scope": "repository:demo/hello:pull"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="hangar"'
    assert "$oauthtoken" in response.json()["errors"][0]["message"]


async def test_a_username_other_than_oauthtoken_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/token", headers=basic(ALICE_KEY, username="alice"))
    assert response.status_code == 401
    assert response.json()["errors"][0]["detail"] == {"reason": "USERNAME_INVALID"}


async def test_an_access_token_cannot_buy_another_token(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    token = await token_for("repository:demo/hello:pull")
    response = await client.get("/token", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_a_raw_key_bearer_is_accepted_too(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/token",
        params={"scope": "repository:demo/hello:pull"},
        headers={"Authorization": f"Bearer {ALICE_KEY}"},
    )
    assert response.status_code == 200


async def test_a_key_without_the_registry_service_gets_no_access(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/token", params={"scope": "repository:demo/hello:pull"}, headers=basic(ADMIN_ONLY_KEY)
    )
    assert response.status_code == 200
    claims = claims_of(response.json()["token"])
    assert claims["access"] == []
    assert "registry service" in claims["denied"][0]["reason"]  # type: ignore[index]


async def test_a_malformed_scope_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/token", params={"scope": "repository:Demo/Hello:pull"}, headers=basic(ALICE_KEY)
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "SCOPE_INVALID"


async def test_tokens_for_another_service_are_not_issued(client: httpx.AsyncClient) -> None:
    response = await client.get("/token", params={"service": "registry.docker.io"}, headers=basic(ALICE_KEY))
    assert response.status_code == 400


async def test_the_oauth2_password_grant_works(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/token",
        data={
            "grant_type": "password",
            "username": "$oauthtoken",
            "password": ALICE_KEY,
            "service": "hangar",
            "scope": "repository:demo/hello:pull repository:demo/other:push",
            "client_id": "docker",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["access_token"] and body["scope"] == "repository:demo/hello:pull repository:demo/other:push"
    assert len(claims_of(body["access_token"])["access"]) == 2  # type: ignore[arg-type]


async def test_the_oauth2_refresh_grant_is_not_supported(client: httpx.AsyncClient) -> None:
    response = await client.post("/token", data={"grant_type": "refresh_token", "refresh_token": "x"})
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"


async def test_the_oauth2_grant_with_a_wrong_key_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/token", data={"grant_type": "password", "username": "$oauthtoken", "password": "hgr_nobody00_x"}
    )
    assert response.status_code == 401


async def test_the_keys_service_being_down_is_503_not_401(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    async def down(secret: str) -> object:
        raise DomainError("service unavailable: connection refused", code="UNAVAILABLE")

    fakes.keys.authenticate = down  # type: ignore[method-assign]
    response = await client.get("/token", headers=basic(ALICE_KEY))
    assert response.status_code == 503
