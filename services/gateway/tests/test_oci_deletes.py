"""DELETE /v2/<name>/manifests/<reference>: by digest or by tag, 202, refusals, and the `delete` action."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from hangar.api.registry.v1 import registry_pb2, registry_pb2_grpc
from hangar.gateway.clients import RegistryClient
from hangar.gateway.oci.errors import from_domain
from hangar.gateway.testing import ALICE, ALICE_KEY, BOB_KEY, FakeWorld, bearer
from hangar.kit.errors import FailedPrecondition
from hangar.kit.grpcio import GrpcServer, channel

TokenFor = Callable[..., Awaitable[str]]
REALM = "http://registry.test/token"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
REPO = "demo/hello"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def error(response: httpx.Response) -> dict[str, Any]:
    return dict(response.json()["errors"][0])


def image(layer: bytes) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": digest_of(b"{}"),
                "size": 2,
            },
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest_of(layer), "size": 5}
            ],
        }
    ).encode()


def index(*children: bytes) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": digest_of(child), "size": len(child)}
                for child in children
            ],
        }
    ).encode()


@pytest.fixture
async def auth(token_for: TokenFor, fakes: FakeWorld) -> dict[str, str]:
    """Alice, who may delete in demo/hello, with a token for pull, push and delete there."""
    fakes.identity.grant(ALICE, REPO, "DELETE_ARTIFACTS")
    return bearer(await token_for(f"repository:{REPO}:pull,push,delete"))


async def push(client: httpx.AsyncClient, auth: dict[str, str], reference: str, content: bytes) -> str:
    media_type = json.loads(content)["mediaType"]
    response = await client.put(
        f"/v2/{REPO}/manifests/{reference}", content=content, headers={**auth, "Content-Type": media_type}
    )
    assert response.status_code == 201, response.text
    return response.headers["Docker-Content-Digest"]


@pytest.fixture
async def pushed(fakes: FakeWorld) -> None:
    for blob in (b"{}", b"amd64", b"arm64"):
        await fakes.registry.link_blob(REPO, digest_of(blob), len(blob))


# -- deleting -----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("pushed")
async def test_deleting_by_digest_is_202_and_takes_the_tags_with_it(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    digest = await push(client, auth, "v1", image(b"amd64"))
    await push(client, auth, "latest", image(b"amd64"))
    await push(client, auth, "arm", image(b"arm64"))

    response = await client.delete(f"/v2/{REPO}/manifests/{digest}", headers=auth)
    assert response.status_code == 202 and response.content == b""
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"

    for reference in (digest, "v1", "latest"):
        gone = await client.get(f"/v2/{REPO}/manifests/{reference}", headers=auth)
        assert gone.status_code == 404 and error(gone)["code"] == "MANIFEST_UNKNOWN"
    listed = await client.get(f"/v2/{REPO}/tags/list", headers=auth)
    assert listed.json() == {"name": REPO, "tags": ["arm"]}
    assert await push(client, auth, "v1", image(b"amd64")) == digest  # pushing it again works


@pytest.mark.usefixtures("pushed")
async def test_deleting_by_tag_is_202_and_keeps_the_manifest(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    digest = await push(client, auth, "v1", image(b"amd64"))
    await push(client, auth, "stable", image(b"amd64"))
    response = await client.delete(f"/v2/{REPO}/manifests/v1", headers=auth)
    assert response.status_code == 202
    assert (await client.get(f"/v2/{REPO}/manifests/v1", headers=auth)).status_code == 404
    kept = await client.get(f"/v2/{REPO}/manifests/{digest}", headers=auth)
    assert kept.status_code == 200 and kept.content == image(b"amd64")
    listed = await client.get(f"/v2/{REPO}/tags/list", headers=auth)
    assert listed.json()["tags"] == ["stable"]


@pytest.mark.usefixtures("pushed")
async def test_deleting_what_is_not_there_is_404(
    client: httpx.AsyncClient, auth: dict[str, str], token_for: TokenFor, fakes: FakeWorld
) -> None:
    await push(client, auth, "v1", image(b"amd64"))
    for reference in ("v2", digest_of(b"never pushed")):
        response = await client.delete(f"/v2/{REPO}/manifests/{reference}", headers=auth)
        assert response.status_code == 404 and error(response)["code"] == "MANIFEST_UNKNOWN"
    fakes.identity.grant(ALICE, "demo/empty", "DELETE_ARTIFACTS")
    empty_auth = bearer(await token_for("repository:demo/empty:delete"))
    response = await client.delete("/v2/demo/empty/manifests/v1", headers=empty_auth)
    assert response.status_code == 404 and error(response)["code"] == "NAME_UNKNOWN"


async def test_a_malformed_reference_is_400_before_any_credential(client: httpx.AsyncClient) -> None:
    for reference, code in (("-v1", "TAG_INVALID"), ("sha256:short", "DIGEST_INVALID")):
        response = await client.delete(f"/v2/{REPO}/manifests/{reference}")
        assert response.status_code == 400 and error(response)["code"] == code


@pytest.mark.usefixtures("pushed")
async def test_a_child_of_an_index_is_409_denied_naming_the_index(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    child = await push(client, auth, digest_of(image(b"amd64")), image(b"amd64"))
    multi = await push(client, auth, "multi", index(image(b"amd64")))

    response = await client.delete(f"/v2/{REPO}/manifests/{child}", headers=auth)
    assert response.status_code == 409
    refused = error(response)
    assert refused["code"] == "DENIED"
    assert multi in refused["message"] and "delete the index first" in refused["message"]
    assert refused["detail"] == {"reason": "MANIFEST_REFERENCED", "indexes": [multi]}
    assert (await client.get(f"/v2/{REPO}/manifests/{child}", headers=auth)).status_code == 200

    assert (await client.delete(f"/v2/{REPO}/manifests/{multi}", headers=auth)).status_code == 202
    assert (await client.delete(f"/v2/{REPO}/manifests/{child}", headers=auth)).status_code == 202


# -- who may delete -----------------------------------------------------------------------------------


async def test_a_delete_without_credentials_is_challenged_for_the_delete_scope(
    client: httpx.AsyncClient,
) -> None:
    response = await client.delete(f"/v2/{REPO}/manifests/v1")
    assert response.status_code == 401
    assert (
        response.headers["WWW-Authenticate"]
        == f'Bearer realm="{REALM}",service="hangar",scope="repository:{REPO}:delete"'
    )
    assert error(response)["detail"] == [{"Type": "repository", "Name": REPO, "Action": "delete"}]


@pytest.mark.usefixtures("pushed")
async def test_a_token_without_delete_is_challenged_again_for_it(
    client: httpx.AsyncClient, auth: dict[str, str], token_for: TokenFor, fakes: FakeWorld
) -> None:
    await push(client, auth, "v1", image(b"amd64"))
    push_only = bearer(await token_for(f"repository:{REPO}:pull,push"))
    response = await client.delete(f"/v2/{REPO}/manifests/v1", headers=push_only)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].endswith(
        f'scope="repository:{REPO}:delete",error="insufficient_scope"'
    )
    assert "v1" in fakes.registry.repositories[REPO].tags


@pytest.mark.usefixtures("pushed")
async def test_a_token_whose_delete_was_refused_gets_403_saying_why(
    client: httpx.AsyncClient, token_for: TokenFor, fakes: FakeWorld
) -> None:
    # Alice may pull and push in demo/hello, not delete: /token grants the first two and records the refusal.
    token = bearer(await token_for(f"repository:{REPO}:pull,push,delete"))
    await push(client, token, "v1", image(b"amd64"))
    response = await client.delete(f"/v2/{REPO}/manifests/v1", headers=token)
    assert response.status_code == 403
    refused = error(response)
    assert refused["code"] == "DENIED"
    assert f"delete on {REPO}" in refused["message"]
    assert refused["detail"]["action"] == "delete"
    assert refused["detail"]["reason"] == f"you have no role that allows this on {REPO}"
    assert "v1" in fakes.registry.repositories[REPO].tags


@pytest.mark.parametrize("key", [ALICE_KEY, BOB_KEY])
async def test_a_raw_api_key_without_delete_is_403(
    client: httpx.AsyncClient, fakes: FakeWorld, key: str
) -> None:
    await fakes.registry.link_blob(REPO, digest_of(b"{}"), 2)
    response = await client.delete(f"/v2/{REPO}/manifests/v1", headers=bearer(key))
    assert response.status_code == 403
    assert error(response)["detail"]["reason"] == f"you have no role that allows this on {REPO}"


# -- the error table and the gRPC client --------------------------------------------------------------


def test_manifest_referenced_is_answered_409_denied_with_the_indexes_in_the_detail() -> None:
    indexes = f"{digest_of(b'a')} {digest_of(b'b')}"
    mapped = from_domain(
        FailedPrecondition("manifest x is listed by index y", code="MANIFEST_REFERENCED", detail=indexes),
        "manifest",
    )
    assert (mapped.code, mapped.status) == ("DENIED", 409)
    assert mapped.message == "manifest x is listed by index y"
    assert mapped.detail == {"reason": "MANIFEST_REFERENCED", "indexes": indexes.split()}


class Registry(registry_pb2_grpc.RegistryServiceServicer):  # type: ignore[misc]
    async def DeleteManifest(self, request: Any, context: Any) -> Any:
        if request.reference == "child":
            raise FailedPrecondition(
                "manifest child is listed by index sha256:i", code="MANIFEST_REFERENCED", detail="sha256:i"
            )
        return registry_pb2.DeleteManifestResponse(
            digest="sha256:m", deleted_tags=["latest", "v1"], manifest_deleted=True
        )


@pytest.fixture
async def registry() -> AsyncIterator[RegistryClient]:
    server = GrpcServer(
        "127.0.0.1:0", [(registry_pb2_grpc.add_RegistryServiceServicer_to_server, Registry())], []
    )
    await server.start()
    try:
        async with channel(f"127.0.0.1:{server.port}") as ch:
            yield RegistryClient(ch)
    finally:
        await server.stop(0)


async def test_the_registry_client_deletes_and_rebuilds_the_refusal(registry: RegistryClient) -> None:
    deleted = await registry.delete_manifest(REPO, "sha256:m")
    assert (deleted.digest, deleted.tags, deleted.manifest_deleted) == ("sha256:m", ("latest", "v1"), True)
    with pytest.raises(FailedPrecondition) as refused:
        await registry.delete_manifest(REPO, "child")
    assert (refused.value.code, refused.value.detail) == ("MANIFEST_REFERENCED", "sha256:i")
    assert from_domain(refused.value, "manifest").status == 409
