"""Revocation by events, with real processes on a real NATS: a token already issued stops working on every
gateway within the bound (DESIGN §4: 1 s), and a keys service that was down catches up when it returns."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from hangar_harness import SERVICES, Distributed, Hangar

from hangar.gateway.clients.identity import IdentityClient
from hangar.gateway.clients.keys import KeysClient
from hangar.kit import testing
from hangar.kit.errors import Unauthenticated
from hangar.kit.grpcio import channel

REVOCATION_BOUND = 1.0
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def push_image(web: httpx.AsyncClient, repository: str, key: str) -> None:
    """A one-layer image at `repository:1`, pushed monolithically with a raw key."""
    config, layer = b'{"architecture":"amd64","os":"linux"}', uuid.uuid4().bytes * 64
    for blob in (config, layer):
        response = await web.post(
            f"/v2/{repository}/blobs/uploads/",
            params={"digest": digest_of(blob)},
            content=blob,
            headers={**bearer(key), "Content-Type": "application/octet-stream"},
        )
        assert response.status_code == 201, response.text
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest_of(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest_of(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    response = await web.put(
        f"/v2/{repository}/manifests/1", content=manifest, headers={**bearer(key), "Content-Type": MANIFEST}
    )
    assert response.status_code == 201, response.text


async def pull(web: httpx.AsyncClient, repository: str, token: str) -> httpx.Response:
    return await web.get(f"/v2/{repository}/manifests/1", headers={**bearer(token), "Accept": MANIFEST})


async def token_for(web: httpx.AsyncClient, repository: str, key: str) -> httpx.Response:
    return await web.get(
        "/token",
        params={"service": "hangar", "scope": f"repository:{repository}:pull"},
        auth=("$oauthtoken", key),
    )


async def pulling_token(webs: list[httpx.AsyncClient], repository: str, key: str) -> str:
    """A token for `key` that pulls `repository` through every gateway.

    A new member's RolesChanged may reach a gateway just after a token was minted, which then counts as
    issued before it and is refused: a client asks /token again, and so does this.
    """
    deadline = time.monotonic() + 10
    while True:
        response = await token_for(webs[0], repository, key)
        assert response.status_code == 200, response.text
        token = str(response.json()["token"])
        pulls = [await pull(web, repository, token) for web in webs]
        if all(p.status_code == 200 for p in pulls):
            return token
        assert time.monotonic() < deadline, [p.text for p in pulls]
        await asyncio.sleep(0.05)


async def until_refused(
    web: httpx.AsyncClient, repository: str, token: str, *, within: float = 5.0
) -> tuple[float, httpx.Response]:
    """Pull in a tight loop until refused (or `within` seconds); the time it took and the refusal."""
    started = time.monotonic()
    while True:
        response = await pull(web, repository, token)
        elapsed = time.monotonic() - started
        if response.status_code in (401, 403) or elapsed > within:
            return elapsed, response
        await asyncio.sleep(0.002)


def reason(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["detail"]["reason"])


# -- (a) embedded: `hangar up` ------------------------------------------------------------------------------


async def test_revoking_a_key_refuses_the_token_already_issued_for_it_within_a_second(hangar: Hangar) -> None:
    repository = f"demo/revocation-{uuid.uuid4().hex[:8]}"
    async with (
        httpx.AsyncClient(base_url=hangar.url, timeout=10) as web,
        channel(hangar.grpc_address("identity")) as ic,
        channel(hangar.grpc_address("keys")) as kc,
    ):
        await push_image(web, repository, hangar.key)
        identity, keys = IdentityClient(ic), KeysClient(kc)
        user = await identity.add_user(
            "demo", f"{uuid.uuid4().hex[:8]}@example.com", "Revokee", ["REGISTRY_USER"]
        )
        issued = await keys.issue_personal_key("demo", user.user_id, "ci", ["registry"])
        token = await pulling_token([web], repository, issued.secret)

        await keys.revoke_key(issued.key_id, "leaked in a CI log")

        elapsed, refused = await until_refused(web, repository, token)
        assert refused.status_code == 401, refused.text
        assert reason(refused) == "KEY_REVOKED"
        assert elapsed < REVOCATION_BOUND, f"refused only after {elapsed:.3f}s"
        again = await token_for(web, repository, issued.secret)
        assert again.status_code == 401 and again.json()["errors"][0]["detail"]["reason"] == "KEY_REVOKED"


# -- (b) distributed: services and two gateways as separate processes on PostgreSQL and the shared NATS ----


@contextlib.asynccontextmanager
async def databases() -> AsyncIterator[dict[str, str]]:
    async with contextlib.AsyncExitStack() as stack:
        yield {
            s: await stack.enter_async_context(testing.postgres_database(f"hangar_rv_{s}")) for s in SERVICES
        }


@pytest.mark.postgres
@pytest.mark.nats
async def test_a_user_removed_while_keys_is_down_is_refused_by_both_gateways_and_keys_catches_up(
    tmp_path: Path,
) -> None:
    async with databases() as urls:
        cluster = Distributed(
            tmp_path,
            urls,
            nats_url=testing.SHARED_NATS_URL,
            stream=testing.unique_name("HANGARRV"),
            prefix=testing.unique_name("hangarrv"),
        )
        try:
            await asyncio.to_thread(cluster.migrate)
            await asyncio.to_thread(cluster.start_services)
            async with channel(cluster.addresses["identity"]) as ic, channel(cluster.addresses["keys"]) as kc:
                created = await IdentityClient(ic).create_org("acme", "Acme", "owner@acme.test", "Owner")
                owner_key = await KeysClient(kc).issue_personal_key(
                    "acme", created.owner_user_id, "ci", ["registry"]
                )
            gateways = [await asyncio.to_thread(cluster.start_gateway, f"gateway-{r}") for r in ("a", "b")]
            async with contextlib.AsyncExitStack() as stack:
                webs = [
                    await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=10))
                    for url in gateways
                ]
                repository = "acme/model-server"
                await push_image(webs[0], repository, owner_key.secret)
                async with channel(cluster.addresses["identity"]) as ic:
                    identity = IdentityClient(ic)
                    user = await identity.add_user("acme", "leaver@acme.test", "Leaver", ["REGISTRY_USER"])
                    async with channel(cluster.addresses["keys"]) as kc:
                        key = await KeysClient(kc).issue_personal_key(
                            "acme", user.user_id, "laptop", ["registry"]
                        )
                    token = await pulling_token(webs, repository, key.secret)

                    keys_address = cluster.addresses["keys"]
                    assert await asyncio.to_thread(cluster.stop, "keys") == 0
                    await identity.remove_user("acme", user.user_id)

                    # UserRemoved reaches both gateways: the user's token is refused at once ...
                    for web in webs:
                        elapsed, refused = await until_refused(web, repository, token)
                        assert refused.status_code == 401, refused.text
                        assert reason(refused) == "TOKEN_REVOKED"
                        assert elapsed < REVOCATION_BOUND, f"refused only after {elapsed:.3f}s"

                # ... and keys, back later, revokes the key from its durable consumer
                await asyncio.to_thread(cluster.start_service, "keys", keys_address)
                async with channel(keys_address) as kc:
                    keys = KeysClient(kc)

                    async def key_revoked() -> bool:
                        try:
                            await keys.authenticate(key.secret)
                        except Unauthenticated as refused:
                            return refused.code == "KEY_REVOKED"
                        return False

                    await testing.eventually(key_revoked, within=30, interval=0.2)

                async def both_gateways_refuse_the_key() -> bool:
                    for web in webs:
                        raw = await web.get(f"/v2/{repository}/manifests/1", auth=("$oauthtoken", key.secret))
                        fresh = await token_for(web, repository, key.secret)
                        if (raw.status_code, fresh.status_code) != (401, 401):
                            return False
                        if {reason(raw), reason(fresh)} != {"KEY_REVOKED"}:
                            return False
                    return True

                await testing.eventually(both_gateways_refuse_the_key, within=30, interval=0.2)
        except BaseException:
            print(cluster.logs())
            raise
        finally:
            codes = await asyncio.to_thread(cluster.close)
            await cluster.delete_stream()
        assert all(code == 0 for code in codes.values()), codes
