"""ArtifactApp over a real SQLite registry: versions, files, commit, latest, listings, and the OCI side.

After every refused command the state is read back: nothing half-written.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from hangar.kit.errors import DomainError
from hangar.kit.uow import UnitOfWorkFactory
from hangar.registry.app import App
from hangar.registry.artifacts import ArtifactApp, RepositoryRecord, VersionRecord
from hangar.registry.domain import OCI_MANIFEST, parse_manifest
from hangar.registry.domain.artifacts import (
    HELM_CHART_LAYER,
    HELM_CONFIG_TYPE,
    MODEL_ARTIFACT_TYPE,
    MODEL_CONFIG_TYPE,
    TITLE,
    config_blob,
)
from hangar.registry.domain.metadata import RepositoryMetadata, VersionMetadata

REPO = "acme/vision/resnet"


def digest_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


@pytest.fixture
def artifacts(app: App, uow: UnitOfWorkFactory[Any]) -> ArtifactApp:
    return ArtifactApp(uow, app.link_blob)


async def refused(code: str, call: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await call
    assert caught.value.code == code, caught.value
    return caught.value


async def upload(
    artifacts: ArtifactApp, version: str, path: str, data: bytes, repository: str = REPO
) -> None:
    await artifacts.begin_file(repository, version, path, f"up-{version}-{path}", len(data))
    await artifacts.complete_file(
        repository, version, path, f"up-{version}-{path}", digest_of(data), len(data)
    )


async def commit(
    app: App, artifacts: ArtifactApp, version: str, repository: str = REPO
) -> tuple[VersionRecord, bytes]:
    _media_type, content, digest = await artifacts.get_version_config(repository, version)
    await app.link_blob(repository, digest, len(content))
    return await artifacts.commit_version(repository, version, digest)


async def committed_version(
    app: App, artifacts: ArtifactApp, version: str, files: dict[str, bytes], repository: str = REPO
) -> VersionRecord:
    await artifacts.create_version(repository, version, VersionMetadata(), create_kind="model")
    for path, data in files.items():
        await upload(artifacts, version, path, data, repository)
    record, _ = await commit(app, artifacts, version, repository)
    return record


async def test_a_model_version_is_created_uploaded_committed_and_pulled_as_its_manifest(
    app: App, artifacts: ArtifactApp
) -> None:
    created = await artifacts.create_repository(
        REPO, "model", RepositoryMetadata(description="ResNet", labels=("Vision",), framework="PyTorch")
    )
    assert (created.kind, created.metadata.labels, created.latest_policy) == ("model", ("vision",), "auto")
    metadata = VersionMetadata.of(description="first", epochs=90, attributes={"dataset": "imagenet"})
    version = await artifacts.create_version(REPO, "1.0.0", metadata, created_by="alice")
    assert (version.status, version.created_by, version.metadata) == ("UPLOAD_PENDING", "alice", metadata)
    file, started = await artifacts.begin_file(REPO, "1.0.0", "weights/model.bin", "up-1", 5)
    assert (file.status, file.upload_id, started) == ("UPLOADING", "up-1", True)
    same, again = await artifacts.begin_file(REPO, "1.0.0", "weights/model.bin", "up-2", 5)
    assert (same.upload_id, again) == ("up-1", False)
    done = await artifacts.complete_file(REPO, "1.0.0", "weights/model.bin", "up-1", digest_of(b"model"), 5)
    assert (done.status, done.digest, done.upload_id) == ("COMPLETE", digest_of(b"model"), "")
    assert await app.stat_blob(REPO, digest_of(b"model")) == 5  # CompleteFile linked the blob
    await upload(artifacts, "1.0.0", "README.md", b"# hi")
    record, manifest = await commit(app, artifacts, "1.0.0")
    assert record.status == "UPLOAD_COMPLETE" and record.size == 9
    assert record.manifest_digest == digest_of(manifest)
    digest, media_type, served = await app.get_manifest(REPO, "1.0.0")
    assert (digest, media_type, served) == (digest_of(manifest), OCI_MANIFEST, manifest)
    parsed = parse_manifest(served, media_type)
    assert parsed.artifact_type == MODEL_ARTIFACT_TYPE
    assert [layer.annotations[TITLE] for layer in parsed.references[1:]] == ["README.md", "weights/model.bin"]
    _, config, config_digest = await artifacts.get_version_config(REPO, "1.0.0")
    assert str(parsed.references[0].digest) == config_digest
    assert json.loads(config)["dataset" if False else "attributes"] == {"dataset": "imagenet"}
    repository = await artifacts.get_repository(REPO)
    assert (repository.latest_version, repository.version_count) == ("1.0.0", 1)
    assert repository.size == 5 + 4 + len(config)
    latest = await artifacts.get_version(REPO, "latest")
    assert latest.version == "1.0.0" and [f.path for f in latest.files] == ["README.md", "weights/model.bin"]


async def test_a_version_based_on_another_inherits_replaces_and_removes_files(
    app: App, artifacts: ArtifactApp
) -> None:
    await committed_version(app, artifacts, "1.0.0", {"a.bin": b"a", "b.bin": b"b", "c.bin": b"c"})
    version = await artifacts.create_version(REPO, "1.1.0", VersionMetadata(), base_version="1.0.0")
    assert [(f.path, f.status) for f in version.files] == [
        ("a.bin", "INHERITED"),
        ("b.bin", "INHERITED"),
        ("c.bin", "INHERITED"),
    ]
    await upload(artifacts, "1.1.0", "a.bin", b"new a")
    await artifacts.remove_file(REPO, "1.1.0", "b.bin")
    record, manifest = await commit(app, artifacts, "1.1.0")
    assert [(f.path, f.status, f.digest) for f in record.files] == [
        ("a.bin", "COMPLETE", digest_of(b"new a")),
        ("c.bin", "INHERITED", digest_of(b"c")),
    ]
    layers = parse_manifest(manifest, OCI_MANIFEST).references[1:]
    assert [(layer.annotations[TITLE], str(layer.digest)) for layer in layers] == [
        ("a.bin", digest_of(b"new a")),
        ("c.bin", digest_of(b"c")),
    ]
    base = await artifacts.get_version(REPO, "1.0.0")
    assert [f.path for f in base.files] == ["a.bin", "b.bin", "c.bin"]  # the base is untouched


async def test_refused_version_commands_write_nothing(app: App, artifacts: ArtifactApp) -> None:
    await refused("NAME_UNKNOWN", artifacts.create_version(REPO, "1.0", VersionMetadata()))
    await refused("NAME_UNKNOWN", artifacts.get_repository(REPO))
    await artifacts.create_version(REPO, "1.0", VersionMetadata(), create_kind="model")
    await refused("VERSION_EXISTS", artifacts.create_version(REPO, "1.0", VersionMetadata()))
    await refused(
        "KIND_MISMATCH", artifacts.create_version(REPO, "2.0", VersionMetadata(), create_kind="resource")
    )
    await refused(
        "VERSION_UNKNOWN", artifacts.create_version(REPO, "2.0", VersionMetadata(), base_version="1.0")
    )
    await refused("VERSION_INVALID", artifacts.create_version(REPO, "latest", VersionMetadata()))
    await refused("PATH_INVALID", artifacts.begin_file(REPO, "1.0", "../etc/passwd", "u", 0))
    await refused("VERSION_UNKNOWN", artifacts.begin_file(REPO, "9.9", "a", "u", 0))
    await artifacts.begin_file(REPO, "1.0", "a.bin", "u1", 3)
    await refused(
        "FILE_UNKNOWN", artifacts.complete_file(REPO, "1.0", "a.bin", "other", digest_of(b"abc"), 3)
    )
    await refused("SIZE_INVALID", artifacts.complete_file(REPO, "1.0", "a.bin", "u1", digest_of(b"abcd"), 4))
    with pytest.raises(DomainError):
        await app.stat_blob(REPO, digest_of(b"abcd"))  # a refused completion linked nothing
    _, config, digest = await artifacts.get_version_config(REPO, "1.0")
    error = await refused("FILES_INCOMPLETE", artifacts.commit_version(REPO, "1.0", digest))
    assert "a.bin" in error.message
    await artifacts.complete_file(REPO, "1.0", "a.bin", "u1", digest_of(b"abc"), 3)
    await refused("CONFIG_MISMATCH", artifacts.commit_version(REPO, "1.0", digest_of(b"other")))
    await refused("BLOB_UNKNOWN", artifacts.commit_version(REPO, "1.0", digest))  # config not linked yet
    version = await artifacts.get_version(REPO, "1.0")
    assert (version.status, [(f.path, f.status) for f in version.files]) == (
        "UPLOAD_PENDING",
        [("a.bin", "COMPLETE")],
    )
    assert await app.list_tags(REPO, None, None) == ([], False)
    await app.link_blob(REPO, digest, len(config))
    await artifacts.commit_version(REPO, "1.0", digest)
    await refused("VERSION_COMMITTED", artifacts.commit_version(REPO, "1.0", digest))
    await refused("VERSION_COMMITTED", artifacts.begin_file(REPO, "1.0", "b.bin", "u", 0))
    await refused("VERSION_COMMITTED", artifacts.remove_file(REPO, "1.0", "a.bin"))
    assert [f.path for f in (await artifacts.get_version(REPO, "1.0")).files] == ["a.bin"]


async def test_versions_are_for_models_resources_and_charts_only(app: App, artifacts: ArtifactApp) -> None:
    await app.link_blob("acme/web", digest_of(b"x"), 1)
    await refused("KIND_MISMATCH", artifacts.create_version("acme/web", "1.0", VersionMetadata()))
    await refused("KIND_MISMATCH", artifacts.set_latest("acme/web", "1.0", False))
    await refused("REPOSITORY_EXISTS", artifacts.create_repository("acme/web", "model", RepositoryMetadata()))
    await refused("KIND_INVALID", artifacts.create_repository("acme/new", "container", RepositoryMetadata()))
    await refused(
        "METADATA_INVALID",
        artifacts.create_repository("acme/new", "resource", RepositoryMetadata(framework="x")),
    )
    await refused("NAME_UNKNOWN", artifacts.get_repository("acme/new"))
    web = await artifacts.update_repository(
        "acme/web", RepositoryMetadata(description="site"), ["description"]
    )
    assert (web.kind, web.metadata.description, web.latest_policy) == ("container", "site", "")


async def test_latest_auto_follows_commits_manual_stays_and_deleting_moves_it(
    app: App, artifacts: ArtifactApp
) -> None:
    await committed_version(app, artifacts, "1.0.0", {"a": b"1"})
    await committed_version(app, artifacts, "2.0.0", {"a": b"2"})
    assert (await artifacts.get_repository(REPO)).latest_version == "2.0.0"
    pinned = await artifacts.set_latest(REPO, "1.0.0", False)
    assert (pinned.latest_version, pinned.latest_policy) == ("1.0.0", "manual")
    await committed_version(app, artifacts, "3.0.0", {"a": b"3"})
    assert (await artifacts.get_repository(REPO)).latest_version == "1.0.0"
    await artifacts.create_version(REPO, "4.0.0", VersionMetadata())
    await refused("VERSION_UNKNOWN", artifacts.set_latest(REPO, "4.0.0", False))  # pending
    auto = await artifacts.set_latest(REPO, "", True)
    assert (auto.latest_version, auto.latest_policy) == ("1.0.0", "auto")
    await artifacts.delete_version(REPO, "1.0.0")
    assert (await artifacts.get_repository(REPO)).latest_version == "3.0.0"  # the newest commit left
    await refused("MANIFEST_UNKNOWN", app.get_manifest(REPO, "1.0.0"))
    await artifacts.set_latest(REPO, "2.0.0", False)
    await artifacts.delete_version(REPO, "2.0.0")
    manual = await artifacts.get_repository(REPO)
    assert (manual.latest_version, manual.version_count) == ("", 1)
    await refused("VERSION_UNKNOWN", artifacts.get_version(REPO, "latest"))
    await artifacts.delete_version(REPO, "4.0.0")  # a pending one
    await refused("VERSION_UNKNOWN", artifacts.delete_version(REPO, "4.0.0"))


async def test_versions_list_in_semver_or_creation_order_paginated(app: App, artifacts: ArtifactApp) -> None:
    names = ["1.0.0", "v2.0.0", "nightly", "1.10.0", "1.2.0-rc.1", "1.2.0", "alpha"]
    for name in names:
        await committed_version(app, artifacts, name, {"f": name.encode()})
    await artifacts.create_version(REPO, "9.0.0", VersionMetadata())
    seen: list[str] = []
    token = ""
    for _ in range(10):
        page, token = await artifacts.list_versions(REPO, page_size=3, page_token=token)
        seen += [v.version for v in page]
        assert all(not v.files for v in page)
        if not token:
            break
    assert seen == ["v2.0.0", "1.10.0", "1.2.0", "1.2.0-rc.1", "1.0.0", "alpha", "nightly"]
    created, _ = await artifacts.list_versions(REPO, order="created", include_pending=True)
    assert [v.version for v in created] == ["9.0.0", *reversed(names)]
    first, token = await artifacts.list_versions(REPO, order="created", page_size=2)
    second, _ = await artifacts.list_versions(REPO, order="created", page_size=2, page_token=token)
    assert [v.version for v in first + second] == ["alpha", "1.2.0", "1.2.0-rc.1", "1.10.0"]
    await refused("PAGE_TOKEN_INVALID", artifacts.list_versions(REPO, order="semver", page_token=token))
    await refused("ORDER_INVALID", artifacts.list_versions(REPO, order="size"))


async def test_search_filters_by_namespace_kind_pattern_and_labels(app: App, artifacts: ArtifactApp) -> None:
    for name, kind, labels in (
        ("acme/vision/resnet", "model", ("vision", "pytorch")),
        ("acme/vision/yolo", "model", ("vision",)),
        ("acme/vision/notes", "resource", ("vision", "pytorch")),
        ("acme/bert", "model", ("nlp", "pytorch")),
        ("other/resnet", "model", ("vision",)),
        ("acme/vision/a_b", "chart", ()),
        ("acme/vision/axb", "chart", ()),
    ):
        await artifacts.create_repository(name, kind, RepositoryMetadata(labels=labels))
    await app.link_blob("acme/vision/web", digest_of(b"layer"), 5)
    await app.link_blob("acme/vision/web", digest_of(b"cfg"), 3)

    async def names(**query: Any) -> list[str]:
        found, _ = await artifacts.search_repositories(**query)
        return [r.name for r in found]

    assert await names(namespaces=["acme/vision"], kind="model") == ["acme/vision/resnet", "acme/vision/yolo"]
    assert await names(namespaces=["acme"]) == ["acme/bert"]
    assert await names(all_namespaces=True, name_pattern="*/resnet") == ["acme/vision/resnet", "other/resnet"]
    assert await names(all_namespaces=True, labels=["PyTorch", "vision"]) == [
        "acme/vision/notes",
        "acme/vision/resnet",
    ]
    assert await names(namespaces=["acme/vision"], name_pattern="acme/vision/a_b") == [
        "acme/vision/a_b"
    ]  # "_" literal
    assert await names(namespaces=["acme/vision"], name_pattern="*/a?b") == [
        "acme/vision/a_b",
        "acme/vision/axb",
    ]
    assert await names(all_namespaces=True, name_pattern="acme/vision/[r-y]*") == [
        "acme/vision/resnet",
        "acme/vision/web",
        "acme/vision/yolo",
    ]
    assert await names(all_namespaces=True, name_pattern="ACME/BERT") == ["acme/bert"]
    assert await names(namespaces=[]) == []
    (web,) = (await artifacts.search_repositories(namespaces=["acme/vision"], kind="container"))[0]
    assert (web.kind, web.size, web.version_count) == ("container", 8, 0)
    everything: list[RepositoryRecord] = []
    token = ""
    for _ in range(10):
        page, token = await artifacts.search_repositories(all_namespaces=True, page_size=3, page_token=token)
        everything += page
        if not token:
            break
    assert [r.name for r in everything] == sorted(r.name for r in everything) and len(everything) == 8
    await refused(
        "PAGE_TOKEN_INVALID",
        artifacts.search_repositories(all_namespaces=True, kind="model", page_token=token or "x"),
    )
    await refused("NAME_INVALID", artifacts.search_repositories(namespaces=["Acme"]))
    await refused("KIND_INVALID", artifacts.search_repositories(all_namespaces=True, kind="image"))


# -- the OCI side -------------------------------------------------------------------------------------------


def oci_model(files: dict[str, bytes], config: bytes, artifact_type: str = MODEL_ARTIFACT_TYPE) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": MODEL_CONFIG_TYPE, "digest": digest_of(config), "size": len(config)},
            "layers": [
                {
                    "mediaType": "application/octet-stream",
                    "digest": digest_of(data),
                    "size": len(data),
                    "annotations": {TITLE: path},
                }
                for path, data in files.items()
            ],
        }
    ).encode()


async def push(
    app: App, repository: str, tag: str, manifest: bytes, blobs: list[bytes], config: bytes = b""
) -> None:
    for blob in blobs:
        await app.link_blob(repository, digest_of(blob), len(blob))
    await app.put_manifest(repository, tag, OCI_MANIFEST, manifest, config)


async def test_pushing_a_model_manifest_creates_the_repository_and_a_committed_version(
    app: App, artifacts: ArtifactApp
) -> None:
    _, config = config_blob("model", "1.0", VersionMetadata.of(description="pushed by oras"))
    manifest = oci_model({"w.bin": b"weights", "cfg/a.json": b"{}"}, config)
    await push(app, "acme/pushed", "1.0", manifest, [config, b"weights", b"{}"], config)
    # The first blob upload created it as a container; its first manifest, a model, made it a model.
    repository = await artifacts.get_repository("acme/pushed")
    assert (repository.kind, repository.latest_version, repository.latest_policy) == ("model", "1.0", "auto")
    version = await artifacts.get_version("acme/pushed", "1.0")
    assert (version.status, version.metadata.description) == ("UPLOAD_COMPLETE", "pushed by oras")
    # A container that already holds a manifest does not change kind.
    image = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest_of(b"c"),
                "size": 1,
            },
            "layers": [],
        }
    ).encode()
    await push(app, "acme/web", "v1", image, [b"c", config, b"weights", b"{}"])
    await refused("KIND_MISMATCH", app.put_manifest("acme/web", "1.0", OCI_MANIFEST, manifest, config))
    assert (await artifacts.get_repository("acme/web")).kind == "container"
    await refused("MANIFEST_UNKNOWN", app.get_manifest("acme/web", "1.0"))


async def test_a_pushed_model_makes_a_committed_version_in_a_model_repository(
    app: App, artifacts: ArtifactApp
) -> None:
    await artifacts.create_repository(REPO, "model", RepositoryMetadata())
    _, config = config_blob("model", "1.0", VersionMetadata.of(description="pushed by oras"))
    manifest = oci_model({"w.bin": b"weights", "cfg/a.json": b"{}"}, config)
    await push(app, REPO, "1.0", manifest, [config, b"weights", b"{}"], config)
    version = await artifacts.get_version(REPO, "1.0")
    assert (version.status, version.manifest_digest, version.metadata.description) == (
        "UPLOAD_COMPLETE",
        digest_of(manifest),
        "pushed by oras",
    )
    assert [(f.path, f.status) for f in version.files] == [("cfg/a.json", "COMPLETE"), ("w.bin", "COMPLETE")]
    assert (await artifacts.get_repository(REPO)).latest_version == "1.0"
    await app.put_manifest(REPO, "1.0", OCI_MANIFEST, manifest, config)  # the same again: nothing changes
    other = oci_model({"w.bin": b"weights"}, config)
    await refused("VERSION_COMMITTED", app.put_manifest(REPO, "1.0", OCI_MANIFEST, other))
    assert (await app.get_manifest(REPO, "1.0"))[0] == digest_of(manifest)
    untitled = json.loads(other)
    del untitled["layers"][0]["annotations"]
    await refused(
        "MANIFEST_INVALID", app.put_manifest(REPO, "2.0", OCI_MANIFEST, json.dumps(untitled).encode())
    )
    await refused("VERSION_UNKNOWN", artifacts.get_version(REPO, "2.0"))
    await refused("VERSION_INVALID", app.put_manifest(REPO, "latest", OCI_MANIFEST, other))
    # A model into a resource repository: refused, nothing stored.
    await artifacts.create_repository("acme/docs", "resource", RepositoryMetadata())
    await app.link_blob("acme/docs", digest_of(b"weights"), 7)
    await app.link_blob("acme/docs", digest_of(config), len(config))
    await refused("KIND_MISMATCH", app.put_manifest("acme/docs", "1.0", OCI_MANIFEST, other))
    assert await app.list_tags("acme/docs", None, None) == ([], False)
    assert (await artifacts.get_repository("acme/docs")).kind == "resource"


async def test_a_first_push_creates_a_repository_of_the_artifacts_kind(
    app: App, artifacts: ArtifactApp
) -> None:
    # Blobs go to another repository first so this one does not exist before its manifest (a mount would
    # link them; here the push names blobs the new repository lacks, so it is refused cleanly first).
    chart_config = json.dumps({"name": "nginx", "version": "1.2.3", "appVersion": "1.25"}).encode()
    chart = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": HELM_CONFIG_TYPE,
                "digest": digest_of(chart_config),
                "size": len(chart_config),
            },
            "layers": [{"mediaType": HELM_CHART_LAYER, "digest": digest_of(b"tgz"), "size": 3}],
        }
    ).encode()
    await refused(
        "MANIFEST_BLOB_UNKNOWN", app.put_manifest("acme/charts/nginx", "1.2.3", OCI_MANIFEST, chart)
    )
    await refused("NAME_UNKNOWN", artifacts.get_repository("acme/charts/nginx"))


async def test_deleting_a_versions_tag_or_manifest_deletes_the_version(
    app: App, artifacts: ArtifactApp
) -> None:
    one = await committed_version(app, artifacts, "1.0.0", {"a": b"1"})
    await committed_version(app, artifacts, "2.0.0", {"a": b"2"})
    await app.delete_manifest(REPO, "2.0.0")  # the tag
    await refused("VERSION_UNKNOWN", artifacts.get_version(REPO, "2.0.0"))
    assert (await artifacts.get_repository(REPO)).latest_version == "1.0.0"
    await app.delete_manifest(REPO, one.manifest_digest)  # the manifest, with its tag
    await refused("VERSION_UNKNOWN", artifacts.get_version(REPO, "1.0.0"))
    repository = await artifacts.get_repository(REPO)
    assert (repository.latest_version, repository.version_count) == ("", 0)
    again = await committed_version(app, artifacts, "1.0.0", {"a": b"1"})  # the name is free again
    assert again.manifest_digest == one.manifest_digest


async def test_delete_version_keeps_a_manifest_another_tag_names(app: App, artifacts: ArtifactApp) -> None:
    one = await committed_version(app, artifacts, "1.0.0", {"a": b"1"})
    _, _, content = await app.get_manifest(REPO, "1.0.0")
    await app.put_manifest(REPO, one.manifest_digest, OCI_MANIFEST, content)
    await app.put_manifest(REPO, "stable", OCI_MANIFEST, content)  # a model under a tag: a version too
    assert (await artifacts.get_version(REPO, "stable")).manifest_digest == one.manifest_digest
    await artifacts.delete_version(REPO, "1.0.0")
    assert (await app.get_manifest(REPO, "stable"))[0] == one.manifest_digest
    assert await app.list_tags(REPO, None, None) == (["stable"], False)
    assert [v.version for v in (await artifacts.list_versions(REPO))[0]] == ["stable"]
    await artifacts.delete_version(REPO, "stable")
    await refused("MANIFEST_UNKNOWN", app.get_manifest(REPO, one.manifest_digest))


async def test_a_helm_push_makes_a_chart_repository_and_version(app: App, artifacts: ArtifactApp) -> None:
    chart_config = json.dumps(
        {"apiVersion": "v2", "name": "nginx", "version": "1.2.3", "appVersion": "1.25", "description": "web"}
    ).encode()
    chart = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": HELM_CONFIG_TYPE,
                "digest": digest_of(chart_config),
                "size": len(chart_config),
            },
            "layers": [{"mediaType": HELM_CHART_LAYER, "digest": digest_of(b"tgz"), "size": 3}],
        }
    ).encode()
    await push(app, "acme/charts/nginx", "1.2.3", chart, [chart_config, b"tgz"], chart_config)
    repository = await artifacts.get_repository("acme/charts/nginx")
    assert (repository.kind, repository.latest_version, repository.version_count) == ("chart", "1.2.3", 1)
    version = await artifacts.get_version("acme/charts/nginx", "1.2.3")
    assert [f.path for f in version.files] == ["nginx-1.2.3.tgz"]
    assert (version.metadata.description, version.metadata.attribute_map()["appVersion"]) == ("web", "1.25")
    found, _ = await artifacts.search_repositories(namespaces=["acme/charts"], kind="chart")
    assert [r.name for r in found] == ["acme/charts/nginx"]


async def test_search_pages_stay_exact_when_the_pattern_is_filtered_in_python(
    app: App, artifacts: ArtifactApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hangar.registry.artifact_store import views as artifact_views

    monkeypatch.setattr(artifact_views, "_SCAN_CHUNK", 2)
    monkeypatch.setattr(artifact_views, "_MAX_SCANS", 2)  # four rows per call: pages come short, with tokens
    names = [f"acme/m{i:02d}" for i in range(20)]
    for name in names:
        await artifacts.create_repository(name, "model", RepositoryMetadata())
    wanted = [n for n in names if n[-1] in "37"]
    seen: list[str] = []
    token = ""
    for _ in range(40):
        page, token = await artifacts.search_repositories(
            namespaces=["acme"], name_pattern="acme/m[0-9][37]", page_size=1, page_token=token
        )
        assert len(page) <= 1
        seen += [r.name for r in page]
        if not token:
            break
    assert seen == wanted
