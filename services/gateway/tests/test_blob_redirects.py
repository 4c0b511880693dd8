"""Blob GETs redirected to presigned storage URLs: the OCI route over fakes, the URL cache, the client."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from hangar.api.blobstore.v1 import blobstore_pb2, blobstore_pb2_grpc
from hangar.gateway.clients import BlobstoreClient, BlobUrl
from hangar.gateway.clients.fakes import FakeBlobstore
from hangar.gateway.oci.redirects import BlobRedirects
from hangar.gateway.testing import BOB_KEY, FakeWorld, bearer
from hangar.kit.errors import DomainError, NotFound
from hangar.kit.grpcio import GrpcServer, channel

TokenFor = Callable[..., Awaitable[str]]
STORAGE = "http://s3.test/bucket"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def redirecting(fakes: FakeWorld) -> FakeBlobstore:
    """The blobstore hands out presigned URLs (S3 with HANGAR_S3_REDIRECT=true)."""
    fakes.blobstore.redirect_base = STORAGE
    return fakes.blobstore


@pytest.fixture
async def auth(token_for: TokenFor) -> dict[str, str]:
    return bearer(await token_for("repository:demo/hello:pull,push"))


async def push(client: httpx.AsyncClient, auth: dict[str, str], data: bytes, name: str = "demo/hello") -> str:
    digest = digest_of(data)
    response = await client.post(
        f"/v2/{name}/blobs/uploads/", params={"digest": digest}, content=data, headers=auth
    )
    assert response.status_code == 201, response.text
    return digest


# -- GET /v2/<name>/blobs/<digest> -------------------------------------------------------------------------


async def test_a_blob_get_is_a_307_to_the_presigned_url(
    client: httpx.AsyncClient, redirecting: FakeBlobstore, auth: dict[str, str]
) -> None:
    digest = await push(client, auth, b"layer bytes")

    response = await client.get(f"/v2/demo/hello/blobs/{digest}", headers=auth)

    assert response.status_code == 307
    assert response.headers["Location"].startswith(f"{STORAGE}/{digest}?")
    assert "X-Amz-Signature=" in response.headers["Location"]
    assert response.headers["Docker-Content-Digest"] == digest
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert response.content == b""


async def test_a_ranged_get_is_redirected_too_and_a_head_is_answered_here(
    client: httpx.AsyncClient, redirecting: FakeBlobstore, auth: dict[str, str]
) -> None:
    data = b"0123456789" * 10
    digest = await push(client, auth, data)

    ranged = await client.get(f"/v2/demo/hello/blobs/{digest}", headers={**auth, "Range": "bytes=10-19"})
    head = await client.head(f"/v2/demo/hello/blobs/{digest}", headers=auth)

    assert ranged.status_code == 307 and ranged.headers["Location"].startswith(f"{STORAGE}/{digest}?")
    assert head.status_code == 200 and "Location" not in head.headers
    assert head.headers["Content-Length"] == str(len(data))
    assert head.headers["Docker-Content-Digest"] == digest


async def test_the_url_is_reused_so_a_get_costs_no_extra_rpc(
    client: httpx.AsyncClient, redirecting: FakeBlobstore, auth: dict[str, str]
) -> None:
    digest = await push(client, auth, b"popular layer")

    locations = {
        (await client.get(f"/v2/demo/hello/blobs/{digest}", headers=auth)).headers["Location"]
        for _ in range(5)
    }

    assert len(locations) == 1
    assert redirecting.presign_calls == 1


async def test_no_redirect_before_authorization_and_membership(
    client: httpx.AsyncClient, redirecting: FakeBlobstore, auth: dict[str, str], token_for: TokenFor
) -> None:
    digest = await push(client, auth, b"private layer")
    other = bearer(await token_for("repository:demo/other:pull,push"))
    elsewhere = await push(client, other, b"a layer of demo/other only", name="demo/other")

    anonymous = await client.get(f"/v2/demo/hello/blobs/{digest}")
    wrong_scope = await client.get(f"/v2/demo/hello/blobs/{digest}", headers=other)
    not_here = await client.get(f"/v2/demo/hello/blobs/{elsewhere}", headers=auth)

    assert anonymous.status_code == 401 and "Location" not in anonymous.headers
    assert wrong_scope.status_code == 401 and "Location" not in wrong_scope.headers
    assert not_here.status_code == 404 and not_here.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
    assert "Location" not in not_here.headers
    assert redirecting.presign_calls == 0


async def test_a_reader_without_push_is_redirected(
    client: httpx.AsyncClient, redirecting: FakeBlobstore, auth: dict[str, str], token_for: TokenFor
) -> None:
    digest = await push(client, auth, b"shared layer")
    bob = bearer(await token_for("repository:demo/hello:pull", key=BOB_KEY))

    response = await client.get(f"/v2/demo/hello/blobs/{digest}", headers=bob)

    assert response.status_code == 307


async def test_without_direct_urls_blobs_stream_and_the_blobstore_is_asked_once_per_pause(
    client: httpx.AsyncClient, fakes: FakeWorld, auth: dict[str, str]
) -> None:
    data = b"streamed through the gateway" * 100
    first, second = await push(client, auth, data), await push(client, auth, b"another")

    responses = [await client.get(f"/v2/demo/hello/blobs/{d}", headers=auth) for d in (first, second, first)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[0].content == data and responses[1].content == b"another"
    assert fakes.blobstore.presign_calls == 1  # "no direct URL" holds for the deployment, not one digest


# -- the URL cache -----------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store() -> FakeBlobstore:
    blobstore = FakeBlobstore()
    blobstore.blobs[digest_of(b"a")] = b"a"
    blobstore.blobs[digest_of(b"b")] = b"b"
    blobstore.redirect_base = STORAGE
    blobstore.redirect_expiry = 1200
    return blobstore


async def test_a_url_is_reused_for_half_its_lifetime_then_renewed(store: FakeBlobstore) -> None:
    clock = Clock()
    redirects = BlobRedirects(store, clock=clock)
    digest = digest_of(b"a")

    first = await redirects.location(digest)
    clock.now += 599
    assert await redirects.location(digest) == first
    clock.now += 1
    renewed = await redirects.location(digest)

    assert first is not None and renewed is not None and renewed != first
    assert store.presign_calls == 2


async def test_no_direct_url_pauses_redirects_then_asks_again(store: FakeBlobstore) -> None:
    clock = Clock()
    redirects = BlobRedirects(store, clock=clock, unavailable_ttl=30)
    store.redirect_base = None

    assert await redirects.location(digest_of(b"a")) is None
    assert await redirects.location(digest_of(b"b")) is None
    assert store.presign_calls == 1
    store.redirect_base = STORAGE  # redirects turned on, blobstore restarted
    clock.now += 30

    assert (await redirects.location(digest_of(b"a")) or "").startswith(STORAGE)
    assert store.presign_calls == 2


async def test_a_failing_blobstore_falls_back_to_streaming_without_logging_urls(
    store: FakeBlobstore, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    redirects = BlobRedirects(store, clock=clock, unavailable_ttl=30)
    cached = await redirects.location(digest_of(b"a"))
    clock.now += 700  # past reuse: the next GET asks again

    async def unavailable(digest: str) -> BlobUrl | None:
        raise DomainError("service unavailable: connection refused", code="UNAVAILABLE")

    store.presign_blob = unavailable  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING):
        assert await redirects.location(digest_of(b"a")) is None

    assert cached is not None and cached.split("?")[1] not in caplog.text
    assert "UNAVAILABLE" in caplog.text


async def test_an_unknown_blob_is_not_found(store: FakeBlobstore) -> None:
    with pytest.raises(NotFound):
        await BlobRedirects(store).location(digest_of(b"never stored"))


async def test_the_cache_is_bounded(store: FakeBlobstore) -> None:
    redirects = BlobRedirects(store, capacity=1)
    await redirects.location(digest_of(b"a"))
    await redirects.location(digest_of(b"b"))

    await redirects.location(digest_of(b"a"))  # evicted by b: asked again

    assert store.presign_calls == 3


def test_the_reuse_fraction_leaves_clients_time() -> None:
    with pytest.raises(ValueError):
        BlobRedirects(FakeBlobstore(), reuse_fraction=1.0)


# -- the typed gRPC client ---------------------------------------------------------------------------------


class Presigning(blobstore_pb2_grpc.BlobstoreServiceServicer):  # type: ignore[misc]
    async def PresignBlob(self, request: Any, context: Any) -> Any:
        if request.digest == "sha256:s3":
            return blobstore_pb2.PresignBlobResponse(
                digest=request.digest, url="http://s3.test/b/k?X-Amz-Signature=f00", expires_in_seconds=1200
            )
        if request.digest == "sha256:disk":
            return blobstore_pb2.PresignBlobResponse(
                digest=request.digest, unavailable=blobstore_pb2.PresignBlobResponse.UNAVAILABLE_BACKEND
            )
        raise NotFound("no such blob", code="BLOB_UNKNOWN")


@pytest.fixture
async def presigning_channel() -> AsyncIterator[Any]:
    server = GrpcServer(
        "127.0.0.1:0", [(blobstore_pb2_grpc.add_BlobstoreServiceServicer_to_server, Presigning())], []
    )
    await server.start()
    try:
        async with channel(f"127.0.0.1:{server.port}") as ch:
            yield ch
    finally:
        await server.stop(0)


async def test_the_client_returns_the_url_none_or_not_found(presigning_channel: Any) -> None:
    client = BlobstoreClient(presigning_channel)

    url = await client.presign_blob("sha256:s3")
    none = await client.presign_blob("sha256:disk")
    with pytest.raises(NotFound) as unknown:
        await client.presign_blob("sha256:unknown")

    assert url == BlobUrl(digest="sha256:s3", url="http://s3.test/b/k?X-Amz-Signature=f00", expires_in=1200)
    assert "Signature" not in repr(url)
    assert none is None
    assert unknown.value.code == "BLOB_UNKNOWN"
