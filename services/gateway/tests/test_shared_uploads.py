"""Upload chunks written straight into the upload's file in the directory shared with a filesystem
blobstore, and every fallback to the gRPC Write."""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hangar.gateway.app import create_app
from hangar.gateway.clients import UploadStatus, WrittenHash
from hangar.gateway.oci.shared_files import Unusable
from hangar.gateway.oci.shared_uploads import SharedUploadFiles, open_upload_under
from hangar.gateway.testing import ALICE_KEY, FakeWorld, basic, bearer

BASE_URL = "http://registry.test"
NAME = "demo/hello"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def shared(tmp_path: Path, fakes: FakeWorld) -> Path:
    """The blob directory the (fake) blobstore keeps uploads in, and the gateway writes into."""
    directory = tmp_path / "shared"
    directory.mkdir()
    fakes.blobstore.shared_dir = directory
    fakes.blobstore.shared_uploads = True
    return directory


async def _client(fakes: FakeWorld, shared_blob_dir: Path | None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(fakes.services(), Ed25519PrivateKey.generate(), shared_blob_dir=shared_blob_dir)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        yield http


@pytest.fixture
async def client(fakes: FakeWorld, shared: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _client(fakes, shared):
        yield http


async def auth_for(http: httpx.AsyncClient) -> dict[str, str]:
    response = await http.get(
        "/token",
        params=[("service", "hangar"), ("scope", f"repository:{NAME}:pull,push")],
        headers=basic(ALICE_KEY),
    )
    assert response.status_code == 200, response.text
    return bearer(str(response.json()["token"]))


async def begin(http: httpx.AsyncClient, auth: dict[str, str]) -> str:
    response = await http.post(f"/v2/{NAME}/blobs/uploads/", headers=auth)
    assert response.status_code == 202, response.text
    return str(response.headers["location"])


async def patch(
    http: httpx.AsyncClient, auth: dict[str, str], location: str, data: bytes, start: int | None = None
) -> httpx.Response:
    headers = dict(auth)
    if start is not None:
        headers["content-range"] = f"{start}-{start + len(data) - 1}"
    return await http.patch(location, content=data, headers=headers)


async def test_chunks_go_into_the_upload_file_and_the_blobstore_verifies_the_commit(
    client: httpx.AsyncClient, fakes: FakeWorld, shared: Path
) -> None:
    auth = await auth_for(client)
    data = os.urandom(300_000)
    location = await begin(client, auth)
    upload_id = location.rsplit("/", 1)[1]

    first = await patch(client, auth, location, data[:100_000], start=0)
    assert first.status_code == 202 and first.headers["range"] == "0-99999"
    assert (shared / "uploads" / upload_id).read_bytes() == data[:100_000]
    second = await patch(client, auth, location, data[100_000:])  # no Content-Range: at the end
    assert second.headers["range"] == f"0-{len(data) - 1}"
    done = await client.put(location, params={"digest": digest_of(data)}, headers=auth)

    assert done.status_code == 201, done.text
    assert fakes.blobstore.write_calls == 0
    assert fakes.blobstore.blobs[digest_of(data)] == data
    assert not (shared / "uploads" / upload_id).exists()
    # hashed while written: the blobstore need not read the file again
    assert fakes.blobstore.written_hashes[upload_id] == WrittenHash(
        len(data), hashlib.sha256(data).hexdigest()
    )


async def test_a_monolithic_push_and_a_closing_put_with_bytes_go_into_the_file(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    auth = await auth_for(client)
    whole = os.urandom(70_000)
    response = await client.post(
        f"/v2/{NAME}/blobs/uploads/", params={"digest": digest_of(whole)}, content=whole, headers=auth
    )
    assert response.status_code == 201, response.text
    location = await begin(client, auth)
    await patch(client, auth, location, b"abc", start=0)
    done = await client.put(
        location,
        params={"digest": digest_of(b"abcdef")},
        content=b"def",
        headers={**auth, "content-range": "3-5"},
    )

    assert done.status_code == 201, done.text
    assert fakes.blobstore.write_calls == 0
    assert fakes.blobstore.blobs[digest_of(whole)] == whole
    assert fakes.blobstore.blobs[digest_of(b"abcdef")] == b"abcdef"


async def test_a_chunk_at_the_wrong_offset_is_416_and_writes_nothing(
    client: httpx.AsyncClient, fakes: FakeWorld, shared: Path
) -> None:
    auth = await auth_for(client)
    location = await begin(client, auth)
    upload_id = location.rsplit("/", 1)[1]
    await patch(client, auth, location, b"0123456789", start=0)

    for start in (0, 5, 11):
        refused = await patch(client, auth, location, b"xxxxx", start=start)
        assert refused.status_code == 416, refused.text
        assert refused.headers["range"] == "0-9"

    assert (shared / "uploads" / upload_id).read_bytes() == b"0123456789"
    assert fakes.blobstore.write_calls == 0


async def test_a_digest_mismatch_after_direct_writes_is_refused_and_leaves_nothing(
    client: httpx.AsyncClient, fakes: FakeWorld, shared: Path
) -> None:
    auth = await auth_for(client)
    location = await begin(client, auth)
    upload_id = location.rsplit("/", 1)[1]
    await patch(client, auth, location, b"actual bytes", start=0)
    claimed = digest_of(b"other bytes")

    refused = await client.put(location, params={"digest": claimed}, headers=auth)

    assert refused.status_code == 400, refused.text
    assert refused.json()["errors"][0]["code"] == "DIGEST_INVALID"
    assert claimed not in fakes.blobstore.blobs and upload_id not in fakes.blobstore.uploads
    assert not (shared / "uploads" / upload_id).exists()


async def test_another_replica_resumes_the_upload_in_the_same_file(
    client: httpx.AsyncClient, fakes: FakeWorld, shared: Path
) -> None:
    auth = await auth_for(client)
    location = await begin(client, auth)
    await patch(client, auth, location, b"hello ", start=0)

    async for other in _client(fakes, shared):  # knows nothing of the upload: asks the blobstore
        other_auth = await auth_for(other)
        resumed = await patch(other, other_auth, location, b"world", start=6)
        assert resumed.status_code == 202 and resumed.headers["range"] == "0-10"
        done = await other.put(location, params={"digest": digest_of(b"hello world")}, headers=other_auth)
        assert done.status_code == 201, done.text

    assert fakes.blobstore.write_calls == 0
    # neither replica wrote every byte: the blobstore hashes the file
    assert fakes.blobstore.written_hashes[location.rsplit("/", 1)[1]] is None


async def test_another_repositorys_upload_is_unknown(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    auth = await auth_for(client)
    upload_id = await fakes.blobstore.start_upload("demo/other")

    response = await patch(client, auth, f"/v2/{NAME}/blobs/uploads/{upload_id}", b"data", start=0)

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"
    assert (fakes.blobstore.shared_dir / "uploads" / upload_id).read_bytes() == b""  # type: ignore[operator]


@pytest.mark.parametrize("hostile", ["../outside", "/etc/passwd", "uploads/../../outside", "uploads//x", "."])
async def test_a_path_leading_outside_the_directory_is_refused_and_the_chunk_streamed(
    client: httpx.AsyncClient, fakes: FakeWorld, shared: Path, hostile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = await auth_for(client)
    blobstore = fakes.blobstore
    opened, queried = blobstore.open_upload, blobstore.query_write_status

    async def open_upload(owner: str) -> UploadStatus:
        return dataclasses.replace(await opened(owner), path=hostile)

    async def query_write_status(upload_id: str, *, owner: str = "") -> UploadStatus:
        return dataclasses.replace(await queried(upload_id, owner=owner), path=hostile)

    monkeypatch.setattr(blobstore, "open_upload", open_upload)
    monkeypatch.setattr(blobstore, "query_write_status", query_write_status)
    (shared.parent / "outside").write_bytes(b"")
    location = await begin(client, auth)

    response = await patch(client, auth, location, b"data", start=0)

    assert response.status_code == 202, response.text
    assert fakes.blobstore.write_calls == 1
    assert (shared.parent / "outside").read_bytes() == b""


async def test_a_symlinked_upload_file_is_not_followed(
    client: httpx.AsyncClient, fakes: FakeWorld, shared: Path
) -> None:
    auth = await auth_for(client)
    location = await begin(client, auth)
    upload_id = location.rsplit("/", 1)[1]
    outside = shared.parent / "outside"
    outside.write_bytes(b"")
    upload_file = shared / "uploads" / upload_id
    upload_file.unlink()
    upload_file.symlink_to(outside)

    with pytest.raises(Unusable):
        open_upload_under(shared, f"uploads/{upload_id}")
    response = await patch(client, auth, location, b"data", start=0)

    assert response.status_code == 202
    assert fakes.blobstore.write_calls == 1  # streamed to the blobstore, which owns what happens next


async def test_a_busy_file_is_streamed_to_the_blobstore(
    client: httpx.AsyncClient, fakes: FakeWorld, shared: Path
) -> None:
    auth = await auth_for(client)
    location = await begin(client, auth)
    upload_id = location.rsplit("/", 1)[1]
    with open(shared / "uploads" / upload_id, "rb") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        assert open_upload_under(shared, f"uploads/{upload_id}") is None
        response = await patch(client, auth, location, b"data", start=0)

    assert response.status_code == 202
    assert fakes.blobstore.write_calls == 1


async def test_a_missing_file_falls_back_to_the_blobstore(
    client: httpx.AsyncClient, fakes: FakeWorld, shared: Path
) -> None:
    auth = await auth_for(client)
    location = await begin(client, auth)
    upload_id = location.rsplit("/", 1)[1]
    (shared / "uploads" / upload_id).unlink()
    fakes.blobstore.uploads[upload_id].file = None

    response = await patch(client, auth, location, b"data", start=0)

    assert response.status_code == 202
    assert fakes.blobstore.write_calls == 1


async def test_without_the_setting_or_without_files_chunks_go_over_grpc(
    fakes: FakeWorld, shared: Path
) -> None:
    async for http in _client(fakes, None):
        auth = await auth_for(http)
        await patch(http, auth, await begin(http, auth), b"data", start=0)
    assert fakes.blobstore.write_calls == 1
    fakes.blobstore.shared_uploads = False  # an S3 blobstore tells no path
    async for http in _client(fakes, shared):
        auth = await auth_for(http)
        await patch(http, auth, await begin(http, auth), b"data", start=0)
    assert fakes.blobstore.write_calls == 2


async def chunks_of(*pieces: bytes, then: BaseException | None = None) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece
    if then is not None:
        raise then


async def test_the_hash_covers_exactly_the_bytes_this_process_wrote_from_the_first(tmp_path: Path) -> None:
    (tmp_path / "uploads").mkdir()
    files = SharedUploadFiles(tmp_path)
    upload = tmp_path / "uploads" / "a"
    upload.touch()
    files.remember("a", NAME, "uploads/a")
    assert files.written_hash("a") is None  # nothing written yet

    assert await files.write("a", "uploads/a", 0, chunks_of(b"abc", b"def")) == 6
    assert files.written_hash("a") == WrittenHash(6, hashlib.sha256(b"abcdef").hexdigest())
    # a body that breaks off: the bytes received before it are kept, and hashed
    with pytest.raises(ConnectionResetError):
        await files.write("a", "uploads/a", None, chunks_of(b"ghi", then=ConnectionResetError()))
    assert upload.read_bytes() == b"abcdefghi"
    assert files.written_hash("a") == WrittenHash(9, hashlib.sha256(b"abcdefghi").hexdigest())

    with upload.open("ab") as other_writer:  # another replica, or the blobstore, adds bytes
        other_writer.write(b"jkl")
    assert await files.write("a", "uploads/a", 12, chunks_of(b"mno")) == 15
    assert files.written_hash("a") is None  # no longer all ours: the blobstore reads the file


async def test_nothing_is_hashed_for_an_upload_another_writer_began(tmp_path: Path) -> None:
    (tmp_path / "uploads").mkdir()
    files = SharedUploadFiles(tmp_path)
    (tmp_path / "uploads" / "b").write_bytes(b"someone else's start")
    files.remember("b", NAME, "uploads/b")
    await files.write("b", "uploads/b", None, chunks_of(b" and ours"))
    assert files.written_hash("b") is None
