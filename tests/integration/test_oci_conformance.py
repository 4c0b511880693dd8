"""OCI distribution-spec v1.1 conformance, checked against a real `hangar up` with auth on.

An independent Python counterpart of the four workflows of the spec's conformance suite (pull, push, content
discovery, content management), one test per requirement, driven by httpx the way registry clients are: a
request without a token gets 401 and a challenge, the client exchanges the bootstrap key at the challenge's
realm (Basic `$oauthtoken:<key>`) for a token covering the challenged scope, and retries with `Bearer`.
Why this suite and not the Go one, and which points Hangar interprets: docs/decisions/0020.

Blob GET redirects are not checked here; the client would follow them.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any, Final
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from hangar_harness import Hangar

OCI_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX: Final = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG: Final = "application/vnd.oci.image.config.v1+json"
OCI_LAYER: Final = "application/vnd.oci.image.layer.v1.tar"
OCI_EMPTY: Final = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST: Final = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG: Final = "application/vnd.docker.container.image.v1+json"
#: The spec's error codes (the `code` of an error body MUST be one of them), plus the legacy Docker codes
#: the spec says clients may meet (TAG_INVALID, MANIFEST_UNVERIFIED).
SPEC_CODES: Final = frozenset(
    {
        "BLOB_UNKNOWN",
        "BLOB_UPLOAD_INVALID",
        "BLOB_UPLOAD_UNKNOWN",
        "DIGEST_INVALID",
        "MANIFEST_BLOB_UNKNOWN",
        "MANIFEST_INVALID",
        "MANIFEST_UNKNOWN",
        "NAME_INVALID",
        "NAME_UNKNOWN",
        "SIZE_INVALID",
        "UNAUTHORIZED",
        "DENIED",
        "UNSUPPORTED",
        "TOOMANYREQUESTS",
    }
)
LEGACY_CODES: Final = frozenset({"TAG_INVALID", "MANIFEST_UNVERIFIED"})
MAX_MANIFEST: Final = 4 * 1024 * 1024
#: A chunked upload's Range: `0-<last byte>`, optionally prefixed `bytes=`.
RANGE_HEADER: Final = re.compile(r"(?:bytes=)?0-(?P<end>[0-9]+)")
PULL_REPO: Final = "demo/conformance/pull"
PUSH_REPO: Final = "demo/conformance/push"
DISCOVERY_REPO: Final = "demo/conformance/discovery"
MANAGEMENT_REPO: Final = "demo/conformance/management"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sha512(data: bytes) -> str:
    return "sha512:" + hashlib.sha512(data).hexdigest()


def descriptor(media_type: str, data: bytes, digest: str = "") -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest or sha256(data), "size": len(data)}


def image_manifest(
    config: bytes,
    layers: list[bytes],
    *,
    media_type: str = OCI_MANIFEST,
    config_type: str = OCI_CONFIG,
    layer_type: str = OCI_LAYER,
    **extra: Any,
) -> bytes:
    body: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": descriptor(config_type, config),
        "layers": [descriptor(layer_type, layer) for layer in layers],
        **extra,
    }
    return json.dumps(body, sort_keys=True).encode()


class OciClient:
    """A registry client over httpx: answers a 401 challenge by fetching a token for the challenged scope
    (plus any scopes named with the request, as docker does for a mount's source) and retrying once.

    Tokens are never shown: they live in request headers only, which assertion messages do not print.
    """

    def __init__(self, base_url: str, key: str) -> None:
        self.base_url = base_url
        self._key = key
        self.http = httpx.Client(base_url=base_url, timeout=30.0)
        self._tokens: dict[str, str] = {}  # repository -> token for every action asked on it so far
        self._actions: dict[str, set[str]] = {}

    def close(self) -> None:
        self.http.close()

    def url(self, location: str) -> str:
        """A Location header made absolute (the spec lets it be either)."""
        return urljoin(self.base_url + "/", location)

    def fetch_token(self, realm: str, service: str, scopes: list[str]) -> str:
        answer = self.http.get(
            realm,
            params=[("service", service), *(("scope", scope) for scope in scopes)],
            auth=("$oauthtoken", self._key),
        )
        assert answer.status_code == 200, f"/token {scopes}: {answer.status_code} {answer.text[:200]}"
        body = answer.json()
        return str(body.get("token") or body["access_token"])

    def request(
        self,
        method: str,
        url: str,
        *,
        extra_scopes: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """`method url` as an authenticated client; `url` is relative to the base or absolute."""
        repository = repository_of(url)
        headers = dict(kwargs.pop("headers", None) or {})
        if repository in self._tokens:
            headers["Authorization"] = f"Bearer {self._tokens[repository]}"
        answer = self.http.request(method, self.url(url), headers=headers, **kwargs)
        if answer.status_code != 401:
            return answer
        challenge = parse_challenge(answer.headers["WWW-Authenticate"])
        scope = challenge.get("scope", "")
        scopes = [*extra_scopes]
        if scope.startswith("repository:"):
            _, name, actions = scope.split(":", 2)
            wanted = self._actions.setdefault(name, set())
            wanted.update(actions.split(","))
            scopes.insert(0, f"repository:{name}:{','.join(sorted(wanted))}")
        elif scope:
            scopes.insert(0, scope)
        token = self.fetch_token(challenge["realm"], challenge["service"], scopes)
        if repository:
            self._tokens[repository] = token
        headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.url(url), headers=headers, **kwargs)

    # -- what clients do, one call each --------------------------------------------------------------------

    def push_blob(self, name: str, data: bytes, digest: str = "") -> httpx.Response:
        """A monolithic POST then PUT; the PUT's answer."""
        started = self.request("POST", f"/v2/{name}/blobs/uploads/")
        assert started.status_code == 202, started.text
        return self.request(
            "PUT",
            started.headers["Location"],
            params={"digest": digest or sha256(data)},
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )

    def push_manifest(
        self, name: str, reference: str, body: bytes, media_type: str = OCI_MANIFEST
    ) -> httpx.Response:
        return self.request(
            "PUT", f"/v2/{name}/manifests/{reference}", content=body, headers={"Content-Type": media_type}
        )

    def push_image(self, name: str, tag: str, note: str = "") -> tuple[bytes, bytes, bytes]:
        """Config, layer and manifest of a small image pushed to `name:tag`."""
        layer = f"layer of {name}:{tag} {note}".encode()
        config = json.dumps({"architecture": "amd64", "os": "linux", "note": note}).encode()
        for blob in (config, layer):
            assert self.push_blob(name, blob).status_code == 201
        manifest = image_manifest(config, [layer])
        pushed = self.push_manifest(name, tag, manifest)
        assert pushed.status_code == 201, pushed.text
        return config, layer, manifest


def range_end(answer: httpx.Response) -> str:
    """The last byte an upload holds, from its `Range: 0-<end>` header."""
    match = RANGE_HEADER.fullmatch(answer.headers["Range"])
    assert match is not None, answer.headers["Range"]
    return match["end"]


def repository_of(url: str) -> str:
    path = urlsplit(url).path
    if not path.startswith("/v2/"):
        return ""
    match = re.match(r"/v2/(?P<name>.+?)/(?:blobs|manifests|tags|referrers)/", path)
    return match["name"] if match else ""


def parse_challenge(header: str) -> dict[str, str]:
    scheme, _, params = header.partition(" ")
    assert scheme == "Bearer", header
    return dict(re.findall(r'([a-z_]+)="([^"]*)"', params))


def assert_error(answer: httpx.Response, status: int, *codes: str) -> dict[str, Any]:
    """`answer` is `status` with an error body of the spec's shape whose first code is one of `codes`."""
    __tracebackhide__ = True
    assert answer.status_code == status, f"{answer.status_code} {answer.text[:300]}"
    assert answer.headers["Content-Type"].split(";")[0] == "application/json", answer.headers
    body = answer.json()
    assert isinstance(body.get("errors"), list) and body["errors"], body
    for error in body["errors"]:
        assert set(error) >= {"code", "message", "detail"}, error
        assert error["code"] in SPEC_CODES | LEGACY_CODES, error
        assert isinstance(error["message"], str) and error["message"], error
    assert body["errors"][0]["code"] in codes, body
    return dict(body["errors"][0])


def unknown_digest() -> str:
    return sha256(uuid.uuid4().bytes)


@pytest.fixture(scope="module")
def client(hangar: Hangar) -> Iterator[OciClient]:
    oci = OciClient(hangar.url, hangar.key)
    try:
        yield oci
    finally:
        oci.close()


@pytest.fixture(scope="module")
def image(client: OciClient) -> dict[str, bytes]:
    """An image pushed once for the pull workflow: `demo/conformance/pull:v1`."""
    config, layer, manifest = client.push_image(PULL_REPO, "v1", note="pull")
    return {"config": config, "layer": layer, "manifest": manifest}


# == authentication (every workflow below runs through it) ==================================================


def test_auth_unauthenticated_request_is_challenged_with_a_bearer_realm(hangar: Hangar) -> None:
    answer = httpx.get(f"{hangar.url}/v2/{PULL_REPO}/tags/list", timeout=30)
    assert_error(answer, 401, "UNAUTHORIZED")
    challenge = parse_challenge(answer.headers["WWW-Authenticate"])
    assert challenge["realm"] == f"{hangar.url}/token"
    assert challenge["service"] == "hangar"
    assert challenge["scope"].startswith(f"repository:{PULL_REPO}:")


def test_auth_base_endpoint_challenges_then_answers_200(hangar: Hangar, client: OciClient) -> None:
    assert_error(httpx.get(f"{hangar.url}/v2/", timeout=30), 401, "UNAUTHORIZED")
    challenge = parse_challenge(httpx.get(f"{hangar.url}/v2/", timeout=30).headers["WWW-Authenticate"])
    token = client.fetch_token(challenge["realm"], challenge["service"], [])
    answer = httpx.get(f"{hangar.url}/v2/", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Docker-Distribution-API-Version"] == "registry/2.0"


def test_auth_token_endpoint_refuses_a_wrong_key(hangar: Hangar) -> None:
    answer = httpx.get(
        f"{hangar.url}/token",
        params={"service": "hangar", "scope": f"repository:{PULL_REPO}:pull"},
        auth=("$oauthtoken", "hgr_not_a_key"),
        timeout=30,
    )
    assert answer.status_code == 401


# == 01 pull ================================================================================================


def test_pull_manifest_by_tag(client: OciClient, image: dict[str, bytes]) -> None:
    answer = client.request("GET", f"/v2/{PULL_REPO}/manifests/v1", headers={"Accept": OCI_MANIFEST})
    assert answer.status_code == 200
    assert answer.content == image["manifest"]
    assert answer.headers["Content-Type"] == OCI_MANIFEST
    assert answer.headers["Docker-Content-Digest"] == sha256(image["manifest"])
    assert int(answer.headers["Content-Length"]) == len(image["manifest"])


def test_pull_manifest_by_digest(client: OciClient, image: dict[str, bytes]) -> None:
    digest = sha256(image["manifest"])
    answer = client.request("GET", f"/v2/{PULL_REPO}/manifests/{digest}", headers={"Accept": OCI_MANIFEST})
    assert answer.status_code == 200
    assert answer.content == image["manifest"]
    assert answer.headers["Content-Type"] == OCI_MANIFEST
    assert answer.headers["Docker-Content-Digest"] == digest


@pytest.mark.parametrize("by", ["tag", "digest"])
def test_pull_head_manifest(client: OciClient, image: dict[str, bytes], by: str) -> None:
    reference = "v1" if by == "tag" else sha256(image["manifest"])
    answer = client.request("HEAD", f"/v2/{PULL_REPO}/manifests/{reference}")
    assert answer.status_code == 200
    assert answer.content == b""
    assert int(answer.headers["Content-Length"]) == len(image["manifest"])
    assert answer.headers["Docker-Content-Digest"] == sha256(image["manifest"])
    assert answer.headers["Content-Type"] == OCI_MANIFEST


@pytest.mark.parametrize("part", ["config", "layer"])
def test_pull_blob(client: OciClient, image: dict[str, bytes], part: str) -> None:
    blob = image[part]
    answer = client.request("GET", f"/v2/{PULL_REPO}/blobs/{sha256(blob)}", follow_redirects=True)
    assert answer.status_code == 200
    assert answer.content == blob
    assert answer.headers["Docker-Content-Digest"] == sha256(blob)


def test_pull_head_blob(client: OciClient, image: dict[str, bytes]) -> None:
    blob = image["layer"]
    answer = client.request("HEAD", f"/v2/{PULL_REPO}/blobs/{sha256(blob)}")
    assert answer.status_code == 200
    assert answer.content == b""
    assert int(answer.headers["Content-Length"]) == len(blob)
    assert answer.headers["Docker-Content-Digest"] == sha256(blob)


def test_pull_blob_range(client: OciClient, image: dict[str, bytes]) -> None:
    blob = image["layer"]
    url = f"/v2/{PULL_REPO}/blobs/{sha256(blob)}"
    part = client.request("GET", url, headers={"Range": "bytes=2-5"}, follow_redirects=True)
    assert part.status_code == 206
    assert part.content == blob[2:6]
    assert part.headers["Content-Range"] == f"bytes 2-5/{len(blob)}"
    tail = client.request("GET", url, headers={"Range": "bytes=-3"}, follow_redirects=True)
    assert tail.status_code == 206
    assert tail.content == blob[-3:]
    open_ended = client.request("GET", url, headers={"Range": "bytes=4-"}, follow_redirects=True)
    assert open_ended.status_code == 206
    assert open_ended.content == blob[4:]


def test_pull_blob_range_beyond_the_blob_is_416(client: OciClient, image: dict[str, bytes]) -> None:
    blob = image["layer"]
    answer = client.request(
        "GET", f"/v2/{PULL_REPO}/blobs/{sha256(blob)}", headers={"Range": f"bytes={len(blob) + 10}-"}
    )
    assert answer.status_code == 416
    assert answer.headers["Content-Range"] == f"bytes */{len(blob)}"
    assert_error(answer, 416, *SPEC_CODES)


@pytest.mark.parametrize("reference", ["nope", "sha256:" + "0" * 64])
def test_pull_unknown_manifest_is_404_manifest_unknown(
    client: OciClient, image: dict[str, bytes], reference: str
) -> None:
    assert_error(client.request("GET", f"/v2/{PULL_REPO}/manifests/{reference}"), 404, "MANIFEST_UNKNOWN")
    head = client.request("HEAD", f"/v2/{PULL_REPO}/manifests/{reference}")
    assert head.status_code == 404
    assert head.content == b""


def test_pull_unknown_blob_is_404_blob_unknown(client: OciClient, image: dict[str, bytes]) -> None:
    digest = unknown_digest()
    assert_error(client.request("GET", f"/v2/{PULL_REPO}/blobs/{digest}"), 404, "BLOB_UNKNOWN")
    head = client.request("HEAD", f"/v2/{PULL_REPO}/blobs/{digest}")
    assert head.status_code == 404
    assert head.content == b""


def test_pull_blob_of_another_repository_is_404(client: OciClient, image: dict[str, bytes]) -> None:
    """A blob is gated by the repository: present in the registry, absent from this repository."""
    other = "demo/conformance/elsewhere"
    client.push_image(other, "x", note="elsewhere")
    assert_error(client.request("GET", f"/v2/{other}/blobs/{sha256(image['layer'])}"), 404, "BLOB_UNKNOWN")


def test_pull_from_unknown_repository_is_404(client: OciClient) -> None:
    answer = client.request("GET", "/v2/demo/conformance/never-pushed/manifests/latest")
    assert_error(answer, 404, "NAME_UNKNOWN", "MANIFEST_UNKNOWN")


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("manifests/sha256:totallywrong", "DIGEST_INVALID"),
        ("manifests/-bad-tag", "TAG_INVALID"),
        ("manifests/" + "t" * 129, "TAG_INVALID"),
        ("blobs/sha256:1234", "DIGEST_INVALID"),
        ("blobs/md5:" + "0" * 32, "DIGEST_INVALID"),
        ("blobs/latest", "DIGEST_INVALID"),
    ],
)
def test_pull_malformed_reference_is_400(client: OciClient, path: str, code: str) -> None:
    assert_error(client.request("GET", f"/v2/{PULL_REPO}/{path}"), 400, code)


def test_pull_malformed_repository_name_is_400_name_invalid(client: OciClient) -> None:
    assert_error(client.request("GET", "/v2/Conformance/UPPER/manifests/v1"), 400, "NAME_INVALID")


def test_pull_put_manifest_to_an_invalid_digest_is_400_with_a_spec_code(client: OciClient) -> None:
    """What the spec suite's pull "Error codes" step does: PUT to `sha256:totallywrong`."""
    answer = client.push_manifest(PULL_REPO, "sha256:totallywrong", b"{not json")
    assert_error(answer, 400, *SPEC_CODES, *LEGACY_CODES)


def test_pull_docker_schema2_manifest_keeps_its_media_type(client: OciClient) -> None:
    layer, config = b"docker layer", json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    for blob in (config, layer):
        assert client.push_blob(PULL_REPO, blob).status_code == 201
    body = image_manifest(
        config,
        [layer],
        media_type=DOCKER_MANIFEST,
        config_type=DOCKER_CONFIG,
        layer_type="application/vnd.docker.image.rootfs.diff.tar.gzip",
    )
    assert client.push_manifest(PULL_REPO, "docker", body, DOCKER_MANIFEST).status_code == 201
    answer = client.request("GET", f"/v2/{PULL_REPO}/manifests/docker", headers={"Accept": DOCKER_MANIFEST})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == DOCKER_MANIFEST
    assert answer.content == body


def test_pull_index_by_tag(client: OciClient, image: dict[str, bytes]) -> None:
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    **descriptor(OCI_MANIFEST, image["manifest"]),
                    "platform": {"os": "linux", "architecture": "amd64"},
                }
            ],
        }
    ).encode()
    assert client.push_manifest(PULL_REPO, "multi", index, OCI_INDEX).status_code == 201
    answer = client.request("GET", f"/v2/{PULL_REPO}/manifests/multi", headers={"Accept": OCI_INDEX})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == OCI_INDEX
    assert answer.content == index


# == 02 push ================================================================================================


def test_push_post_then_put_monolithic(client: OciClient) -> None:
    blob = b"monolithic " + uuid.uuid4().bytes
    started = client.request("POST", f"/v2/{PUSH_REPO}/blobs/uploads/")
    assert started.status_code == 202
    assert started.headers["Location"]
    done = client.request(
        "PUT",
        started.headers["Location"],
        params={"digest": sha256(blob)},
        content=blob,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert done.status_code == 201
    assert done.headers["Docker-Content-Digest"] == sha256(blob)
    pulled = client.request("GET", done.headers["Location"], follow_redirects=True)
    assert pulled.status_code == 200
    assert pulled.content == blob


def test_push_single_post_with_digest(client: OciClient) -> None:
    blob = b"single post " + uuid.uuid4().bytes
    answer = client.request(
        "POST",
        f"/v2/{PUSH_REPO}/blobs/uploads/",
        params={"digest": sha256(blob)},
        content=blob,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert answer.status_code == 201
    assert answer.headers["Docker-Content-Digest"] == sha256(blob)
    pulled = client.request("GET", answer.headers["Location"], follow_redirects=True)
    assert pulled.content == blob


def test_push_digest_mismatch_is_400_and_leaves_no_blob(client: OciClient) -> None:
    blob, claimed = b"these bytes", unknown_digest()
    answer = client.request(
        "POST", f"/v2/{PUSH_REPO}/blobs/uploads/", params={"digest": claimed}, content=blob
    )
    assert_error(answer, 400, "DIGEST_INVALID")
    assert client.request("HEAD", f"/v2/{PUSH_REPO}/blobs/{claimed}").status_code == 404
    assert client.request("HEAD", f"/v2/{PUSH_REPO}/blobs/{sha256(blob)}").status_code == 404


def test_push_closing_put_without_digest_is_400(client: OciClient) -> None:
    started = client.request("POST", f"/v2/{PUSH_REPO}/blobs/uploads/")
    answer = client.request("PUT", started.headers["Location"], content=b"no digest")
    assert_error(answer, 400, "DIGEST_INVALID")


def test_push_streamed_patch_without_content_range(client: OciClient) -> None:
    blob = b"streamed " * 100
    started = client.request("POST", f"/v2/{PUSH_REPO}/blobs/uploads/")
    patched = client.request(
        "PATCH",
        started.headers["Location"],
        content=blob,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert patched.status_code == 202
    assert range_end(patched) == str(len(blob) - 1)
    done = client.request("PUT", patched.headers["Location"], params={"digest": sha256(blob)})
    assert done.status_code == 201
    assert client.request("GET", done.headers["Location"], follow_redirects=True).content == blob


def test_push_chunked_with_status_and_final_chunk_in_put(client: OciClient) -> None:
    blob = bytes(range(256)) * 40
    first, second, last = blob[:4000], blob[4000:8000], blob[8000:]
    started = client.request("POST", f"/v2/{PUSH_REPO}/blobs/uploads/", headers={"Content-Length": "0"})
    assert started.status_code == 202
    location = started.headers["Location"]
    offset = 0
    for chunk in (first, second):
        patched = client.request(
            "PATCH",
            location,
            content=chunk,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
            },
        )
        assert patched.status_code == 202, patched.text
        offset += len(chunk)
        assert range_end(patched) == str(offset - 1)
        location = patched.headers["Location"]
    status = client.request("GET", location)
    assert status.status_code == 204
    assert status.headers["Location"]
    assert range_end(status) == str(offset - 1)
    done = client.request(
        "PUT",
        status.headers["Location"],
        params={"digest": sha256(blob)},
        content=last,
        headers={"Content-Type": "application/octet-stream", "Content-Range": f"{offset}-{len(blob) - 1}"},
    )
    assert done.status_code == 201, done.text
    assert done.headers["Docker-Content-Digest"] == sha256(blob)
    assert client.request("GET", done.headers["Location"], follow_redirects=True).content == blob


def test_push_upload_status_before_any_byte(client: OciClient) -> None:
    started = client.request("POST", f"/v2/{PUSH_REPO}/blobs/uploads/")
    assert RANGE_HEADER.fullmatch(started.headers["Range"]) is not None
    status = client.request("GET", started.headers["Location"])
    assert status.status_code == 204
    assert status.headers["Location"]
    assert status.headers["Range"] in ("0-0", "bytes=0-0")


def test_push_out_of_order_chunk_is_416_with_the_current_range(client: OciClient) -> None:
    blob = b"0123456789" * 10
    started = client.request("POST", f"/v2/{PUSH_REPO}/blobs/uploads/", headers={"Content-Length": "0"})
    location = started.headers["Location"]
    skipped = client.request(
        "PATCH", location, content=blob[50:], headers={"Content-Range": f"50-{len(blob) - 1}"}
    )
    assert_error(skipped, 416, *SPEC_CODES)
    assert skipped.headers["Location"]
    first = client.request("PATCH", location, content=blob[:50], headers={"Content-Range": "0-49"})
    assert first.status_code == 202
    replayed = client.request("PATCH", location, content=blob[:50], headers={"Content-Range": "0-49"})
    assert_error(replayed, 416, *SPEC_CODES)
    assert range_end(replayed) == "49"
    done = client.request(
        "PUT",
        replayed.headers["Location"],
        params={"digest": sha256(blob)},
        content=blob[50:],
        headers={"Content-Range": f"50-{len(blob) - 1}"},
    )
    assert done.status_code == 201, done.text


def test_push_malformed_content_range_is_rejected(client: OciClient) -> None:
    started = client.request("POST", f"/v2/{PUSH_REPO}/blobs/uploads/")
    answer = client.request(
        "PATCH", started.headers["Location"], content=b"abc", headers={"Content-Range": "x-y"}
    )
    assert answer.status_code in (400, 416)
    assert_error(answer, answer.status_code, *SPEC_CODES)


def test_push_cancel_upload(client: OciClient) -> None:
    started = client.request("POST", f"/v2/{PUSH_REPO}/blobs/uploads/")
    location = started.headers["Location"]
    assert client.request("PATCH", location, content=b"partial").status_code == 202
    assert client.request("DELETE", location).status_code == 204
    assert_error(client.request("GET", location), 404, "BLOB_UPLOAD_UNKNOWN")
    assert_error(
        client.request("PUT", location, params={"digest": sha256(b"partial")}), 404, "BLOB_UPLOAD_UNKNOWN"
    )


def test_push_unknown_upload_is_404(client: OciClient) -> None:
    answer = client.request("GET", f"/v2/{PUSH_REPO}/blobs/uploads/{uuid.uuid4().hex}")
    assert_error(answer, 404, "BLOB_UPLOAD_UNKNOWN")


def test_push_upload_of_another_repository_is_404(client: OciClient) -> None:
    started = client.request("POST", f"/v2/{PUSH_REPO}/blobs/uploads/")
    upload_id = urlsplit(started.headers["Location"]).path.rsplit("/", 1)[-1]
    other = client.request("GET", f"/v2/{PULL_REPO}/blobs/uploads/{upload_id}")
    assert_error(other, 404, "BLOB_UPLOAD_UNKNOWN")


def test_push_location_headers_are_usable_relative_or_absolute(hangar: Hangar, client: OciClient) -> None:
    started = client.request("POST", f"/v2/{PUSH_REPO}/blobs/uploads/")
    location = started.headers["Location"]
    parts = urlsplit(location)
    if parts.scheme:  # absolute: it must point at this registry
        assert f"{parts.scheme}://{parts.netloc}" == hangar.url
    else:
        assert location.startswith("/v2/")
    absolute = client.url(location)
    blob = b"located"
    done = client.request("PUT", absolute, params={"digest": sha256(blob)}, content=blob)
    assert done.status_code == 201
    assert client.request("HEAD", client.url(done.headers["Location"])).status_code == 200


def test_push_mount_from_a_readable_repository_is_201(client: OciClient) -> None:
    source, target = f"{PUSH_REPO}-mount-source", f"{PUSH_REPO}-mount-target"
    blob = b"mountable " + uuid.uuid4().bytes
    assert client.push_blob(source, blob).status_code == 201
    answer = client.request(
        "POST",
        f"/v2/{target}/blobs/uploads/",
        params={"mount": sha256(blob), "from": source},
        headers={"Content-Length": "0"},
        extra_scopes=(f"repository:{source}:pull",),
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["Docker-Content-Digest"] == sha256(blob)
    assert client.request("GET", answer.headers["Location"], follow_redirects=True).content == blob
    assert client.request("HEAD", f"/v2/{target}/blobs/{sha256(blob)}").status_code == 200


def test_push_mount_of_an_absent_blob_falls_back_to_an_upload(client: OciClient) -> None:
    source, target = f"{PUSH_REPO}-mount-source", f"{PUSH_REPO}-mount-absent"
    client.push_blob(source, b"keeps the source repository in existence")
    blob = b"not in the source"
    answer = client.request(
        "POST",
        f"/v2/{target}/blobs/uploads/",
        params={"mount": sha256(blob), "from": source},
        extra_scopes=(f"repository:{source}:pull",),
    )
    assert answer.status_code == 202
    done = client.request("PUT", answer.headers["Location"], params={"digest": sha256(blob)}, content=blob)
    assert done.status_code == 201


def test_push_mount_without_pull_on_the_source_falls_back_to_an_upload(hangar: Hangar) -> None:
    """A token that does not grant pull on `from` cannot mount from it: 202, and nothing is linked."""
    source, target = f"{PUSH_REPO}-mount-private", f"{PUSH_REPO}-mount-intruder"
    owner = OciClient(hangar.url, hangar.key)
    narrow = OciClient(hangar.url, hangar.key)  # never asks /token for the source
    try:
        blob = b"private " + uuid.uuid4().bytes
        assert owner.push_blob(source, blob).status_code == 201
        answer = narrow.request(
            "POST", f"/v2/{target}/blobs/uploads/", params={"mount": sha256(blob), "from": source}
        )
        assert answer.status_code == 202
        assert answer.headers["Location"]
        assert narrow.request("HEAD", f"/v2/{target}/blobs/{sha256(blob)}").status_code == 404
    finally:
        owner.close()
        narrow.close()


def test_push_mount_without_from_falls_back_to_an_upload(client: OciClient, image: dict[str, bytes]) -> None:
    answer = client.request(
        "POST", f"/v2/{PUSH_REPO}-mount-nofrom/blobs/uploads/", params={"mount": sha256(image["layer"])}
    )
    assert answer.status_code == 202
    assert answer.headers["Location"]


def test_push_manifest_by_tag(client: OciClient) -> None:
    _config, _layer, manifest = client.push_image(PUSH_REPO, "tagged", note="by tag")
    pushed = client.push_manifest(PUSH_REPO, "tagged", manifest)
    assert pushed.status_code == 201
    assert pushed.headers["Docker-Content-Digest"] == sha256(manifest)
    pulled = client.request("GET", pushed.headers["Location"], headers={"Accept": OCI_MANIFEST})
    assert pulled.status_code == 200
    assert pulled.content == manifest


def test_push_manifest_by_digest(client: OciClient) -> None:
    config, layer, _ = client.push_image(PUSH_REPO, "base", note="by digest")
    manifest = image_manifest(config, [layer], annotations={"note": "pushed by digest"})
    pushed = client.push_manifest(PUSH_REPO, sha256(manifest), manifest)
    assert pushed.status_code == 201
    assert pushed.headers["Docker-Content-Digest"] == sha256(manifest)
    assert client.request("GET", pushed.headers["Location"]).content == manifest


def test_push_manifest_by_a_digest_it_does_not_have_is_400(client: OciClient) -> None:
    _config, _layer, manifest = client.push_image(PUSH_REPO, "mismatch", note="mismatch")
    answer = client.push_manifest(PUSH_REPO, unknown_digest(), manifest)
    assert_error(answer, 400, "DIGEST_INVALID")


def test_push_manifest_with_a_missing_blob_is_manifest_blob_unknown(client: OciClient) -> None:
    config = b'{"architecture":"amd64","os":"linux"}'
    assert client.push_blob(PUSH_REPO, config).status_code == 201
    manifest = image_manifest(config, [b"a layer never pushed " + uuid.uuid4().bytes])
    answer = client.push_manifest(PUSH_REPO, "incomplete", manifest)
    assert_error(answer, 400, "MANIFEST_BLOB_UNKNOWN")
    assert client.request("GET", f"/v2/{PUSH_REPO}/manifests/{sha256(manifest)}").status_code == 404


def test_push_manifest_that_is_not_json_is_manifest_invalid(client: OciClient) -> None:
    assert_error(client.push_manifest(PUSH_REPO, "broken", b"{not json"), 400, "MANIFEST_INVALID")


def test_push_manifest_with_a_subject_answers_oci_subject(client: OciClient) -> None:
    _, _, subject = client.push_image(PUSH_REPO, "subject", note="subject")
    empty = b"{}"
    assert client.push_blob(PUSH_REPO, empty).status_code == 201
    artifact = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.example.sig",
            "config": descriptor(OCI_EMPTY, empty),
            "layers": [descriptor(OCI_EMPTY, empty)],
            "subject": descriptor(OCI_MANIFEST, subject),
        }
    ).encode()
    answer = client.push_manifest(PUSH_REPO, sha256(artifact), artifact)
    assert answer.status_code == 201
    assert answer.headers["OCI-Subject"] == sha256(subject)


def test_push_manifest_whose_subject_is_not_in_the_registry_is_accepted(client: OciClient) -> None:
    """A referrer may be pushed before (or without) its subject; it is listed once found by digest."""
    empty = b"{}"
    assert client.push_blob(PUSH_REPO, empty).status_code == 201
    absent = unknown_digest()
    artifact = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.example.early",
            "config": descriptor(OCI_EMPTY, empty),
            "layers": [descriptor(OCI_EMPTY, empty)],
            "subject": {"mediaType": OCI_MANIFEST, "digest": absent, "size": 1234},
        }
    ).encode()
    answer = client.push_manifest(PUSH_REPO, sha256(artifact), artifact)
    assert answer.status_code == 201, answer.text
    assert answer.headers["OCI-Subject"] == absent
    listed = client.request("GET", f"/v2/{PUSH_REPO}/referrers/{absent}").json()["manifests"]
    assert [entry["digest"] for entry in listed] == [sha256(artifact)]


def test_push_manifest_without_layers_is_accepted(client: OciClient) -> None:
    config = b'{"architecture":"amd64","os":"linux","layers":"none"}'
    assert client.push_blob(PUSH_REPO, config).status_code == 201
    manifest = image_manifest(config, [])
    pushed = client.push_manifest(PUSH_REPO, "no-layers", manifest)
    assert pushed.status_code == 201, pushed.text
    assert client.request("GET", f"/v2/{PUSH_REPO}/manifests/no-layers").content == manifest


def test_push_manifest_without_a_subject_has_no_oci_subject(client: OciClient) -> None:
    _, _, manifest = client.push_image(PUSH_REPO, "plain", note="plain")
    assert "OCI-Subject" not in client.push_manifest(PUSH_REPO, "plain", manifest).headers


def _padded_manifest(config: bytes, layer: bytes, size: int) -> bytes:
    bare = image_manifest(config, [layer], annotations={"pad": ""})
    padded = image_manifest(config, [layer], annotations={"pad": "x" * (size - len(bare))})
    assert len(padded) == size
    return padded


def test_push_manifest_of_4_mib_is_accepted(client: OciClient) -> None:
    config, layer, _ = client.push_image(PUSH_REPO, "big-base", note="big")
    manifest = _padded_manifest(config, layer, MAX_MANIFEST)
    assert client.push_manifest(PUSH_REPO, "big", manifest).status_code == 201
    pulled = client.request("GET", f"/v2/{PUSH_REPO}/manifests/big")
    assert pulled.content == manifest


def test_push_manifest_over_4_mib_is_413_manifest_invalid(client: OciClient) -> None:
    config, layer, _ = client.push_image(PUSH_REPO, "huge-base", note="huge")
    manifest = _padded_manifest(config, layer, MAX_MANIFEST + 1)
    assert_error(client.push_manifest(PUSH_REPO, "huge", manifest), 413, "MANIFEST_INVALID")
    assert client.request("HEAD", f"/v2/{PUSH_REPO}/manifests/huge").status_code == 404


def test_push_empty_blob_and_a_manifest_with_an_empty_layer(client: OciClient) -> None:
    empty = b""
    answer = client.request("POST", f"/v2/{PUSH_REPO}/blobs/uploads/", params={"digest": sha256(empty)})
    assert answer.status_code == 201
    pulled = client.request("GET", f"/v2/{PUSH_REPO}/blobs/{sha256(empty)}", follow_redirects=True)
    assert pulled.status_code == 200
    assert pulled.content == b""
    head = client.request("HEAD", f"/v2/{PUSH_REPO}/blobs/{sha256(empty)}")
    assert head.headers["Content-Length"] == "0"
    config = b'{"architecture":"amd64","os":"linux","empty":true}'
    assert client.push_blob(PUSH_REPO, config).status_code == 201
    manifest = image_manifest(config, [empty])
    assert client.push_manifest(PUSH_REPO, "empty-layer", manifest).status_code == 201


def test_push_sha512_blob(client: OciClient) -> None:
    blob = b"a sha512 blob " + uuid.uuid4().bytes
    done = client.push_blob(PUSH_REPO, blob, digest=sha512(blob))
    assert done.status_code == 201, done.text
    assert done.headers["Docker-Content-Digest"] == sha512(blob)
    pulled = client.request("GET", f"/v2/{PUSH_REPO}/blobs/{sha512(blob)}", follow_redirects=True)
    assert pulled.status_code == 200
    assert pulled.content == blob
    single = b"single post sha512 " + uuid.uuid4().bytes
    posted = client.request(
        "POST", f"/v2/{PUSH_REPO}/blobs/uploads/", params={"digest": sha512(single)}, content=single
    )
    assert posted.status_code == 201
    assert client.request("HEAD", f"/v2/{PUSH_REPO}/blobs/{sha512(single)}").status_code == 200


def test_push_sha512_digest_mismatch_is_400(client: OciClient) -> None:
    answer = client.push_blob(PUSH_REPO, b"these", digest=sha512(b"those"))
    assert_error(answer, 400, "DIGEST_INVALID")


def test_push_manifest_by_sha512_digest(client: OciClient) -> None:
    config, layer, _ = client.push_image(PUSH_REPO, "sha512-base", note="sha512")
    manifest = image_manifest(config, [layer], annotations={"digest": "sha512"})
    pushed = client.push_manifest(PUSH_REPO, sha512(manifest), manifest)
    assert pushed.status_code == 201, pushed.text
    assert pushed.headers["Docker-Content-Digest"] == sha512(manifest)
    pulled = client.request("GET", f"/v2/{PUSH_REPO}/manifests/{sha512(manifest)}")
    assert pulled.status_code == 200
    assert pulled.content == manifest


# == 03 content discovery ===================================================================================

TAGS: Final = ["1.0", "1.1", "2.0", "alpha", "beta", "latest", "rc_1", "z-last"]


@pytest.fixture(scope="module")
def tagged(client: OciClient) -> list[str]:
    """DISCOVERY_REPO with TAGS, pushed out of order, all on one manifest."""
    _, _, manifest = client.push_image(DISCOVERY_REPO, "latest", note="discovery")
    for tag in ["z-last", "beta", "1.1", "rc_1", "alpha", "2.0", "1.0"]:
        assert client.push_manifest(DISCOVERY_REPO, tag, manifest).status_code == 201
    return sorted(TAGS)


def test_discovery_tags_are_listed_in_lexical_order(client: OciClient, tagged: list[str]) -> None:
    answer = client.request("GET", f"/v2/{DISCOVERY_REPO}/tags/list")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].split(";")[0] == "application/json"
    assert answer.json() == {"name": DISCOVERY_REPO, "tags": tagged}
    assert "Link" not in answer.headers


def test_discovery_tags_n_limits_and_links_to_the_next_page(client: OciClient, tagged: list[str]) -> None:
    seen: list[str] = []
    url = f"/v2/{DISCOVERY_REPO}/tags/list?n=3"
    for _ in range(len(tagged)):  # bounded: one page per tag at most
        answer = client.request("GET", url)
        assert answer.status_code == 200
        page = answer.json()["tags"]
        assert len(page) == min(3, len(tagged) - len(seen))
        seen.extend(page)
        link = answer.headers.get("Link")
        if link is None:
            break
        match = re.fullmatch(r'<(?P<url>[^>]+)>;\s*rel="next"', link)
        assert match is not None, link
        assert parse_qs(urlsplit(match["url"]).query)["last"] == [page[-1]]
        url = match["url"]
    assert seen == tagged


def test_discovery_tags_last_starts_after_the_named_tag(client: OciClient, tagged: list[str]) -> None:
    after = tagged.index("alpha")
    answer = client.request("GET", f"/v2/{DISCOVERY_REPO}/tags/list", params={"n": 2, "last": "alpha"})
    assert answer.json()["tags"] == tagged[after + 1 : after + 3]
    alone = client.request("GET", f"/v2/{DISCOVERY_REPO}/tags/list", params={"last": "beta"})
    assert alone.json()["tags"] == tagged[tagged.index("beta") + 1 :]


def test_discovery_tags_n_larger_than_the_list(client: OciClient, tagged: list[str]) -> None:
    answer = client.request("GET", f"/v2/{DISCOVERY_REPO}/tags/list", params={"n": 100})
    assert answer.json()["tags"] == tagged
    assert "Link" not in answer.headers


def test_discovery_tags_n_zero_is_empty_without_link(client: OciClient, tagged: list[str]) -> None:
    answer = client.request("GET", f"/v2/{DISCOVERY_REPO}/tags/list", params={"n": 0})
    assert answer.status_code == 200
    assert answer.json() == {"name": DISCOVERY_REPO, "tags": []}
    assert "Link" not in answer.headers


def test_discovery_tags_n_not_a_number_is_400(client: OciClient, tagged: list[str]) -> None:
    answer = client.request("GET", f"/v2/{DISCOVERY_REPO}/tags/list", params={"n": "many"})
    assert_error(answer, 400, *SPEC_CODES)


def test_discovery_tags_of_unknown_repository_is_404(client: OciClient) -> None:
    assert_error(client.request("GET", "/v2/demo/conformance/no-such-repo/tags/list"), 404, "NAME_UNKNOWN")


SIGNATURE: Final = "application/vnd.example.signature.v1"
SBOM: Final = "application/vnd.example.sbom.v1+json"


@pytest.fixture(scope="module")
def referrers(client: OciClient) -> dict[str, Any]:
    """A subject image, a signature and an SBOM (artifactType set), and one whose type is its config's."""
    name = f"{DISCOVERY_REPO}-referrers"
    _, _, subject = client.push_image(name, "subject", note="subject")
    empty = b"{}"
    assert client.push_blob(name, empty).status_code == 201
    sbom_config = b'{"sbom": true}'
    assert client.push_blob(name, sbom_config).status_code == 201

    def artifact(kind: str | None, config: dict[str, Any], note: str) -> bytes:
        body: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config,
            "layers": [descriptor(OCI_EMPTY, empty)],
            "subject": descriptor(OCI_MANIFEST, subject),
            "annotations": {"org.example.note": note},
        }
        if kind:
            body["artifactType"] = kind
        return json.dumps(body).encode()

    signature = artifact(SIGNATURE, descriptor(OCI_EMPTY, empty), "signed")
    sbom = artifact(None, descriptor(SBOM, sbom_config), "inventory")
    for body in (signature, sbom):
        pushed = client.push_manifest(name, sha256(body), body)
        assert pushed.status_code == 201, pushed.text
    return {"name": name, "subject": sha256(subject), "signature": signature, "sbom": sbom}


def test_discovery_referrers_lists_every_referrer(client: OciClient, referrers: dict[str, Any]) -> None:
    answer = client.request("GET", f"/v2/{referrers['name']}/referrers/{referrers['subject']}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == OCI_INDEX
    assert "OCI-Filters-Applied" not in answer.headers
    index = answer.json()
    assert index["schemaVersion"] == 2
    assert index["mediaType"] == OCI_INDEX
    by_digest = {entry["digest"]: entry for entry in index["manifests"]}
    signature, sbom = referrers["signature"], referrers["sbom"]
    assert by_digest == {
        sha256(signature): {
            "mediaType": OCI_MANIFEST,
            "digest": sha256(signature),
            "size": len(signature),
            "artifactType": SIGNATURE,
            "annotations": {"org.example.note": "signed"},
        },
        sha256(sbom): {  # no artifactType: the config's media type stands for it
            "mediaType": OCI_MANIFEST,
            "digest": sha256(sbom),
            "size": len(sbom),
            "artifactType": SBOM,
            "annotations": {"org.example.note": "inventory"},
        },
    }


def test_discovery_referrers_filtered_by_artifact_type(client: OciClient, referrers: dict[str, Any]) -> None:
    answer = client.request(
        "GET", f"/v2/{referrers['name']}/referrers/{referrers['subject']}", params={"artifactType": SBOM}
    )
    assert answer.status_code == 200
    assert answer.headers["OCI-Filters-Applied"] == "artifactType"
    assert [entry["digest"] for entry in answer.json()["manifests"]] == [sha256(referrers["sbom"])]
    none = client.request(
        "GET",
        f"/v2/{referrers['name']}/referrers/{referrers['subject']}",
        params={"artifactType": "application/vnd.example.nothing"},
    )
    assert none.status_code == 200
    assert none.json()["manifests"] == []
    assert none.headers["OCI-Filters-Applied"] == "artifactType"


def test_discovery_referrers_of_an_unknown_digest_is_an_empty_index(
    client: OciClient, referrers: dict[str, Any]
) -> None:
    answer = client.request("GET", f"/v2/{referrers['name']}/referrers/{unknown_digest()}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == OCI_INDEX
    assert answer.json() == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}


def test_discovery_referrers_of_a_malformed_digest_is_400(
    client: OciClient, referrers: dict[str, Any]
) -> None:
    assert_error(
        client.request("GET", f"/v2/{referrers['name']}/referrers/sha256:nope"), 400, "DIGEST_INVALID"
    )


# == 04 content management ==================================================================================


def test_management_delete_manifest_by_digest(client: OciClient) -> None:
    _, _, manifest = client.push_image(MANAGEMENT_REPO, "doomed", note="doomed")
    digest = sha256(manifest)
    answer = client.request("DELETE", f"/v2/{MANAGEMENT_REPO}/manifests/{digest}")
    assert answer.status_code == 202
    assert_error(client.request("GET", f"/v2/{MANAGEMENT_REPO}/manifests/{digest}"), 404, "MANIFEST_UNKNOWN")
    assert client.request("HEAD", f"/v2/{MANAGEMENT_REPO}/manifests/{digest}").status_code == 404
    assert_error(client.request("GET", f"/v2/{MANAGEMENT_REPO}/manifests/doomed"), 404, "MANIFEST_UNKNOWN")
    tags = client.request("GET", f"/v2/{MANAGEMENT_REPO}/tags/list").json()["tags"]
    assert "doomed" not in tags


def test_management_delete_tag_keeps_the_manifest(client: OciClient) -> None:
    _, _, manifest = client.push_image(MANAGEMENT_REPO, "keep", note="kept")
    assert client.push_manifest(MANAGEMENT_REPO, "drop", manifest).status_code == 201
    assert client.request("DELETE", f"/v2/{MANAGEMENT_REPO}/manifests/drop").status_code == 202
    assert_error(client.request("GET", f"/v2/{MANAGEMENT_REPO}/manifests/drop"), 404, "MANIFEST_UNKNOWN")
    assert client.request("GET", f"/v2/{MANAGEMENT_REPO}/manifests/keep").content == manifest
    assert client.request("GET", f"/v2/{MANAGEMENT_REPO}/manifests/{sha256(manifest)}").status_code == 200
    tags = client.request("GET", f"/v2/{MANAGEMENT_REPO}/tags/list").json()["tags"]
    assert "drop" not in tags and "keep" in tags


def test_management_tags_list_is_empty_once_every_tag_is_deleted(client: OciClient) -> None:
    name = f"{MANAGEMENT_REPO}-untagged"
    _, _, manifest = client.push_image(name, "only", note="untagged")
    assert client.request("DELETE", f"/v2/{name}/manifests/only").status_code == 202
    answer = client.request("GET", f"/v2/{name}/tags/list")
    assert answer.status_code == 200
    assert answer.json() == {"name": name, "tags": []}
    assert client.request("GET", f"/v2/{name}/manifests/{sha256(manifest)}").status_code == 200


@pytest.mark.parametrize("reference", ["never-was", "sha256:" + "e" * 64])
def test_management_delete_unknown_manifest_is_404(client: OciClient, reference: str) -> None:
    client.push_image(MANAGEMENT_REPO, "present", note="present")
    answer = client.request("DELETE", f"/v2/{MANAGEMENT_REPO}/manifests/{reference}")
    assert_error(answer, 404, "MANIFEST_UNKNOWN")


def test_management_delete_in_unknown_repository_is_404(client: OciClient) -> None:
    answer = client.request("DELETE", f"/v2/demo/conformance/nothing-here/manifests/{unknown_digest()}")
    assert_error(answer, 404, "NAME_UNKNOWN", "MANIFEST_UNKNOWN")


def test_management_deleted_referrer_leaves_the_referrers_list(client: OciClient) -> None:
    name = f"{MANAGEMENT_REPO}-referrers"
    _, _, subject = client.push_image(name, "subject", note="management subject")
    empty = b"{}"
    assert client.push_blob(name, empty).status_code == 201
    artifact = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": SIGNATURE,
            "config": descriptor(OCI_EMPTY, empty),
            "layers": [descriptor(OCI_EMPTY, empty)],
            "subject": descriptor(OCI_MANIFEST, subject),
        }
    ).encode()
    assert client.push_manifest(name, sha256(artifact), artifact).status_code == 201
    listed = client.request("GET", f"/v2/{name}/referrers/{sha256(subject)}").json()["manifests"]
    assert [entry["digest"] for entry in listed] == [sha256(artifact)]
    assert client.request("DELETE", f"/v2/{name}/manifests/{sha256(artifact)}").status_code == 202
    assert client.request("GET", f"/v2/{name}/referrers/{sha256(subject)}").json()["manifests"] == []


def test_management_delete_needs_the_delete_action(hangar: Hangar, client: OciClient) -> None:
    """A token granting pull and push but not delete: 401 insufficient_scope, asking for delete."""
    _, _, _manifest = client.push_image(MANAGEMENT_REPO, "guarded", note="guarded")
    token = client.fetch_token(f"{hangar.url}/token", "hangar", [f"repository:{MANAGEMENT_REPO}:pull,push"])
    answer = httpx.delete(
        f"{hangar.url}/v2/{MANAGEMENT_REPO}/manifests/guarded",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert_error(answer, 401, "UNAUTHORIZED")
    challenge = parse_challenge(answer.headers["WWW-Authenticate"])
    assert challenge["scope"] == f"repository:{MANAGEMENT_REPO}:delete"
    assert challenge.get("error") == "insufficient_scope"
    assert client.request("GET", f"/v2/{MANAGEMENT_REPO}/manifests/guarded").status_code == 200


# -- blob DELETE (decision 0017) ----------------------------------------------------------------------------

BLOB_REPO: Final = f"{MANAGEMENT_REPO}-blobs"


def test_management_delete_blob_is_202_then_404_blob_unknown(client: OciClient) -> None:
    blob = b"deletable " + uuid.uuid4().bytes
    assert client.push_blob(BLOB_REPO, blob).status_code == 201
    answer = client.request("DELETE", f"/v2/{BLOB_REPO}/blobs/{sha256(blob)}")
    assert answer.status_code == 202, answer.text
    assert_error(client.request("GET", f"/v2/{BLOB_REPO}/blobs/{sha256(blob)}"), 404, "BLOB_UNKNOWN")
    head = client.request("HEAD", f"/v2/{BLOB_REPO}/blobs/{sha256(blob)}")
    assert head.status_code == 404
    assert head.content == b""


def test_management_delete_unknown_blob_is_404_blob_unknown(client: OciClient) -> None:
    assert client.push_blob(BLOB_REPO, b"present " + uuid.uuid4().bytes).status_code == 201
    answer = client.request("DELETE", f"/v2/{BLOB_REPO}/blobs/{unknown_digest()}")
    assert_error(answer, 404, "BLOB_UNKNOWN")


def test_management_delete_blob_a_manifest_uses_is_409_denied(client: OciClient) -> None:
    """Hangar's interpretation (0017): a blob a manifest of the repository names stays; delete that first."""
    _, layer, manifest = client.push_image(BLOB_REPO, "in-use", note="referenced " + uuid.uuid4().hex)
    error = assert_error(client.request("DELETE", f"/v2/{BLOB_REPO}/blobs/{sha256(layer)}"), 409, "DENIED")
    assert error["detail"]["reason"] == "BLOB_REFERENCED", error
    assert sha256(manifest) in error["detail"]["manifests"], error
    pulled = client.request("GET", f"/v2/{BLOB_REPO}/blobs/{sha256(layer)}", follow_redirects=True)
    assert pulled.status_code == 200
    assert pulled.content == layer


def test_management_delete_blob_needs_the_delete_action(hangar: Hangar, client: OciClient) -> None:
    """A token granting pull and push but not delete: 401 insufficient_scope, asking for delete."""
    blob = b"guarded blob " + uuid.uuid4().bytes
    assert client.push_blob(BLOB_REPO, blob).status_code == 201
    token = client.fetch_token(f"{hangar.url}/token", "hangar", [f"repository:{BLOB_REPO}:pull,push"])
    answer = httpx.delete(
        f"{hangar.url}/v2/{BLOB_REPO}/blobs/{sha256(blob)}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert_error(answer, 401, "UNAUTHORIZED")
    challenge = parse_challenge(answer.headers["WWW-Authenticate"])
    assert challenge["scope"] == f"repository:{BLOB_REPO}:delete"
    assert challenge.get("error") == "insufficient_scope"
    assert client.request("HEAD", f"/v2/{BLOB_REPO}/blobs/{sha256(blob)}").status_code == 200


@pytest.mark.parametrize("digest", ["sha256:1234", "md5:" + "0" * 32, "latest"])
def test_management_delete_blob_with_a_malformed_digest_is_400(client: OciClient, digest: str) -> None:
    assert_error(client.request("DELETE", f"/v2/{BLOB_REPO}/blobs/{digest}"), 400, "DIGEST_INVALID")


def test_management_blob_deleted_from_one_repository_is_still_served_from_another(client: OciClient) -> None:
    """Storage is content-addressed, links are per repository: deleting A's link leaves B's."""
    first, second = f"{BLOB_REPO}-a", f"{BLOB_REPO}-b"
    blob = b"shared " + uuid.uuid4().bytes
    for name in (first, second):
        assert client.push_blob(name, blob).status_code == 201
    assert client.request("DELETE", f"/v2/{first}/blobs/{sha256(blob)}").status_code == 202
    assert_error(client.request("GET", f"/v2/{first}/blobs/{sha256(blob)}"), 404, "BLOB_UNKNOWN")
    pulled = client.request("GET", f"/v2/{second}/blobs/{sha256(blob)}", follow_redirects=True)
    assert pulled.status_code == 200
    assert pulled.content == blob
    assert client.request("HEAD", f"/v2/{second}/blobs/{sha256(blob)}").status_code == 200
