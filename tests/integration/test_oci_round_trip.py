"""The foundation slice end to end: skopeo pushes and pulls through the gateway with the bootstrap key."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from hangar_harness import (
    Hangar,
    http,
    layout_blobs,
    layout_manifest_digest,
    make_oci_layout,
    skopeo,
    skopeo_available,
)

pytestmark = pytest.mark.skipif(not skopeo_available(), reason="skopeo is installed by `make test`")


def push(hangar: Hangar, work: Path, layout: Path, ref: str, key: str) -> None:
    result = skopeo(
        work,
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"$oauthtoken:{key}",
        f"oci:{layout}:1",
        f"docker://{hangar.registry}/{ref}",
    )
    assert result.returncode == 0, f"push failed:\n{result.stderr}\n{hangar.logs()}"


def pull(hangar: Hangar, work: Path, ref: str, dest: Path, key: str) -> subprocess.CompletedProcess[str]:
    return skopeo(
        work,
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        f"$oauthtoken:{key}",
        f"docker://{hangar.registry}/{ref}",
        f"oci:{dest}:1",
    )


def three_layer_image(work: Path) -> tuple[Path, str]:
    layout = work / "src"
    digest = make_oci_layout(
        layout,
        "1",
        [
            {"hello.txt": b"hello from hangar\n"},
            {"bin/data": os.urandom(300_000)},
            {"etc/config": json.dumps({"n": 3}).encode()},
        ],
    )
    return layout, digest


def test_skopeo_push_then_pull_gives_back_identical_content(hangar: Hangar, work: Path) -> None:
    layout, digest = three_layer_image(work)
    push(hangar, work, layout, "demo/hello:1", hangar.key)
    dest = work / "pulled"
    result = pull(hangar, work, "demo/hello:1", dest, hangar.key)
    assert result.returncode == 0, f"pull failed:\n{result.stderr}\n{hangar.logs()}"
    assert layout_manifest_digest(dest) == digest
    assert layout_blobs(dest) == layout_blobs(layout)


def test_manifest_is_served_by_tag_and_digest_with_its_digest_header(hangar: Hangar, work: Path) -> None:
    layout, digest = three_layer_image(work)
    push(hangar, work, layout, "demo/served:1", hangar.key)
    token = bearer_token(hangar, "repository:demo/served:pull")
    accept = "application/vnd.oci.image.manifest.v1+json"
    by_tag = http(
        "GET",
        f"{hangar.url}/v2/demo/served/manifests/1",
        headers={"Authorization": f"Bearer {token}", "Accept": accept},
    )
    by_digest = http(
        "GET",
        f"{hangar.url}/v2/demo/served/manifests/{digest}",
        headers={"Authorization": f"Bearer {token}", "Accept": accept},
    )
    assert by_tag[0] == by_digest[0] == 200
    assert by_tag[2] == by_digest[2] == (layout / "blobs" / "sha256" / digest.split(":")[1]).read_bytes()
    assert by_tag[1]["Docker-Content-Digest"] == digest
    tags = http("GET", f"{hangar.url}/v2/demo/served/tags/list", headers={"Authorization": f"Bearer {token}"})
    assert json.loads(tags[2]) == {"name": "demo/served", "tags": ["1"]}


def bearer_token(hangar: Hangar, scope: str, key: str | None = None) -> str:
    basic = base64.b64encode(f"$oauthtoken:{key or hangar.key}".encode()).decode()
    status, _, body = http(
        "GET", f"{hangar.url}/token?service=hangar&scope={scope}", headers={"Authorization": f"Basic {basic}"}
    )
    assert status == 200, body
    return str(json.loads(body)["token"])


def test_no_key_gets_401_with_a_bearer_challenge(hangar: Hangar) -> None:
    status, headers, body = http("GET", f"{hangar.url}/v2/demo/hello/manifests/1")
    assert status == 401
    challenge = headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'realm="{hangar.url}/token"' in challenge
    assert 'service="hangar"' in challenge
    assert 'scope="repository:demo/hello:pull"' in challenge
    assert json.loads(body)["errors"][0]["code"] == "UNAUTHORIZED"


def test_a_wrong_key_gets_401_from_the_token_endpoint_and_from_skopeo(hangar: Hangar, work: Path) -> None:
    wrong = hangar.key[:-4] + ("AAAA" if not hangar.key.endswith("AAAA") else "BBBB")
    basic = base64.b64encode(f"$oauthtoken:{wrong}".encode()).decode()
    status, _, body = http(
        "GET",
        f"{hangar.url}/token?service=hangar&scope=repository:demo/hello:pull",
        headers={"Authorization": f"Basic {basic}"},
    )
    assert status == 401
    error = json.loads(body)["errors"][0]
    assert error["code"] == "UNAUTHORIZED" and error["message"]
    assert wrong not in body.decode()
    layout, _ = three_layer_image(work)
    result = skopeo(
        work,
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"$oauthtoken:{wrong}",
        f"oci:{layout}:1",
        f"docker://{hangar.registry}/demo/denied:1",
    )
    assert result.returncode != 0
    assert "401" in result.stderr or "unauthorized" in result.stderr.lower()


def test_an_upload_whose_bytes_do_not_match_its_digest_is_refused_and_leaves_no_blob(hangar: Hangar) -> None:
    token = bearer_token(hangar, "repository:demo/mismatch:pull,push")
    auth = {"Authorization": f"Bearer {token}"}
    content = os.urandom(4096)
    actual = "sha256:" + hashlib.sha256(content).hexdigest()
    claimed = "sha256:" + hashlib.sha256(b"something else").hexdigest()
    status, headers, _ = http("POST", f"{hangar.url}/v2/demo/mismatch/blobs/uploads/", headers=auth)
    assert status == 202
    location = headers["Location"]
    location = location if location.startswith("http") else hangar.url + location
    separator = "&" if "?" in location else "?"
    status, _, body = http(
        "PUT",
        f"{location}{separator}digest={claimed}",
        data=content,
        headers={**auth, "Content-Type": "application/octet-stream"},
    )
    assert status == 400
    assert json.loads(body)["errors"][0]["code"] == "DIGEST_INVALID"
    for digest in (claimed, actual):
        assert http("HEAD", f"{hangar.url}/v2/demo/mismatch/blobs/{digest}", headers=auth)[0] == 404
    stored = [p.name for p in (hangar.data_dir / "blobs").rglob("*") if p.is_file()]
    assert actual.split(":")[1] not in stored
    assert claimed.split(":")[1] not in stored
