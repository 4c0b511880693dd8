"""Upload sessions opened ahead (SpareUploads) through the distribution API: a repository's next POST gets
the session opened after its previous one, only that repository gets it, and the app's shutdown cancels
those nobody took."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gateway_harness import running

from hangar.gateway.app import create_app
from hangar.gateway.clients import UploadStatus
from hangar.gateway.testing import ALICE_KEY, FakeWorld, basic, bearer

HELLO = "demo/hello"
OTHER = "demo/other"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload_id_of(location: str) -> str:
    return location.rsplit("/", 1)[1]


class Sessions:
    """What the fake blobstore was asked: the sessions opened, in order, and those cancelled."""

    def __init__(self, fakes: FakeWorld, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened: list[UploadStatus] = []
        self.cancelled: list[tuple[str, str]] = []
        blobstore = fakes.blobstore
        open_uploads, cancel_upload = blobstore.open_uploads, blobstore.cancel_upload

        async def opening(owner: str, count: int) -> list[UploadStatus]:
            sessions = await open_uploads(owner, count)
            self.opened.extend(sessions)
            return sessions

        async def cancelling(upload_id: str, *, owner: str = "") -> None:
            self.cancelled.append((upload_id, owner))
            await cancel_upload(upload_id, owner=owner)

        monkeypatch.setattr(blobstore, "open_uploads", opening)
        monkeypatch.setattr(blobstore, "cancel_upload", cancelling)

    def ids(self, owner: str) -> list[str]:
        return [session.upload_id for session in self.opened if session.owner == owner]


@pytest.fixture
def sessions(fakes: FakeWorld, monkeypatch: pytest.MonkeyPatch) -> Sessions:
    return Sessions(fakes, monkeypatch)


@pytest.fixture
async def client(fakes: FakeWorld, sessions: Sessions) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(fakes.services(), Ed25519PrivateKey.generate())) as http:
        yield http


async def auth_for(http: httpx.AsyncClient) -> dict[str, str]:
    scopes = [("scope", f"repository:{name}:pull,push") for name in (HELLO, OTHER)]
    response = await http.get("/token", params=[("service", "hangar"), *scopes], headers=basic(ALICE_KEY))
    assert response.status_code == 200, response.text
    return bearer(str(response.json()["token"]))


async def begin(http: httpx.AsyncClient, auth: dict[str, str], name: str = HELLO) -> str:
    response = await http.post(f"/v2/{name}/blobs/uploads/", headers=auth)
    assert response.status_code == 202, response.text
    return str(response.headers["location"])


async def settle() -> None:
    """Let the sessions opened in the background open (the in-process client never yields to them)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def push_through(http: httpx.AsyncClient, auth: dict[str, str], location: str, data: bytes) -> str:
    """PATCH `data` into the upload at `location`, close it with PUT ?digest=; the blob's digest."""
    patched = await http.patch(
        location, content=data, headers={**auth, "content-range": f"0-{len(data) - 1}"}
    )
    assert patched.status_code == 202, patched.text
    digest = digest_of(data)
    done = await http.put(location, params={"digest": digest}, headers=auth)
    assert done.status_code == 201, done.text
    return digest


async def test_the_second_post_gets_the_session_opened_ahead_and_the_upload_completes(
    client: httpx.AsyncClient, fakes: FakeWorld, sessions: Sessions
) -> None:
    auth = await auth_for(client)
    first = upload_id_of(await begin(client, auth))
    await settle()
    opened_before = sessions.ids(HELLO)
    assert first in opened_before and len(opened_before) == 2  # its own, and the spare

    location = await begin(client, auth)
    second = upload_id_of(location)

    assert second in opened_before and second != first  # opened before this POST came
    assert fakes.blobstore.uploads[second].owner == HELLO
    digest = await push_through(client, auth, location, b"layer bytes")
    assert fakes.blobstore.blobs[digest] == b"layer bytes"
    head = await client.head(f"/v2/{HELLO}/blobs/{digest}", headers=auth)
    assert head.status_code == 200 and head.headers["docker-content-digest"] == digest
    await settle()
    assert len(sessions.ids(HELLO)) == 4  # and the next two are ready: it took the last spare of a batch


async def test_a_monolithic_post_takes_the_spare_too(
    client: httpx.AsyncClient, fakes: FakeWorld, sessions: Sessions
) -> None:
    auth = await auth_for(client)
    await begin(client, auth)
    await settle()
    opened_before = len(sessions.opened)
    whole = b"the whole blob"

    response = await client.post(
        f"/v2/{HELLO}/blobs/uploads/", params={"digest": digest_of(whole)}, content=whole, headers=auth
    )

    assert response.status_code == 201, response.text
    assert len(sessions.opened) == opened_before  # nothing opened while it waited
    assert fakes.blobstore.blobs[digest_of(whole)] == whole


async def test_a_post_to_another_repository_does_not_get_the_first_ones_spare(
    client: httpx.AsyncClient, fakes: FakeWorld, sessions: Sessions
) -> None:
    auth = await auth_for(client)
    own_hello = upload_id_of(await begin(client, auth, HELLO))
    await settle()
    (spare_hello,) = [i for i in sessions.ids(HELLO) if i != own_hello]

    location = await begin(client, auth, OTHER)
    other = upload_id_of(location)

    assert other != spare_hello
    assert fakes.blobstore.uploads[other].owner == OTHER
    assert fakes.blobstore.uploads[spare_hello].owner == HELLO  # still there for demo/hello
    digest = await push_through(client, auth, location, b"other bytes")
    assert (await client.head(f"/v2/{OTHER}/blobs/{digest}", headers=auth)).status_code == 200
    assert upload_id_of(await begin(client, auth, HELLO)) == spare_hello


async def test_a_spare_is_refused_to_another_repository_like_any_session(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    auth = await auth_for(client)
    own = upload_id_of(await begin(client, auth, HELLO))
    await settle()
    (spare,) = [i for i in sessions.ids(HELLO) if i != own]

    response = await client.patch(
        f"/v2/{OTHER}/blobs/uploads/{spare}", content=b"data", headers={**auth, "content-range": "0-3"}
    )

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"


async def test_the_end_of_the_lifespan_cancels_the_spares_nobody_took(
    fakes: FakeWorld, sessions: Sessions
) -> None:
    app = create_app(fakes.services(), Ed25519PrivateKey.generate())
    async with running(app) as http:
        auth = await auth_for(http)
        handed = {upload_id_of(await begin(http, auth, name)) for name in (HELLO, OTHER)}
        await settle()
        spares = {(s.upload_id, s.owner) for s in sessions.opened if s.upload_id not in handed}
        assert {owner for _, owner in spares} == {HELLO, OTHER}
        assert all(upload_id in fakes.blobstore.uploads for upload_id, _ in spares)
        assert sessions.cancelled == []

    assert set(sessions.cancelled) == spares
    assert not any(upload_id in fakes.blobstore.uploads for upload_id, _ in spares)
    assert handed <= fakes.blobstore.uploads.keys()  # the clients' sessions are theirs to finish


async def test_a_spare_in_a_shared_blob_directory_takes_chunks_straight_into_its_file(
    tmp_path: Path, fakes: FakeWorld, sessions: Sessions
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    fakes.blobstore.shared_dir = shared
    fakes.blobstore.shared_uploads = True
    app = create_app(fakes.services(), Ed25519PrivateKey.generate(), shared_blob_dir=shared)
    async with running(app) as http:
        auth = await auth_for(http)
        first = upload_id_of(await begin(http, auth))
        await settle()
        opened_before = sessions.ids(HELLO)
        location = await begin(http, auth)
        assert upload_id_of(location) != first and upload_id_of(location) in opened_before

        digest = await push_through(http, auth, location, b"straight into the file")

    assert fakes.blobstore.write_calls == 0
    assert fakes.blobstore.blobs[digest] == b"straight into the file"
