"""`registry:catalog:*` at /token, and `/v2/_catalog` with such a token: it lists what the token's key may see
(the same rows as the API key itself), honours the revocation not-befores, and pages with bounded work."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette

from hangar.api.identity.v1 import events_pb2 as identity_events
from hangar.api.keys.v1 import events_pb2 as keys_events
from hangar.gateway.app import create_app
from hangar.gateway.clients import KeyInfo
from hangar.gateway.clients.model import KeyScope
from hangar.gateway.events import Revocations
from hangar.gateway.oci import catalog
from hangar.gateway.testing import (
    ALICE_KEY,
    BOB_KEY,
    ERIN_KEY,
    ZED_KEY,
    FakeWorld,
    basic,
    bearer,
)

BASE_URL = "http://registry.test"
CATALOG_CHALLENGE = f'Bearer realm="{BASE_URL}/token",service="hangar",scope="registry:catalog:*"'
FAY = "user-fay"
FAY_KEY = "hgr_fay45678_faySecretFaySecretFaySe"
UMA = "user-uma"
UMA_KEY = "hgr_uma45678_umaSecretUmaSecretUmaSe"
CONTAINERS_KEY = "hgr_svc11111_serviceKeyListingContainers"
MODELS_KEY = "hgr_svc22222_serviceKeyListingModelsOnly"
VISION_KEY = "hgr_svc33333_serviceKeyListingTeamVision"
REPOSITORIES = (
    "acme/secret",
    "demo/app",
    "demo/audio/whisper",
    "demo/tools",
    "demo/vision/detector",
    "demo/vision/segmenter",
)
ORG = ["demo/app", "demo/tools"]
VISION = ["demo/vision/detector", "demo/vision/segmenter"]
AUDIO = ["demo/audio/whisper"]


@pytest.fixture
def world(fakes: FakeWorld) -> FakeWorld:
    """Org demo with teams vision (Erin, REGISTRY_USER) and audio (Fay, REGISTRY_READ); Bob REGISTRY_READ and
    Uma USER_ADMIN at the org; Alice its owner; service keys listing containers, models, team vision."""
    fakes.identity.decide_by_roles = True  # identity's rule: org roles cover org/x, team roles org/team/x
    fakes.identity.member("demo", FAY, "REGISTRY_READ", team="audio")
    fakes.identity.member("demo", UMA, "USER_ADMIN")
    registry = frozenset({"registry"})
    fakes.keys.add(FAY_KEY, KeyInfo("key-fay", "demo", FAY, registry, prefix=FAY_KEY[:12]))
    fakes.keys.add(UMA_KEY, KeyInfo("key-uma", "demo", UMA, registry, prefix=UMA_KEY[:12]))
    for secret, key_id, scope in (
        (CONTAINERS_KEY, "key-containers", KeyScope(frozenset({"list"}), frozenset({"container"}))),
        (MODELS_KEY, "key-models", KeyScope(frozenset({"list", "get"}), frozenset({"model"}))),
        (VISION_KEY, "key-vision", KeyScope(frozenset({"list"}), team="vision")),
    ):
        key = KeyInfo(key_id, "demo", "", registry, prefix=secret[:12], key_type="SERVICE", scopes=(scope,))
        fakes.keys.add(secret, key)
    return fakes


@pytest.fixture
async def app(world: FakeWorld, signing_key: Ed25519PrivateKey) -> Starlette:
    digest = "sha256:" + hashlib.sha256(b"{}").hexdigest()
    for name in REPOSITORIES:
        await world.registry.link_blob(name, digest, 2)
    return create_app(world.services(), signing_key)


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        yield client


async def catalog_token(http: httpx.AsyncClient, key: str, *scopes: str) -> str:
    response = await http.get(
        "/token",
        params=[("service", "hangar"), *(("scope", s) for s in scopes or ("registry:catalog:*",))],
        headers=basic(key),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def claims_of(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


async def listed(http: httpx.AsyncClient, headers: dict[str, str], **params: str | int) -> list[str]:
    response = await http.get("/v2/_catalog", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["repositories"])


def apply(app: Starlette, event_type: str, message: Any) -> None:
    Revocations(app.state.authenticator, app.state.authorizer).apply(event_type, message.SerializeToString())


# -- /token -----------------------------------------------------------------------------------------------


async def test_the_catalog_scope_is_granted_to_any_authenticated_key_in_the_access_claim(
    http: httpx.AsyncClient,
) -> None:
    for key in (ALICE_KEY, UMA_KEY, MODELS_KEY):
        access = claims_of(await catalog_token(http, key))["access"]
        assert access == [{"type": "registry", "name": "catalog", "actions": ["*"]}]
    both = claims_of(await catalog_token(http, BOB_KEY, "registry:catalog:*", "repository:demo/app:pull"))
    assert {"type": "registry", "name": "catalog", "actions": ["*"]} in both["access"]
    assert {"type": "repository", "name": "demo/app", "actions": ["pull"]} in both["access"]
    without = claims_of(await catalog_token(http, BOB_KEY, "repository:demo/app:pull"))
    assert all(entry["type"] == "repository" for entry in without["access"])


async def test_the_oauth2_form_grants_and_echoes_the_catalog_scope(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/token",
        data={
            "grant_type": "password",
            "service": "hangar",
            "username": "$oauthtoken",
            "password": BOB_KEY,
            "scope": "registry:catalog:* repository:demo/app:pull",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "repository:demo/app:pull registry:catalog:*"
    assert {"type": "registry", "name": "catalog", "actions": ["*"]} in claims_of(response.json()["token"])[
        "access"
    ]


async def test_an_unauthenticated_token_request_gets_no_catalog(http: httpx.AsyncClient) -> None:
    response = await http.get("/token", params={"service": "hangar", "scope": "registry:catalog:*"})
    assert response.status_code == 401
    refused = await http.get(
        "/token",
        params={"service": "hangar", "scope": "registry:catalog:*"},
        headers=basic("hgr_unknown_nope"),
    )
    assert refused.status_code == 401


# -- visibility rows --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param(ALICE_KEY, sorted(ORG + VISION + AUDIO), id="org owner: org and every team"),
        pytest.param(ERIN_KEY, VISION, id="team vision member: vision only, not audio"),
        pytest.param(FAY_KEY, AUDIO, id="team audio REGISTRY_READ: audio only, not vision"),
        pytest.param(BOB_KEY, ORG, id="org REGISTRY_READ: org repositories, no team content"),
        pytest.param(UMA_KEY, ORG, id="org USER_ADMIN may list"),
        pytest.param(ZED_KEY, ["acme/secret"], id="another org's owner"),
        pytest.param(CONTAINERS_KEY, sorted(ORG + VISION + AUDIO), id="service key: list containers"),
        pytest.param(MODELS_KEY, [], id="service key scoped to models only"),
        pytest.param(VISION_KEY, VISION, id="service key narrowed to team vision"),
    ],
)
async def test_a_catalog_token_lists_what_its_key_may_see(
    http: httpx.AsyncClient, key: str, expected: list[str]
) -> None:
    token = await catalog_token(http, key)
    assert await listed(http, bearer(token)) == expected
    assert await listed(http, basic(key)) == expected  # the very rows of the API key itself


async def test_a_token_without_the_catalog_grant_lists_only_what_it_grants(http: httpx.AsyncClient) -> None:
    token = await catalog_token(http, ALICE_KEY, "repository:demo/vision/detector:pull")
    assert await listed(http, bearer(token)) == ["demo/vision/detector"]


async def test_the_catalog_without_credentials_is_challenged_for_the_catalog_scope(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/v2/_catalog")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == CATALOG_CHALLENGE


# -- revocation -------------------------------------------------------------------------------------------


async def test_a_revoked_keys_catalog_token_is_refused_once_the_event_is_heard(
    app: Starlette, http: httpx.AsyncClient, world: FakeWorld
) -> None:
    token = await catalog_token(http, ERIN_KEY)
    assert await listed(http, bearer(token)) == VISION
    apply(
        app, "hangar.keys.v1.KeyRevoked", keys_events.KeyRevoked(key_id="key-erin", owner_user_id="user-erin")
    )
    response = await http.get("/v2/_catalog", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["errors"][0]["detail"]["reason"] == "KEY_REVOKED"
    assert response.headers["WWW-Authenticate"] == CATALOG_CHALLENGE


async def test_a_catalog_token_whose_key_the_keys_service_calls_revoked_is_refused(
    http: httpx.AsyncClient, world: FakeWorld
) -> None:
    # no event heard yet (and no key lookup cached): the key's own status refuses the token
    token = await catalog_token(http, FAY_KEY)
    await world.keys.revoke_key("key-fay", "leaked")
    response = await http.get("/v2/_catalog", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["errors"][0]["detail"]["reason"] == "KEY_REVOKED"
    # likewise a key deactivated after its token was minted
    uma = await catalog_token(http, UMA_KEY)
    await world.keys.set_key_active("key-uma", False)
    inactive = await http.get("/v2/_catalog", headers=bearer(uma))
    assert inactive.status_code == 401
    assert inactive.json()["errors"][0]["detail"]["reason"] == "KEY_INACTIVE"


async def test_a_key_event_evicts_the_cached_key_of_a_catalog_token(
    app: Starlette, http: httpx.AsyncClient, world: FakeWorld
) -> None:
    token = await catalog_token(http, CONTAINERS_KEY)
    assert await listed(http, bearer(token)) == sorted(ORG + VISION + AUDIO)
    narrowed = KeyScope(frozenset({"list"}), team="audio")
    key = world.keys.by_id["key-containers"]
    world.keys.by_id["key-containers"] = dataclasses.replace(key, scopes=(narrowed,))
    # cached: the old scopes stand until the key's event is heard
    assert await listed(http, bearer(token)) == sorted(ORG + VISION + AUDIO)
    apply(app, "hangar.keys.v1.KeyScopesUpdated", keys_events.KeyScopesUpdated(key_id="key-containers"))
    stale = await http.get("/v2/_catalog", headers=bearer(token))
    assert stale.status_code == 401 and stale.json()["errors"][0]["detail"]["reason"] == "KEY_REVOKED"
    await asyncio.sleep(0.005)  # a token read after the event's not-before
    assert await listed(http, bearer(await catalog_token(http, CONTAINERS_KEY))) == AUDIO


async def test_visibility_decisions_are_cached_and_a_roles_event_evicts_them(
    app: Starlette, http: httpx.AsyncClient, world: FakeWorld
) -> None:
    token = await catalog_token(http, BOB_KEY)
    assert await listed(http, bearer(token)) == ORG
    asked = world.identity.check_access_calls
    assert await listed(http, bearer(token)) == ORG
    assert world.identity.check_access_calls == asked  # every decision came from the cache
    world.identity.member("demo", "user-bob", "REGISTRY_READ", team="vision")
    assert await listed(http, bearer(token)) == ORG  # still the cached answers
    apply(
        app,
        "hangar.identity.v1.RolesChanged",
        identity_events.RolesChanged(user_id="user-bob", team="vision"),
    )
    refused = await http.get("/v2/_catalog", headers=bearer(token))
    assert refused.status_code == 401 and refused.json()["errors"][0]["detail"]["reason"] == "TOKEN_REVOKED"
    await asyncio.sleep(0.005)
    assert await listed(http, bearer(await catalog_token(http, BOB_KEY))) == sorted(ORG + VISION)


# -- pagination -------------------------------------------------------------------------------------------


def next_params(response: httpx.Response) -> dict[str, str] | None:
    link = response.headers.get("Link")
    if link is None:
        return None
    url = link.split(";")[0].strip("<> ")
    assert url.startswith("/v2/_catalog?")
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


async def follow(http: httpx.AsyncClient, headers: dict[str, str], n: int) -> tuple[list[str], list[str]]:
    """Every page from the first, following Link: the names, and each Link's `last`."""
    names: list[str] = []
    lasts: list[str] = []
    params: dict[str, str] | None = {"n": str(n)}
    while params is not None:
        response = await http.get("/v2/_catalog", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()["repositories"]
        assert len(page) <= n
        names.extend(page)
        params = next_params(response)
        if params is not None:
            lasts.append(params["last"])
        assert len(lasts) < 100
    return names, lasts


async def test_a_catalog_token_pages_with_n_and_link(http: httpx.AsyncClient) -> None:
    token = await catalog_token(http, ERIN_KEY)
    first = await http.get("/v2/_catalog", params={"n": 1}, headers=bearer(token))
    assert first.json() == {"repositories": ["demo/vision/detector"]}
    assert first.headers["Link"] == '</v2/_catalog?n=1&last=demo%2Fvision%2Fdetector>; rel="next"'
    names, _ = await follow(http, bearer(token), 1)
    assert names == VISION


async def test_a_scan_is_bounded_and_resumes_through_a_sealed_cursor(
    http: httpx.AsyncClient, world: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog, "SCAN_PAGE", 2)
    monkeypatch.setattr(catalog, "SCAN_PAGES", 2)
    digest = "sha256:" + hashlib.sha256(b"{}").hexdigest()
    hidden = [f"demo/audio/hidden-{i:02d}" for i in range(12)]
    for name in hidden:
        await world.registry.link_blob(name, digest, 2)
    token = await catalog_token(http, ERIN_KEY)
    reads: list[str] = []
    list_repositories = world.registry.list_repositories

    async def counted(page_size: int = 0, last: str = "") -> Any:
        reads.append(last)
        return await list_repositories(page_size=page_size, last=last)

    monkeypatch.setattr(world.registry, "list_repositories", counted)
    first = await http.get("/v2/_catalog", params={"n": 5}, headers=bearer(token))
    assert first.json() == {"repositories": []}  # four names read, none of them visible to Erin
    assert len(reads) == 2  # SCAN_PAGES registry pages, no more
    params = next_params(first)
    assert params is not None and params["n"] == "5" and params["last"].startswith("~")
    assert "audio" not in first.headers["Link"] and "hidden" not in first.headers["Link"]
    names, lasts = await follow(http, bearer(token), 5)
    assert names == VISION
    assert all(last.startswith("~") or last in VISION for last in lasts)
    pages = len(lasts) + 2  # the first request, then one per Link
    assert len(reads) <= 2 * pages


async def test_a_forged_or_foreign_cursor_is_refused(
    http: httpx.AsyncClient, signing_key: Ed25519PrivateKey
) -> None:
    other = catalog.CursorSealer(catalog.cursor_key(Ed25519PrivateKey.generate()))
    same = catalog.CursorSealer(catalog.cursor_key(signing_key))
    headers = basic(ALICE_KEY)
    for last in (other.seal("demo/app"), "~not-base64!", "~" + "A" * 2000):
        response = await http.get("/v2/_catalog", params={"last": last}, headers=headers)
        assert response.status_code == 400, last
    # another replica (same signing key) made this one: it resumes after demo/app
    assert await listed(http, headers, last=same.seal("demo/app")) == [
        "demo/audio/whisper",
        "demo/tools",
        *VISION,
    ]
