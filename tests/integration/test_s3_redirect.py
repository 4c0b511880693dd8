"""Blob GETs redirected to presigned S3 URLs: `hangar up` on moto's S3 with HANGAR_S3_REDIRECT=true, skopeo
pushing and pulling through the redirect, and raw HTTP checking what the gateway answers."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import grpc
import httpx
import pytest
from hangar_harness import (
    Hangar,
    layout_blobs,
    layout_manifest_digest,
    make_oci_layout,
    skopeo,
    skopeo_available,
)
from moto.server import ThreadedMotoServer

from hangar.api.blobstore.v1 import blobstore_pb2, blobstore_pb2_grpc
from hangar.kit.grpcio import ERROR_CODE_KEY

pytestmark = pytest.mark.skipif(not skopeo_available(), reason="skopeo is installed by `make test`")

REGION = "us-east-1"
REPO = "demo/redirected"


@pytest.fixture(scope="module")
def s3() -> Iterator[tuple[str, Any, str]]:
    """moto's S3 on a free loopback port: its URL, a boto3 client and an empty bucket."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bucket = f"hangar-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    try:
        yield endpoint, client, bucket
    finally:
        server.stop()


@pytest.fixture(scope="module")
def hangar(tmp_path_factory: pytest.TempPathFactory, s3: tuple[str, Any, str]) -> Iterator[Hangar]:
    endpoint, _, bucket = s3
    instance = Hangar(
        tmp_path_factory.mktemp("hangar-s3"),
        env={
            "HANGAR_STORAGE": "s3",
            "HANGAR_S3_BUCKET": bucket,
            "HANGAR_S3_PREFIX": "registry",
            "HANGAR_S3_ENDPOINT_URL": endpoint,
            "HANGAR_S3_REGION": REGION,
            "HANGAR_S3_ACCESS_KEY_ID": "testing",
            "HANGAR_S3_SECRET_ACCESS_KEY": "testing",
            "HANGAR_S3_REDIRECT": "true",
        },
    )
    instance.start()
    try:
        yield instance
    finally:
        code = instance.stop()
        assert code == 0, f"hangar up did not stop cleanly ({code}):\n{instance.logs()}"


@pytest.fixture(scope="module")
def pushed(hangar: Hangar, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """An image of three layers pushed with skopeo; its layout and manifest digest."""
    work = tmp_path_factory.mktemp("push")
    layout = work / "src"
    digest = make_oci_layout(
        layout,
        "1",
        [
            {"hello.txt": b"hello from s3\n"},
            {"bin/data": os.urandom(600_000)},
            {"etc/config": json.dumps({"redirect": True}).encode()},
        ],
    )
    result = skopeo(
        work,
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--dest-creds",
        f"$oauthtoken:{hangar.key}",
        f"oci:{layout}:1",
        f"docker://{hangar.registry}/{REPO}:1",
    )
    assert result.returncode == 0, f"push failed:\n{result.stderr}\n{hangar.logs()}"
    return layout, digest


def token(hangar: Hangar, scope: str) -> str:
    basic = base64.b64encode(f"$oauthtoken:{hangar.key}".encode()).decode()
    response = httpx.get(
        f"{hangar.url}/token",
        params={"service": "hangar", "scope": scope},
        headers={"Authorization": f"Basic {basic}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def largest_layer(layout: Path) -> tuple[str, bytes]:
    name, data = max(layout_blobs(layout).items(), key=lambda item: len(item[1]))
    return f"sha256:{name}", data


def test_a_blob_get_is_a_307_to_the_blobs_own_object_in_s3(
    hangar: Hangar, pushed: tuple[Path, str], s3: tuple[str, Any, str]
) -> None:
    endpoint, client, bucket = s3
    digest, data = largest_layer(pushed[0])
    auth = {"Authorization": f"Bearer {token(hangar, f'repository:{REPO}:pull')}"}
    url = f"{hangar.url}/v2/{REPO}/blobs/{digest}"

    with httpx.Client(timeout=30, follow_redirects=False) as http:
        answer = http.get(url, headers=auth)
        head = http.head(url, headers=auth)
        ranged = http.get(url, headers={**auth, "Range": "bytes=1000-1999"})
        anonymous = http.get(url)

    assert answer.status_code == 307, answer.text
    assert answer.headers["Docker-Content-Digest"] == digest
    location = urllib.parse.urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}" == endpoint
    hex_ = digest.removeprefix("sha256:")
    key = f"registry/blobs/sha256/{hex_[:2]}/{hex_}"
    assert location.path == f"/{bucket}/{key}"
    assert client.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(data)
    assert head.status_code == 200 and "Location" not in head.headers  # HEAD is answered by the gateway
    assert head.headers["Content-Length"] == str(len(data))
    assert ranged.status_code == 307
    assert anonymous.status_code == 401 and "Location" not in anonymous.headers

    # the client follows: the whole blob, and the Range it re-sends, straight from S3
    whole = httpx.get(answer.headers["Location"], timeout=30)
    part = httpx.get(ranged.headers["Location"], headers={"Range": "bytes=1000-1999"}, timeout=30)
    assert whole.status_code == 200 and whole.content == data
    assert part.status_code == 206 and part.content == data[1000:2000]

    signature = urllib.parse.parse_qs(location.query)["X-Amz-Signature"][0]
    assert signature not in hangar.logs()  # the capability is in no process's log


def test_skopeo_pulls_through_the_redirect_byte_identically(
    hangar: Hangar, pushed: tuple[Path, str], tmp_path: Path
) -> None:
    layout, digest = pushed
    dest = tmp_path / "pulled"
    result = skopeo(
        tmp_path,
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-creds",
        f"$oauthtoken:{hangar.key}",
        f"docker://{hangar.registry}/{REPO}:1",
        f"oci:{dest}:1",
    )
    assert result.returncode == 0, f"pull failed:\n{result.stderr}\n{hangar.logs()}"
    assert layout_manifest_digest(dest) == digest
    assert layout_blobs(dest) == layout_blobs(layout)


def test_presigning_an_unknown_blob_is_not_found_and_changes_nothing(
    hangar: Hangar, pushed: tuple[Path, str], s3: tuple[str, Any, str]
) -> None:
    _, client, bucket = s3
    before = sorted(item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", []))

    async def presign(digest: str) -> grpc.aio.AioRpcError | blobstore_pb2.PresignBlobResponse:
        async with grpc.aio.insecure_channel(hangar.grpc_address("blobstore")) as channel:
            stub = blobstore_pb2_grpc.BlobstoreServiceStub(channel)
            try:
                return await stub.PresignBlob(blobstore_pb2.PresignBlobRequest(digest=digest), timeout=30)
            except grpc.aio.AioRpcError as error:
                return error

    unknown = asyncio.run(presign(f"sha256:{'0' * 64}"))
    known = asyncio.run(presign(largest_layer(pushed[0])[0]))

    assert isinstance(unknown, grpc.aio.AioRpcError)
    assert unknown.code() == grpc.StatusCode.NOT_FOUND
    assert dict(unknown.trailing_metadata() or ()).get(ERROR_CODE_KEY) == "BLOB_UNKNOWN"
    assert isinstance(known, blobstore_pb2.PresignBlobResponse) and known.expires_in_seconds == 20 * 60
    after = sorted(item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", []))
    assert after == before
