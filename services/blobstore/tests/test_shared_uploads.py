"""Uploads whose bytes a writer sharing the filesystem backend's directory (the gateway) puts in the file
itself: the blobstore says where the file is, reads the size from it, and verifies the digest at commit."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from backend_contract import new_upload_id, sha256_of, stream
from test_presign import error_code, serve

from hangar.api.blobstore.v1 import blobstore_pb2 as pb
from hangar.blobstore.app import App
from hangar.blobstore.filesystem import FilesystemBackend


@pytest.fixture
def make_stub(sqlite_url: str, open_units_of_work: Callable[[str], Any]) -> Callable[..., Any]:
    """A BlobstoreService over in-process gRPC on a filesystem backend, telling upload files if `shared`."""

    def make(backend: FilesystemBackend, shared: bool = True) -> Any:
        async def stubs() -> AsyncIterator[Any]:
            async with open_units_of_work(sqlite_url) as uow:
                app = App(uow, backend, locator=backend, upload_locator=backend if shared else None)
                async for stub in serve(app):
                    yield stub

        return stubs()

    return make


def write_into(root: Path, relative: str, data: bytes) -> None:
    """What the gateway does: append to the upload's file."""
    with open(root / relative, "ab") as file:
        file.write(data)


async def test_the_upload_file_is_told_and_bytes_written_into_it_commit_verified(
    tmp_path: Path, make_stub: Callable[..., Any]
) -> None:
    root = tmp_path / "blobs"
    data = os.urandom(300_000)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    async for stub in make_stub(FilesystemBackend(root)):
        started = await stub.StartUpload(pb.StartUploadRequest(owner="demo/app"))
        assert started.path == f"uploads/{started.upload_id}"
        write_into(root, started.path, data[:100_000])

        status = await stub.QueryWriteStatus(pb.QueryWriteStatusRequest(upload_id=started.upload_id))
        assert status.committed_size == 100_000 and status.path == started.path
        # a Write over gRPC after the shared writer continues at the file's end, and the hash catches up
        await stub.Write(
            iter(
                [
                    pb.WriteRequest(
                        upload_id=started.upload_id, write_offset=100_000, data=data[100_000:200_000]
                    )
                ]
            )
        )
        write_into(root, started.path, data[200_000:])

        reply = await stub.CommitUpload(pb.CommitUploadRequest(upload_id=started.upload_id, digest=digest))

        assert (reply.digest, reply.size) == (digest, len(data))
        located = await stub.LocateBlob(pb.LocateBlobRequest(digest=digest))
        assert (root / located.path).read_bytes() == data
        assert not (root / started.path).exists()


async def test_uploads_opened_at_once_each_tell_their_own_file(
    tmp_path: Path, make_stub: Callable[..., Any]
) -> None:
    root = tmp_path / "blobs"
    async for stub in make_stub(FilesystemBackend(root)):
        started = await stub.StartUpload(pb.StartUploadRequest(owner="demo/app", count=3))
        opened = [(started.upload_id, started.path), *((more.upload_id, more.path) for more in started.more)]

        assert len(opened) == 3
        for index, (upload_id, path) in enumerate(opened):
            assert path == f"uploads/{upload_id}" and (root / path).is_file()
            data = os.urandom(1000 + index)
            write_into(root, path, data)
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            reply = await stub.CommitUpload(pb.CommitUploadRequest(upload_id=upload_id, digest=digest))
            assert (reply.digest, reply.size) == (digest, len(data))


async def test_bytes_written_into_the_file_that_do_not_match_the_digest_are_refused(
    tmp_path: Path, make_stub: Callable[..., Any]
) -> None:
    root = tmp_path / "blobs"
    claimed = "sha256:" + hashlib.sha256(b"what the client claims").hexdigest()
    async for stub in make_stub(FilesystemBackend(root)):
        started = await stub.StartUpload(pb.StartUploadRequest(owner="demo/app"))
        write_into(root, started.path, b"something else")

        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.CommitUpload(pb.CommitUploadRequest(upload_id=started.upload_id, digest=claimed))

        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_code(refused.value) == "DIGEST_INVALID"
        assert not (root / started.path).exists()
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await stub.LocateBlob(pb.LocateBlobRequest(digest=claimed))
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def test_without_shared_upload_files_no_path_is_told(
    tmp_path: Path, make_stub: Callable[..., Any]
) -> None:
    async for stub in make_stub(FilesystemBackend(tmp_path), shared=False):
        started = await stub.StartUpload(pb.StartUploadRequest(owner="demo/app"))
        status = await stub.QueryWriteStatus(pb.QueryWriteStatusRequest(upload_id=started.upload_id))
        assert started.path == "" and status.path == ""


async def test_the_backend_hashes_only_what_it_did_not_write_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = FilesystemBackend(tmp_path)
    upload_id = new_upload_id()
    await backend.create_upload(upload_id)
    first, second = os.urandom(50_000), os.urandom(70_000)
    await backend.append(upload_id, 0, stream(first))
    write_into(tmp_path, backend.upload_file(upload_id), second)
    from hangar.blobstore import filesystem

    hashed: list[tuple[int, int]] = []
    original = filesystem._hash_file

    def spy(fd: int, algorithm: str, size: int, **kwargs: Any) -> Any:
        hashed.append((kwargs.get("start", 0), size))
        return original(fd, algorithm, size, **kwargs)

    monkeypatch.setattr(filesystem, "_hash_file", spy)

    size, new = await backend.commit(upload_id, sha256_of(first + second))

    assert (size, new) == (len(first) + len(second), True)
    assert hashed == [(len(first), len(first) + len(second))]


async def test_a_write_cancelled_while_its_thread_runs_leaves_the_hasher_where_the_bytes_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hasher is resumed from its position (bytes past it are hashed from the file), so that position
    must count every byte the hasher saw, even when the writing request was cancelled mid-write."""
    from hangar.blobstore import filesystem

    backend = FilesystemBackend(tmp_path)
    upload_id = new_upload_id()
    await backend.create_upload(upload_id)
    first, rest = os.urandom(5 * 1024 * 1024), os.urandom(100_000)
    started = threading.Event()
    original = filesystem._write_and_hash

    def slow(*args: Any) -> None:
        started.set()
        time.sleep(0.2)
        original(*args)

    monkeypatch.setattr(filesystem, "_write_and_hash", slow)

    async def never_ending() -> AsyncIterator[bytes]:
        yield first
        await asyncio.Event().wait()

    writing = asyncio.create_task(backend.append(upload_id, 0, never_ending()))
    while not started.is_set():
        await asyncio.sleep(0.01)
    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing
    monkeypatch.setattr(filesystem, "_write_and_hash", original)

    size = await backend.append(upload_id, await backend.upload_size(upload_id), stream(rest))
    assert size == len(first) + len(rest)
    assert await backend.commit(upload_id, sha256_of(first + rest)) == (size, True)


def written(size: int, data: bytes) -> pb.WrittenHash:
    return pb.WrittenHash(size=size, sha256=hashlib.sha256(data).hexdigest())


async def test_a_writer_that_hashed_every_byte_it_wrote_spares_the_commit_reading_the_file(
    tmp_path: Path, make_stub: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hangar.blobstore import filesystem

    root = tmp_path / "blobs"
    data = os.urandom(200_000)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    hashed: list[int] = []
    original = filesystem._hash_file

    def spy(fd: int, algorithm: str, size: int, **kwargs: Any) -> Any:
        hashed.append(size)
        return original(fd, algorithm, size, **kwargs)

    monkeypatch.setattr(filesystem, "_hash_file", spy)
    async for stub in make_stub(FilesystemBackend(root)):
        started = await stub.StartUpload(pb.StartUploadRequest(owner="demo/app"))
        write_into(root, started.path, data)
        committed = await stub.CommitUpload(
            pb.CommitUploadRequest(
                upload_id=started.upload_id, digest=digest, written_hash=written(len(data), data)
            )
        )
        assert (committed.digest, committed.size) == (digest, len(data))
        located = await stub.LocateBlob(pb.LocateBlobRequest(digest=digest))
        assert (root / located.path).read_bytes() == data
    assert hashed == []  # the file was not read again


async def test_a_written_hash_that_does_not_match_the_digest_refuses_the_commit(
    tmp_path: Path, make_stub: Callable[..., Any]
) -> None:
    """The written hash is what the commit verifies: a writer's hash of other bytes is a mismatch, and
    nothing is stored."""
    root = tmp_path / "blobs"
    data = os.urandom(10_000)
    async for stub in make_stub(FilesystemBackend(root)):
        started = await stub.StartUpload(pb.StartUploadRequest(owner="demo/app"))
        write_into(root, started.path, data)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.CommitUpload(
                pb.CommitUploadRequest(
                    upload_id=started.upload_id,
                    digest="sha256:" + hashlib.sha256(data).hexdigest(),
                    written_hash=written(len(data), b"other bytes"),
                )
            )
        assert error_code(refused.value) == "DIGEST_INVALID"
        assert not (root / started.path).exists()


async def test_a_written_hash_of_fewer_bytes_than_the_upload_holds_is_ignored(
    tmp_path: Path, make_stub: Callable[..., Any]
) -> None:
    """Another writer (a Write over gRPC, another gateway) added bytes after the hashing writer: the file is
    hashed as without the claim, and a sha512 commit never uses one."""
    root = tmp_path / "blobs"
    first, second = os.urandom(40_000), os.urandom(30_000)
    async for stub in make_stub(FilesystemBackend(root)):
        started = await stub.StartUpload(pb.StartUploadRequest(owner="demo/app"))
        write_into(root, started.path, first + second)
        committed = await stub.CommitUpload(
            pb.CommitUploadRequest(
                upload_id=started.upload_id,
                digest="sha256:" + hashlib.sha256(first + second).hexdigest(),
                written_hash=written(len(first), first),
            )
        )
        assert committed.size == len(first) + len(second)

        other = await stub.StartUpload(pb.StartUploadRequest(owner="demo/app"))
        write_into(root, other.path, first)
        committed = await stub.CommitUpload(
            pb.CommitUploadRequest(
                upload_id=other.upload_id,
                digest="sha512:" + hashlib.sha512(first).hexdigest(),
                written_hash=written(len(first), b"not these bytes"),
            )
        )
        assert committed.digest == "sha512:" + hashlib.sha512(first).hexdigest()


@pytest.mark.parametrize(
    ("size", "sha256"),
    [(-1, "0" * 64), (5, "ABC"), (5, "A" * 64), (5, "")],
)
async def test_a_malformed_written_hash_is_invalid_and_the_upload_stays_open(
    tmp_path: Path, make_stub: Callable[..., Any], size: int, sha256: str
) -> None:
    root = tmp_path / "blobs"
    async for stub in make_stub(FilesystemBackend(root)):
        started = await stub.StartUpload(pb.StartUploadRequest(owner="demo/app"))
        write_into(root, started.path, b"12345")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.CommitUpload(
                pb.CommitUploadRequest(
                    upload_id=started.upload_id,
                    digest="sha256:" + hashlib.sha256(b"12345").hexdigest(),
                    written_hash=pb.WrittenHash(size=size, sha256=sha256),
                )
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        status = await stub.QueryWriteStatus(pb.QueryWriteStatusRequest(upload_id=started.upload_id))
        assert status.committed_size == 5
