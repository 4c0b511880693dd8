"""The referrers API and the catalog in process, over fakes: index shape, filters, visibility, pagination."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable

import httpx
import pytest

from hangar.gateway.oci import catalog
from hangar.gateway.testing import ADMIN_ONLY_KEY, ALICE, ALICE_KEY, BOB_KEY, FakeWorld, basic, bearer

TokenFor = Callable[..., Awaitable[str]]
REALM = "http://registry.test/token"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
SIGNATURE = "application/vnd.example.signature.v1"
SBOM = "application/vnd.example.sbom.v1"
EMPTY = b"{}"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def error_code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["code"])


def manifest(subject: bytes | None = None, artifact_type: str = "", **annotations: str) -> bytes:
    document: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": EMPTY_TYPE, "digest": digest_of(EMPTY), "size": 2},
        "layers": [],
    }
    if artifact_type:
        document["artifactType"] = artifact_type
    if subject is not None:
        document["subject"] = {"mediaType": OCI_MANIFEST, "digest": digest_of(subject), "size": len(subject)}
    if annotations:
        document["annotations"] = annotations
    return json.dumps(document).encode()


async def push(client: httpx.AsyncClient, auth: dict[str, str], content: bytes, reference: str = "") -> str:
    digest = digest_of(content)
    response = await client.put(
        f"/v2/demo/hello/manifests/{reference or digest}",
        content=content,
        headers={**auth, "Content-Type": OCI_MANIFEST},
    )
    assert response.status_code == 201, response.text
    return digest


async def push_referrers(client: httpx.AsyncClient, auth: dict[str, str]) -> tuple[bytes, bytes, bytes]:
    blob = await client.post(
        "/v2/demo/hello/blobs/uploads/", params={"digest": digest_of(EMPTY)}, content=EMPTY, headers=auth
    )
    assert blob.status_code == 201, blob.text
    subject = manifest(**{"org.example.kind": "image"})
    await push(client, auth, subject, "v1")
    signature = manifest(subject, SIGNATURE, **{"org.example.signer": "alice"})
    sbom = manifest(subject, SBOM)
    await push(client, auth, signature)
    await push(client, auth, sbom)
    return subject, signature, sbom


# -- referrers --------------------------------------------------------------------------------------------


async def test_referrers_are_an_image_index_of_descriptors(client: httpx.AsyncClient) -> None:
    auth = basic(ALICE_KEY)
    subject, signature, sbom = await push_referrers(client, auth)
    response = await client.get(f"/v2/demo/hello/referrers/{digest_of(subject)}", headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == OCI_INDEX
    assert "OCI-Filters-Applied" not in response.headers
    expected = [
        {
            "mediaType": OCI_MANIFEST,
            "digest": digest_of(signature),
            "size": len(signature),
            "artifactType": SIGNATURE,
            "annotations": {"org.example.signer": "alice"},
        },
        {"mediaType": OCI_MANIFEST, "digest": digest_of(sbom), "size": len(sbom), "artifactType": SBOM},
    ]
    assert response.json() == {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": sorted(expected, key=lambda d: str(d["digest"])),
    }


async def test_the_artifact_type_filter_is_applied_and_announced(client: httpx.AsyncClient) -> None:
    auth = basic(ALICE_KEY)
    subject, signature, _ = await push_referrers(client, auth)
    response = await client.get(
        f"/v2/demo/hello/referrers/{digest_of(subject)}", params={"artifactType": SIGNATURE}, headers=auth
    )
    assert response.status_code == 200
    assert response.headers["OCI-Filters-Applied"] == "artifactType"
    assert [d["digest"] for d in response.json()["manifests"]] == [digest_of(signature)]


async def test_no_referrers_is_an_empty_index_not_404(client: httpx.AsyncClient) -> None:
    auth = basic(ALICE_KEY)
    _, signature, _ = await push_referrers(client, auth)
    for name, digest in (("demo/hello", digest_of(signature)), ("demo/other", digest_of(b"nothing"))):
        response = await client.get(f"/v2/{name}/referrers/{digest}", headers=auth)
        assert response.status_code == 200, response.text
        assert response.json() == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}


async def test_a_malformed_digest_is_400_digest_invalid(client: httpx.AsyncClient) -> None:
    for digest in ("sha256:nothex", "latest", "md5:" + "0" * 32):
        response = await client.get(f"/v2/demo/hello/referrers/{digest}", headers=basic(ALICE_KEY))
        assert response.status_code == 400, digest
        assert error_code(response) == "DIGEST_INVALID"


async def test_referrers_need_list_on_the_repository(client: httpx.AsyncClient, token_for: TokenFor) -> None:
    path = f"/v2/demo/hello/referrers/{digest_of(b'x')}"
    anonymous = await client.get(path)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == (
        f'Bearer realm="{REALM}",service="hangar",scope="repository:demo/hello:list"'
    )
    listed = await client.get(path, headers=bearer(await token_for("repository:demo/hello:pull")))
    assert listed.status_code == 200
    denied = await client.get(f"/v2/demo/private/referrers/{digest_of(b'x')}", headers=basic(BOB_KEY))
    assert denied.status_code == 403 and error_code(denied) == "DENIED"


async def test_only_get_is_served_on_referrers(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"/v2/demo/hello/referrers/{digest_of(b'x')}", headers=basic(ALICE_KEY))
    assert response.status_code == 405 and response.headers["Allow"] == "GET"


# -- catalog ----------------------------------------------------------------------------------------------


async def add_repositories(fakes: FakeWorld, *names: str) -> None:
    for name in names:
        await fakes.registry.link_blob(name, digest_of(EMPTY), 2)


async def test_the_catalog_without_credentials_is_challenged_for_the_catalog_scope(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v2/_catalog")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="{REALM}",service="hangar",scope="registry:catalog:*"'
    )


async def test_the_catalog_lists_only_the_repositories_an_api_key_may_see(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    await add_repositories(fakes, "demo/other", "demo/hello", "demo/private", "else/where")
    alice = await client.get("/v2/_catalog", headers=basic(ALICE_KEY))
    assert alice.status_code == 200, alice.text
    assert alice.json() == {"repositories": ["demo/hello", "demo/other"]}
    assert alice.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    bob = await client.get("/v2/_catalog", headers=bearer(BOB_KEY))
    assert bob.json() == {"repositories": ["demo/hello"]}
    admin_only = await client.get("/v2/_catalog", headers=basic(ADMIN_ONLY_KEY))
    assert admin_only.json() == {"repositories": []}


async def test_a_token_without_the_catalog_grant_shows_the_repositories_it_grants(
    client: httpx.AsyncClient, fakes: FakeWorld, token_for: TokenFor
) -> None:
    await add_repositories(fakes, "demo/other", "demo/hello", "demo/private")
    token = await token_for("repository:demo/hello:pull", "repository:demo/private:pull")
    response = await client.get("/v2/_catalog", headers=bearer(token))
    assert response.json() == {"repositories": ["demo/hello"]}
    none = await client.get("/v2/_catalog", headers=bearer(await token_for()))
    assert none.status_code == 200 and none.json() == {"repositories": []}


async def test_a_token_granting_the_catalog_shows_what_its_key_may_see(
    client: httpx.AsyncClient, fakes: FakeWorld, token_for: TokenFor
) -> None:
    await add_repositories(fakes, "demo/other", "demo/hello", "demo/private")
    catalog_only = await client.get("/v2/_catalog", headers=bearer(await token_for("registry:catalog:*")))
    assert catalog_only.status_code == 200 and catalog_only.json() == {
        "repositories": ["demo/hello", "demo/other"]
    }


@pytest.mark.parametrize("scan_page", [1000, 2])
async def test_the_catalog_is_paginated_over_visible_names_with_a_link(
    client: httpx.AsyncClient, fakes: FakeWorld, monkeypatch: pytest.MonkeyPatch, scan_page: int
) -> None:
    monkeypatch.setattr(catalog, "SCAN_PAGE", scan_page)  # 2: the hidden names span the registry's pages
    names = ["demo/a", "demo/b", "demo/c", "demo/d", "demo/e"]
    for name in names:
        fakes.identity.grant(ALICE, name, "VIEW_ARTIFACTS")
    await add_repositories(fakes, *names, "demo/aa-hidden", "demo/bb-hidden")
    auth = basic(ALICE_KEY)
    first = await client.get("/v2/_catalog", params={"n": 2}, headers=auth)
    assert first.json() == {"repositories": ["demo/a", "demo/b"]}
    assert first.headers["Link"] == '</v2/_catalog?n=2&last=demo%2Fb>; rel="next"'
    second = await client.get("/v2/_catalog?n=2&last=demo%2Fb", headers=auth)
    assert second.json() == {"repositories": ["demo/c", "demo/d"]}
    last = await client.get("/v2/_catalog?n=2&last=demo%2Fd", headers=auth)
    assert last.json() == {"repositories": ["demo/e"]} and "Link" not in last.headers
    none = await client.get("/v2/_catalog?n=0", headers=auth)
    assert none.json() == {"repositories": []} and "Link" not in none.headers
    bad = await client.get("/v2/_catalog?n=-1", headers=auth)
    assert bad.status_code == 400 and error_code(bad) == "UNSUPPORTED"  # the spec's closed list of codes


async def test_only_get_is_served_on_the_catalog(client: httpx.AsyncClient) -> None:
    response = await client.post("/v2/_catalog", headers=basic(ALICE_KEY))
    assert response.status_code == 405 and response.headers["Allow"] == "GET"
