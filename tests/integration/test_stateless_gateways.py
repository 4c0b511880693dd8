"""Stateless gateways (DESIGN §2): two gateway processes over the same services (PostgreSQL, the machine's
NATS) serve one chunked blob upload, its chunks alternating between them, then either serves the blob.

The upload session lives in the blobstore, so the URL one replica hands out works on the other; a chunk at
the wrong offset is refused (416) by whichever replica receives it; one access token (and the raw key)
works on both, since the replicas share the token signing key.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

import httpx
import pytest
from hangar_harness import SERVICES, Distributed

from hangar.gateway.clients.identity import IdentityClient
from hangar.gateway.clients.keys import KeysClient
from hangar.kit import testing
from hangar.kit.grpcio import channel

pytestmark = [pytest.mark.postgres, pytest.mark.nats]

REPOSITORY: Final = "acme/stateless"
MIB: Final = 1024 * 1024
#: Uneven chunk sizes (7 chunks, a little over 6 MiB): boundaries fall anywhere, not on round numbers.
CHUNKS: Final = (MIB + 17, 900_000, MIB, 1_500_000, 333_333, MIB + 4096, 777_777)


@contextlib.asynccontextmanager
async def databases() -> AsyncIterator[dict[str, str]]:
    async with contextlib.AsyncExitStack() as stack:
        yield {
            s: await stack.enter_async_context(testing.postgres_database(f"hangar_sg_{s}")) for s in SERVICES
        }


@dataclasses.dataclass(frozen=True)
class Key:
    """An API key, kept out of reprs (pytest shows a failing function's arguments)."""

    secret: str = dataclasses.field(repr=False)


def pieces(data: bytes) -> list[tuple[int, bytes]]:
    """`data` cut at the CHUNKS boundaries: (offset, chunk) pairs covering it exactly."""
    out, offset = [], 0
    for size in CHUNKS:
        out.append((offset, data[offset : offset + size]))
        offset += size
    assert offset == len(data)
    return out


async def test_a_chunked_upload_alternating_between_two_gateways_is_served_by_both(tmp_path: Path) -> None:
    async with databases() as urls:
        cluster = Distributed(
            tmp_path,
            urls,
            nats_url=testing.SHARED_NATS_URL,
            stream=testing.unique_name("HANGARSG"),
            prefix=testing.unique_name("hangarsg"),
        )
        try:
            await asyncio.to_thread(cluster.migrate)
            await asyncio.to_thread(cluster.start_services)
            async with channel(cluster.addresses["identity"]) as ic, channel(cluster.addresses["keys"]) as kc:
                created = await IdentityClient(ic).create_org("acme", "Acme", "owner@acme.test", "Owner")
                issued = await KeysClient(kc).issue_personal_key(
                    "acme", created.owner_user_id, "ci", ["registry"]
                )
            key = Key(issued.secret)
            urls_ab = [await asyncio.to_thread(cluster.start_gateway, f"gateway-{r}") for r in ("a", "b")]
            async with (
                httpx.AsyncClient(base_url=urls_ab[0], timeout=30) as a,
                httpx.AsyncClient(base_url=urls_ab[1], timeout=30) as b,
            ):
                await chunked_upload_across(a, b, key)
        except BaseException:
            print(cluster.logs())
            raise
        finally:
            codes = await asyncio.to_thread(cluster.close)
            await cluster.delete_stream()
        assert all(code == 0 for code in codes.values()), codes


async def chunked_upload_across(a: httpx.AsyncClient, b: httpx.AsyncClient, key: Key) -> None:
    # one access token, minted by A, is honoured by B too (the replicas share the signing key)
    minted = await a.get(
        "/token",
        params={"service": "hangar", "scope": f"repository:{REPOSITORY}:pull,push"},
        auth=("$oauthtoken", key.secret),
    )
    assert minted.status_code == 200, minted.text
    auth = {"Authorization": f"Bearer {minted.json()['token']}"}
    blob = os.urandom(sum(CHUNKS))
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    assert len(blob) > 6 * MIB

    started = await a.post(f"/v2/{REPOSITORY}/blobs/uploads/", headers=auth)
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    upload_id = started.headers["Docker-Upload-UUID"]
    assert location.startswith(f"/v2/{REPOSITORY}/blobs/uploads/"), location

    gateways = (a, b)
    for number, (offset, chunk) in enumerate(pieces(blob)):
        here, there = gateways[number % 2], gateways[(number + 1) % 2]
        end = offset + len(chunk) - 1
        patched = await here.patch(
            location,
            content=chunk,
            headers={
                **auth,
                "Content-Range": f"{offset}-{end}",
                "Content-Type": "application/octet-stream",
            },
        )
        assert patched.status_code == 202, (number, patched.text)
        assert patched.headers["Range"] == f"0-{end}"
        assert patched.headers["Docker-Upload-UUID"] == upload_id
        location = patched.headers["Location"]
        # the other replica knows how far the upload got
        for gateway in (there, here):
            status = await gateway.get(location, headers=auth)
            assert status.status_code == 204, status.text
            assert status.headers["Range"] == f"0-{end}"
            assert status.headers["Docker-Upload-UUID"] == upload_id

        if number == 2:
            # a chunk that does not start where the upload ends is refused by either replica, and changes
            # nothing: the 416 tells where to resume
            for gateway, start in ((there, end + 1 + 4096), (here, offset)):
                wrong = await gateway.patch(
                    location,
                    content=b"x" * 1024,
                    headers={
                        **auth,
                        "Content-Range": f"{start}-{start + 1023}",
                        "Content-Type": "application/octet-stream",
                    },
                )
                assert wrong.status_code == 416, wrong.text
                assert wrong.headers["Range"] == f"0-{end}"
                assert wrong.headers["Location"] == location
                error = wrong.json()["errors"][0]  # the spec's code; Docker's as the reason (decision 0020)
                assert (error["code"], error["detail"]["reason"]) == ("BLOB_UPLOAD_INVALID", "RANGE_INVALID")
            unchanged = await a.get(location, headers=auth)
            assert unchanged.status_code == 204 and unchanged.headers["Range"] == f"0-{end}"

    closed = await b.put(location, params={"digest": digest}, headers=auth)
    assert closed.status_code == 201, closed.text
    assert closed.headers["Docker-Content-Digest"] == digest
    assert closed.headers["Location"] == f"/v2/{REPOSITORY}/blobs/{digest}"
    for gateway in (a, b):
        gone = await gateway.get(location, headers=auth)
        assert gone.status_code == 404, gone.text
        assert gone.json()["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN"

    # either replica serves the blob: A with the access token, B with the raw key
    for gateway, credentials in ((a, auth), (b, {"Authorization": f"Bearer {key.secret}"})):
        head = await gateway.head(f"/v2/{REPOSITORY}/blobs/{digest}", headers=credentials)
        assert head.status_code == 200, head.status_code
        assert int(head.headers["Content-Length"]) == len(blob)
        pulled = await gateway.get(f"/v2/{REPOSITORY}/blobs/{digest}", headers=credentials)
        assert pulled.status_code == 200, pulled.text[:200]
        assert pulled.headers["Docker-Content-Digest"] == digest
        assert hashlib.sha256(pulled.content).hexdigest() == digest.removeprefix("sha256:")
        assert pulled.content == blob
