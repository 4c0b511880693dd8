"""Blob GETs read from the blob directory shared with a filesystem blobstore, and every fallback to gRPC."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hangar.gateway.app import create_app
from hangar.gateway.clients.fakes import FakeBlobstore
from hangar.gateway.oci import shared_files
from hangar.gateway.oci.shared_files import Unusable, open_under, path_components
from hangar.gateway.testing import ALICE_KEY, FakeWorld, basic, bearer

BASE_URL = "http://registry.test"
NAME = "demo/hello"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def shared(tmp_path: Path, fakes: FakeWorld) -> Path:
    """The blob directory the (fake) blobstore writes committed blobs to, and the gateway reads."""
    directory = tmp_path / "shared"
    directory.mkdir()
    fakes.blobstore.shared_dir = directory
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


async def push(http: httpx.AsyncClient, auth: dict[str, str], data: bytes) -> str:
    digest = digest_of(data)
    response = await http.post(
        f"/v2/{NAME}/blobs/uploads/", params={"digest": digest}, content=data, headers=auth
    )
    assert response.status_code == 201, response.text
    return digest


async def test_a_get_reads_the_shared_file_and_remembers_where_it_lies(
    client: httpx.AsyncClient, fakes: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared_files, "READ_SIZE", 4096)  # several blocks, bounded each
    fakes.blobstore.commit_paths = False  # pushed elsewhere: this replica must ask where it lies
    auth = await auth_for(client)
    data = os.urandom(3 * 4096 + 5)
    digest = await push(client, auth, data)

    first = await client.get(f"/v2/{NAME}/blobs/{digest}", headers=auth)
    second = await client.get(f"/v2/{NAME}/blobs/{digest}", headers=auth)

    for response in (first, second):
        assert response.status_code == 200 and response.content == data
        assert response.headers["Content-Length"] == str(len(data))
        assert response.headers["Docker-Content-Digest"] == digest
    assert fakes.blobstore.read_calls == 0  # no byte over gRPC
    assert fakes.blobstore.locate_calls == 1  # the location is kept per digest


async def test_a_blob_pushed_through_this_replica_is_read_without_asking_where_it_lies(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    auth = await auth_for(client)
    data = os.urandom(20_000)
    digest = digest_of(data)
    started = await client.post(f"/v2/{NAME}/blobs/uploads/", headers=auth)
    assert started.status_code == 202, started.text
    patched = await client.patch(started.headers["Location"], content=data, headers=auth)
    closed = await client.put(patched.headers["Location"], params={"digest": digest}, headers=auth)
    assert closed.status_code == 201, closed.text

    response = await client.get(f"/v2/{NAME}/blobs/{digest}", headers=auth)

    assert response.status_code == 200 and response.content == data
    assert fakes.blobstore.locate_calls == 0  # the commit said where the file lies
    assert fakes.blobstore.read_calls == 0


async def test_a_committed_path_leading_outside_the_directory_is_not_remembered(
    client: httpx.AsyncClient, fakes: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FakeBlobstore, "blob_path", staticmethod(lambda digest: "../outside"))
    auth = await auth_for(client)
    data = os.urandom(3000)
    digest = await push(client, auth, data)

    response = await client.get(f"/v2/{NAME}/blobs/{digest}", headers=auth)

    assert response.status_code == 200 and response.content == data
    assert fakes.blobstore.read_calls == 1  # streamed over gRPC instead


async def test_ranges_are_read_from_the_shared_file(
    client: httpx.AsyncClient, fakes: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared_files, "READ_SIZE", 1000)
    auth = await auth_for(client)
    data = os.urandom(10_000)
    digest = await push(client, auth, data)
    url = f"/v2/{NAME}/blobs/{digest}"

    middle = await client.get(url, headers={**auth, "Range": "bytes=1500-4499"})
    small = await client.get(url, headers={**auth, "Range": "bytes=10-19"})
    suffix = await client.get(url, headers={**auth, "Range": "bytes=-10"})
    beyond = await client.get(url, headers={**auth, "Range": "bytes=20000-"})

    assert middle.status_code == 206 and middle.content == data[1500:4500]
    assert middle.headers["Content-Range"] == f"bytes 1500-4499/{len(data)}"
    assert small.status_code == 206 and small.content == data[10:20]
    assert suffix.status_code == 206 and suffix.content == data[-10:]
    assert beyond.status_code == 416
    assert fakes.blobstore.read_calls == 0


async def test_a_path_leading_outside_the_directory_is_refused_and_the_blob_streamed(
    client: httpx.AsyncClient, fakes: FakeWorld, shared: Path
) -> None:
    fakes.blobstore.commit_paths = False  # pushed elsewhere: this replica must ask where it lies
    auth = await auth_for(client)
    data = b"the real blob"
    digest = await push(client, auth, data)
    (shared.parent / "outside").write_bytes(b"X" * len(data))  # same size: only the path check stops it
    fakes.blobstore.located_paths[digest] = "../outside"

    response = await client.get(f"/v2/{NAME}/blobs/{digest}", headers=auth)

    assert response.status_code == 200 and response.content == data
    assert fakes.blobstore.read_calls == 1


async def test_a_symlink_out_of_the_directory_is_not_followed(
    client: httpx.AsyncClient, fakes: FakeWorld, shared: Path
) -> None:
    auth = await auth_for(client)
    data = b"linked away"
    digest = await push(client, auth, data)
    outside = shared.parent / "elsewhere"
    outside.mkdir()
    (outside / "file").write_bytes(b"Y" * len(data))
    blob = shared / FakeBlobstore.blob_path(digest)
    blob.unlink()
    blob.symlink_to(outside / "file")  # the file itself a symlink
    (shared / "blobs" / "escape").symlink_to(outside)  # or a directory on the way
    fakes.blobstore.located_paths["sha256:" + "e" * 64] = "blobs/escape/file"

    response = await client.get(f"/v2/{NAME}/blobs/{digest}", headers=auth)

    assert response.status_code == 200 and response.content == data
    assert fakes.blobstore.read_calls == 1
    with pytest.raises(Unusable):
        open_under(shared, "blobs/escape/file")


async def test_a_missing_file_falls_back_to_the_stream_and_is_located_again(
    client: httpx.AsyncClient, fakes: FakeWorld, shared: Path
) -> None:
    fakes.blobstore.commit_paths = False  # pushed elsewhere: this replica must ask where it lies
    auth = await auth_for(client)
    data = b"collected meanwhile"
    digest = await push(client, auth, data)
    assert (await client.get(f"/v2/{NAME}/blobs/{digest}", headers=auth)).content == data
    (shared / FakeBlobstore.blob_path(digest)).unlink()  # garbage collection's sweep, racing

    response = await client.get(f"/v2/{NAME}/blobs/{digest}", headers=auth)
    again = await client.get(f"/v2/{NAME}/blobs/{digest}", headers=auth)

    assert response.status_code == 200 and response.content == data
    assert again.content == data
    assert fakes.blobstore.read_calls == 2
    assert fakes.blobstore.locate_calls == 2  # forgotten once found missing


async def test_a_file_of_another_size_than_the_registry_recorded_is_not_served(
    client: httpx.AsyncClient, fakes: FakeWorld, shared: Path
) -> None:
    auth = await auth_for(client)
    data = b"exactly these bytes"
    digest = await push(client, auth, data)
    (shared / FakeBlobstore.blob_path(digest)).write_bytes(data + b" and more")

    response = await client.get(f"/v2/{NAME}/blobs/{digest}", headers=auth)

    assert response.status_code == 200 and response.content == data
    assert fakes.blobstore.read_calls == 1


async def test_without_the_setting_blobs_are_streamed_over_grpc(fakes: FakeWorld, shared: Path) -> None:
    async for http in _client(fakes, None):
        auth = await auth_for(http)
        data = b"streamed"
        digest = await push(http, auth, data)

        response = await http.get(f"/v2/{NAME}/blobs/{digest}", headers=auth)

    assert response.status_code == 200 and response.content == data
    assert fakes.blobstore.read_calls == 1 and fakes.blobstore.locate_calls == 0


async def test_a_blobstore_without_files_is_asked_once_then_streamed_from(
    fakes: FakeWorld, tmp_path: Path
) -> None:
    async for http in _client(fakes, tmp_path):  # the setting on, but the blobstore answers no path (S3)
        auth = await auth_for(http)
        first = await push(http, auth, b"one")
        second = await push(http, auth, b"two")

        answers = [await http.get(f"/v2/{NAME}/blobs/{d}", headers=auth) for d in (first, second)]

    assert [a.content for a in answers] == [b"one", b"two"]
    assert fakes.blobstore.read_calls == 2 and fakes.blobstore.locate_calls == 1


async def test_membership_is_still_checked_before_any_file_is_opened(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    auth = await auth_for(client)
    digest = await push(client, auth, b"held by demo/hello only")
    other = await client.get(
        "/token",
        params=[("service", "hangar"), ("scope", "repository:demo/other:pull")],
        headers=basic(ALICE_KEY),
    )

    response = await client.get(f"/v2/demo/other/blobs/{digest}", headers=bearer(other.json()["token"]))

    assert response.status_code == 404
    assert b"held by" not in response.content
    assert fakes.blobstore.read_calls == 0


@pytest.mark.parametrize(
    "path", ["", "/etc/passwd", "../x", "blobs/../../x", "blobs//x", "blobs/./x", "blobs/x/", "a\0b"]
)
def test_paths_that_could_leave_the_directory_are_refused(path: str) -> None:
    with pytest.raises(Unusable):
        path_components(path)


def test_a_directory_is_not_a_blob(tmp_path: Path) -> None:
    (tmp_path / "blobs" / "dir").mkdir(parents=True)
    with pytest.raises(Unusable):
        open_under(tmp_path, "blobs/dir")
