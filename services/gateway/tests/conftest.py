"""The gateway in process: the Starlette app over in-memory fakes of the four services, driven by httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gateway_harness import BASE_URL

from hangar.gateway.app import create_app
from hangar.gateway.testing import ALICE_KEY, FakeWorld, basic, fake_world

TokenFor = Callable[..., Awaitable[str]]


@pytest.fixture
def fakes() -> FakeWorld:
    return fake_world()


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
async def client(fakes: FakeWorld, signing_key: Ed25519PrivateKey) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(fakes.services(), signing_key)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        yield http


@pytest.fixture
def token_for(client: httpx.AsyncClient) -> TokenFor:
    """`await token_for("repository:demo/hello:pull,push", key=ALICE_KEY)`: an access token from /token."""

    async def get(*scopes: str, key: str = ALICE_KEY) -> str:
        response = await client.get(
            "/token", params=[("service", "hangar"), *(("scope", s) for s in scopes)], headers=basic(key)
        )
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    return get
