"""PresignBlob: presigned S3 GET URLs of stored blobs (against moto's S3 server), and when there are none."""

# ruff: noqa: F811 - the S3 fixtures are imported from test_s3_backend, and tests name them as parameters

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import urllib.parse
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from aiobotocore.session import AioSession

# the moto server, botocore session and bucket of the S3 backend's own tests
from test_s3_backend import bucket, connection, keys_in, s3_endpoint, session  # noqa: F401

from hangar.api.blobstore.v1 import blobstore_pb2, blobstore_pb2_grpc
from hangar.blobstore.app import App, DirectUrl, Redirects
from hangar.blobstore.backend import MiB
from hangar.blobstore.domain import (
    DEFAULT_REDIRECT_EXPIRY_SECONDS,
    MAX_REDIRECT_EXPIRY_SECONDS,
    MIN_REDIRECT_EXPIRY_SECONDS,
    Digest,
    check_redirect_expiry,
)
from hangar.blobstore.filesystem import FilesystemBackend
from hangar.blobstore.rpc import SERVICE_NAME, BlobstoreServicer
from hangar.blobstore.s3 import S3Backend, S3Connection
from hangar.kit.errors import InvalidArgument
from hangar.kit.grpcio import ERROR_CODE_KEY, GrpcServer, channel

pb = blobstore_pb2
OWNER = "acme/platform/api"
PREFIX = "hangar"
EXPIRY = 1200


async def serve(app: App) -> AsyncIterator[Any]:
    server = GrpcServer(
        "127.0.0.1:0",
        [(blobstore_pb2_grpc.add_BlobstoreServiceServicer_to_server, BlobstoreServicer(app))],
        [SERVICE_NAME],
    )
    await server.start()
    try:
        async with channel(f"127.0.0.1:{server.port}") as chan:
            yield blobstore_pb2_grpc.BlobstoreServiceStub(chan)
    finally:
        await server.stop(grace=1)


@pytest.fixture
async def s3_backend(bucket: str, connection: S3Connection, session: AioSession) -> AsyncIterator[S3Backend]:
    backend = S3Backend(bucket, PREFIX, connection, session)
    yield backend
    await backend.close()


@pytest.fixture
def make_stub(sqlite_url: str, open_units_of_work: Callable[[str], Any]) -> Callable[..., Any]:
    """A BlobstoreService over in-process gRPC on the given backend and redirect settings."""

    def make(backend: Any, redirects: Redirects, presigner: Any = None) -> Any:
        async def stubs() -> AsyncIterator[Any]:
            async with open_units_of_work(sqlite_url) as uow:
                app = App(uow, backend, presigner=presigner, redirects=redirects)
                async for stub in serve(app):
                    yield stub

        return stubs()

    return make


async def push(stub: Any, data: bytes) -> str:
    upload_id = (await stub.StartUpload(pb.StartUploadRequest(owner=OWNER))).upload_id
    await stub.Write(iter([pb.WriteRequest(upload_id=upload_id, write_offset=0, data=data)]))
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    await stub.CommitUpload(pb.CommitUploadRequest(upload_id=upload_id, digest=digest))
    return digest


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def error_code(error: grpc.aio.AioRpcError) -> str | None:
    return dict(error.trailing_metadata() or ()).get(ERROR_CODE_KEY)


async def test_a_presigned_url_fetches_the_blob_whole_and_by_range(
    s3_backend: S3Backend, make_stub: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    data = os.urandom(MiB + 17)
    caplog.set_level(logging.DEBUG)
    async for stub in make_stub(s3_backend, Redirects(enabled=True, expires_in=EXPIRY), s3_backend):
        digest = await push(stub, data)

        reply = await stub.PresignBlob(pb.PresignBlobRequest(digest=digest))
        logged = caplog.text  # everything the service logged, at DEBUG, while it signed

        assert reply.url and reply.unavailable == pb.PresignBlobResponse.UNAVAILABLE_UNSPECIFIED
        assert reply.expires_in_seconds == EXPIRY
        assert reply.url.split("X-Amz-Signature=")[1] not in logged  # the capability is never logged
        async with httpx.AsyncClient(timeout=30) as http:
            whole = await http.get(reply.url)
            ranged = await http.get(reply.url, headers={"Range": "bytes=1000-1999"})
        assert whole.status_code == 200 and whole.content == data
        assert ranged.status_code == 206 and ranged.content == data[1000:2000]


async def test_the_url_pins_the_blobs_own_object_and_expires_when_configured(
    s3_backend: S3Backend,
    make_stub: Callable[..., Any],
    s3_endpoint: str,
    bucket: str,
) -> None:
    async for stub in make_stub(s3_backend, Redirects(enabled=True, expires_in=EXPIRY), s3_backend):
        digest = await push(stub, b"pinned content")
        before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)

        url = (await stub.PresignBlob(pb.PresignBlobRequest(digest=digest))).url

        hex_ = digest.removeprefix("sha256:")
        parts = urllib.parse.urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == s3_endpoint
        assert parts.path == f"/{bucket}/{PREFIX}/blobs/sha256/{hex_[:2]}/{hex_}"
        query = query_of(url)
        assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"  # SigV4: expiry is signed, at most 7 days
        assert query["X-Amz-Expires"] == str(EXPIRY)
        assert query["X-Amz-SignedHeaders"] == "host"
        signed_at = datetime.datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.UTC
        )
        assert before - datetime.timedelta(seconds=1) <= signed_at <= before + datetime.timedelta(seconds=60)


async def test_an_unknown_or_malformed_digest_is_refused_without_side_effects(
    s3_backend: S3Backend,
    make_stub: Callable[..., Any],
    bucket: str,
) -> None:
    async for stub in make_stub(s3_backend, Redirects(enabled=True), s3_backend):
        stored = await push(stub, b"the only blob")
        keys_before = await keys_in(s3_backend, bucket)

        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await stub.PresignBlob(pb.PresignBlobRequest(digest=f"sha256:{'0' * 64}"))
        with pytest.raises(grpc.aio.AioRpcError) as malformed:
            await stub.PresignBlob(pb.PresignBlobRequest(digest="sha256:../../etc/passwd"))

        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
        assert error_code(unknown.value) == "BLOB_UNKNOWN"
        assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert await keys_in(s3_backend, bucket) == keys_before
        assert (await stub.StatBlob(pb.StatBlobRequest(digest=stored))).size == len(b"the only blob")


async def test_redirects_off_give_no_url_even_on_s3(
    s3_backend: S3Backend, make_stub: Callable[..., Any]
) -> None:
    async for stub in make_stub(s3_backend, Redirects(enabled=False), s3_backend):
        digest = await push(stub, b"served by the gateway")

        reply = await stub.PresignBlob(pb.PresignBlobRequest(digest=digest))

        assert reply.url == "" and reply.expires_in_seconds == 0
        assert reply.unavailable == pb.PresignBlobResponse.UNAVAILABLE_DISABLED
        with pytest.raises(grpc.aio.AioRpcError) as unknown:  # existence is checked whatever the setting
            await stub.PresignBlob(pb.PresignBlobRequest(digest=f"sha256:{'1' * 64}"))
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def test_the_filesystem_has_no_url_to_give(tmp_path: Path, make_stub: Callable[..., Any]) -> None:
    async for stub in make_stub(FilesystemBackend(tmp_path / "blobs"), Redirects(enabled=True)):
        digest = await push(stub, b"on disk")

        reply = await stub.PresignBlob(pb.PresignBlobRequest(digest=digest))

        assert reply.url == ""
        assert reply.unavailable == pb.PresignBlobResponse.UNAVAILABLE_BACKEND


async def test_urls_are_signed_for_the_endpoint_clients_reach(
    bucket: str,
    connection: S3Connection,
    session: AioSession,
) -> None:
    digest = Digest("sha256", hashlib.sha256(b"x").hexdigest())
    backend = S3Backend(bucket, "", connection, session, redirect_endpoint_url="https://blobs.example.test")
    try:
        url = await backend.presign(digest, 300)
    finally:
        await backend.close()

    parts = urllib.parse.urlsplit(url)
    assert parts.netloc == "blobs.example.test"
    assert parts.path == f"/{bucket}/blobs/sha256/{digest.hex[:2]}/{digest.hex}"
    assert query_of(url)["X-Amz-Expires"] == "300"


def test_a_direct_urls_repr_hides_the_url() -> None:
    assert "Signature" not in repr(DirectUrl(url="https://s3/b/k?X-Amz-Signature=abc", expires_in=60))


def test_the_expiry_is_bounded() -> None:
    assert check_redirect_expiry(DEFAULT_REDIRECT_EXPIRY_SECONDS) == 20 * 60
    for bad in (0, MIN_REDIRECT_EXPIRY_SECONDS - 1, MAX_REDIRECT_EXPIRY_SECONDS + 1):
        with pytest.raises(InvalidArgument, match="expiry"):
            check_redirect_expiry(bad)
    with pytest.raises(InvalidArgument):
        Redirects(enabled=True, expires_in=MAX_REDIRECT_EXPIRY_SECONDS + 1)


def test_settings_turn_redirects_on_for_s3_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from hangar.blobstore.main import Settings

    monkeypatch.setenv("HANGAR_S3_REDIRECT", "true")
    with pytest.raises(ValueError, match="HANGAR_STORAGE=s3"):
        Settings()
    monkeypatch.setenv("HANGAR_STORAGE", "s3")
    monkeypatch.setenv("HANGAR_S3_BUCKET", "layers")
    monkeypatch.setenv("HANGAR_S3_REDIRECT_EXPIRY", "600")
    assert Settings().redirects() == Redirects(enabled=True, expires_in=600)
    monkeypatch.setenv("HANGAR_S3_REDIRECT_EXPIRY", "10")
    with pytest.raises(ValueError, match="HANGAR_S3_REDIRECT_EXPIRY"):
        Settings()
    monkeypatch.delenv("HANGAR_S3_REDIRECT")
    monkeypatch.delenv("HANGAR_S3_REDIRECT_EXPIRY")
    assert Settings().redirects() == Redirects(enabled=False, expires_in=DEFAULT_REDIRECT_EXPIRY_SECONDS)
