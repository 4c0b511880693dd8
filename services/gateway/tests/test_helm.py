"""Helm: chart archives read safely, the chart repository index (every field), its cache (events, TTL, this
replica's changes), who sees and downloads what, and REST uploads stored as `helm push` stores them."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import hashlib
import io
import json
import re
import tarfile
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any, Final

import httpx
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette

from hangar.api.registry.v1 import artifact_events_pb2, events_pb2
from hangar.gateway.app import create_app
from hangar.gateway.clients.artifacts import (
    UPLOAD_COMPLETE,
    RepositoryInfo,
    RepositoryMetadataInfo,
    VersionInfo,
)
from hangar.gateway.clients.fakes import CAPABILITIES, FakeBlobstore, FakeIdentity, FakeKeys, FakeRegistry
from hangar.gateway.clients.fakes_artifacts import FakeArtifacts, _Repo
from hangar.gateway.clients.model import AccessResult, KeyInfo, KeyScope, PutManifestResult
from hangar.gateway.clients.services import Services
from hangar.gateway.helm import ChartPublisher, HelmIndexes
from hangar.gateway.helm import chart as chart_module
from hangar.gateway.helm.chart import CONFIG_MEDIA_TYPE, load_chart, semver_key
from hangar.gateway.helm.events import apply_event
from hangar.gateway.helm.routes import candidates
from hangar.gateway.testing import basic, bearer
from hangar.kit.errors import InvalidArgument


def tgz(files: dict[str, bytes], *, extra: list[tarfile.TarInfo] | None = None) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            tar.addfile(info, io.BytesIO(content))
        for info in extra or ():
            tar.addfile(info)
    return gzip.compress(raw.getvalue(), mtime=0)


def chart_archive(name: str, version: str, **fields: object) -> bytes:
    """A chart as `helm package` makes it: <name>/Chart.yaml, values.yaml and a template."""
    chart_yaml = {"apiVersion": "v2", "name": name, "version": version, **fields}
    return tgz(
        {
            f"{name}/Chart.yaml": yaml.safe_dump(chart_yaml, sort_keys=False).encode(),
            f"{name}/values.yaml": b"replicas: 1\n",
            f"{name}/templates/x.yaml": b"kind: ConfigMap\n",
        }
    )


class ChartRegistry(FakeRegistry):
    """A fake registry whose Helm chart manifests pushed with a tag become committed chart versions."""

    def __init__(self) -> None:
        super().__init__()
        self.artifacts: FakeArtifacts | None = None

    async def put_manifest(
        self, repository: str, reference: str, media_type: str, content: bytes, *, config: bytes = b""
    ) -> PutManifestResult:
        result = await super().put_manifest(repository, reference, media_type, content, config=config)
        config = json.loads(content).get("config") or {}
        if (
            self.artifacts is not None
            and config.get("mediaType") == CONFIG_MEDIA_TYPE
            and ":" not in reference
        ):
            if repository not in self.artifacts.repos:  # the first push creates a chart repository
                self.artifacts.repos[repository] = _Repo(
                    repository, "chart", RepositoryMetadataInfo(), "auto"
                )
            now = int(time.time() * 1000)
            self.artifacts.repos[repository].versions[reference] = VersionInfo(
                repository=repository,
                version=reference,
                status=UPLOAD_COMPLETE,
                manifest_digest=result.digest,
                created_at_ms=now,
                committed_at_ms=now,
            )
        return result


# -- the world: fakes of every service, an identity deciding by roles per namespace (DESIGN §1) -------------


class RoleIdentity(FakeIdentity):
    """check_access by the roles held at the repository's namespace (org owner: everywhere in the org)."""

    async def check_access(self, user_id: str, repository: str, capabilities: Iterable[str]) -> AccessResult:
        parts = repository.split("/")
        org, team = parts[0], parts[1] if len(parts) == 3 else ""
        roles = set(self.roles_of(org, user_id, team))
        if "ORG_OWNER" in self.roles_of(org, user_id):
            roles.add("ORG_OWNER")
        held = frozenset().union(*(CAPABILITIES[role] for role in roles))
        asked = frozenset(capabilities)
        granted = asked & held
        reason = (
            "" if granted == asked else f"your roles in {repository.rpartition('/')[0]} do not allow this"
        )
        return AccessResult(granted=granted, denial_reason=reason)


@dataclasses.dataclass
class World:
    identity: RoleIdentity
    keys: FakeKeys
    registry: ChartRegistry
    blobstore: FakeBlobstore
    artifacts: FakeArtifacts
    app: Starlette
    http: httpx.AsyncClient

    @property
    def indexes(self) -> HelmIndexes:
        indexes = self.app.state.helm_indexes
        assert isinstance(indexes, HelmIndexes)
        return indexes


OWNER_KEY: Final = "hgr_owner123_ownerSecretOwnerSecret"
READER_KEY: Final = "hgr_reader12_readerSecretReaderSecr"
USERADMIN_KEY: Final = "hgr_uadmin12_userAdminSecretUserAdm"
VISION_KEY: Final = "hgr_vision12_visionSecretVisionSecr"
AUDIO_KEY: Final = "hgr_audio123_audioSecretAudioSecret"
PUSHER_KEY: Final = "hgr_pusher12_pusherSecretPusherSecr"
SERVICE_KEY: Final = "hgr_svc12345_serviceSecretServiceSe"
CONTAINER_SERVICE_KEY: Final = "hgr_svcctr12_containerOnlySecretXyz"


@pytest.fixture
async def world() -> AsyncIterator[World]:
    identity, keys, registry, blobstore = RoleIdentity(), FakeKeys(), ChartRegistry(), FakeBlobstore()
    artifacts = FakeArtifacts(registry, blobstore)
    registry.artifacts = artifacts
    registry_only = frozenset({"registry"})
    for user, roles, team, secret in (
        ("u-owner", ("ORG_OWNER",), "", OWNER_KEY),
        ("u-reader", ("REGISTRY_READ",), "", READER_KEY),
        ("u-uadmin", ("USER_ADMIN",), "", USERADMIN_KEY),
        ("u-vision", ("REGISTRY_USER",), "vision", VISION_KEY),
        ("u-audio", ("REGISTRY_USER",), "audio", AUDIO_KEY),
        ("u-pusher", ("REGISTRY_USER",), "", PUSHER_KEY),
    ):
        identity.member("demo", user, *roles, team=team)
        keys.add(secret, KeyInfo(f"k-{user}", "demo", user, registry_only, prefix=secret[:12]))
    keys.add(
        SERVICE_KEY,
        KeyInfo(
            "k-svc",
            "demo",
            "",
            registry_only,
            prefix=SERVICE_KEY[:12],
            key_type="SERVICE",
            scopes=(KeyScope(frozenset({"get", "list"}), frozenset({"chart"})),),
        ),
    )
    keys.add(
        CONTAINER_SERVICE_KEY,
        KeyInfo(
            "k-svc-ctr",
            "demo",
            "",
            registry_only,
            prefix=CONTAINER_SERVICE_KEY[:12],
            key_type="SERVICE",
            scopes=(KeyScope(frozenset({"get", "list"}), frozenset({"container"})),),
        ),
    )
    services = Services(
        identity=identity, keys=keys, registry=registry, blobstore=blobstore, artifacts=artifacts
    )
    app = create_app(services, Ed25519PrivateKey.generate())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hangar.test"
    ) as http:
        yield World(identity, keys, registry, blobstore, artifacts, app, http)


async def upload(world: World, namespace: str, archive: bytes, key: str = OWNER_KEY) -> httpx.Response:
    org, _, team = namespace.partition("/")
    path = f"/api/v1/orgs/{org}/teams/{team}/charts" if team else f"/api/v1/orgs/{org}/charts"
    headers = {**bearer(key), "Content-Type": "application/gzip"}
    return await world.http.post(path, content=archive, headers=headers)


async def index_of(world: World, namespace: str, key: str = READER_KEY) -> httpx.Response:
    return await world.http.get(f"/helm/{namespace}/index.yaml", headers=basic(key))


# -- chart archives -------------------------------------------------------------------------------------


def test_chart_yaml_becomes_helms_config_json() -> None:
    archive = chart_archive(
        "mychart",
        "1.2.3",
        appVersion="1.10",
        description="A <chart> & more",
        keywords=["web", "demo"],
        maintainers=[{"name": "Ann", "email": "ann@example.com"}],
        annotations={"b": "2", "a": "1"},
        type="application",
    )
    chart = load_chart(archive, "demo")
    assert (chart.name, chart.version, chart.tag) == ("mychart", "1.2.3", "1.2.3")
    # Go's encoding/json of chart.Metadata: struct order, compact, HTML-escaped, map keys sorted
    assert chart.config == (
        b'{"name":"mychart","version":"1.2.3","description":"A \\u003cchart\\u003e \\u0026 more",'
        b'"keywords":["web","demo"],"maintainers":[{"name":"Ann","email":"ann@example.com"}],'
        b'"apiVersion":"v2","appVersion":"1.10","annotations":{"a":"1","b":"2"},"type":"application"}'
    )
    manifest = json.loads(chart.manifest(created="2026-01-02T03:04:05.000Z"))
    assert manifest["config"]["mediaType"] == "application/vnd.cncf.helm.config.v1+json"
    assert manifest["config"]["digest"] == "sha256:" + hashlib.sha256(chart.config).hexdigest()
    assert manifest["layers"] == [
        {
            "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
            "digest": "sha256:" + hashlib.sha256(archive).hexdigest(),
            "size": len(archive),
        }
    ]
    assert manifest["annotations"] == {
        "a": "1",
        "b": "2",
        "org.opencontainers.image.description": "A <chart> & more",
        "org.opencontainers.image.created": "2026-01-02T03:04:05.000Z",
        "org.opencontainers.image.authors": "Ann (ann@example.com)",
        "org.opencontainers.image.title": "mychart",
        "org.opencontainers.image.version": "1.2.3",
    }


def test_a_build_metadata_version_is_tagged_as_helm_tags_it() -> None:
    chart = load_chart(chart_archive("mychart", "1.0.0+build.7"), "demo/vision")
    assert chart.tag == "1.0.0_build.7"


@pytest.mark.parametrize(
    ("archive", "code"),
    [
        (b"not gzip at all", "CHART_NOT_GZIP"),
        (gzip.compress(b"gzip, but no tar inside" * 40), "CHART_ARCHIVE_INVALID"),
        (chart_archive("mychart", "1.0.0")[:-12], "CHART_ARCHIVE_INVALID"),
        (tgz({"mychart/values.yaml": b"a: 1\n"}), "CHART_YAML_MISSING"),
        (tgz({"Chart.yaml": b"apiVersion: v2\nname: x1\nversion: 1.0.0\n"}), "CHART_YAML_MISSING"),
        (tgz({"../mychart/Chart.yaml": b"apiVersion: v2\nname: ab\nversion: 1.0.0\n"}), "CHART_PATH_INVALID"),
        (tgz({"/etc/mychart/x": b"x"}), "CHART_PATH_INVALID"),
        (tgz({"mychart/../../x": b"x"}), "CHART_PATH_INVALID"),
        (tgz({"mychart/Chart.yaml": b"apiVersion: v2\nname: mychart\nversion: 1.0\n"}), "VERSION_INVALID"),
        (tgz({"mychart/Chart.yaml": b"apiVersion: v2\nname: mychart\nversion: v1.0.0\n"}), "VERSION_INVALID"),
        (tgz({"mychart/Chart.yaml": b"apiVersion: v2\nname: mychart\n"}), "VERSION_INVALID"),
        (tgz({"mychart/Chart.yaml": b"apiVersion: v2\nname: MyChart\nversion: 1.0.0\n"}), "NAME_INVALID"),
        (tgz({"mychart/Chart.yaml": b"name: mychart\nversion: 1.0.0\n"}), "CHART_INVALID"),
        (tgz({"mychart/Chart.yaml": b"apiVersion: v2\nname: [a\n"}), "CHART_YAML_INVALID"),
        (tgz({"mychart/Chart.yaml": b"- a list\n"}), "CHART_YAML_INVALID"),
    ],
)
def test_bad_archives_are_refused_with_a_reason(archive: bytes, code: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        load_chart(archive, "demo")
    assert refused.value.code == code


def test_a_symlink_out_of_the_chart_is_refused() -> None:
    link = tarfile.TarInfo("mychart/templates/evil")
    link.type, link.linkname = tarfile.SYMTYPE, "../../../../etc/passwd"
    archive = tgz({"mychart/Chart.yaml": b"apiVersion: v2\nname: mychart\nversion: 1.0.0\n"}, extra=[link])
    with pytest.raises(InvalidArgument) as refused:
        load_chart(archive, "demo")
    assert refused.value.code == "CHART_PATH_INVALID"


def test_a_gzip_bomb_is_refused_without_decompressing_it_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chart_module, "MAX_DECOMPRESSED_BYTES", 1024 * 1024)
    payload = b"\0" * (3 * 1024 * 1024)
    archive = tgz(
        {"mychart/Chart.yaml": b"apiVersion: v2\nname: mychart\nversion: 1.0.0\n", "mychart/big": payload}
    )
    with pytest.raises(InvalidArgument, match="decompresses to more than"):
        load_chart(archive, "demo")


def test_semver_precedence() -> None:
    versions = ["1.0.0", "1.0.0-rc.1", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "2.0.0", "1.10.0"]
    ordered = sorted(versions, key=semver_key, reverse=True)
    assert ordered == [
        "2.0.0",
        "1.10.0",
        "1.0.0",
        "1.0.0-rc.1",
        "1.0.0-alpha.beta",
        "1.0.0-alpha.1",
        "1.0.0-alpha",
    ]


# -- REST upload = helm push ---------------------------------------------------------------------------


async def test_an_uploaded_chart_is_stored_as_helm_push_stores_it(world: World) -> None:
    archive = chart_archive("mychart", "1.0.0", appVersion="2.1", description="demo chart")
    answer = await upload(world, "demo", archive)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["repository"] == "demo/mychart" and body["version"] == "1.0.0" and body["created"] is True
    stored = await world.registry.get_manifest("demo/mychart", "1.0.0")
    assert stored.digest == body["digest"]
    manifest = json.loads(stored.content)
    assert manifest["config"]["mediaType"] == "application/vnd.cncf.helm.config.v1+json"
    assert [layer["digest"] for layer in manifest["layers"]] == [body["chart_digest"]]
    assert world.blobstore.blobs[body["chart_digest"]] == archive
    config = json.loads(world.blobstore.blobs[manifest["config"]["digest"]])
    assert config == {
        "name": "mychart",
        "version": "1.0.0",
        "description": "demo chart",
        "apiVersion": "v2",
        "appVersion": "2.1",
    }
    version = await world.artifacts.get_version("demo/mychart", "1.0.0")
    assert version.manifest_digest == body["digest"]


async def test_the_same_chart_again_is_200_and_other_content_under_its_version_is_409(world: World) -> None:
    archive = chart_archive("mychart", "1.0.0")
    assert (await upload(world, "demo", archive)).status_code == 201
    again = await upload(world, "demo", archive)
    assert again.status_code == 200 and again.json()["created"] is False
    other = await upload(world, "demo", chart_archive("mychart", "1.0.0", description="changed"))
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "VERSION_EXISTS"


async def test_a_bad_archive_is_400_and_stores_nothing(world: World) -> None:
    bad = tgz({"mychart/Chart.yaml": b"apiVersion: v2\nname: mychart\nversion: one\n"})
    answer = await upload(world, "demo", bad)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "VERSION_INVALID"
    assert world.blobstore.blobs == {} and world.blobstore.uploads == {}
    assert world.registry.repositories == {}


async def test_upload_rules(world: World) -> None:
    archive = chart_archive("mychart", "1.0.0")
    assert (await upload(world, "demo", archive, key=READER_KEY)).status_code == 403
    assert (await upload(world, "demo", archive, key=USERADMIN_KEY)).status_code == 403
    assert (await upload(world, "demo/audio", archive, key=VISION_KEY)).status_code == 404
    assert (await upload(world, "demo/vision", archive, key=VISION_KEY)).status_code == 201
    assert (await upload(world, "demo", archive, key=PUSHER_KEY)).status_code == 201
    wrong_type = await world.http.post(
        "/api/v1/orgs/demo/charts",
        content=archive,
        headers={**bearer(OWNER_KEY), "Content-Type": "text/plain"},
    )
    assert wrong_type.status_code == 415
    no_key = await world.http.post(
        "/api/v1/orgs/demo/charts", content=archive, headers={"Content-Type": "application/gzip"}
    )
    assert no_key.status_code == 401


async def test_an_archive_over_the_limit_is_413(world: World) -> None:
    too_big = b"\x1f\x8b" + b"\0" * (10 * 1024 * 1024)
    assert (await upload(world, "demo", too_big)).status_code == 413


# -- the index ------------------------------------------------------------------------------------------


async def test_the_index_lists_every_version_newest_first_with_helms_fields(world: World) -> None:
    for version in ("1.0.0", "1.10.0", "1.2.0", "2.0.0-rc.1"):
        archive = chart_archive(
            "mychart",
            version,
            appVersion="3.0",
            description="the chart",
            home="https://example.com",
            keywords=["a", "b"],
            type="application",
        )
        assert (await upload(world, "demo", archive)).status_code == 201
    assert (await upload(world, "demo", chart_archive("other", "0.1.0"))).status_code == 201
    answer = await index_of(world, "demo")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-yaml")
    index = yaml.safe_load(answer.text)
    assert index["apiVersion"] == "v1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", index["generated"])
    assert sorted(index["entries"]) == ["mychart", "other"]
    versions = [entry["version"] for entry in index["entries"]["mychart"]]
    assert versions == ["2.0.0-rc.1", "1.10.0", "1.2.0", "1.0.0"]
    entry = index["entries"]["mychart"][1]
    archive = world.blobstore.blobs["sha256:" + entry["digest"]]
    assert entry == {
        "apiVersion": "v2",
        "appVersion": "3.0",
        "created": entry["created"],
        "description": "the chart",
        "digest": hashlib.sha256(archive).hexdigest(),
        "home": "https://example.com",
        "keywords": ["a", "b"],
        "name": "mychart",
        "type": "application",
        "urls": ["charts/mychart-1.10.0.tgz"],
        "version": "1.10.0",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["created"])
    assert load_chart(archive, "demo").version == "1.10.0"
    # keys in Helm's (alphabetical) order
    assert (
        answer.text.index("apiVersion: v1") < answer.text.index("entries:") < answer.text.index("generated:")
    )


async def test_a_chart_downloads_through_its_index_url(world: World) -> None:
    archive = chart_archive("mychart", "1.0.0+build.1")
    assert (await upload(world, "demo/vision", archive, key=VISION_KEY)).status_code == 201
    index = yaml.safe_load((await index_of(world, "demo/vision", key=VISION_KEY)).text)
    [entry] = index["entries"]["mychart"]
    assert entry["urls"] == ["charts/mychart-1.0.0+build.1.tgz"]
    fetched = await world.http.get(f"/helm/demo/vision/{entry['urls'][0]}", headers=basic(VISION_KEY))
    assert fetched.status_code == 200
    assert fetched.content == archive
    assert fetched.headers["content-type"] == "application/gzip"
    head = await world.http.head(f"/helm/demo/vision/{entry['urls'][0]}", headers=basic(VISION_KEY))
    assert head.status_code == 200 and head.headers["content-length"] == str(len(archive))


async def test_an_oci_push_with_helms_media_types_is_in_the_index(world: World) -> None:
    chart = load_chart(chart_archive("pushed", "0.3.0", description="by helm push"), "demo")
    for blob in (chart.config, chart.archive):
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        answer = await world.http.post(
            f"/v2/demo/pushed/blobs/uploads/?digest={digest}", content=blob, headers=basic(OWNER_KEY)
        )
        assert answer.status_code == 201, answer.text
    put = await world.http.put(
        "/v2/demo/pushed/manifests/0.3.0",
        content=chart.manifest(),
        headers={**basic(OWNER_KEY), "Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert put.status_code == 201, put.text
    index = yaml.safe_load((await index_of(world, "demo")).text)
    assert index["entries"]["pushed"][0]["description"] == "by helm push"


# -- the cache ------------------------------------------------------------------------------------------


async def test_the_index_is_cached_and_this_replicas_changes_evict_it(world: World) -> None:
    assert (await upload(world, "demo", chart_archive("mychart", "1.0.0"))).status_code == 201
    await index_of(world, "demo")
    await index_of(world, "demo")
    builds = world.indexes.builds
    assert world.indexes.cached("demo")
    for _ in range(3):
        assert (await index_of(world, "demo")).status_code == 200
    assert world.indexes.builds == builds  # served from the cache
    # an upload here evicts at once: the next index has the new version
    assert (await upload(world, "demo", chart_archive("mychart", "1.1.0"))).status_code == 201
    assert not world.indexes.cached("demo")
    index = yaml.safe_load((await index_of(world, "demo")).text)
    assert [e["version"] for e in index["entries"]["mychart"]] == ["1.1.0", "1.0.0"]


async def test_a_registry_event_evicts_the_namespace_it_names(world: World) -> None:
    await index_of(world, "demo")
    await index_of(world, "demo/vision", key=VISION_KEY)
    assert world.indexes.cached("demo") and world.indexes.cached("demo/vision")
    # a version committed elsewhere (another replica): only its namespace is forgotten
    committed = artifact_events_pb2.VersionCommitted(repository="demo/vision/mychart", version="1.0.0")
    apply_event(world.indexes, "VersionCommitted", committed.SerializeToString())
    assert world.indexes.cached("demo") and not world.indexes.cached("demo/vision")
    deleted = events_pb2.TagDeleted(repository="demo/x", tag="1.0.0", digest="sha256:" + "0" * 64)
    apply_event(world.indexes, "TagDeleted", deleted.SerializeToString())
    assert not world.indexes.cached("demo")
    # blob bookkeeping changes no index; an event nobody knows forgets every index
    await index_of(world, "demo")
    apply_event(world.indexes, "BlobLinked", events_pb2.BlobLinked(repository="demo/x").SerializeToString())
    assert world.indexes.cached("demo")
    apply_event(world.indexes, "SomethingNew", b"")
    assert not world.indexes.cached("demo")


async def test_an_event_heard_during_a_build_keeps_that_build_out_of_the_cache() -> None:
    registry, blobstore = ChartRegistry(), FakeBlobstore()
    artifacts = FakeArtifacts(registry, blobstore)
    indexes = HelmIndexes(artifacts, registry, blobstore)
    started, release = asyncio.Event(), asyncio.Event()
    search = artifacts.search_repositories

    async def slow_search(**kwargs: Any) -> tuple[list[RepositoryInfo], str]:
        started.set()
        await release.wait()
        return await search(**kwargs)

    artifacts.search_repositories = slow_search  # type: ignore[method-assign]
    building = asyncio.create_task(indexes.get("demo"))
    await started.wait()
    indexes.changed("demo/mychart")
    release.set()
    await building
    assert not indexes.cached("demo")


async def test_the_index_is_rebuilt_after_its_ttl_even_without_an_event() -> None:
    now = [1000.0]
    registry, blobstore = ChartRegistry(), FakeBlobstore()
    artifacts = FakeArtifacts(registry, blobstore)
    registry.artifacts = artifacts
    indexes = HelmIndexes(artifacts, registry, blobstore, ttl_seconds=30, clock=lambda: now[0])
    publisher = ChartPublisher(registry, blobstore, artifacts)  # no on_change: as if the event were lost
    assert (await indexes.get("demo")).entries == ()
    await publisher.publish(load_chart(chart_archive("mychart", "1.0.0"), "demo"), "demo")
    now[0] += 29
    assert (await indexes.get("demo")).entries == ()  # stale, within the TTL
    now[0] += 2
    assert [e.version for e in (await indexes.get("demo")).entries] == ["1.0.0"]


async def test_concurrent_requests_share_one_build(world: World) -> None:
    assert (await upload(world, "demo", chart_archive("mychart", "1.0.0"))).status_code == 201
    builds = world.indexes.builds
    answers = await asyncio.gather(*(index_of(world, "demo") for _ in range(10)))
    assert {a.status_code for a in answers} == {200}
    assert world.indexes.builds == builds + 1


async def test_a_chart_pushed_through_another_replica_downloads_before_the_event(world: World) -> None:
    await index_of(world, "demo")  # cached, empty
    publisher = ChartPublisher(world.registry, world.blobstore, world.artifacts)  # "another replica"
    archive = chart_archive("late", "1.0.0")
    await publisher.publish(load_chart(archive, "demo"), "demo")
    fetched = await world.http.get("/helm/demo/charts/late-1.0.0.tgz", headers=basic(READER_KEY))
    assert fetched.status_code == 200 and fetched.content == archive
    assert not world.indexes.cached("demo")  # the stale index was dropped


# -- who sees what ----------------------------------------------------------------------------------------


async def test_auth_rows(world: World) -> None:
    assert (await upload(world, "demo", chart_archive("orgchart", "1.0.0"))).status_code == 201
    assert (await upload(world, "demo/vision", chart_archive("visionchart", "1.0.0"))).status_code == 201
    org_file, team_file = (
        "/helm/demo/charts/orgchart-1.0.0.tgz",
        "/helm/demo/vision/charts/visionchart-1.0.0.tgz",
    )

    async def status(path: str, headers: dict[str, str]) -> int:
        return (await world.http.get(path, headers=headers)).status_code

    # no credential, a wrong username, an unknown key: 401 with the Basic challenge helm answers
    for headers in ({}, basic(READER_KEY, username="admin"), basic("hgr_unknown1_nope")):
        answer = await world.http.get("/helm/demo/index.yaml", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == 'Basic realm="hangar"'
    rows = {
        # key: (org index, org chart, team index, team chart)
        OWNER_KEY: (200, 200, 200, 200),
        READER_KEY: (200, 200, 404, 404),
        USERADMIN_KEY: (200, 403, 404, 404),
        VISION_KEY: (404, 404, 200, 200),
        AUDIO_KEY: (404, 404, 404, 404),
        SERVICE_KEY: (200, 200, 200, 200),
        CONTAINER_SERVICE_KEY: (404, 404, 404, 404),
    }
    for key, expected in rows.items():
        for scheme in (basic, bearer):
            got = (
                await status("/helm/demo/index.yaml", scheme(key)),
                await status(org_file, scheme(key)),
                await status("/helm/demo/vision/index.yaml", scheme(key)),
                await status(team_file, scheme(key)),
            )
            assert got == expected, (key[:12], scheme.__name__, got)
    # the org index never lists team charts, nor the team index org charts
    org_index = yaml.safe_load((await index_of(world, "demo", key=OWNER_KEY)).text)
    team_index = yaml.safe_load((await index_of(world, "demo/vision", key=OWNER_KEY)).text)
    assert list(org_index["entries"]) == ["orgchart"] and list(team_index["entries"]) == ["visionchart"]
    # an invisible team answers exactly like a missing one
    hidden = await world.http.get("/helm/demo/vision/index.yaml", headers=basic(AUDIO_KEY))
    missing = await world.http.get("/helm/demo/ghost/index.yaml", headers=basic(AUDIO_KEY))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["message"].replace("vision", "X") == missing.json()["error"][
        "message"
    ].replace("ghost", "X")


async def test_an_access_token_sees_only_what_it_was_granted(world: World) -> None:
    assert (await upload(world, "demo", chart_archive("mychart", "1.0.0"))).status_code == 201
    assert (await upload(world, "demo", chart_archive("other", "1.0.0"))).status_code == 201
    token = await world.http.get(
        "/token",
        params={"service": "hangar", "scope": "repository:demo/mychart:pull"},
        headers=basic(READER_KEY),
    )
    assert token.status_code == 200
    headers = bearer(token.json()["token"])
    index = yaml.safe_load((await world.http.get("/helm/demo/index.yaml", headers=headers)).text)
    assert list(index["entries"]) == ["mychart"]
    assert (await world.http.get("/helm/demo/charts/mychart-1.0.0.tgz", headers=headers)).status_code == 200
    assert (await world.http.get("/helm/demo/charts/other-1.0.0.tgz", headers=headers)).status_code == 404


async def test_malformed_paths_and_missing_charts_are_404(world: World) -> None:
    for path in (
        "/helm/demo",
        "/helm/demo/x/y/index.yaml",
        "/helm/Demo/index.yaml",
        "/helm/demo/charts/mychart-1.0.0.tar",
        "/helm/demo/charts/nochart-1.0.0.tgz",
        "/helm/demo/charts/notaversion.tgz",
    ):
        assert (await world.http.get(path, headers=basic(OWNER_KEY))).status_code == 404, path


def test_file_names_split_into_name_and_version() -> None:
    assert candidates("my-chart-1.0.0-rc.1.tgz") == [("my-chart", "1.0.0-rc.1")]
    assert candidates("a-1.0.0.tgz") == [("a", "1.0.0")]
    assert candidates("nochart.tgz") == []
