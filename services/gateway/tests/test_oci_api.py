"""The OCI distribution API in process: auth challenges, uploads, blobs, manifests and tags over fakes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable

import httpx
import pytest

from hangar.gateway.testing import ADMIN_ONLY_KEY, ALICE_KEY, BOB_KEY, FakeWorld, basic, bearer

TokenFor = Callable[..., Awaitable[str]]
REALM = "http://registry.test/token"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def error_code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["code"])


@pytest.fixture
async def push_auth(token_for: TokenFor) -> dict[str, str]:
    return bearer(await token_for("repository:demo/hello:pull,push"))


async def push_blob(
    client: httpx.AsyncClient, auth: dict[str, str], data: bytes, name: str = "demo/hello"
) -> str:
    digest = digest_of(data)
    response = await client.post(
        f"/v2/{name}/blobs/uploads/", params={"digest": digest}, content=data, headers=auth
    )
    assert response.status_code == 201, response.text
    return digest


def image_manifest(config: str, layers: list[tuple[str, int]], subject: str = "") -> bytes:
    document: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": s} for d, s in layers
        ],
    }
    if subject:
        document["subject"] = {"mediaType": OCI_MANIFEST, "digest": subject, "size": 10}
    return json.dumps(document).encode()


# -- authentication and authorization -----------------------------------------------------------------


async def test_the_version_check_without_credentials_is_a_bearer_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f'Bearer realm="{REALM}",service="hangar"'
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert error_code(response) == "UNAUTHORIZED"


async def test_the_version_check_with_a_token_is_200_empty_json(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    response = await client.get("/v2/", headers=bearer(await token_for()))
    assert response.status_code == 200 and response.json() == {}
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"


async def test_a_pull_without_credentials_is_challenged_for_the_pull_scope(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/demo/hello/manifests/latest")
    assert response.status_code == 401
    assert (
        response.headers["WWW-Authenticate"]
        == f'Bearer realm="{REALM}",service="hangar",scope="repository:demo/hello:pull"'
    )
    assert response.json()["errors"][0]["detail"] == [
        {"Type": "repository", "Name": "demo/hello", "Action": "pull"}
    ]


async def test_a_push_without_credentials_is_challenged_for_pull_and_push(client: httpx.AsyncClient) -> None:
    response = await client.post("/v2/demo/team/model/blobs/uploads/")
    assert response.status_code == 401
    assert (
        response.headers["WWW-Authenticate"]
        == f'Bearer realm="{REALM}",service="hangar",scope="repository:demo/team/model:pull,push"'
    )


async def test_the_realm_follows_the_configured_public_url(fakes: FakeWorld) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from hangar.gateway.app import create_app

    app = create_app(fakes.services(), Ed25519PrivateKey.generate(), public_url="https://hangar.example.com/")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://internal:5000"
    ) as http:
        response = await http.get("/v2/demo/hello/tags/list")
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="https://hangar.example.com/token",')


async def test_a_head_refusal_has_the_challenge_but_no_body(client: httpx.AsyncClient) -> None:
    response = await client.head(f"/v2/demo/hello/blobs/{digest_of(b'x')}")
    assert response.status_code == 401 and response.content == b""
    assert "WWW-Authenticate" in response.headers


async def test_a_token_without_the_needed_scope_is_challenged_again(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    token = await token_for("repository:demo/hello:pull")
    response = await client.post("/v2/demo/hello/blobs/uploads/", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].endswith(
        'scope="repository:demo/hello:pull,push",error="insufficient_scope"'
    )


async def test_a_token_whose_scope_was_refused_gets_403_saying_why(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    token = await token_for("repository:demo/hello:pull,push", key=BOB_KEY)
    response = await client.post("/v2/demo/hello/blobs/uploads/", headers=bearer(token))
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["code"] == "DENIED"
    assert "push on demo/hello" in error["message"]
    assert error["detail"]["action"] == "push"


async def test_an_invalid_token_is_401_with_invalid_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/demo/hello/tags/list", headers=bearer("e30.e30.c2ln"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].endswith('error="invalid_token"')


async def test_a_raw_api_key_works_as_bearer_and_as_basic(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    await fakes.registry.link_blob("demo/hello", "sha256:" + "0" * 64, 0)
    for auth in (bearer(ALICE_KEY), basic(ALICE_KEY)):
        response = await client.get("/v2/demo/hello/tags/list", headers=auth)
        assert response.status_code == 200, response.text


async def test_a_raw_api_key_without_the_right_role_is_403(client: httpx.AsyncClient) -> None:
    response = await client.post("/v2/demo/hello/blobs/uploads/", headers=bearer(BOB_KEY))
    assert response.status_code == 403 and error_code(response) == "DENIED"


async def test_a_raw_api_key_without_the_registry_service_is_403(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/demo/hello/tags/list", headers=bearer(ADMIN_ONLY_KEY))
    assert response.status_code == 403
    assert "registry service" in response.json()["errors"][0]["message"]


async def test_a_wrong_raw_api_key_is_401_with_its_reason(client: httpx.AsyncClient) -> None:
    response = await client.get("/v2/demo/hello/tags/list", headers=bearer("hgr_nobody00_wrong"))
    assert response.status_code == 401
    assert response.json()["errors"][0]["detail"]["reason"] == "KEY_INVALID"
    assert "hgr_nobody00_wrong" not in response.text


async def test_a_bad_name_is_400_name_invalid_not_500(
    client: httpx.AsyncClient, push_auth: dict[str, str]
) -> None:
    for path in ("/v2/Demo/Hello/tags/list", "/v2/demo/hello..x/tags/list", "/v2/demo//x/manifests/latest"):
        response = await client.get(path, headers=push_auth)
        assert response.status_code == 400, path
        assert error_code(response) == "NAME_INVALID"


async def test_a_path_outside_the_api_is_404(client: httpx.AsyncClient, push_auth: dict[str, str]) -> None:
    response = await client.get("/v2/demo/hello/whatever", headers=push_auth)
    assert response.status_code == 404


async def test_an_unsupported_method_is_405_with_allow(
    client: httpx.AsyncClient, push_auth: dict[str, str]
) -> None:
    # An unsupported method is refused before auth.
    response = await client.put(f"/v2/demo/hello/blobs/{digest_of(b'x')}", headers=push_auth)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, DELETE"
    assert error_code(response) == "UNSUPPORTED"
    patched = await client.patch("/v2/demo/hello/manifests/latest", headers=push_auth)
    assert patched.status_code == 405 and patched.headers["Allow"] == "GET, HEAD, PUT, DELETE"


# -- uploads and blobs --------------------------------------------------------------------------------


async def test_a_monolithic_upload_is_201_and_the_blob_is_then_served(
    client: httpx.AsyncClient, push_auth: dict[str, str], fakes: FakeWorld
) -> None:
    data = b"hello blob" * 1000
    digest = digest_of(data)
    response = await client.post(
        "/v2/demo/hello/blobs/uploads/", params={"digest": digest}, content=data, headers=push_auth
    )
    assert response.status_code == 201
    assert response.headers["Location"] == f"/v2/demo/hello/blobs/{digest}"
    assert response.headers["Docker-Content-Digest"] == digest
    assert fakes.registry.repositories["demo/hello"].blobs[digest] == len(data)

    head = await client.head(f"/v2/demo/hello/blobs/{digest}", headers=push_auth)
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(data))
    assert head.headers["Docker-Content-Digest"] == digest
    get = await client.get(f"/v2/demo/hello/blobs/{digest}", headers=push_auth)
    assert get.status_code == 200 and get.content == data
    assert get.headers["Content-Length"] == str(len(data))


async def test_post_then_put_is_a_monolithic_upload_too(
    client: httpx.AsyncClient, push_auth: dict[str, str]
) -> None:
    data = b"post then put"
    started = await client.post("/v2/demo/hello/blobs/uploads/", headers=push_auth)
    assert started.status_code == 202
    done = await client.put(
        started.headers["Location"], params={"digest": digest_of(data)}, content=data, headers=push_auth
    )
    assert done.status_code == 201


async def test_a_chunked_upload_reports_its_progress_and_commits(
    client: httpx.AsyncClient, push_auth: dict[str, str]
) -> None:
    data = bytes(range(256)) * 40
    started = await client.post("/v2/demo/hello/blobs/uploads/", headers=push_auth)
    assert started.status_code == 202
    location = started.headers["Location"]
    upload_id = started.headers["Docker-Upload-UUID"]
    assert location == f"/v2/demo/hello/blobs/uploads/{upload_id}"
    assert started.headers["Range"] == "0-0"

    first = await client.patch(
        location, content=data[:4000], headers={**push_auth, "Content-Range": "0-3999"}
    )
    assert first.status_code == 202
    assert first.headers["Range"] == "0-3999"
    assert first.headers["Location"] == location
    second = await client.patch(location, content=data[4000:9000], headers=push_auth)  # no Content-Range
    assert second.status_code == 202 and second.headers["Range"] == "0-8999"

    status = await client.get(location, headers=push_auth)
    assert status.status_code == 204
    assert status.headers["Range"] == "0-8999" and status.headers["Docker-Upload-UUID"] == upload_id

    done = await client.put(
        location,
        params={"digest": digest_of(data)},
        content=data[9000:],
        headers={**push_auth, "Content-Range": f"9000-{len(data) - 1}"},
    )
    assert done.status_code == 201
    assert done.headers["Docker-Content-Digest"] == digest_of(data)
    blob = await client.get(f"/v2/demo/hello/blobs/{digest_of(data)}", headers=push_auth)
    assert blob.content == data


async def test_a_chunk_at_the_wrong_offset_is_416_with_the_current_range(
    client: httpx.AsyncClient, push_auth: dict[str, str]
) -> None:
    location = (await client.post("/v2/demo/hello/blobs/uploads/", headers=push_auth)).headers["Location"]
    await client.patch(location, content=b"a" * 10, headers={**push_auth, "Content-Range": "0-9"})
    response = await client.patch(
        location, content=b"b" * 10, headers={**push_auth, "Content-Range": "20-29"}
    )
    assert response.status_code == 416
    assert error_code(response) == "BLOB_UPLOAD_INVALID"  # the spec's code; Docker's is kept as the reason
    assert response.json()["errors"][0]["detail"] == {"reason": "RANGE_INVALID", "received": 10}
    assert response.headers["Range"] == "0-9"
    assert response.headers["Location"] == location
    replay = await client.patch(location, content=b"a" * 10, headers={**push_auth, "Content-Range": "0-9"})
    assert replay.status_code == 416


async def test_a_digest_mismatch_is_400_and_leaves_nothing(
    client: httpx.AsyncClient, push_auth: dict[str, str], fakes: FakeWorld
) -> None:
    data = b"the real bytes"
    claimed = digest_of(b"something else")
    location = (await client.post("/v2/demo/hello/blobs/uploads/", headers=push_auth)).headers["Location"]
    response = await client.put(location, params={"digest": claimed}, content=data, headers=push_auth)
    assert response.status_code == 400 and error_code(response) == "DIGEST_INVALID"
    assert fakes.blobstore.uploads == {} and fakes.blobstore.blobs == {}
    for digest in (claimed, digest_of(data)):
        assert (await client.head(f"/v2/demo/hello/blobs/{digest}", headers=push_auth)).status_code == 404
    assert (await client.get(location, headers=push_auth)).status_code == 404


async def test_a_monolithic_digest_mismatch_leaves_no_upload(
    client: httpx.AsyncClient, push_auth: dict[str, str], fakes: FakeWorld
) -> None:
    response = await client.post(
        "/v2/demo/hello/blobs/uploads/",
        params={"digest": digest_of(b"other")},
        content=b"mine",
        headers=push_auth,
    )
    assert response.status_code == 400 and error_code(response) == "DIGEST_INVALID"
    assert fakes.blobstore.uploads == {}


async def test_a_malformed_digest_is_400_before_anything_is_stored(
    client: httpx.AsyncClient, push_auth: dict[str, str], fakes: FakeWorld
) -> None:
    response = await client.post(
        "/v2/demo/hello/blobs/uploads/", params={"digest": "sha256:nothex"}, content=b"x", headers=push_auth
    )
    assert response.status_code == 400 and error_code(response) == "DIGEST_INVALID"
    assert fakes.blobstore.uploads == {}
    location = (await client.post("/v2/demo/hello/blobs/uploads/", headers=push_auth)).headers["Location"]
    assert (await client.put(location, headers=push_auth)).status_code == 400


async def test_an_upload_of_another_repository_is_unknown_here(
    client: httpx.AsyncClient, push_auth: dict[str, str], token_for: TokenFor
) -> None:
    other_auth = bearer(await token_for("repository:demo/other:pull,push"))
    upload_id = (await client.post("/v2/demo/other/blobs/uploads/", headers=other_auth)).headers[
        "Docker-Upload-UUID"
    ]
    stolen = f"/v2/demo/hello/blobs/uploads/{upload_id}"
    for response in (
        await client.get(stolen, headers=push_auth),
        await client.patch(stolen, content=b"x", headers=push_auth),
        await client.put(stolen, params={"digest": digest_of(b"x")}, content=b"x", headers=push_auth),
        await client.delete(stolen, headers=push_auth),
    ):
        assert response.status_code == 404 and error_code(response) == "BLOB_UPLOAD_UNKNOWN"


async def test_a_cancelled_upload_is_gone(client: httpx.AsyncClient, push_auth: dict[str, str]) -> None:
    location = (await client.post("/v2/demo/hello/blobs/uploads/", headers=push_auth)).headers["Location"]
    assert (await client.delete(location, headers=push_auth)).status_code == 204
    assert (await client.get(location, headers=push_auth)).status_code == 404


async def test_a_blob_of_another_repository_is_not_served_here(
    client: httpx.AsyncClient, token_for: TokenFor, push_auth: dict[str, str]
) -> None:
    other_auth = bearer(await token_for("repository:demo/other:pull,push"))
    digest = await push_blob(client, other_auth, b"other's blob", name="demo/other")
    response = await client.get(f"/v2/demo/hello/blobs/{digest}", headers=push_auth)
    assert response.status_code == 404 and error_code(response) == "BLOB_UNKNOWN"


async def test_a_range_request_gets_206_with_content_range(
    client: httpx.AsyncClient, push_auth: dict[str, str]
) -> None:
    data = bytes(range(256)) * 1000
    digest = await push_blob(client, push_auth, data)
    url = f"/v2/demo/hello/blobs/{digest}"
    part = await client.get(url, headers={**push_auth, "Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == data[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert part.headers["Content-Length"] == "100"
    tail = await client.get(url, headers={**push_auth, "Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]
    rest = await client.get(url, headers={**push_auth, "Range": "bytes=255000-"})
    assert rest.status_code == 206 and rest.content == data[255000:]
    beyond = await client.get(url, headers={**push_auth, "Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    garbled = await client.get(url, headers={**push_auth, "Range": "lines=1-2"})
    assert garbled.status_code == 200 and garbled.content == data


async def test_an_empty_blob_round_trips(client: httpx.AsyncClient, push_auth: dict[str, str]) -> None:
    digest = await push_blob(client, push_auth, b"")
    response = await client.get(f"/v2/demo/hello/blobs/{digest}", headers=push_auth)
    assert response.status_code == 200 and response.content == b""
    assert response.headers["Content-Length"] == "0"


async def test_a_mount_from_a_readable_repository_links_the_blob(
    client: httpx.AsyncClient, token_for: TokenFor, fakes: FakeWorld
) -> None:
    other_auth = bearer(await token_for("repository:demo/other:pull,push"))
    digest = await push_blob(client, other_auth, b"shared layer", name="demo/other")
    auth = bearer(await token_for("repository:demo/hello:pull,push", "repository:demo/other:pull"))
    response = await client.post(
        "/v2/demo/hello/blobs/uploads/", params={"mount": digest, "from": "demo/other"}, headers=auth
    )
    assert response.status_code == 201
    assert response.headers["Location"] == f"/v2/demo/hello/blobs/{digest}"
    assert digest in fakes.registry.repositories["demo/hello"].blobs


async def test_a_mount_without_pull_on_the_source_starts_an_upload_instead(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    other_auth = bearer(await token_for("repository:demo/other:pull,push"))
    digest = await push_blob(client, other_auth, b"private layer", name="demo/other")
    auth = bearer(await token_for("repository:demo/hello:pull,push"))
    response = await client.post(
        "/v2/demo/hello/blobs/uploads/", params={"mount": digest, "from": "demo/other"}, headers=auth
    )
    assert response.status_code == 202 and "Docker-Upload-UUID" in response.headers


# -- manifests ----------------------------------------------------------------------------------------


async def test_a_manifest_is_pushed_by_tag_and_pulled_by_tag_and_digest(
    client: httpx.AsyncClient, push_auth: dict[str, str]
) -> None:
    config = await push_blob(client, push_auth, b"{}")
    layer = await push_blob(client, push_auth, b"layer bytes")
    manifest = image_manifest(config, [(layer, 11)])
    digest = digest_of(manifest)
    put = await client.put(
        "/v2/demo/hello/manifests/1.0", content=manifest, headers={**push_auth, "Content-Type": OCI_MANIFEST}
    )
    assert put.status_code == 201
    assert put.headers["Docker-Content-Digest"] == digest
    assert put.headers["Location"] == f"/v2/demo/hello/manifests/{digest}"
    assert "OCI-Subject" not in put.headers
    for reference in ("1.0", digest):
        get = await client.get(f"/v2/demo/hello/manifests/{reference}", headers=push_auth)
        assert get.status_code == 200
        assert get.content == manifest
        assert get.headers["Content-Type"] == OCI_MANIFEST
        assert get.headers["Docker-Content-Digest"] == digest
        head = await client.head(f"/v2/demo/hello/manifests/{reference}", headers=push_auth)
        assert head.status_code == 200 and head.headers["Content-Length"] == str(len(manifest))


async def test_a_manifest_with_a_subject_answers_oci_subject(
    client: httpx.AsyncClient, push_auth: dict[str, str]
) -> None:
    config = await push_blob(client, push_auth, b"{}")
    subject = "sha256:" + "5" * 64
    manifest = image_manifest(config, [], subject=subject)
    put = await client.put(
        f"/v2/demo/hello/manifests/{digest_of(manifest)}",
        content=manifest,
        headers={**push_auth, "Content-Type": f"{OCI_MANIFEST}; charset=utf-8"},
    )
    assert put.status_code == 201 and put.headers["OCI-Subject"] == subject


async def test_a_manifest_naming_an_unknown_blob_is_refused(
    client: httpx.AsyncClient, push_auth: dict[str, str]
) -> None:
    manifest = image_manifest("sha256:" + "1" * 64, [])
    put = await client.put(
        "/v2/demo/hello/manifests/x", content=manifest, headers={**push_auth, "Content-Type": OCI_MANIFEST}
    )
    assert put.status_code == 400 and error_code(put) == "MANIFEST_BLOB_UNKNOWN"


async def test_an_unknown_manifest_is_404_manifest_unknown(
    client: httpx.AsyncClient, push_auth: dict[str, str]
) -> None:
    await push_blob(client, push_auth, b"{}")
    response = await client.get("/v2/demo/hello/manifests/nope", headers=push_auth)
    assert response.status_code == 404 and error_code(response) == "MANIFEST_UNKNOWN"
    head = await client.head("/v2/demo/hello/manifests/nope", headers=push_auth)
    assert head.status_code == 404 and head.content == b""


async def test_a_manifest_over_4_mib_is_413(
    client: httpx.AsyncClient, push_auth: dict[str, str], fakes: FakeWorld
) -> None:
    huge = b"{" + b" " * (5 * 1024 * 1024) + b"}"
    response = await client.put(
        "/v2/demo/hello/manifests/big", content=huge, headers={**push_auth, "Content-Type": OCI_MANIFEST}
    )
    assert response.status_code == 413
    assert error_code(response) == "MANIFEST_INVALID"
    assert response.json()["errors"][0]["detail"] == {"reason": "SIZE_INVALID", "limit": 4 * 1024 * 1024}
    assert "demo/hello" not in fakes.registry.repositories


async def test_a_manifest_over_4_mib_without_content_length_is_413_too(
    client: httpx.AsyncClient, push_auth: dict[str, str]
) -> None:
    async def body():  # type: ignore[no-untyped-def]
        for _ in range(5):
            yield b" " * (1024 * 1024 + 1)

    response = await client.put("/v2/demo/hello/manifests/big", content=body(), headers=push_auth)
    assert response.status_code == 413


# -- tags ---------------------------------------------------------------------------------------------


async def tag_all(client: httpx.AsyncClient, auth: dict[str, str], tags: list[str]) -> None:
    config = await push_blob(client, auth, b"{}")
    manifest = image_manifest(config, [])
    for tag in tags:
        response = await client.put(
            f"/v2/demo/hello/manifests/{tag}",
            content=manifest,
            headers={**auth, "Content-Type": OCI_MANIFEST},
        )
        assert response.status_code == 201


async def test_tags_are_listed_in_lexical_order(client: httpx.AsyncClient, push_auth: dict[str, str]) -> None:
    await tag_all(client, push_auth, ["b", "a", "c"])
    response = await client.get("/v2/demo/hello/tags/list", headers=push_auth)
    assert response.json() == {"name": "demo/hello", "tags": ["a", "b", "c"]}
    assert "Link" not in response.headers


async def test_tags_are_paginated_with_n_last_and_a_link(
    client: httpx.AsyncClient, push_auth: dict[str, str]
) -> None:
    await tag_all(client, push_auth, ["t1", "t2", "t3", "t4", "t5"])
    first = await client.get("/v2/demo/hello/tags/list", params={"n": 2}, headers=push_auth)
    assert first.json()["tags"] == ["t1", "t2"]
    assert first.headers["Link"] == '</v2/demo/hello/tags/list?n=2&last=t2>; rel="next"'
    second = await client.get("/v2/demo/hello/tags/list?n=2&last=t2", headers=push_auth)
    assert second.json()["tags"] == ["t3", "t4"]
    last = await client.get("/v2/demo/hello/tags/list?n=2&last=t4", headers=push_auth)
    assert last.json()["tags"] == ["t5"] and "Link" not in last.headers
    after = await client.get("/v2/demo/hello/tags/list?last=t3", headers=push_auth)
    assert after.json()["tags"] == ["t4", "t5"]
    none = await client.get("/v2/demo/hello/tags/list?n=0", headers=push_auth)
    assert none.json() == {"name": "demo/hello", "tags": []} and "Link" not in none.headers


async def test_a_bad_page_size_is_400(client: httpx.AsyncClient, push_auth: dict[str, str]) -> None:
    for n in ("-1", "ten", "1e3"):
        response = await client.get(f"/v2/demo/hello/tags/list?n={n}", headers=push_auth)
        assert response.status_code == 400 and error_code(response) == "UNSUPPORTED"
        assert response.json()["errors"][0]["detail"] == {"reason": "PAGINATION_NUMBER_INVALID"}


async def test_tags_of_an_unknown_repository_are_404(
    client: httpx.AsyncClient, push_auth: dict[str, str]
) -> None:
    response = await client.get("/v2/demo/hello/tags/list", headers=push_auth)
    assert response.status_code == 404 and error_code(response) == "NAME_UNKNOWN"


# -- health -------------------------------------------------------------------------------------------


async def test_healthz_is_always_200(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    fakes.registry.healthy = False
    assert (await client.get("/healthz")).status_code == 200


async def test_readyz_is_200_only_when_every_service_serves(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    fakes.blobstore.healthy = False
    not_ready = await client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["services"]["blobstore"] == "NOT_SERVING"


async def test_a_service_down_is_503_not_500(
    client: httpx.AsyncClient, push_auth: dict[str, str], fakes: FakeWorld
) -> None:
    from hangar.kit.errors import DomainError

    async def down(*args: object, **kwargs: object) -> object:
        raise DomainError("service unavailable: connection refused", code="UNAVAILABLE")

    fakes.registry.list_tags = down  # type: ignore[method-assign]
    response = await client.get("/v2/demo/hello/tags/list", headers=push_auth)
    assert response.status_code == 503 and error_code(response) == "UNAVAILABLE"


async def test_a_chunk_whose_range_and_length_disagree_is_refused(
    client: httpx.AsyncClient, push_auth: dict[str, str]
) -> None:
    location = (await client.post("/v2/demo/hello/blobs/uploads/", headers=push_auth)).headers["Location"]
    response = await client.patch(location, content=b"abc", headers={**push_auth, "Content-Range": "0-9"})
    assert response.status_code == 400 and error_code(response) == "SIZE_INVALID"
    garbled = await client.patch(location, content=b"abc", headers={**push_auth, "Content-Range": "zero-two"})
    assert garbled.status_code == 400 and error_code(garbled) == "BLOB_UPLOAD_INVALID"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/v2/../x/manifests/latest", 400), ("/v2/demo/../../etc/tags/list", 400), ("/v2/../x", 404)],
)
async def test_traversal_in_raw_paths_is_refused_never_500(fakes: FakeWorld, path: str, status: int) -> None:
    """httpx normalizes dot segments, so the request is handed to the app as a raw ASGI scope."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from hangar.gateway.app import create_app

    app = create_app(fakes.services(), Ed25519PrivateKey.generate())
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"registry.test")],
        "server": ("registry.test", 80),
        "client": ("127.0.0.1", 1234),
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == status


async def test_a_write_cut_short_by_the_blobstore_asks_the_client_to_resume(
    client: httpx.AsyncClient, push_auth: dict[str, str], fakes: FakeWorld
) -> None:
    from hangar.kit.errors import ConcurrencyConflict

    location = (await client.post("/v2/demo/hello/blobs/uploads/", headers=push_auth)).headers["Location"]
    await client.patch(location, content=b"a" * 10, headers=push_auth)

    async def cut_short(*args: object, **kwargs: object) -> int:
        raise ConcurrencyConflict("the blobstore ended the write", code="WRITE_INTERRUPTED")

    fakes.blobstore.write = cut_short  # type: ignore[method-assign]
    response = await client.patch(location, content=b"b" * 10, headers=push_auth)
    assert response.status_code == 416
    assert response.headers["Range"] == "0-9" and response.headers["Location"] == location
