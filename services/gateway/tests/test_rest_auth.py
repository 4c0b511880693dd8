"""REST authentication: keys and sessions in; 401 says why a credential was refused, 403 why a valid one may
not manage anything; every service call carries the caller as the actor."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette

from hangar.gateway.app import create_app
from hangar.gateway.testing import (
    ADMIN_ONLY_KEY,
    ALICE,
    ALICE_KEY,
    ALICE_PASSWORD,
    API,
    CAROL_KEY,
    DAVE,
    DAVE_KEY,
    FakeWorld,
    basic,
    bearer,
)
from hangar.kit.errors import Unauthenticated


def error_of(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "detail"}
    return dict(body["error"])


async def test_no_credential_is_401_with_a_bearer_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/orgs/demo")
    assert response.status_code == 401
    assert error_of(response)["code"] == "CREDENTIAL_MISSING"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_an_unknown_key_is_401_key_invalid_without_echoing_it(client: httpx.AsyncClient) -> None:
    wrong = "hgr_alice123_notTheRightSecretAtAll"
    response = await client.get(f"{API}/orgs/demo", headers=bearer(wrong))
    assert response.status_code == 401
    assert error_of(response)["code"] == "KEY_INVALID"
    assert wrong not in response.text


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("KEY_EXPIRED", "API key hgr_admin123 expired at 2024-01-01"),
        ("KEY_REVOKED", "API key hgr_admin123 has been revoked"),
        ("KEY_INACTIVE", "API key hgr_admin123 is inactive; activate it to use it again"),
    ],
)
async def test_a_refused_key_is_401_with_the_keys_services_code(
    client: httpx.AsyncClient, fakes: FakeWorld, code: str, message: str
) -> None:
    fakes.keys.refuse(ADMIN_ONLY_KEY, Unauthenticated(message, code=code))
    response = await client.get(f"{API}/orgs/demo", headers=bearer(ADMIN_ONLY_KEY))
    assert response.status_code == 401
    assert error_of(response) == {"code": code, "message": message, "detail": None}


async def test_a_key_past_its_expiry_is_refused_by_the_gateway_itself(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    key = fakes.keys.by_id["key-carol"]
    fakes.keys.add(CAROL_KEY, dataclasses.replace(key, expires_at=1))
    response = await client.get(f"{API}/orgs/demo", headers=bearer(CAROL_KEY))
    assert response.status_code == 401
    assert error_of(response)["code"] == "KEY_EXPIRED"


async def test_a_key_without_the_admin_service_is_403_saying_so(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/orgs/demo", headers=bearer(ALICE_KEY))
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "KEY_SERVICE_MISSING" and "admin service" in str(error["message"])


async def test_a_service_key_cannot_use_the_management_api(client: httpx.AsyncClient) -> None:
    created = await client.post(
        f"{API}/orgs/demo/service-keys",
        json={"name": "ci", "scopes": [{"actions": ["get"]}]},
        headers=bearer(CAROL_KEY),
    )
    assert created.status_code == 201, created.text
    response = await client.get(f"{API}/orgs/demo", headers=bearer(created.json()["secret"]))
    assert response.status_code == 403
    assert error_of(response)["code"] == "SERVICE_KEY_REFUSED"


async def test_an_access_token_is_not_a_rest_credential(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/orgs/demo", headers=bearer("eyJhbGciOiJFZERTQSJ9.e30.c2ln"))
    assert response.status_code == 401
    assert error_of(response)["code"] == "CREDENTIAL_INVALID"


async def test_basic_oauthtoken_with_an_admin_key_is_accepted_too(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/orgs/demo", headers=basic(ADMIN_ONLY_KEY))
    assert response.status_code == 200


async def test_a_session_token_authenticates_and_is_verified_once_within_the_cache_time(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    login = await client.post(
        f"{API}/sessions", json={"email": "alice@example.com", "password": ALICE_PASSWORD}
    )
    token = login.json()["session_token"]
    calls = 0
    verify = fakes.identity.verify_session

    async def counting(secret: str):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return await verify(secret)

    fakes.identity.verify_session = counting  # type: ignore[method-assign]
    for _ in range(3):
        response = await client.get(f"{API}/orgs/demo", headers=bearer(token))
        assert response.status_code == 200
    assert calls == 1


async def test_an_unknown_session_is_401_session_invalid(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/orgs/demo", headers=bearer("hgs_noSuchSession"))
    assert response.status_code == 401
    assert error_of(response)["code"] == "SESSION_INVALID"


async def test_an_expired_session_is_401_session_expired(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    login = await client.post(
        f"{API}/sessions", json={"email": "alice@example.com", "password": ALICE_PASSWORD}
    )
    token = login.json()["session_token"]
    session = fakes.identity.sessions[token]
    fakes.identity.sessions[token] = dataclasses.replace(session, expires_at=1)
    response = await client.get(f"{API}/orgs/demo", headers=bearer(token))
    assert response.status_code == 401
    assert error_of(response)["code"] == "SESSION_EXPIRED"


async def test_service_calls_carry_the_caller_as_actor(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    response = await client.post(
        f"{API}/orgs/demo/teams", json={"name": "robotics"}, headers=bearer(ADMIN_ONLY_KEY)
    )
    assert response.status_code == 201
    created = [e for e in fakes.identity.events if e.type.endswith("TeamCreated")]
    assert [e.actor for e in created] == [ALICE]
    assert created[0].correlation_id


async def test_the_request_id_becomes_the_correlation_id(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    await client.post(
        f"{API}/orgs/demo/teams",
        json={"name": "robotics"},
        headers={**bearer(ADMIN_ONLY_KEY), "X-Request-Id": "req-42"},
    )
    assert fakes.identity.events[-1].correlation_id == "req-42"


@pytest.fixture
async def app_and_client(fakes: FakeWorld) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    app = create_app(fakes.services(), Ed25519PrivateKey.generate())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://registry.test"
    ) as http:
        yield app, http


async def test_a_role_change_heard_from_another_replica_reaches_rest_decisions_at_once(
    app_and_client: tuple[Starlette, httpx.AsyncClient], fakes: FakeWorld
) -> None:
    app, client = app_and_client
    assert (await client.get(f"{API}/orgs/demo/users", headers=bearer(DAVE_KEY))).status_code == 403
    fakes.identity.member("demo", DAVE, "REGISTRY_ADMIN", "REGISTRY_READ")  # changed elsewhere
    assert (await client.get(f"{API}/orgs/demo/users", headers=bearer(DAVE_KEY))).status_code == 403  # cached
    app.state.rest.state.gate.forget_user(DAVE)  # what the RolesChanged event does
    assert (await client.get(f"{API}/orgs/demo/users", headers=bearer(DAVE_KEY))).status_code == 200


async def test_a_session_ended_on_another_replica_is_refused_at_once(
    app_and_client: tuple[Starlette, httpx.AsyncClient], fakes: FakeWorld
) -> None:
    app, client = app_and_client
    login = await client.post(
        f"{API}/sessions", json={"email": "alice@example.com", "password": ALICE_PASSWORD}
    )
    token = login.json()["session_token"]
    assert (await client.get(f"{API}/orgs/demo", headers=bearer(token))).status_code == 200
    app.state.authenticator.forget_session(fakes.identity.sessions[token].session_id)  # SessionEnded
    refused = await client.get(f"{API}/orgs/demo", headers=bearer(token))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "SESSION_INVALID"


async def test_after_missed_events_every_rest_decision_is_asked_again(
    app_and_client: tuple[Starlette, httpx.AsyncClient], fakes: FakeWorld
) -> None:
    app, client = app_and_client
    await client.get(f"{API}/orgs/demo/users", headers=bearer(CAROL_KEY))
    asked = fakes.identity.check_org_access_calls
    await client.get(f"{API}/orgs/demo/users", headers=bearer(CAROL_KEY))
    assert fakes.identity.check_org_access_calls == asked
    app.state.rest.state.gate.forget_everything()
    await client.get(f"{API}/orgs/demo/users", headers=bearer(CAROL_KEY))
    assert fakes.identity.check_org_access_calls == asked + 1
