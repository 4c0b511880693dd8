"""The Helm chart repository end to end, over a real `hangar up`: a chart uploaded as .tgz through REST and
another pushed over OCI with Helm's media types (as `helm push` does) are both in the org's index.yaml,
every field as Helm writes it; each downloads through its URL; the index follows new versions; team charts
stay in their team; no credential is 401."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import tarfile
import time
from typing import Any

import yaml
from hangar_client import Client, Registry, sha256
from hangar_harness import Hangar, http

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def chart_yaml(name: str, version: str, **fields: Any) -> bytes:
    return yaml.safe_dump({"apiVersion": "v2", "name": name, "version": version, **fields}).encode()


def chart_tgz(name: str, version: str, **fields: Any) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for path, content in (
            (f"{name}/Chart.yaml", chart_yaml(name, version, **fields)),
            (f"{name}/values.yaml", b"replicas: 1\n"),
            (f"{name}/templates/x.yaml", b"apiVersion: v1\nkind: ConfigMap\n"),
        ):
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(content), 0o644, 0
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


def unpack_chart_yaml(archive: bytes, name: str) -> dict[str, Any]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        member = tar.extractfile(f"{name}/Chart.yaml")
        assert member is not None
        return dict(yaml.safe_load(member.read()))


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"$oauthtoken:{key}".encode()).decode()}


def upload(client: Client, key: str, namespace: str, archive: bytes) -> tuple[int, Any]:
    org, _, team = namespace.partition("/")
    path = f"/orgs/{org}/teams/{team}/charts" if team else f"/orgs/{org}/charts"
    answer = client.api("POST", path, token=key, raw=archive, content_type="application/gzip")
    return answer.status, answer.json


def helm_push(
    registry: Registry, namespace: str, name: str, version: str, archive: bytes, **fields: Any
) -> None:
    """What `helm push chart.tgz oci://host/<namespace>` sends: config and chart blobs, then the manifest
    tagged with the version."""
    config = json.dumps({"name": name, "version": version, "apiVersion": "v2", **fields}).encode()
    repository = f"{namespace}/{name}"
    for blob in (config, archive):
        answer = registry.push_blob(repository, blob)
        assert answer.status == 201, answer.shown()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": HELM_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [{"mediaType": HELM_CHART, "digest": sha256(archive), "size": len(archive)}],
            "annotations": {
                "org.opencontainers.image.title": name,
                "org.opencontainers.image.version": version,
            },
        }
    ).encode()
    answer = registry.push_manifest(repository, version, manifest)
    assert answer.status == 201, answer.shown()


def index(hangar: Hangar, namespace: str, key: str) -> tuple[int, Any]:
    status, _, body = http("GET", f"{hangar.url}/helm/{namespace}/index.yaml", headers=basic(key))
    return status, yaml.safe_load(body) if status == 200 else body


def wait_for_versions(hangar: Hangar, namespace: str, key: str, name: str, versions: list[str]) -> Any:
    deadline = time.monotonic() + 10
    found: Any = None
    while time.monotonic() < deadline:
        status, found = index(hangar, namespace, key)
        assert status == 200, found
        if [e["version"] for e in found["entries"].get(name, [])] == versions:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{name} in {namespace}: {found}")


def test_helm_repository_end_to_end(hangar: Hangar) -> None:
    client = Client(hangar.url)
    owner = hangar.key
    assert client.api("POST", "/orgs/demo/teams", token=owner, body={"name": "vision"}).status == 201
    assert client.api("POST", "/orgs/demo/teams", token=owner, body={"name": "audio"}).status == 201
    audio = client.join(owner, "audio@example.com", ["REGISTRY_USER"], team="audio")

    uploaded = chart_tgz("mychart", "1.0.0", appVersion="2.0", description="uploaded", keywords=["web"])
    status, body = upload(client, owner, "demo", uploaded)
    assert status == 201, body
    assert body["repository"] == "demo/mychart" and body["chart_digest"] == sha256(uploaded)
    assert upload(client, owner, "demo", uploaded)[0] == 200  # the same archive again
    conflict = chart_tgz("mychart", "1.0.0", description="something else")
    assert upload(client, owner, "demo", conflict)[0] == 409
    bad = gzip.compress(b"not a tar")
    assert upload(client, owner, "demo", bad)[0] == 400

    pushed = chart_tgz("pushed", "0.1.0", description="by helm push", type="application")
    registry = Registry(client, owner)
    helm_push(registry, "demo", "pushed", "0.1.0", pushed, description="by helm push", type="application")

    found = wait_for_versions(hangar, "demo", owner, "pushed", ["0.1.0"])
    assert found["apiVersion"] == "v1" and RFC3339.fullmatch(found["generated"])
    assert sorted(found["entries"]) == ["mychart", "pushed"]
    [mine] = found["entries"]["mychart"]
    assert mine == {
        "apiVersion": "v2",
        "appVersion": "2.0",
        "created": mine["created"],
        "description": "uploaded",
        "digest": hashlib.sha256(uploaded).hexdigest(),
        "keywords": ["web"],
        "name": "mychart",
        "urls": ["charts/mychart-1.0.0.tgz"],
        "version": "1.0.0",
    }
    assert RFC3339.fullmatch(mine["created"])
    [theirs] = found["entries"]["pushed"]
    assert theirs["digest"] == hashlib.sha256(pushed).hexdigest()
    assert (theirs["description"], theirs["type"], theirs["urls"]) == (
        "by helm push",
        "application",
        ["charts/pushed-0.1.0.tgz"],
    )
    expected = {
        "mychart": {"apiVersion": "v2", "name": "mychart", "version": "1.0.0", "appVersion": "2.0"}
        | {"description": "uploaded", "keywords": ["web"]},
        "pushed": {"apiVersion": "v2", "name": "pushed", "version": "0.1.0", "description": "by helm push"}
        | {"type": "application"},
    }
    for entry, archive in ((mine, uploaded), (theirs, pushed)):
        url = f"{hangar.url}/helm/demo/{entry['urls'][0]}"
        status, _, content = http("GET", url, headers=basic(owner))
        assert status == 200 and content == archive
        assert unpack_chart_yaml(content, entry["name"]) == expected[entry["name"]]

    # a new version (pushed over OCI: the index hears it) comes first
    helm_push(registry, "demo", "pushed", "0.2.0", chart_tgz("pushed", "0.2.0"))
    wait_for_versions(hangar, "demo", owner, "pushed", ["0.2.0", "0.1.0"])

    # team charts: only in the team's index, invisible to another team's member
    status, body = upload(client, owner, "demo/vision", chart_tgz("teamchart", "1.0.0"))
    assert status == 201, body
    assert "teamchart" not in index(hangar, "demo", owner)[1]["entries"]
    assert list(index(hangar, "demo/vision", owner)[1]["entries"]) == ["teamchart"]
    assert index(hangar, "demo/vision", audio.key)[0] == 404
    status, _, _ = http(
        "GET", f"{hangar.url}/helm/demo/vision/charts/teamchart-1.0.0.tgz", headers=basic(audio.key)
    )
    assert status == 404

    # no credential
    status, headers, _ = http("GET", f"{hangar.url}/helm/demo/index.yaml")
    assert status == 401 and headers["WWW-Authenticate"] == 'Basic realm="hangar"'
