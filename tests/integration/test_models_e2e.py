"""Models and resources end to end (DESIGN §3): the services and a gateway as separate processes on
PostgreSQL and the machine's NATS, driven over real HTTP, by oras-py, and by hand-made requests.

- A model of several files, one of 512 MiB uploaded in 64 MiB pieces (generated and hashed on the fly, never
  held whole), survives its gateway being killed mid-piece: a new gateway process reports the offset that
  arrived, the upload resumes there, commits, downloads in Range pieces with the same sha256, and oras-py
  pulls the same files. An oras-py push of a model becomes a version over REST.
- Who may do what, per kind, and bad input, over real HTTP.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import http.client
import json
import random
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import oras.provider
import pytest
import pytest_asyncio
import requests
from hangar_harness import SERVICES, Distributed

from hangar.gateway.clients.identity import IdentityClient
from hangar.gateway.clients.keys import KeysClient
from hangar.kit import testing
from hangar.kit.grpcio import channel

pytestmark = [pytest.mark.postgres, pytest.mark.nats, pytest.mark.asyncio(loop_scope="module")]

MIB: Final = 1024 * 1024
BIG: Final = 512 * MIB
PIECE: Final = 64 * MIB
ORG: Final = "acme"
API: Final = "/api/v1"
MODEL_ARTIFACT_TYPE: Final = "application/vnd.hangar.model.v1+json"
MODEL_CONFIG_TYPE: Final = "application/vnd.hangar.model.config.v1+json"
HELM_CONFIG_TYPE: Final = "application/vnd.cncf.helm.config.v1+json"
OCI_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"
TITLE: Final = "org.opencontainers.image.title"
#: user -> (roles, team)
USERS: Final = {
    "reader": (["REGISTRY_READ"], ""),
    "user": (["REGISTRY_USER"], ""),
    "admin": (["REGISTRY_ADMIN", "REGISTRY_READ"], ""),
    "useradmin": (["USER_ADMIN"], ""),
    "teamuser": (["REGISTRY_USER"], "vision"),
}


@dataclasses.dataclass
class Cluster:
    hangar: Distributed
    #: name -> API key (owner, reader, user, admin, useradmin, teamuser); never shown in a repr
    keys: dict[str, str] = dataclasses.field(repr=False)
    url: str = ""

    def auth(self, who: str = "owner") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def http(self, timeout: float = 120) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=timeout)

    @property
    def host(self) -> str:
        return self.url.removeprefix("http://")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    root = tmp_path_factory.mktemp("models")
    async with contextlib.AsyncExitStack() as stack:
        urls = {
            s: await stack.enter_async_context(testing.postgres_database(f"hangar_me_{s}")) for s in SERVICES
        }
        hangar = Distributed(
            root,
            urls,
            nats_url=testing.SHARED_NATS_URL,
            stream=testing.unique_name("HANGARME"),
            prefix=testing.unique_name("hangarme"),
        )
        try:
            hangar.migrate()
            hangar.start_services()
            keys: dict[str, str] = {}
            async with channel(hangar.addresses["identity"]) as ic, channel(hangar.addresses["keys"]) as kc:
                identity, keys_client = IdentityClient(ic), KeysClient(kc)
                created = await identity.create_org(ORG, "Acme", "owner@acme.test", "Owner")
                await identity.create_team(ORG, "vision")
                users = {"owner": created.owner_user_id}
                for name, (roles, team) in USERS.items():
                    user = await identity.add_user(ORG, f"{name}@acme.test", name, roles, team=team)
                    users[name] = user.user_id
                for name, user_id in users.items():
                    keys[name] = (
                        await keys_client.issue_personal_key(ORG, user_id, "e2e", ["registry"])
                    ).secret
            result = Cluster(hangar, keys)
            result.url = hangar.start_gateway("gateway-1")
            yield result
        except BaseException:
            print(hangar.logs())
            raise
        finally:
            codes = hangar.close()
            await hangar.delete_stream()
            # the gateway killed on purpose exits by SIGKILL; every other process stops cleanly
            assert all(code == 0 for name, code in codes.items() if name != "gateway-1"), codes


# -- deterministic content, generated and hashed on the fly -------------------------------------------------


def block(index: int) -> bytes:
    """The `index`-th MiB of the big file: pseudo-random, the same on every run."""
    return random.Random(index).randbytes(MIB)


def content(start: int, end: int) -> Iterator[bytes]:
    """Bytes `start` to `end` (exclusive) of the big file, a MiB block at a time."""
    position = start
    while position < end:
        index, offset = divmod(position, MIB)
        piece = block(index)[offset : offset + min(MIB - offset, end - position)]
        yield piece
        position += len(piece)


def big_sha256() -> str:
    hasher = hashlib.sha256()
    for chunk in content(0, BIG):
        hasher.update(chunk)
    return hasher.hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def model_url(name: str, rest: str = "", *, team: str = "", collection: str = "models") -> str:
    scope = f"{API}/orgs/{ORG}" + (f"/teams/{team}" if team else "")
    return f"{scope}/{collection}/{name}{rest}"


# -- a big model through a gateway restart ------------------------------------------------------------------


async def test_a_512_mib_model_upload_resumes_on_a_new_gateway_and_round_trips(
    cluster: Cluster, tmp_path: Path
) -> None:
    small = {"config.json": b'{"hidden": 4096}', "tokenizer.txt": b"a b c\n" * 1000}
    expected = big_sha256()
    async with cluster.http() as client:
        created = await client.post(
            model_url("llm", "/versions"),
            json={"version": "1.0.0", "metadata": {"description": "a large model", "epochs": 3}},
            headers=cluster.auth(),
        )
        assert created.status_code == 201, created.text
        version_url = model_url("llm", "/versions/1.0.0")
        for path, data in small.items():
            put = await client.put(
                f"{version_url}/files/{path}",
                content=data,
                headers={**cluster.auth(), "X-Checksum-Sha256": sha256(data)},
            )
            assert put.status_code == 201, put.text
        big_url = f"{version_url}/files/weights.bin"
        for start in range(0, 3 * PIECE, PIECE):
            answer = await put_piece(client, cluster, big_url, start, start + PIECE)
            assert answer.status_code == 202, answer.text
            assert answer.headers["upload-offset"] == str(start + PIECE)

    # the fourth piece breaks off: its gateway is killed while the piece streams in
    await kill_mid_piece(cluster, big_url, 3 * PIECE)
    cluster.url = cluster.hangar.start_gateway("gateway-2")

    async with cluster.http() as client:
        head = await client.head(big_url, headers=cluster.auth())
        assert head.status_code == 200 and head.headers["x-upload-status"] == "UPLOADING"
        offset = int(head.headers["upload-offset"])
        assert 3 * PIECE <= offset < 4 * PIECE, offset
        position = offset
        while position < BIG:  # resume where the bytes stop, in pieces ending on the 64 MiB boundaries
            end = min((position // PIECE + 1) * PIECE, BIG)
            digest = expected if end == BIG else None
            answer = await put_piece(client, cluster, big_url, position, end, digest=digest)
            assert answer.status_code == (201 if end == BIG else 202), answer.text
            position = end
        assert answer.json()["digest"] == f"sha256:{expected}"

        committed = await client.post(f"{version_url}/commit", headers=cluster.auth())
        assert committed.status_code == 200, committed.text
        version = committed.json()
        assert version["status"] == "UPLOAD_COMPLETE" and version["manifest_digest"].startswith("sha256:")
        assert {f["path"]: f["size"] for f in version["files"]} == {
            "config.json": len(small["config.json"]),
            "tokenizer.txt": len(small["tokenizer.txt"]),
            "weights.bin": BIG,
        }

        # downloaded in Range pieces by a reader, hashed as it arrives
        hasher = hashlib.sha256()
        for start in range(0, BIG, PIECE):
            headers = {**cluster.auth("reader"), "Range": f"bytes={start}-{start + PIECE - 1}"}
            async with client.stream("GET", big_url, headers=headers) as ranged:
                assert ranged.status_code == 206
                assert ranged.headers["content-range"] == f"bytes {start}-{start + PIECE - 1}/{BIG}"
                async for chunk in ranged.aiter_bytes():
                    hasher.update(chunk)
        assert hasher.hexdigest() == expected
        listed = await client.get(model_url("llm"), headers=cluster.auth("reader"))
        assert listed.json()["latest_version"] == "1.0.0" and listed.json()["size"] >= BIG

    # oras-py pulls the same files from /v2
    puller = oras.provider.Registry(hostname=cluster.host, insecure=True)
    pulled = puller.pull(
        target=f"{cluster.host}/{ORG}/llm:1.0.0",
        outdir=str(tmp_path / "pulled"),
        config_path=str(docker_config(cluster, tmp_path, "reader")),
    )
    by_name = {Path(p).name: Path(p) for p in pulled}
    assert sorted(by_name) == ["config.json", "tokenizer.txt", "weights.bin"]
    for path, data in small.items():
        assert by_name[path].read_bytes() == data
    hasher = hashlib.sha256()
    with by_name["weights.bin"].open("rb") as pulled_file:
        for chunk in iter(lambda: pulled_file.read(4 * MIB), b""):
            hasher.update(chunk)
    assert hasher.hexdigest() == expected
    by_name["weights.bin"].unlink()


async def put_piece(
    client: httpx.AsyncClient, cluster: Cluster, url: str, start: int, end: int, *, digest: str | None = None
) -> httpx.Response:
    async def body() -> AsyncIterator[bytes]:
        for chunk in content(start, end):
            yield chunk

    headers = {
        **cluster.auth(),
        "Content-Range": f"bytes {start}-{end - 1}/{BIG}",
        "Content-Length": str(end - start),
    }
    if digest:
        headers["X-Checksum-Sha256"] = digest
    return await client.put(url, content=body(), headers=headers)


async def kill_mid_piece(cluster: Cluster, url: str, start: int) -> None:
    """Send a piece and SIGKILL the gateway once 16 MiB of it have gone out."""
    gateway = cluster.hangar.processes["gateway-1"].proc

    async def body() -> AsyncIterator[bytes]:
        sent = 0
        for chunk in content(start, start + PIECE):
            yield chunk
            sent += len(chunk)
            if sent == 16 * MIB:
                gateway.kill()
                gateway.wait(30)

    headers = {**cluster.auth(), "Content-Range": f"bytes {start}-{start + PIECE - 1}/{BIG}"}
    headers["Content-Length"] = str(PIECE)
    async with cluster.http(timeout=30) as client:
        with pytest.raises(httpx.TransportError):
            await client.put(url, content=body(), headers=headers)
    assert gateway.returncode is not None


# -- oras-py ------------------------------------------------------------------------------------------------


class ModelPusher(oras.provider.Registry):  # type: ignore[misc]
    """oras-py, setting the manifest's artifactType (its push has no parameter for it)."""

    def upload_manifest(self, manifest: dict[str, Any], container: Any) -> requests.Response:
        manifest["artifactType"] = MODEL_ARTIFACT_TYPE
        return super().upload_manifest(manifest, container)


def docker_config(cluster: Cluster, work: Path, who: str = "owner") -> Path:
    path = work / f"docker-config-{who}.json"
    secret = base64.b64encode(f"$oauthtoken:{cluster.keys[who]}".encode()).decode()
    path.write_text(json.dumps({"auths": {cluster.host: {"auth": secret}}}))
    path.chmod(0o600)
    return path


async def test_an_oras_push_of_a_model_becomes_a_version(cluster: Cluster, tmp_path: Path) -> None:
    files = {"model.onnx": b"\x08\x01onnx" * 5000, "README.md": b"# pushed with oras\n"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "config.json").write_text(json.dumps({"description": "pushed by oras", "epochs": 7}))
    pusher = ModelPusher(hostname=cluster.host, insecure=True, auth_backend="basic")
    pushed = pusher.push(
        target=f"{cluster.host}/{ORG}/vision/pushed:2.1.0",
        files=[str(tmp_path / name) for name in files],
        manifest_config=f"{tmp_path / 'config.json'}:application/json",
        config_path=str(docker_config(cluster, tmp_path)),
        disable_path_validation=True,
        quiet=True,
    )
    assert pushed.status_code == 201, pushed.text
    async with cluster.http() as client:
        version = await client.get(
            model_url("pushed", "/versions/2.1.0", team="vision"), headers=cluster.auth("teamuser")
        )
        assert version.status_code == 200, version.text
        body = version.json()
        assert (
            body["status"] == "UPLOAD_COMPLETE"
            and body["manifest_digest"] == pushed.headers["Docker-Content-Digest"]
        )
        assert body["metadata"]["description"] == "pushed by oras" and body["metadata"]["epochs"] == 7
        assert {f["path"]: f["digest"] for f in body["files"]} == {
            n: f"sha256:{sha256(d)}" for n, d in files.items()
        }
        for name, data in files.items():
            got = await client.get(
                model_url("pushed", f"/versions/2.1.0/files/{name}", team="vision"),
                headers=cluster.auth("teamuser"),
            )
            assert got.status_code == 200 and got.content == data
        archive = await client.get(
            model_url("pushed", "/versions/2.1.0/archive", team="vision"), headers=cluster.auth("teamuser")
        )
        assert archive.status_code == 200 and int(archive.headers["content-length"]) == len(archive.content)
        # invisible to an org-level reader: team content
        hidden = await client.get(model_url("pushed", team="vision"), headers=cluster.auth("reader"))
        assert hidden.status_code == 404


# -- who may do what, per kind ------------------------------------------------------------------------------


async def seed_kinds(client: httpx.AsyncClient, cluster: Cluster) -> None:
    """acme/m-<kind> for model and resource (version 1.0 committed, 2.0 pending) and acme/m-chart (a Helm
    chart pushed over /v2)."""
    for collection in ("models", "resources"):
        name = f"m-{collection.rstrip('s')}"
        for version in ("1.0", "2.0"):
            made = await client.post(
                model_url(name, "/versions", collection=collection),
                json={"version": version},
                headers=cluster.auth(),
            )
            assert made.status_code == 201, made.text
        url = model_url(name, "/versions/1.0", collection=collection)
        put = await client.put(
            f"{url}/files/f.txt",
            content=b"payload",
            headers={**cluster.auth(), "X-Checksum-Sha256": sha256(b"payload")},
        )
        assert put.status_code == 201, put.text
        assert (await client.post(f"{url}/commit", headers=cluster.auth())).status_code == 200
    # a chart, pushed as Helm does: a Helm config and the chart archive as the layer
    config = json.dumps({"name": "m-chart", "version": "1.0.0", "apiVersion": "v2"}).encode()
    chart = b"\x1f\x8b fake chart archive"
    token = await access_token(client, cluster, f"repository:{ORG}/m-chart:pull,push")
    descriptors = []
    for data, media_type in (
        (config, HELM_CONFIG_TYPE),
        (chart, "application/vnd.cncf.helm.chart.content.v1.tar+gzip"),
    ):
        digest = f"sha256:{sha256(data)}"
        uploaded = await client.post(
            f"/v2/{ORG}/m-chart/blobs/uploads/?digest={digest}", content=data, headers=token
        )
        assert uploaded.status_code == 201, uploaded.text
        descriptors.append({"mediaType": media_type, "digest": digest, "size": len(data)})
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptors[0],
        "layers": [{**descriptors[1], "annotations": {TITLE: "f.txt"}}],
    }
    pushed = await client.put(
        f"/v2/{ORG}/m-chart/manifests/1.0.0",
        content=json.dumps(manifest).encode(),
        headers={**token, "Content-Type": OCI_MANIFEST},
    )
    assert pushed.status_code == 201, pushed.text


async def access_token(client: httpx.AsyncClient, cluster: Cluster, scope: str) -> dict[str, str]:
    minted = await client.get(
        "/token", params={"service": "hangar", "scope": scope}, auth=("$oauthtoken", cluster.keys["owner"])
    )
    assert minted.status_code == 200, minted.text
    return {"Authorization": f"Bearer {minted.json()['token']}"}


#: who -> (download, upload/edit, delete) on the org's own repositories; everyone here may list them
ROWS: Final = {
    "reader": (True, False, False),
    "user": (True, True, False),
    "admin": (True, True, True),
    "useradmin": (False, False, False),
    "teamuser": None,  # no role at org level: the org's repositories are not there for them
}


async def test_who_may_do_what_per_kind_over_http(cluster: Cluster) -> None:
    async with cluster.http() as client:
        await seed_kinds(client, cluster)
        kinds = {
            "models": ("m-model", "1.0"),
            "resources": ("m-resource", "1.0"),
            "charts": ("m-chart", "1.0.0"),
        }
        results = []
        for who, row in ROWS.items():
            for collection, (name, version) in kinds.items():
                auth = cluster.auth(who)
                shown = await client.get(model_url(name, collection=collection), headers=auth)
                file = await client.get(
                    model_url(name, f"/versions/{version}/files/f.txt", collection=collection), headers=auth
                )
                patch = await client.patch(
                    model_url(name, collection=collection), json={"description": who}, headers=auth
                )
                results.append((who, collection, shown.status_code, file.status_code, patch.status_code))
                if row is None:
                    assert (shown.status_code, file.status_code, patch.status_code) == (404, 404, 404), (
                        results[-1]
                    )
                    continue
                download, write, delete = row
                assert shown.status_code == 200, results[-1]
                assert shown.json()["permission"] == (
                    "admin" if delete else "write" if write else "read" if download else "view"
                )
                assert file.status_code == (200 if download else 403), results[-1]
                assert patch.status_code == (200 if write else 403), results[-1]
                if collection != "charts":
                    upload = await client.put(
                        model_url(name, "/versions/2.0/files/" + who, collection=collection),
                        content=b"x",
                        headers={**auth, "X-Checksum-Sha256": sha256(b"x")},
                    )
                    assert upload.status_code == (201 if write else 403), (who, collection, upload.text)
        # deletes last: REGISTRY_ADMIN only
        for collection, (name, _) in kinds.items():
            if collection == "charts":
                continue
            refused = await client.delete(
                model_url(name, "/versions/2.0", collection=collection), headers=cluster.auth("user")
            )
            assert refused.status_code == 403
            deleted = await client.delete(
                model_url(name, "/versions/2.0", collection=collection), headers=cluster.auth("admin")
            )
            assert deleted.status_code == 204, deleted.text
        # the org listing: each caller sees what they may, with their permission
        rows = await client.get(f"{API}/orgs/{ORG}/repositories", headers=cluster.auth("reader"))
        names = {r["name"]: r["permission"] for r in rows.json()["items"]}
        assert {"acme/m-model", "acme/m-resource", "acme/m-chart"} <= set(names) and set(names.values()) == {
            "read"
        }
        assert not any(name.startswith("acme/vision/") for name in names)
        team_rows = await client.get(f"{API}/orgs/{ORG}/repositories", headers=cluster.auth("teamuser"))
        assert all(r["name"].startswith("acme/vision/") for r in team_rows.json()["items"])
        models = await client.get(
            f"{API}/orgs/{ORG}/repositories", params={"kind": "model"}, headers=cluster.auth("owner")
        )
        assert {r["kind"] for r in models.json()["items"]} == {"model"}


# -- bad input over real HTTP -------------------------------------------------------------------------------


def raw_put(cluster: Cluster, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """A PUT whose path is sent exactly as given (HTTP clients normalize `..` away)."""
    parsed = urllib.parse.urlsplit(cluster.url)
    connection = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=30)
    try:
        connection.request("PUT", path, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


async def test_bad_input_gets_clear_errors_and_leaves_nothing_half_written(cluster: Cluster) -> None:
    async with cluster.http() as client:
        made = await client.post(
            model_url("bad", "/versions"), json={"version": "1.0"}, headers=cluster.auth()
        )
        assert made.status_code == 201, made.text
        url = model_url("bad", "/versions/1.0")
        checksum = {**cluster.auth(), "X-Checksum-Sha256": sha256(b"data")}
        for path in ("../x", "../../etc/passwd", "/etc/passwd", "%2e%2e/x", "a/./b", "a//b", "a/%2E%2E/b"):
            status, body = raw_put(cluster, f"{url}/files/{path}", b"data", checksum)
            assert (status, body["error"]["code"]) == (400, "PATH_INVALID"), (path, status, body)
        files = (await client.get(f"{url}/files", headers=cluster.auth())).json()["items"]
        assert files == []

        mismatch = await client.put(f"{url}/files/w.bin", content=b"other", headers=checksum)
        assert mismatch.status_code == 400 and mismatch.json()["error"]["code"] == "DIGEST_MISMATCH"
        assert (await client.head(f"{url}/files/w.bin", headers=cluster.auth())).status_code == 404

        assert (await client.put(f"{url}/files/w.bin", content=b"data", headers=checksum)).status_code == 201
        duplicate = await client.put(f"{url}/files/w.bin", content=b"data", headers=checksum)
        assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "FILE_EXISTS"

        half = await client.put(
            f"{url}/files/half.bin", content=b"ha", headers={**cluster.auth(), "Content-Range": "bytes 0-1/4"}
        )
        assert half.status_code == 202
        wrong_offset = await client.put(
            f"{url}/files/half.bin", content=b"l", headers={**checksum, "Content-Range": "bytes 3-3/4"}
        )
        assert wrong_offset.status_code == 416 and wrong_offset.headers["upload-offset"] == "2"
        incomplete = await client.post(f"{url}/commit", headers=cluster.auth())
        assert incomplete.status_code == 409 and incomplete.json()["error"]["code"] == "FILES_INCOMPLETE"
        assert (await client.delete(f"{url}/files/half.bin", headers=cluster.auth())).status_code == 204
        assert (await client.post(f"{url}/commit", headers=cluster.auth())).status_code == 200
        again = await client.post(f"{url}/commit", headers=cluster.auth())
        assert again.status_code == 409 and again.json()["error"]["code"] == "VERSION_COMMITTED"

        for version in ("latest", "-bad", "a b", "x" * 200):
            refused = await client.post(
                model_url("bad", "/versions"), json={"version": version}, headers=cluster.auth()
            )
            assert refused.status_code == 400, (version, refused.text)
        listed = await client.get(
            model_url("bad", "/versions"), params={"include_pending": "true"}, headers=cluster.auth()
        )
        assert [v["version"] for v in listed.json()["items"]] == ["1.0"]
        out_of_range = await client.get(
            f"{url}/files/w.bin", headers={**cluster.auth(), "Range": "bytes=10-20"}
        )
        assert out_of_range.status_code == 416 and out_of_range.headers["content-range"] == "bytes */4"
