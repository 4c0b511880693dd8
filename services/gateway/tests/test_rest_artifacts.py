"""REST models, resources, charts and containers over the fakes: repositories, versions, resumable file
uploads, commits, downloads, the org-wide listing, and who may do what (DESIGN §1, §3)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import tarfile
from collections.abc import AsyncIterator
from typing import Any, Final

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hangar.gateway.app import create_app
from hangar.gateway.clients.cached import CachedRegistry
from hangar.gateway.clients.model import KeyInfo, KeyScope
from hangar.gateway.testing import (
    ADMIN_ONLY_KEY,
    ALICE_KEY,
    API,
    BOB_KEY,
    CAROL_KEY,
    ERIN_KEY,
    ZED_KEY,
    FakeWorld,
    bearer,
)

BASE_URL: Final = "http://registry.test"
FRANK_KEY: Final = "hgr_frank678_frankSecretFrankSecretF"  # REGISTRY_ADMIN
GINA_KEY: Final = "hgr_gina5678_ginaSecretGinaSecretGina"  # USER_ADMIN only
SERVICE_KEY: Final = "hgr_svc45678_serviceSecretServiceSecr"  # service key: get models only
MODELS: Final = f"{API}/orgs/demo/models"
ALICE: Final = bearer(ALICE_KEY)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def world(fakes: FakeWorld) -> FakeWorld:
    fakes.identity.decide_by_roles = True
    registry = frozenset({"registry"})
    fakes.identity.member("demo", "user-frank", "REGISTRY_ADMIN")
    fakes.identity.member("demo", "user-gina", "USER_ADMIN")
    fakes.keys.add(FRANK_KEY, KeyInfo("key-frank", "demo", "user-frank", registry, prefix=FRANK_KEY[:12]))
    fakes.keys.add(GINA_KEY, KeyInfo("key-gina", "demo", "user-gina", registry, prefix=GINA_KEY[:12]))
    scope = KeyScope(actions=frozenset({"get", "list"}), entity_types=frozenset({"model"}))
    service = KeyInfo(
        "key-svc", "demo", "", registry, prefix=SERVICE_KEY[:12], key_type="SERVICE", scopes=(scope,)
    )
    fakes.keys.add(SERVICE_KEY, service)
    return fakes


@pytest.fixture
async def http(world: FakeWorld, signing_key: Ed25519PrivateKey) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(world.services(), signing_key)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        yield client


def error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    return dict(body["error"])


async def new_version(
    http: httpx.AsyncClient, name: str = "resnet", version: str = "1.0.0", *, base: str = MODELS, **body: Any
) -> dict[str, Any]:
    response = await http.post(f"{base}/{name}/versions", json={"version": version, **body}, headers=ALICE)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def put_file(
    http: httpx.AsyncClient,
    path: str,
    data: bytes,
    *,
    url: str = f"{MODELS}/resnet/versions/1.0.0",
    **headers: str,
) -> httpx.Response:
    return await http.put(
        f"{url}/files/{path}", content=data, headers={**ALICE, "X-Checksum-Sha256": sha256(data), **headers}
    )


async def committed_model(
    http: httpx.AsyncClient, files: dict[str, bytes], *, name: str = "resnet"
) -> dict[str, Any]:
    await new_version(http, name)
    for path, data in files.items():
        response = await put_file(http, path, data, url=f"{MODELS}/{name}/versions/1.0.0")
        assert response.status_code == 201, response.text
    response = await http.post(f"{MODELS}/{name}/versions/1.0.0/commit", headers=ALICE)
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- the whole round trip ------------------------------------------------------------------------------------


async def test_a_model_version_is_created_uploaded_in_pieces_committed_and_downloaded(
    http: httpx.AsyncClient, world: FakeWorld
) -> None:
    created = await http.post(
        MODELS,
        json={
            "name": "resnet",
            "metadata": {"description": "a classifier", "labels": ["vision"], "framework": "pt"},
        },
        headers=ALICE,
    )
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "demo/resnet" and created.json()["permission"] == "admin"
    version = await new_version(http, metadata={"accuracy": "0.913", "epochs": 90})
    assert version["status"] == "UPLOAD_PENDING" and version["files"] == []

    config = b'{"layers": 50}'
    assert (await put_file(http, "config.json", config)).status_code == 201
    weights = bytes(range(256)) * 40  # 10240 bytes in three pieces
    url = f"{MODELS}/resnet/versions/1.0.0/files/weights/model.bin"
    pieces = [(0, 4095), (4096, 8191), (8192, 10239)]
    for index, (start, end) in enumerate(pieces):
        if index:
            head = await http.head(url, headers=ALICE)
            assert head.status_code == 200
            assert head.headers["upload-offset"] == str(start)
            assert head.headers["x-upload-status"] == "UPLOADING"
            assert head.headers["range"] == f"bytes=0-{start - 1}"
        headers = {**ALICE, "Content-Range": f"bytes {start}-{end}/{len(weights)}"}
        if end + 1 == len(weights):
            headers["Digest"] = "sha-256=" + base64.b64encode(hashlib.sha256(weights).digest()).decode()
        response = await http.put(url, content=weights[start : end + 1], headers=headers)
        assert response.status_code == (201 if end + 1 == len(weights) else 202), response.text
    assert response.json()["digest"] == "sha256:" + sha256(weights)

    files = (await http.get(f"{MODELS}/resnet/versions/1.0.0/files", headers=ALICE)).json()["items"]
    assert [(f["path"], f["size"], f["status"]) for f in files] == [
        ("config.json", len(config), "COMPLETE"),
        ("weights/model.bin", len(weights), "COMPLETE"),
    ]
    committed = await http.post(f"{MODELS}/resnet/versions/1.0.0/commit", headers=ALICE)
    assert committed.status_code == 200, committed.text
    digest = committed.json()["manifest_digest"]
    assert committed.json()["status"] == "UPLOAD_COMPLETE" and digest.startswith("sha256:")

    # the version is an OCI artifact whose layers are its files, titled by path
    manifest = json.loads((await world.registry.get_manifest("demo/resnet", "1.0.0")).content)
    assert manifest["artifactType"] == "application/vnd.hangar.model.v1+json"
    titles = {
        layer["annotations"]["org.opencontainers.image.title"]: layer["digest"]
        for layer in manifest["layers"]
    }
    assert titles == {
        "config.json": "sha256:" + sha256(config),
        "weights/model.bin": "sha256:" + sha256(weights),
    }

    whole = await http.get(url, headers=bearer(BOB_KEY))
    assert whole.status_code == 200 and whole.content == weights
    assert whole.headers["etag"] == f'"sha256:{sha256(weights)}"'
    assert whole.headers["content-length"] == str(len(weights))
    ranged = await http.get(url, headers={**bearer(BOB_KEY), "Range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.content == weights[100:200]
    assert ranged.headers["content-range"] == f"bytes 100-199/{len(weights)}"
    suffix = await http.get(url, headers={**bearer(BOB_KEY), "Range": "bytes=-5"})
    assert suffix.status_code == 206 and suffix.content == weights[-5:]
    open_ended = await http.get(url, headers={**bearer(BOB_KEY), "Range": "bytes=10000-"})
    assert open_ended.content == weights[10000:]
    outside = await http.get(url, headers={**bearer(BOB_KEY), "Range": f"bytes={len(weights)}-"})
    assert outside.status_code == 416 and outside.headers["content-range"] == f"bytes */{len(weights)}"

    archive = await http.get(f"{MODELS}/resnet/versions/1.0.0/archive", headers=bearer(BOB_KEY))
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/x-tar"
    assert archive.headers["content-length"] == str(len(archive.content))
    with tarfile.open(fileobj=io.BytesIO(archive.content)) as tar:
        extracted = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    assert extracted == {"config.json": config, "weights/model.bin": weights}

    repository = (await http.get(f"{MODELS}/resnet", headers=bearer(BOB_KEY))).json()
    assert repository["latest_version"] == "1.0.0" and repository["version_count"] == 1
    assert repository["permission"] == "read" and repository["metadata"]["labels"] == ["vision"]
    latest = await http.get(f"{MODELS}/resnet/versions/latest", headers=ALICE)
    assert latest.json()["version"] == "1.0.0" and latest.json()["metadata"]["accuracy"] == "0.913"


async def test_a_version_based_on_another_inherits_its_files_and_replaces_some(
    http: httpx.AsyncClient,
) -> None:
    await committed_model(http, {"a.txt": b"alpha", "b.txt": b"beta"})
    based = await new_version(http, version="1.1.0", base_version="1.0.0")
    assert {f["path"]: f["status"] for f in based["files"]} == {"a.txt": "INHERITED", "b.txt": "INHERITED"}
    url = f"{MODELS}/resnet/versions/1.1.0"
    assert (await put_file(http, "b.txt", b"BETA", url=url)).status_code == 201
    assert (await http.post(f"{url}/commit", headers=ALICE)).status_code == 200
    assert (await http.get(f"{url}/files/b.txt", headers=ALICE)).content == b"BETA"
    assert (await http.get(f"{url}/files/a.txt", headers=ALICE)).content == b"alpha"
    listed = await http.get(f"{MODELS}/resnet/versions", headers=ALICE, params={"page_size": 1})
    assert [v["version"] for v in listed.json()["items"]] == ["1.1.0"] and listed.json()["next_page_token"]
    rest = await http.get(
        f"{MODELS}/resnet/versions",
        headers=ALICE,
        params={"page_size": 1, "page_token": listed.json()["next_page_token"]},
    )
    assert [v["version"] for v in rest.json()["items"]] == ["1.0.0"] and rest.json()[
        "next_page_token"
    ] is None
    assert listed.json()["items"][0]["files"] is None


async def test_the_first_version_creates_the_repository_and_latest_can_be_pinned(
    http: httpx.AsyncClient,
) -> None:
    base = f"{API}/orgs/demo/resources"
    await new_version(http, "notebooks", "v1", base=base)
    url = f"{base}/notebooks/versions/v1"
    assert (await put_file(http, "intro.ipynb", b"{}", url=url)).status_code == 201
    assert (await http.post(f"{url}/commit", headers=ALICE)).status_code == 200
    await new_version(http, "notebooks", "v2", base=base)
    assert (
        await put_file(http, "intro.ipynb", b"{ }", url=f"{base}/notebooks/versions/v2")
    ).status_code == 201
    assert (await http.post(f"{base}/notebooks/versions/v2/commit", headers=ALICE)).status_code == 200
    assert (await http.get(f"{base}/notebooks", headers=ALICE)).json()["latest_version"] == "v2"
    pinned = await http.put(f"{base}/notebooks/latest", json={"version": "v1"}, headers=ALICE)
    assert pinned.status_code == 200 and pinned.json()["latest_version"] == "v1"
    assert pinned.json()["latest_policy"] == "manual"
    both = await http.put(f"{base}/notebooks/latest", json={"version": "v1", "auto": True}, headers=ALICE)
    assert both.status_code == 400
    unknown = await http.put(f"{base}/notebooks/latest", json={"version": "v9"}, headers=ALICE)
    assert unknown.status_code == 404 and error(unknown)["code"] == "VERSION_UNKNOWN"
    # a model of the same name is another kind: not found as a model, and no model version can be made there
    assert (await http.get(f"{MODELS}/notebooks", headers=ALICE)).status_code == 404
    clash = await http.post(f"{MODELS}/notebooks/versions", json={"version": "v3"}, headers=ALICE)
    assert clash.status_code == 409 and error(clash)["code"] == "KIND_MISMATCH"


async def test_metadata_patch_changes_only_the_fields_sent(http: httpx.AsyncClient) -> None:
    body = {"name": "resnet", "metadata": {"description": "old", "publisher": "acme", "labels": ["a"]}}
    assert (await http.post(MODELS, json=body, headers=ALICE)).status_code == 201
    patched = await http.patch(
        f"{MODELS}/resnet", json={"description": "new", "labels": ["b", "c"]}, headers=ALICE
    )
    assert patched.status_code == 200, patched.text
    metadata = patched.json()["metadata"]
    assert (metadata["description"], metadata["publisher"], metadata["labels"]) == ("new", "acme", ["b", "c"])
    assert (await http.patch(f"{MODELS}/resnet", json={}, headers=ALICE)).status_code == 400
    unknown = await http.patch(f"{MODELS}/resnet", json={"colour": "red"}, headers=ALICE)
    assert unknown.status_code == 400 and error(unknown)["code"] == "REQUEST_INVALID"
    again = await http.post(MODELS, json={"name": "resnet"}, headers=ALICE)
    assert again.status_code == 409 and error(again)["code"] == "REPOSITORY_EXISTS"


# -- resumable uploads ---------------------------------------------------------------------------------------


async def test_an_upload_resumes_on_another_replica_from_the_offset_head_reports(
    http: httpx.AsyncClient, world: FakeWorld
) -> None:
    await new_version(http)
    data = b"x" * 3000 + b"y" * 3000
    url = f"{MODELS}/resnet/versions/1.0.0/files/big.bin"
    first = await http.put(url, content=data[:3000], headers={**ALICE, "Content-Range": "bytes 0-2999/6000"})
    assert first.status_code == 202 and first.headers["upload-offset"] == "3000"
    wrong = await http.put(
        url, content=data[1000:2000], headers={**ALICE, "Content-Range": "bytes 1000-1999/6000"}
    )
    assert wrong.status_code == 416 and wrong.headers["upload-offset"] == "3000"
    assert error(wrong)["detail"] == {"offset": 3000}
    # another replica: a second application over the same services
    other = create_app(world.services(), Ed25519PrivateKey.generate())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url=BASE_URL) as replica:
        offset = int((await replica.head(url, headers=ALICE)).headers["upload-offset"])
        assert offset == 3000
        rest = await replica.put(
            url,
            content=data[offset:],
            headers={
                **ALICE,
                "Content-Range": f"bytes {offset}-5999/6000",
                "X-Checksum-Sha256": sha256(data),
            },
        )
        assert rest.status_code == 201, rest.text
    assert (await http.get(url, headers=ALICE)).content == data
    assert world.blobstore.uploads == {}


async def test_an_upload_whose_last_bytes_arrived_is_finished_with_an_empty_put(
    http: httpx.AsyncClient,
) -> None:
    await new_version(http)
    url = f"{MODELS}/resnet/versions/1.0.0/files/f.bin"
    assert (
        await http.put(url, content=b"abcd", headers={**ALICE, "Content-Range": "bytes 0-3/*"})
    ).status_code == 202
    early = await http.put(
        url, content=b"", headers={**ALICE, "Content-Range": "bytes */8", "X-Checksum-Sha256": "0" * 64}
    )
    assert early.status_code == 416 and early.headers["upload-offset"] == "4"
    done = await http.put(
        url,
        content=b"",
        headers={**ALICE, "Content-Range": "bytes */4", "X-Checksum-Sha256": sha256(b"abcd")},
    )
    assert done.status_code == 201, done.text
    assert (await http.get(url, headers=ALICE)).content == b"abcd"


@pytest.mark.parametrize("content_range", ["bytes 10-19/100", "bytes */4"])
async def test_a_first_piece_not_at_zero_is_416_and_records_nothing(
    http: httpx.AsyncClient, world: FakeWorld, content_range: str
) -> None:
    await new_version(http)
    url = f"{MODELS}/resnet/versions/1.0.0/files/f.bin"
    body = b"" if "*" in content_range else b"x" * 10
    headers = {**ALICE, "Content-Range": content_range, "X-Checksum-Sha256": sha256(body)}
    refused = await http.put(url, content=body, headers=headers)
    assert refused.status_code == 416 and refused.headers["upload-offset"] == "0"
    assert (await http.head(url, headers=ALICE)).status_code == 404
    assert world.blobstore.uploads == {}


async def test_the_last_piece_without_a_digest_is_refused_before_a_byte_is_written(
    http: httpx.AsyncClient,
) -> None:
    await new_version(http)
    url = f"{MODELS}/resnet/versions/1.0.0/files/f.bin"
    assert (
        await http.put(url, content=b"ab", headers={**ALICE, "Content-Range": "bytes 0-1/4"})
    ).status_code == 202
    refused = await http.put(url, content=b"cd", headers={**ALICE, "Content-Range": "bytes 2-3/4"})
    assert refused.status_code == 400 and error(refused)["code"] == "DIGEST_REQUIRED"
    assert (await http.head(url, headers=ALICE)).headers["upload-offset"] == "2"


@pytest.mark.parametrize("pieces", [False, True])
async def test_a_digest_mismatch_records_nothing(
    http: httpx.AsyncClient, world: FakeWorld, pieces: bool
) -> None:
    await new_version(http)
    url = f"{MODELS}/resnet/versions/1.0.0/files/f.bin"
    wrong = {"X-Checksum-Sha256": sha256(b"something else")}
    if pieces:
        assert (
            await http.put(url, content=b"ab", headers={**ALICE, "Content-Range": "bytes 0-1/4"})
        ).status_code == 202
        refused = await http.put(
            url, content=b"cd", headers={**ALICE, "Content-Range": "bytes 2-3/4", **wrong}
        )
    else:
        refused = await http.put(url, content=b"abcd", headers={**ALICE, **wrong})
    assert refused.status_code == 400 and error(refused)["code"] == "DIGEST_MISMATCH"
    version = (await http.get(f"{MODELS}/resnet/versions/1.0.0", headers=ALICE)).json()
    assert version["files"] == []
    assert world.blobstore.uploads == {} and "sha256:" + sha256(b"abcd") not in world.blobstore.blobs
    assert (await http.head(url, headers=ALICE)).status_code == 404
    again = await http.put(url, content=b"abcd", headers={**ALICE, "X-Checksum-Sha256": sha256(b"abcd")})
    assert again.status_code == 201


@pytest.mark.parametrize(
    ("content_range", "body", "status"),
    [
        ("bytes 0-3", b"abcd", 400),
        ("bytes 5-3/10", b"", 416),
        ("bytes 0-10/10", b"x" * 11, 416),
        ("items 0-3/4", b"abcd", 400),
        ("bytes 0-3/4", b"abcdef", 400),  # Content-Length is not the range's length
    ],
)
async def test_bad_content_ranges_are_refused(
    http: httpx.AsyncClient, content_range: str, body: bytes, status: int
) -> None:
    await new_version(http)
    url = f"{MODELS}/resnet/versions/1.0.0/files/f.bin"
    response = await http.put(
        url,
        content=body,
        headers={**ALICE, "Content-Range": content_range, "X-Checksum-Sha256": sha256(body)},
    )
    assert response.status_code == status, response.text
    assert (await http.head(url, headers=ALICE)).status_code == 404


async def test_a_body_longer_than_its_range_is_413(http: httpx.AsyncClient) -> None:
    await new_version(http)
    url = f"{MODELS}/resnet/versions/1.0.0/files/f.bin"

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds while streaming
        yield b"abcd"
        yield b"efgh"

    response = await http.put(url, content=streamed(), headers={**ALICE, "Content-Range": "bytes 0-3/100"})
    assert response.status_code == 413 and error(response)["code"] == "RANGE_INVALID"


# -- bad input -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/files/%2e%2e/x",
        b"/files/a/%2E%2E/%2e%2e/etc/passwd",
        b"/files//etc/passwd",
        b"/files/a//b",
        b"/files/a%5cb",
        b"/files/a%00b",
    ],
)
async def test_file_paths_that_leave_the_version_are_400_and_write_nothing(
    http: httpx.AsyncClient, world: FakeWorld, raw_path: bytes
) -> None:
    await new_version(http)
    prefix = f"{MODELS}/resnet/versions/1.0.0".encode()
    url = httpx.URL(BASE_URL).copy_with(raw_path=prefix + raw_path)
    response = await http.put(url, content=b"data", headers={**ALICE, "X-Checksum-Sha256": sha256(b"data")})
    assert response.status_code == 400, response.text
    assert error(response)["code"] == "PATH_INVALID"
    assert (await http.get(f"{MODELS}/resnet/versions/1.0.0", headers=ALICE)).json()["files"] == []
    assert world.blobstore.uploads == {} and world.blobstore.blobs == {}


async def test_a_file_uploaded_twice_is_409_until_it_is_deleted(
    http: httpx.AsyncClient, world: FakeWorld
) -> None:
    await new_version(http)
    assert (await put_file(http, "f.bin", b"one")).status_code == 201
    again = await put_file(http, "f.bin", b"two")
    assert again.status_code == 409 and error(again)["code"] == "FILE_EXISTS"
    url = f"{MODELS}/resnet/versions/1.0.0/files"
    assert (await http.delete(f"{url}/f.bin", headers=ALICE)).status_code == 204
    assert (await put_file(http, "f.bin", b"two")).status_code == 201
    # deleting a file being uploaded ends its upload session too
    assert (
        await http.put(f"{url}/g.bin", content=b"ab", headers={**ALICE, "Content-Range": "bytes 0-1/9"})
    ).status_code == 202
    assert len(world.blobstore.uploads) == 1
    assert (await http.delete(f"{url}/g.bin", headers=ALICE)).status_code == 204
    assert world.blobstore.uploads == {}
    missing = await http.delete(f"{url}/nothing", headers=ALICE)
    assert missing.status_code == 404 and error(missing)["code"] == "FILE_UNKNOWN"


async def test_commit_needs_every_file_complete_and_happens_once(http: httpx.AsyncClient) -> None:
    await new_version(http)
    url = f"{MODELS}/resnet/versions/1.0.0"
    empty = await http.post(f"{url}/commit", headers=ALICE)
    assert empty.status_code == 409 and error(empty)["code"] == "FILES_INCOMPLETE"
    assert (await put_file(http, "done.bin", b"done")).status_code == 201
    assert (
        await http.put(
            f"{url}/files/half.bin", content=b"ha", headers={**ALICE, "Content-Range": "bytes 0-1/4"}
        )
    ).status_code == 202
    incomplete = await http.post(f"{url}/commit", headers=ALICE)
    assert incomplete.status_code == 409 and error(incomplete)["code"] == "FILES_INCOMPLETE"
    assert "half.bin" in error(incomplete)["message"]
    uploading = await http.get(f"{url}/files/half.bin", headers=ALICE)
    assert uploading.status_code == 409 and error(uploading)["code"] == "FILE_INCOMPLETE"
    files = (await http.get(f"{url}/files", headers=ALICE)).json()["items"]
    assert {f["path"]: (f["status"], f["size"], f["declared_size"]) for f in files} == {
        "done.bin": ("COMPLETE", 4, None),
        "half.bin": ("UPLOADING", 2, 4),
    }
    assert (await http.delete(f"{url}/files/half.bin", headers=ALICE)).status_code == 204
    assert (await http.post(f"{url}/commit", headers=ALICE)).status_code == 200
    twice = await http.post(f"{url}/commit", headers=ALICE)
    assert twice.status_code == 409 and error(twice)["code"] == "VERSION_COMMITTED"
    late = await put_file(http, "late.bin", b"late")
    assert late.status_code == 409 and error(late)["code"] == "VERSION_COMMITTED"
    dup = await http.post(f"{MODELS}/resnet/versions", json={"version": "1.0.0"}, headers=ALICE)
    assert dup.status_code == 409 and error(dup)["code"] == "VERSION_EXISTS"


@pytest.mark.parametrize("version", ["latest", "-1", "a b", "x" * 129, "1.0/2", ""])
async def test_invalid_version_names_are_400_and_create_nothing(
    http: httpx.AsyncClient, world: FakeWorld, version: str
) -> None:
    response = await http.post(f"{MODELS}/resnet/versions", json={"version": version}, headers=ALICE)
    assert response.status_code == 400, response.text
    assert world.artifacts.repos == {}


@pytest.mark.parametrize("name", ["Bad", "a..b", "-a", "a" * 129])
async def test_invalid_repository_names_are_400(http: httpx.AsyncClient, world: FakeWorld, name: str) -> None:
    created = await http.post(MODELS, json={"name": name}, headers=ALICE)
    assert created.status_code == 400
    assert (await http.get(f"{MODELS}/{name}", headers=ALICE)).status_code in (400, 404)
    assert world.artifacts.repos == {}


# -- who may do what -----------------------------------------------------------------------------------------


async def _seed(world: FakeWorld, http: httpx.AsyncClient) -> None:
    """A committed 1.0.0 with file f.txt and a pending 2.0.0 in demo/<kind> repositories of each kind, and
    in the vision team; a container demo/app."""
    for scope in ("demo", "demo/vision"):
        for collection in ("models", "resources", "charts"):
            kind = collection.rstrip("s")
            name = f"{scope}/{kind}x"
            await world.artifacts.create_repository(name, kind)
            for version in ("1.0.0", "2.0.0"):
                await world.artifacts.create_version(name, version)
            data = b"payload"
            upload = await world.blobstore.start_upload(name)
            await world.blobstore.write(upload, 0, _one(data))
            await world.blobstore.commit_upload(upload, "sha256:" + sha256(data))
            await world.artifacts.begin_file(name, "1.0.0", "f.txt", upload)
            await world.artifacts.complete_file(
                name, "1.0.0", "f.txt", upload, "sha256:" + sha256(data), len(data)
            )
            config = await world.artifacts.get_version_config(name, "1.0.0")
            world.blobstore.blobs[config.digest] = config.content
            await world.registry.link_blob(name, config.digest, len(config.content))
            await world.artifacts.commit_version(name, "1.0.0", config.digest)
    await world.registry.put_manifest("demo/app", "v1", "application/vnd.oci.image.manifest.v1+json", b"{}")


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _url(scope: str, collection: str, rest: str = "") -> str:
    kind = collection.rstrip("s")
    prefix = f"{API}/orgs/demo" + ("/teams/vision" if scope == "team" else "")
    return f"{prefix}/{collection}/{kind}x{rest}"


#: key -> (list, download, upload, delete) allowed on org-level content; team content needs a team role.
MATRIX: Final = {
    "owner": (ALICE_KEY, (True, True, True, True)),
    "registry-admin": (FRANK_KEY, (True, True, True, True)),
    "registry-user": (CAROL_KEY, (True, True, True, False)),
    "registry-read": (BOB_KEY, (True, True, False, False)),
    "user-admin": (GINA_KEY, (True, False, False, False)),
}


@pytest.mark.parametrize("collection", ["models", "resources", "charts"])
@pytest.mark.parametrize("role", sorted(MATRIX))
async def test_the_capability_matrix_holds_for_every_kind(
    http: httpx.AsyncClient, world: FakeWorld, collection: str, role: str
) -> None:
    await _seed(world, http)
    key, (may_list, may_download, may_upload, may_delete) = MATRIX[role]
    who = bearer(key)
    listed = await http.get(f"{API}/orgs/demo/{collection}", headers=who)
    assert listed.status_code == 200 and may_list
    assert [r["name"] for r in listed.json()["items"]] == [f"demo/{collection.rstrip('s')}x"]
    expected = "admin" if may_delete else "write" if may_upload else "read" if may_download else "view"
    assert listed.json()["items"][0]["permission"] == expected
    assert (await http.get(_url("org", collection), headers=who)).status_code == 200
    assert (await http.get(_url("org", collection, "/versions/1.0.0"), headers=who)).status_code == 200
    download = await http.get(_url("org", collection, "/versions/1.0.0/files/f.txt"), headers=who)
    assert download.status_code == (200 if may_download else 403)
    if not may_download:
        assert error(download)["code"] == "DENIED"
    archive = await http.get(_url("org", collection, "/versions/1.0.0/archive"), headers=who)
    assert archive.status_code == (200 if may_download else 403)
    patch = await http.patch(_url("org", collection), json={"description": "d"}, headers=who)
    assert patch.status_code == (200 if may_upload else 403)
    if collection != "charts":
        upload = await http.put(
            _url("org", collection, "/versions/2.0.0/files/g.txt"),
            content=b"g",
            headers={**who, "X-Checksum-Sha256": sha256(b"g")},
        )
        assert upload.status_code == (201 if may_upload else 403), upload.text
        create = await http.post(_url("org", collection, "/versions"), json={"version": "3.0.0"}, headers=who)
        assert create.status_code == (201 if may_upload else 403)
    delete = await http.delete(_url("org", collection, "/versions/2.0.0"), headers=who)
    assert delete.status_code == (204 if may_delete else 403)
    # team content is invisible to org roles other than ORG_OWNER: 404, like what does not exist
    team = await http.get(_url("team", collection), headers=who)
    if role == "owner":
        assert team.status_code == 200
    else:
        assert team.status_code == 404 and error(team)["code"] == "NAME_UNKNOWN"
        missing = await http.get(
            _url("team", collection).replace(f"{collection.rstrip('s')}x", "nothing"), headers=who
        )
        assert error(missing)["code"] == "NAME_UNKNOWN"
        assert error(missing)["message"].replace("nothing", "X") == error(team)["message"].replace(
            f"{collection.rstrip('s')}x", "X"
        )
        assert (await http.get(f"{API}/orgs/demo/teams/vision/{collection}", headers=who)).status_code == 404


@pytest.mark.parametrize("collection", ["models", "resources", "charts"])
async def test_a_team_role_reaches_its_team_only(
    http: httpx.AsyncClient, world: FakeWorld, collection: str
) -> None:
    await _seed(world, http)
    erin = bearer(ERIN_KEY)  # REGISTRY_USER in demo/vision
    assert (
        await http.get(_url("team", collection, "/versions/1.0.0/files/f.txt"), headers=erin)
    ).status_code == 200
    listed = await http.get(f"{API}/orgs/demo/teams/vision/{collection}", headers=erin)
    assert listed.json()["items"][0]["permission"] == "write"
    assert (await http.delete(_url("team", collection, "/versions/2.0.0"), headers=erin)).status_code == 403
    assert (await http.get(_url("org", collection), headers=erin)).status_code == 404
    assert (await http.get(f"{API}/orgs/demo/{collection}", headers=erin)).status_code == 404


async def test_containers_are_listed_and_shown(http: httpx.AsyncClient, world: FakeWorld) -> None:
    await _seed(world, http)
    listed = await http.get(f"{API}/orgs/demo/containers", headers=bearer(BOB_KEY))
    assert [(r["name"], r["kind"], r["version_count"]) for r in listed.json()["items"]] == [
        ("demo/app", "container", 1)
    ]
    shown = await http.get(f"{API}/orgs/demo/containers/app", headers=bearer(BOB_KEY))
    assert shown.status_code == 200 and shown.json()["permission"] == "read"
    assert (await http.get(f"{API}/orgs/demo/models/app", headers=bearer(BOB_KEY))).status_code == 404


async def test_strangers_keys_without_registry_and_service_keys(
    http: httpx.AsyncClient, world: FakeWorld
) -> None:
    await _seed(world, http)
    stranger = await http.get(f"{API}/orgs/demo/models/modelx", headers=bearer(ZED_KEY))
    assert stranger.status_code == 404 and error(stranger)["code"] == "ORG_NOT_FOUND"
    admin_only = await http.get(f"{API}/orgs/demo/models/modelx", headers=bearer(ADMIN_ONLY_KEY))
    assert admin_only.status_code == 403 and error(admin_only)["code"] == "KEY_SERVICE_MISSING"
    anonymous = await http.get(f"{API}/orgs/demo/models/modelx")
    assert anonymous.status_code == 401
    # a service key with get+list on models: downloads models (its team's too), sees no other kind
    service = bearer(SERVICE_KEY)
    file = "/versions/1.0.0/files/f.txt"
    assert (await http.get(_url("org", "models", file), headers=service)).content == b"payload"
    assert (await http.get(_url("team", "models", file), headers=service)).status_code == 200
    assert (await http.get(_url("org", "charts", file), headers=service)).status_code == 404
    push = await http.post(_url("org", "models", "/versions"), json={"version": "9.0.0"}, headers=service)
    assert push.status_code == 403 and "push" in error(push)["message"]
    rows = (await http.get(f"{API}/orgs/demo/repositories", headers=service)).json()["items"]
    assert [(r["name"], r["permission"]) for r in rows] == [
        ("demo/modelx", "read"),
        ("demo/vision/modelx", "read"),
    ]


async def test_the_org_listing_shows_each_caller_what_they_may_see(
    http: httpx.AsyncClient, world: FakeWorld
) -> None:
    await _seed(world, http)
    await world.artifacts.update_repository(
        "demo/modelx", dataclasses_replace_labels(("vision", "prod")), ["labels"]
    )

    async def names(key: str, **params: Any) -> list[tuple[str, str, str]]:
        response = await http.get(f"{API}/orgs/demo/repositories", headers=bearer(key), params=params)
        assert response.status_code == 200, response.text
        return [(r["name"], r["kind"], r["permission"]) for r in response.json()["items"]]

    everything = await names(ALICE_KEY)
    assert [n for n, _, _ in everything] == [
        "demo/app",
        "demo/chartx",
        "demo/modelx",
        "demo/resourcex",
        "demo/vision/chartx",
        "demo/vision/modelx",
        "demo/vision/resourcex",
    ]
    assert {p for _, _, p in everything} == {"admin"}
    assert [n for n, _, _ in await names(ERIN_KEY)] == [
        "demo/vision/chartx",
        "demo/vision/modelx",
        "demo/vision/resourcex",
    ]
    bob = await names(BOB_KEY)
    assert [n for n, _, _ in bob] == ["demo/app", "demo/chartx", "demo/modelx", "demo/resourcex"]
    assert {p for _, _, p in bob} == {"read"}
    assert {p for _, _, p in await names(GINA_KEY)} == {"view"}
    assert await names(ALICE_KEY, kind="model") == [
        ("demo/modelx", "model", "admin"),
        ("demo/vision/modelx", "model", "admin"),
    ]
    assert [n for n, _, _ in await names(ALICE_KEY, q="demo/vision/*")] == [
        "demo/vision/chartx",
        "demo/vision/modelx",
        "demo/vision/resourcex",
    ]
    assert [n for n, _, _ in await names(ALICE_KEY, team="vision", kind="chart")] == ["demo/vision/chartx"]
    assert [n for n, _, _ in await names(ALICE_KEY, label=["prod", "vision"])] == ["demo/modelx"]
    assert await names(ERIN_KEY, label="prod") == []
    # pages
    first = await http.get(f"{API}/orgs/demo/repositories", headers=ALICE, params={"page_size": 4})
    token = first.json()["next_page_token"]
    second = await http.get(
        f"{API}/orgs/demo/repositories", headers=ALICE, params={"page_size": 4, "page_token": token}
    )
    paged = [r["name"] for r in first.json()["items"] + second.json()["items"]]
    assert paged == [n for n, _, _ in everything] and second.json()["next_page_token"] is None
    assert (
        await http.get(f"{API}/orgs/demo/repositories", headers=ALICE, params={"team": "nope"})
    ).status_code == 404
    assert (
        await http.get(f"{API}/orgs/demo/repositories", headers=ALICE, params={"kind": "tarball"})
    ).status_code == 400
    assert (await http.get(f"{API}/orgs/demo/repositories", headers=bearer(ZED_KEY))).status_code == 404


def dataclasses_replace_labels(labels: tuple[str, ...]) -> Any:
    from hangar.gateway.clients.artifacts import RepositoryMetadataInfo

    return RepositoryMetadataInfo(labels=labels)


# -- /v2: a version manifest pushed under a tag carries its config ------------------------------------------

OCI_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"


async def _push_blob(http: httpx.AsyncClient, data: bytes) -> dict[str, Any]:
    digest = "sha256:" + sha256(data)
    response = await http.post(
        f"/v2/demo/hello/blobs/uploads/?digest={digest}", content=data, headers=basic_alice()
    )
    assert response.status_code == 201, response.text
    return {"mediaType": "application/octet-stream", "digest": digest, "size": len(data)}


def basic_alice() -> dict[str, str]:
    from hangar.gateway.testing import basic

    return basic(ALICE_KEY)


@pytest.mark.parametrize(
    ("artifact_type", "config_type", "reference", "sent"),
    [
        ("application/vnd.hangar.model.v1+json", "application/vnd.oci.empty.v1+json", "1.0", True),
        ("application/vnd.hangar.resource.v1+json", "application/json", "v2", True),
        ("", "application/vnd.cncf.helm.config.v1+json", "0.1.0", True),
        ("", "application/vnd.hangar.model.config.v1+json", "2.0", True),
        ("", "application/vnd.oci.image.config.v1+json", "latest", False),
        ("application/vnd.hangar.model.v1+json", "application/json", "", False),  # by digest: no version
    ],
)
async def test_a_tagged_version_manifest_is_stored_with_its_config(
    http: httpx.AsyncClient,
    world: FakeWorld,
    artifact_type: str,
    config_type: str,
    reference: str,
    sent: bool,
) -> None:
    config_bytes = b'{"description": "from the config"}'
    config = {**(await _push_blob(http, config_bytes)), "mediaType": config_type}
    layer = await _push_blob(http, b"weights")
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": [layer],
    }
    if artifact_type:
        document["artifactType"] = artifact_type
    content = json.dumps(document).encode()
    ref = reference or "sha256:" + sha256(content)
    pushed = await http.put(
        f"/v2/demo/hello/manifests/{ref}",
        content=content,
        headers={**basic_alice(), "Content-Type": OCI_MANIFEST},
    )
    assert pushed.status_code == 201, pushed.text
    assert world.registry.configs == ({("demo/hello", ref): config_bytes} if sent else {})


async def test_a_version_config_over_1_mib_is_refused(http: httpx.AsyncClient, world: FakeWorld) -> None:
    config = await _push_blob(http, b"{" + b" " * (1024 * 1024) + b"}")
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.hangar.model.v1+json",
        "config": {**config, "mediaType": "application/json"},
        "layers": [],
    }
    pushed = await http.put(
        "/v2/demo/hello/manifests/1.0",
        content=json.dumps(document).encode(),
        headers={**basic_alice(), "Content-Type": OCI_MANIFEST},
    )
    assert pushed.status_code == 400 and pushed.json()["errors"][0]["code"] == "MANIFEST_INVALID"
    assert world.registry.configs == {} and "1.0" not in world.registry.repositories["demo/hello"].tags


# -- sessions, archives of pending versions --------------------------------------------------------------


async def test_a_console_session_acts_with_its_users_roles(http: httpx.AsyncClient) -> None:
    from hangar.gateway.testing import ALICE_PASSWORD

    login = await http.post(
        f"{API}/sessions", json={"email": "alice@example.com", "password": ALICE_PASSWORD}
    )
    assert login.status_code == 201, login.text
    session = bearer(login.json()["session_token"])
    assert (await http.post(MODELS, json={"name": "console"}, headers=session)).status_code == 201
    shown = await http.get(f"{MODELS}/console", headers=session)
    assert shown.status_code == 200 and shown.json()["permission"] == "admin"
    forged = await http.get(f"{MODELS}/console", headers=bearer("hgs_not-a-session"))
    assert forged.status_code == 401


async def test_the_archive_of_a_version_still_uploading_is_409(http: httpx.AsyncClient) -> None:
    await new_version(http)
    assert (await put_file(http, "a.txt", b"a")).status_code == 201
    url = f"{MODELS}/resnet/versions/1.0.0"
    ranged = {**ALICE, "Content-Range": "bytes 0-0/2"}
    assert (await http.put(f"{url}/files/b.txt", content=b"b", headers=ranged)).status_code == 202
    refused = await http.get(f"{url}/archive", headers=ALICE)
    assert refused.status_code == 409 and error(refused)["code"] == "FILES_INCOMPLETE"
    assert (await http.delete(f"{url}/files/b.txt", headers=ALICE)).status_code == 204
    pending = await http.get(f"{url}/archive", headers=ALICE)
    assert pending.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(pending.content)) as tar:
        assert [(m.name, m.size, m.mode) for m in tar.getmembers()] == [("a.txt", 1, 0o644)]


async def test_the_org_listing_walks_more_namespaces_than_one_search_takes(
    http: httpx.AsyncClient, world: FakeWorld
) -> None:
    teams = [f"t{number:03d}" for number in range(150)]
    for team in teams:
        world.identity.teams["demo"].add(team)
    for team in teams[::30]:
        await world.artifacts.create_repository(f"demo/{team}/model", "model")
    await world.artifacts.create_repository("demo/org-model", "model")
    seen: list[str] = []
    token = ""
    for _ in range(20):
        params = {"page_size": 2, **({"page_token": token} if token else {})}
        page = await http.get(f"{API}/orgs/demo/repositories", headers=ALICE, params=params)
        assert page.status_code == 200, page.text
        seen += [row["name"] for row in page.json()["items"]]
        token = page.json()["next_page_token"]
        if not token:
            break
    assert sorted(seen) == sorted(["demo/org-model", *(f"demo/{team}/model" for team in teams[::30])])
    assert len(seen) == len(set(seen)) and token is None
    forged = await http.get(f"{API}/orgs/demo/repositories", headers=ALICE, params={"page_token": "abc"})
    assert forged.status_code == 400


async def test_a_blob_uploaded_through_rest_is_no_longer_missing_to_the_oci_api(
    world: FakeWorld, signing_key: Ed25519PrivateKey
) -> None:
    """The content cache keeps a blob's absence for a moment (a push HEADs each blob twice); a REST upload
    links the blob in the registry without passing through it, and the change watcher tells it."""
    services = dataclasses.replace(world.services(), registry=CachedRegistry(world.registry, ttl=60))
    app = create_app(services, signing_key)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        await new_version(http)
        data = b"weights"
        token = await http.get(
            "/token",
            params={"service": "hangar", "scope": "repository:demo/resnet:pull"},
            headers=basic_alice(),
        )
        pull = {"Authorization": f"Bearer {token.json()['token']}"}
        blob = f"/v2/demo/resnet/blobs/sha256:{sha256(data)}"
        assert (await http.head(blob, headers=pull)).status_code == 404
        # linked behind the gateway's back (nothing tells the cache): the absence is still what it says
        await world.registry.link_blob("demo/resnet", f"sha256:{sha256(data)}", len(data))
        assert (await http.head(blob, headers=pull)).status_code == 404
        await world.registry.unlink_blob("demo/resnet", f"sha256:{sha256(data)}")

        uploaded = await http.put(f"{MODELS}/resnet/versions/1.0.0/files/w.bin", content=data, headers=ALICE)
        assert uploaded.status_code == 201, uploaded.text

        found = await http.head(blob, headers=pull)
        assert found.status_code == 200 and found.headers["content-length"] == str(len(data))
