"""DELETE /v2/<name>/blobs/<digest>: 202 for a caller with `delete`, 409 while a manifest names the blob."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from hangar.api.registry.v1 import registry_pb2, registry_pb2_grpc
from hangar.gateway.clients import BlobInfo, KeyInfo, KeyScope, RegistryClient
from hangar.gateway.testing import ALICE, BOB_KEY, FakeWorld, basic, bearer
from hangar.kit.errors import FailedPrecondition, NotFound
from hangar.kit.grpcio import GrpcServer, channel

TokenFor = Callable[..., Awaitable[str]]
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
REPO = "demo/hello"
LAYER = b"layer"
CONFIG = b"{}"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def error(response: httpx.Response) -> dict[str, Any]:
    return dict(response.json()["errors"][0])


IMAGE = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest_of(CONFIG), "size": 2},
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest_of(LAYER), "size": 5}
        ],
    }
).encode()


@pytest.fixture
async def admin(token_for: TokenFor, fakes: FakeWorld) -> dict[str, str]:
    """Alice, who may delete in demo/hello (REGISTRY_ADMIN's DELETE_ARTIFACTS), with a token for it."""
    fakes.identity.grant(ALICE, REPO, "DELETE_ARTIFACTS")
    return bearer(await token_for(f"repository:{REPO}:pull,push,delete"))


@pytest.fixture
async def linked(fakes: FakeWorld) -> None:
    for blob in (CONFIG, LAYER):
        await fakes.registry.link_blob(REPO, digest_of(blob), len(blob))


@pytest.mark.usefixtures("linked")
async def test_an_unused_blob_is_deleted_with_202_and_is_then_unknown(
    client: httpx.AsyncClient, admin: dict[str, str], fakes: FakeWorld
) -> None:
    response = await client.delete(f"/v2/{REPO}/blobs/{digest_of(LAYER)}", headers=admin)
    assert response.status_code == 202 and response.content == b""
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    # At once, on this replica: HEAD and GET ask the registry, which no longer links it.
    for method in ("GET", "HEAD"):
        gone = await client.request(method, f"/v2/{REPO}/blobs/{digest_of(LAYER)}", headers=admin)
        assert gone.status_code == 404
    gone = await client.get(f"/v2/{REPO}/blobs/{digest_of(LAYER)}", headers=admin)
    assert error(gone)["code"] == "BLOB_UNKNOWN"
    again = await client.delete(f"/v2/{REPO}/blobs/{digest_of(LAYER)}", headers=admin)
    assert again.status_code == 404 and error(again)["code"] == "BLOB_UNKNOWN"
    assert digest_of(CONFIG) in fakes.registry.repositories[REPO].blobs


@pytest.mark.usefixtures("linked")
async def test_a_blob_a_manifest_names_is_409_denied_naming_the_manifest(
    client: httpx.AsyncClient, admin: dict[str, str], fakes: FakeWorld
) -> None:
    pushed = await client.put(
        f"/v2/{REPO}/manifests/v1", content=IMAGE, headers={**admin, "Content-Type": OCI_MANIFEST}
    )
    assert pushed.status_code == 201
    manifest = pushed.headers["Docker-Content-Digest"]
    for blob in (CONFIG, LAYER):
        response = await client.delete(f"/v2/{REPO}/blobs/{digest_of(blob)}", headers=admin)
        assert response.status_code == 409
        refused = error(response)
        assert refused["code"] == "DENIED"
        assert manifest in refused["message"] and "delete the manifest first" in refused["message"]
        assert refused["detail"] == {"reason": "BLOB_REFERENCED", "manifests": [manifest]}
        kept = await client.head(f"/v2/{REPO}/blobs/{digest_of(blob)}", headers=admin)
        assert kept.status_code == 200
    assert (await client.delete(f"/v2/{REPO}/manifests/{manifest}", headers=admin)).status_code == 202
    response = await client.delete(f"/v2/{REPO}/blobs/{digest_of(LAYER)}", headers=admin)
    assert response.status_code == 202


async def test_unknown_blob_and_repository_are_404(
    client: httpx.AsyncClient, admin: dict[str, str], token_for: TokenFor, fakes: FakeWorld
) -> None:
    await fakes.registry.link_blob(REPO, digest_of(CONFIG), 2)
    response = await client.delete(f"/v2/{REPO}/blobs/{digest_of(b'never')}", headers=admin)
    assert response.status_code == 404 and error(response)["code"] == "BLOB_UNKNOWN"
    fakes.identity.grant(ALICE, "demo/empty", "DELETE_ARTIFACTS")
    empty = bearer(await token_for("repository:demo/empty:delete"))
    response = await client.delete(f"/v2/demo/empty/blobs/{digest_of(b'never')}", headers=empty)
    assert response.status_code == 404 and error(response)["code"] == "NAME_UNKNOWN"


@pytest.mark.usefixtures("linked")
async def test_a_malformed_digest_is_400_before_any_credential_and_changes_nothing(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    before = dict(fakes.registry.repositories[REPO].blobs)
    for digest in ("sha256:short", "md5:" + "0" * 32, "sha256:" + "G" * 64):
        response = await client.delete(f"/v2/{REPO}/blobs/{digest}")
        assert response.status_code == 400 and error(response)["code"] == "DIGEST_INVALID", digest
    assert fakes.registry.repositories[REPO].blobs == before


@pytest.mark.usefixtures("linked")
async def test_without_delete_the_caller_is_challenged_or_denied_and_nothing_changes(
    client: httpx.AsyncClient, token_for: TokenFor, fakes: FakeWorld
) -> None:
    url = f"/v2/{REPO}/blobs/{digest_of(LAYER)}"
    anonymous = await client.delete(url)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].endswith(f'scope="repository:{REPO}:delete"')
    # A token for pull and push only: sent back to /token for delete.
    push_only = bearer(await token_for(f"repository:{REPO}:pull,push"))
    response = await client.delete(url, headers=push_only)
    assert response.status_code == 401 and "insufficient_scope" in response.headers["WWW-Authenticate"]
    # Alice asked for delete without holding it (she is REGISTRY_USER-like here): 403 saying why.
    refused = bearer(await token_for(f"repository:{REPO}:pull,push,delete"))
    response = await client.delete(url, headers=refused)
    assert response.status_code == 403 and error(response)["code"] == "DENIED"
    # Bob's key (REGISTRY_READ) is decided per request: 403.
    response = await client.delete(url, headers=basic(BOB_KEY))
    assert response.status_code == 403 and error(response)["code"] == "DENIED"
    assert digest_of(LAYER) in fakes.registry.repositories[REPO].blobs


@pytest.mark.usefixtures("linked")
async def test_a_service_key_follows_its_delete_scope_like_manifest_deletes(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    url = f"/v2/{REPO}/blobs/{digest_of(LAYER)}"
    scopes = {
        "hgr_svcpush_pushOnlyServiceKeySecret1": frozenset({"get", "push"}),
        "hgr_svcdel1_deleteServiceKeySecret12": frozenset({"get", "delete"}),
    }
    for secret, actions in scopes.items():
        fakes.keys.add(
            secret,
            KeyInfo(
                key_id=f"key-{secret[4:11]}",
                org="demo",
                user_id="",
                services=frozenset({"registry"}),
                prefix=secret[:12],
                key_type="SERVICE",
                scopes=(KeyScope(actions=actions),),
            ),
        )
    refused = await client.delete(url, headers=basic("hgr_svcpush_pushOnlyServiceKeySecret1"))
    assert refused.status_code == 403
    accepted = await client.delete(url, headers=basic("hgr_svcdel1_deleteServiceKeySecret12"))
    assert accepted.status_code == 202
    assert digest_of(LAYER) not in fakes.registry.repositories[REPO].blobs


# -- the gRPC client ----------------------------------------------------------------------------------------


class _Registry(registry_pb2_grpc.RegistryServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.requests: list[registry_pb2.UnlinkBlobRequest] = []

    async def UnlinkBlob(
        self, request: registry_pb2.UnlinkBlobRequest, context: Any
    ) -> registry_pb2.UnlinkBlobResponse:
        self.requests.append(request)
        if request.digest == digest_of(LAYER):
            raise FailedPrecondition("used", code="BLOB_REFERENCED", detail="sha256:" + "a" * 64)
        if request.digest == digest_of(b"never"):
            raise NotFound("unknown", code="BLOB_UNKNOWN")
        return registry_pb2.UnlinkBlobResponse(digest=request.digest, size=2)


@pytest.fixture
async def registry_client() -> AsyncIterator[tuple[RegistryClient, _Registry]]:
    servicer = _Registry()
    server = GrpcServer(
        "127.0.0.1:0", [(registry_pb2_grpc.add_RegistryServiceServicer_to_server, servicer)], []
    )
    await server.start()
    try:
        async with channel(f"127.0.0.1:{server.port}") as chan:
            yield RegistryClient(chan), servicer
    finally:
        await server.stop(0)


async def test_the_registry_client_unlinks_and_maps_refusals(
    registry_client: tuple[RegistryClient, _Registry],
) -> None:
    client, servicer = registry_client
    assert await client.unlink_blob(REPO, digest_of(CONFIG)) == BlobInfo(digest_of(CONFIG), 2)
    with pytest.raises(FailedPrecondition) as referenced:
        await client.unlink_blob(REPO, digest_of(LAYER))
    assert referenced.value.code == "BLOB_REFERENCED" and referenced.value.detail == "sha256:" + "a" * 64
    with pytest.raises(NotFound) as unknown:
        await client.unlink_blob(REPO, digest_of(b"never"))
    assert unknown.value.code == "BLOB_UNKNOWN"
    assert [r.repository for r in servicer.requests] == [REPO] * 3
