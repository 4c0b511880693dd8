"""LocateBlob: where a stored blob's file lies for readers sharing the filesystem backend's directory."""

# ruff: noqa: F811 - the S3 fixtures are imported from test_s3_backend, and tests name them as parameters

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from aiobotocore.session import AioSession

# the moto server, botocore session and bucket of the S3 backend's own tests
from test_presign import error_code, push, serve
from test_s3_backend import bucket, connection, s3_endpoint, session  # noqa: F401

from hangar.api.blobstore.v1 import blobstore_pb2 as pb
from hangar.blobstore.app import App
from hangar.blobstore.filesystem import FilesystemBackend
from hangar.blobstore.s3 import S3Backend, S3Connection

UNKNOWN = "sha256:" + "0" * 64


@pytest.fixture
def make_stub(sqlite_url: str, open_units_of_work: Callable[[str], Any]) -> Callable[..., Any]:
    """A BlobstoreService over in-process gRPC on the given backend, locating its files if `locator`."""

    def make(backend: Any, locator: Any = None) -> Any:
        async def stubs() -> AsyncIterator[Any]:
            async with open_units_of_work(sqlite_url) as uow:
                async for stub in serve(App(uow, backend, locator=locator)):
                    yield stub

        return stubs()

    return make


async def test_the_filesystem_gives_the_path_of_the_blobs_file_under_its_root(
    tmp_path: Path, make_stub: Callable[..., Any]
) -> None:
    backend = FilesystemBackend(tmp_path / "blobs")
    data = os.urandom(70_000)
    async for stub in make_stub(backend, backend):
        digest = await push(stub, data)

        reply = await stub.LocateBlob(pb.LocateBlobRequest(digest=digest))

        hex_digest = digest.removeprefix("sha256:")
        assert reply.digest == digest and reply.size == len(data)
        assert reply.path == f"blobs/sha256/{hex_digest[:2]}/{hex_digest}"
        assert (tmp_path / "blobs" / reply.path).read_bytes() == data


async def test_an_unknown_digest_is_not_found_and_a_malformed_one_invalid(
    tmp_path: Path, make_stub: Callable[..., Any]
) -> None:
    backend = FilesystemBackend(tmp_path / "blobs")
    async for stub in make_stub(backend, backend):
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await stub.LocateBlob(pb.LocateBlobRequest(digest=UNKNOWN))
        with pytest.raises(grpc.aio.AioRpcError) as malformed:
            await stub.LocateBlob(pb.LocateBlobRequest(digest="sha256:../../etc/passwd"))

    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND and error_code(unknown.value) == "BLOB_UNKNOWN"
    assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_blob_whose_file_is_gone_is_not_found(tmp_path: Path, make_stub: Callable[..., Any]) -> None:
    backend = FilesystemBackend(tmp_path / "blobs")
    async for stub in make_stub(backend, backend):
        digest = await push(stub, b"collected meanwhile")
        path = (await stub.LocateBlob(pb.LocateBlobRequest(digest=digest))).path
        (tmp_path / "blobs" / path).unlink()

        with pytest.raises(grpc.aio.AioRpcError) as gone:
            await stub.LocateBlob(pb.LocateBlobRequest(digest=digest))

    assert gone.value.code() == grpc.StatusCode.NOT_FOUND


async def test_s3_has_no_path_to_give(
    bucket: str, connection: S3Connection, session: AioSession, make_stub: Callable[..., Any]
) -> None:
    backend = S3Backend(bucket, "hangar", connection, session)
    try:
        async for stub in make_stub(backend):
            digest = await push(stub, b"in a bucket")

            reply = await stub.LocateBlob(pb.LocateBlobRequest(digest=digest))
            with pytest.raises(grpc.aio.AioRpcError) as unknown:
                await stub.LocateBlob(pb.LocateBlobRequest(digest=UNKNOWN))
    finally:
        await backend.close()

    assert reply.path == "" and reply.size == len(b"in a bucket") and reply.digest == digest
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND and error_code(unknown.value) == "BLOB_UNKNOWN"


async def commit(stub: Any, data: bytes) -> Any:
    upload_id = (await stub.StartUpload(pb.StartUploadRequest(owner="demo/x"))).upload_id
    await stub.Write(iter([pb.WriteRequest(upload_id=upload_id, write_offset=0, data=data)]))
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    return await stub.CommitUpload(pb.CommitUploadRequest(upload_id=upload_id, digest=digest))


async def test_a_commit_names_the_blobs_file_as_locate_would(
    tmp_path: Path, make_stub: Callable[..., Any]
) -> None:
    backend = FilesystemBackend(tmp_path / "blobs")
    data = os.urandom(5000)
    async for stub in make_stub(backend, backend):
        committed = await commit(stub, data)
        again = await commit(stub, data)  # the same content again: deduplicated, the same file
        located = await stub.LocateBlob(pb.LocateBlobRequest(digest=committed.digest))

    assert committed.path == located.path == again.path != ""
    assert (tmp_path / "blobs" / committed.path).read_bytes() == data


async def test_a_commit_names_no_file_without_a_backend_sharing_them(
    bucket: str, connection: S3Connection, session: AioSession, make_stub: Callable[..., Any]
) -> None:
    backend = S3Backend(bucket, "hangar", connection, session)
    try:
        async for stub in make_stub(backend):
            committed = await commit(stub, b"in a bucket")
    finally:
        await backend.close()

    assert committed.path == "" and committed.size == len(b"in a bucket")
