"""Versions, files, metadata, `latest` and versions as OCI artifacts: the pure rules (no I/O)."""

from __future__ import annotations

import hashlib
import json
import random

import pytest

from hangar.kit.errors import AlreadyExists, DomainError, FailedPrecondition, InvalidArgument, NotFound
from hangar.registry.domain import OCI_MANIFEST, parse_manifest
from hangar.registry.domain.artifacts import (
    FILE_LAYER_TYPE,
    HELM_CHART_LAYER,
    HELM_CONFIG_TYPE,
    MODEL_ARTIFACT_TYPE,
    MODEL_CONFIG_TYPE,
    RESOURCE_ARTIFACT_TYPE,
    RESOURCE_CONFIG_TYPE,
    TITLE,
    ArtifactRepository,
    LatestMoved,
    LatestPolicyChanged,
    MetadataUpdated,
    artifact_kind,
    build_manifest,
    config_blob,
    metadata_from_config,
    pushed_version,
)
from hangar.registry.domain.metadata import RepositoryMetadata, VersionMetadata, normalise_labels
from hangar.registry.domain.repository import RepositoryCreated
from hangar.registry.domain.versions import (
    COMMITTED,
    COMPLETE,
    INHERITED,
    MAX_PATH_BYTES,
    PENDING,
    UPLOADING,
    FileRef,
    FileRemoved,
    FileUploaded,
    FileUploadStarted,
    Version,
    VersionCommitted,
    VersionCreated,
    VersionDeleted,
    VersionFile,
    is_semver,
    validate_path,
    validate_version_name,
    version_sort_key,
)

REPO = "acme/resnet"


def digest_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def code_of(error: pytest.ExceptionInfo[DomainError]) -> str:
    return error.value.code


def pending(*files: VersionFile, kind: str = "model") -> Version:
    return Version.restore(REPO, "1.0", 1, kind=kind, status=PENDING, files=files)


# -- names and paths ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["1.0", "v1.2.3-rc.1", "_x", "a" * 128, "2024-01-01"])
def test_version_names_are_oci_tags(name: str) -> None:
    assert validate_version_name(name) == name


@pytest.mark.parametrize("name", ["", "latest", "-1", ".1", "a" * 129, "1.0+build", "a/b", "a:b", "é"])
def test_bad_version_names_are_version_invalid(name: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_version_name(name)
    assert caught.value.code == "VERSION_INVALID"


@pytest.mark.parametrize(
    "path", ["model.safetensors", "weights/part-1.bin", "a/b/c/d", "ünïcode/файл.txt", "x" * 255, ".hidden/x"]
)
def test_relative_posix_paths_are_accepted(path: str) -> None:
    assert validate_path(path) == path


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/etc/passwd",
        "../secret",
        "a/../../b",
        "a/./b",
        ".",
        "a//b",
        "a/",
        "a\\b",
        "a\x00b",
        "a\nb",
        "a\x7fb",
        "x" * 256,
        "/".join(["abcdefgh"] * 120),
        "\ud800",
    ],
)
def test_bad_paths_are_path_invalid(path: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_path(path)
    assert caught.value.code == "PATH_INVALID"


def test_a_path_of_exactly_the_limit_is_accepted_and_one_more_byte_is_not() -> None:
    path = "/".join(["a" * 200] * 6)[: MAX_PATH_BYTES - 1] + "b"
    assert len(path) == MAX_PATH_BYTES
    assert validate_path(path) == path
    with pytest.raises(InvalidArgument):
        validate_path(path + "c")


# -- semver order -------------------------------------------------------------------------------------------


def test_semver_order_is_descending_precedence_then_other_names_by_name() -> None:
    expected = [
        "v10.0.0",
        "2.0.0",
        "2.0.0-rc.10",
        "2.0.0-rc.2",
        "2.0.0-beta.11",
        "2.0.0-beta.2",
        "2.0.0-beta",
        "2.0.0-alpha.beta",
        "2.0.0-alpha.1",
        "2.0.0-alpha",
        "1.10.0",
        "1.9.0",
        "1.0.0",
        "1.0.0_build.5",
        "v1.0.0",
        "0.0.1",
        "1.0",
        "latest-ish",
        "nightly",
        "v1",
    ]
    shuffled = expected[:]
    random.Random(7).shuffle(shuffled)
    assert sorted(shuffled, key=version_sort_key) == expected


def test_semver_recognises_the_grammar_only() -> None:
    assert is_semver("1.2.3") and is_semver("v1.2.3-alpha.0") and is_semver("1.2.3_meta")
    assert not is_semver("01.2.3") and not is_semver("1.2") and not is_semver("1.2.3-01")


def test_sort_keys_are_unique_per_name() -> None:
    assert version_sort_key("1.0.0") != version_sort_key("v1.0.0")


# -- metadata -----------------------------------------------------------------------------------------------


def test_labels_are_normalised_deduplicated_and_sorted() -> None:
    assert normalise_labels([" NLP ", "nlp", "computer-vision", "pytorch:2"]) == (
        "computer-vision",
        "nlp",
        "pytorch:2",
    )


@pytest.mark.parametrize("labels", [["two words"], ["-x"], [""], ["a" * 65], [f"l{i}" for i in range(33)]])
def test_bad_labels_are_metadata_invalid(labels: list[str]) -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalise_labels(labels)
    assert caught.value.code == "METADATA_INVALID"


def test_metadata_fields_belong_to_their_kind() -> None:
    model = RepositoryMetadata(framework="PyTorch", labels=("B", "a")).validated("model")
    assert (model.framework, model.labels) == ("PyTorch", ("a", "b"))
    resource = RepositoryMetadata(setup="# Setup").validated("resource")
    assert resource.setup == "# Setup"
    for kind, metadata in (
        ("resource", RepositoryMetadata(framework="x")),
        ("model", RepositoryMetadata(quick_start="x")),
        ("chart", RepositoryMetadata(precision="fp16")),
        ("container", RepositoryMetadata(application="x")),
    ):
        with pytest.raises(InvalidArgument) as caught:
            metadata.validated(kind)
        assert caught.value.code == "METADATA_INVALID", kind


def test_documents_and_texts_are_bounded() -> None:
    RepositoryMetadata(overview="x" * 100_000).validated("model")
    for metadata in (
        RepositoryMetadata(overview="é" * 50_001),
        RepositoryMetadata(description="x" * 2049),
        RepositoryMetadata(publisher="x" * 257),
        RepositoryMetadata(display_name="two\nlines"),
        RepositoryMetadata(description="bell\x07"),
    ):
        with pytest.raises(InvalidArgument):
            metadata.validated("model")


def test_an_update_changes_only_the_named_fields() -> None:
    before = RepositoryMetadata(description="old", publisher="acme", labels=("a",))
    after = before.updated(
        RepositoryMetadata(description="new", publisher="ignored"), ["description"], "model"
    )
    assert (after.description, after.publisher, after.labels) == ("new", "acme", ("a",))
    with pytest.raises(InvalidArgument) as caught:
        before.updated(RepositoryMetadata(), ["nonsense"], "model")
    assert caught.value.code == "METADATA_INVALID"
    with pytest.raises(InvalidArgument):
        before.updated(RepositoryMetadata(setup="x"), ["setup"], "model")


def test_version_metadata_is_validated_and_attributes_sorted() -> None:
    metadata = VersionMetadata.of(epochs=3, attributes={"z": "1", "a": "2"})
    assert [a.key for a in metadata.attributes] == ["a", "z"]
    for bad in (
        {"epochs": -1},
        {"batch_size": 2**63},
        {"attributes": {"": "x"}},
        {"attributes": {"k": "v" * 1025}},
        {"attributes": {f"k{i}": "v" for i in range(65)}},
        {"accuracy": "x" * 65},
    ):
        with pytest.raises(InvalidArgument) as caught:
            VersionMetadata.of(**bad)  # type: ignore[arg-type]
        assert caught.value.code == "METADATA_INVALID", bad


# -- the version aggregate ----------------------------------------------------------------------------------


def test_a_version_is_created_pending_with_its_base_files_inherited() -> None:
    version = Version.of(REPO, "2.0")
    base = [FileRef("b.bin", digest_of(b"b"), 1), FileRef("a.bin", digest_of(b"a"), 1)]
    version.create("model", VersionMetadata(), created_by="alice", base_version="1.0", inherited=base)
    (event,) = version.collect()
    assert isinstance(event, VersionCreated)
    assert [f.path for f in event.inherited] == ["a.bin", "b.bin"]
    assert version.status == PENDING
    assert {f.status for f in version.files.values()} == {INHERITED}


def test_creating_twice_or_on_a_container_is_refused() -> None:
    with pytest.raises(AlreadyExists) as exists:
        pending().create("model", VersionMetadata())
    assert exists.value.code == "VERSION_EXISTS"
    with pytest.raises(FailedPrecondition) as mismatch:
        Version.of(REPO, "1.0").create("container", VersionMetadata())
    assert mismatch.value.code == "KIND_MISMATCH"
    with pytest.raises(InvalidArgument):
        Version.of(REPO, "latest").create("model", VersionMetadata())


def test_files_go_from_uploading_to_complete() -> None:
    version = pending()
    file, started = version.begin_file("w.bin", "up-1", 3)
    assert (file.status, file.upload_id, file.size, started) == (UPLOADING, "up-1", 3, True)
    again, started_again = version.begin_file("w.bin", "up-2", 3)
    assert (again.upload_id, started_again) == ("up-1", False)
    done = version.complete_file("w.bin", "up-1", digest_of(b"abc"), 3)
    assert (done.status, done.digest, done.size) == (COMPLETE, digest_of(b"abc"), 3)
    assert version.complete_file("w.bin", "up-1", digest_of(b"abc"), 3) == done  # a retry records nothing
    assert [type(e) for e in version.collect()] == [FileUploadStarted, FileUploaded]
    with pytest.raises(AlreadyExists) as caught:
        version.begin_file("w.bin", "up-3", 0)
    assert caught.value.code == "FILE_EXISTS"
    assert version.collect() == []


def test_completing_needs_the_recorded_upload_and_the_declared_size() -> None:
    version = pending(VersionFile("w.bin", UPLOADING, "", 3, "up-1"))
    for path, upload in (("w.bin", "other"), ("x.bin", "up-1")):
        with pytest.raises(NotFound) as caught:
            version.complete_file(path, upload, digest_of(b"abc"), 3)
        assert caught.value.code == "FILE_UNKNOWN"
    with pytest.raises(InvalidArgument) as size:
        version.complete_file("w.bin", "up-1", digest_of(b"abcd"), 4)
    assert size.value.code == "SIZE_INVALID"
    with pytest.raises(InvalidArgument) as digest:
        version.complete_file("w.bin", "up-1", "sha256:nothex", 3)
    assert digest.value.code == "DIGEST_INVALID"
    assert version.collect() == []
    assert version.files["w.bin"].status == UPLOADING


def test_inherited_files_are_replaced_or_removed() -> None:
    version = pending(
        VersionFile("a.bin", INHERITED, digest_of(b"a"), 1),
        VersionFile("b.bin", INHERITED, digest_of(b"b"), 1),
    )
    _, started = version.begin_file("a.bin", "up", 0)
    assert started and version.files["a.bin"].status == UPLOADING
    version.remove_file("b.bin")
    assert set(version.files) == {"a.bin"}
    assert [type(e) for e in version.collect()] == [FileUploadStarted, FileRemoved]
    with pytest.raises(NotFound) as caught:
        version.remove_file("b.bin")
    assert caught.value.code == "FILE_UNKNOWN"


def test_a_path_cannot_be_a_file_and_a_directory() -> None:
    version = pending(VersionFile("a", COMPLETE, digest_of(b"a"), 1))
    for path in ("a/b", "a/b/c"):
        with pytest.raises(InvalidArgument) as caught:
            version.begin_file(path, "up", 0)
        assert caught.value.code == "PATH_INVALID"
    nested = pending(VersionFile("d/e", COMPLETE, digest_of(b"a"), 1))
    with pytest.raises(InvalidArgument):
        nested.begin_file("d", "up", 0)
    nested.begin_file("de", "up", 0)  # a sibling sharing a prefix is fine


def test_bad_input_to_begin_file_is_refused_before_anything_is_recorded() -> None:
    version = pending()
    for path, upload, size, code in (
        ("../x", "up", 0, "PATH_INVALID"),
        ("x", "", 0, "UPLOAD_INVALID"),
        ("x", "up\n", 0, "UPLOAD_INVALID"),
        ("x", "up", -1, "SIZE_INVALID"),
    ):
        with pytest.raises(InvalidArgument) as caught:
            version.begin_file(path, upload, size)
        assert caught.value.code == code
    assert version.collect() == [] and version.files == {}


def test_commit_needs_every_file_complete_and_names_the_missing() -> None:
    version = pending(
        VersionFile("z.bin", UPLOADING, "", 0, "u1"),
        VersionFile("a.bin", COMPLETE, digest_of(b"a"), 1),
        VersionFile("m.bin", UPLOADING, "", 0, "u2"),
    )
    with pytest.raises(FailedPrecondition) as caught:
        version.commit(digest_of(b"m"), digest_of(b"c"))
    assert caught.value.code == "FILES_INCOMPLETE"
    assert "m.bin" in caught.value.message and "z.bin" in caught.value.message
    assert caught.value.detail == "m.bin\nz.bin"
    assert version.collect() == [] and version.status == PENDING
    with pytest.raises(FailedPrecondition) as empty:
        pending().commit(digest_of(b"m"), digest_of(b"c"))
    assert empty.value.code == "FILES_INCOMPLETE"


def test_a_committed_version_cannot_change() -> None:
    version = pending(VersionFile("a.bin", COMPLETE, digest_of(b"a"), 1))
    version.commit(digest_of(b"m"), digest_of(b"c"))
    (event,) = version.collect()
    assert event == VersionCommitted(REPO, "1.0", digest_of(b"m"), digest_of(b"c"), 1, 1)
    assert version.status == COMMITTED
    for change in (
        lambda: version.commit(digest_of(b"m"), digest_of(b"c")),
        lambda: version.begin_file("b.bin", "up", 0),
        lambda: version.complete_file("a.bin", "up", digest_of(b"a"), 1),
        lambda: version.remove_file("a.bin"),
    ):
        with pytest.raises(FailedPrecondition) as caught:
            change()
        assert caught.value.code == "VERSION_COMMITTED"
    assert version.collect() == []


def test_deleting_and_recreating_a_version() -> None:
    version = Version.restore(REPO, "1.0", 4, kind="model", status=COMMITTED, manifest_digest=digest_of(b"m"))
    version.delete()
    assert version.collect() == [VersionDeleted(REPO, "1.0", digest_of(b"m"))]
    assert not version.exists
    with pytest.raises(NotFound) as caught:
        version.delete()
    assert caught.value.code == "VERSION_UNKNOWN"
    version.create("model", VersionMetadata())
    assert version.status == PENDING and version.loaded_version == 5


def test_unknown_versions_refuse_file_commands() -> None:
    version = Version.of(REPO, "9.9")
    with pytest.raises(NotFound) as caught:
        version.begin_file("a", "u", 0)
    assert caught.value.code == "VERSION_UNKNOWN"


def test_a_rehydrated_version_equals_its_events() -> None:
    version = Version.of(REPO, "1.0")
    version.create("model", VersionMetadata(), inherited=[FileRef("old", digest_of(b"o"), 1)])
    version.begin_file("new", "u", 0)
    version.complete_file("new", "u", digest_of(b"n"), 1)
    version.remove_file("old")
    version.commit(digest_of(b"m"), digest_of(b"c"))
    again = Version.rehydrate(version.id, version.collect(), repository=REPO, name="1.0")
    assert (again.status, again.files, again.manifest_digest) == (
        COMMITTED,
        {"new": VersionFile("new", COMPLETE, digest_of(b"n"), 1)},
        digest_of(b"m"),
    )


# -- config and manifests -----------------------------------------------------------------------------------


def test_the_config_is_canonical_json_of_the_metadata_version_and_kind() -> None:
    metadata = VersionMetadata.of(description="ResNet", epochs=90, attributes={"b": "2", "a": "1"})
    media_type, content = config_blob("model", "1.0", metadata)
    assert media_type == MODEL_CONFIG_TYPE
    document = json.loads(content)
    assert content == json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    assert (document["kind"], document["version"], document["epochs"]) == ("model", "1.0", 90)
    assert metadata_from_config("model", content) == metadata  # read back from a pushed config alike
    assert config_blob("resource", "1.0", metadata)[0] == RESOURCE_CONFIG_TYPE
    chart_type, chart = config_blob("chart", "1.0", VersionMetadata.of(attributes={"appVersion": "3"}), REPO)
    assert chart_type == HELM_CONFIG_TYPE
    assert json.loads(chart) == {"apiVersion": "v2", "name": "resnet", "version": "1.0", "appVersion": "3"}


def test_the_manifest_is_deterministic_one_titled_layer_per_file_by_path() -> None:
    files = [FileRef("z/w.bin", digest_of(b"z"), 1), FileRef("a.txt", digest_of(b"a"), 1)]
    _, config = config_blob("model", "1.0", VersionMetadata())
    content = build_manifest("model", "1.0", files, MODEL_CONFIG_TYPE, config)
    assert content == build_manifest("model", "1.0", list(reversed(files)), MODEL_CONFIG_TYPE, config)
    parsed = parse_manifest(content, OCI_MANIFEST)
    assert parsed.artifact_type == MODEL_ARTIFACT_TYPE
    layers = parsed.references[1:]
    assert [layer.annotations[TITLE] for layer in layers] == ["a.txt", "z/w.bin"]
    assert {layer.media_type for layer in layers} == {FILE_LAYER_TYPE}
    assert str(parsed.references[0].digest) == digest_of(config)
    assert artifact_kind(parsed) == "model"
    resource = parse_manifest(build_manifest("resource", "1", files, RESOURCE_CONFIG_TYPE, config), None)
    assert artifact_kind(resource) == "resource"


def manifest_of(
    artifact_type: str | None, config_type: str, layers: list[dict[str, object]], config: bytes = b"{}"
) -> bytes:
    document: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": config_type, "digest": digest_of(config), "size": len(config)},
        "layers": layers,
    }
    if artifact_type:
        document["artifactType"] = artifact_type
    return json.dumps(document).encode()


def layer(
    data: bytes, title: str | None, media_type: str = "application/vnd.oci.image.layer.v1.tar"
) -> dict[str, object]:
    described: dict[str, object] = {"mediaType": media_type, "digest": digest_of(data), "size": len(data)}
    if title is not None:
        described["annotations"] = {TITLE: title}
    return described


def test_a_pushed_model_manifest_reads_back_as_a_version() -> None:
    _, config = config_blob("model", "2.0", VersionMetadata.of(description="pushed"))
    content = manifest_of(
        MODEL_ARTIFACT_TYPE,
        "application/vnd.oci.empty.v1+json",
        [layer(b"b", "b.bin"), layer(b"a", "a/x")],
        config,
    )
    pushed = pushed_version(parse_manifest(content, None), "2.0", config)
    assert pushed is not None
    assert pushed.kind == "model"
    assert [f.path for f in pushed.files] == ["a/x", "b.bin"]
    assert pushed.metadata.description == "pushed"
    assert pushed_version(parse_manifest(content, None), "2.0") is not None  # no config: empty metadata


def test_pushed_manifests_need_titled_valid_unique_layers_and_their_own_config() -> None:
    cases = [
        manifest_of(MODEL_ARTIFACT_TYPE, "application/vnd.oci.empty.v1+json", [layer(b"a", None)]),
        manifest_of(MODEL_ARTIFACT_TYPE, "application/vnd.oci.empty.v1+json", [layer(b"a", "../a")]),
        manifest_of(
            RESOURCE_ARTIFACT_TYPE, "application/vnd.oci.empty.v1+json", [layer(b"a", "x"), layer(b"b", "x")]
        ),
        manifest_of(MODEL_ARTIFACT_TYPE, RESOURCE_CONFIG_TYPE, [layer(b"a", "x")]),
    ]
    for content in cases:
        with pytest.raises(InvalidArgument) as caught:
            pushed_version(parse_manifest(content, None), "1.0")
        assert caught.value.code == "MANIFEST_INVALID"
    good = parse_manifest(manifest_of(MODEL_ARTIFACT_TYPE, MODEL_CONFIG_TYPE, [layer(b"a", "x")]), None)
    with pytest.raises(InvalidArgument) as wrong_config:
        pushed_version(good, "1.0", b'{"other":1}')
    assert wrong_config.value.code == "MANIFEST_INVALID"
    with pytest.raises(InvalidArgument) as latest:
        pushed_version(good, "latest")
    assert latest.value.code == "VERSION_INVALID"
    bad_config = b'{"epochs":"ninety"}'
    typed = parse_manifest(
        manifest_of(MODEL_ARTIFACT_TYPE, MODEL_CONFIG_TYPE, [layer(b"a", "x")], bad_config), None
    )
    with pytest.raises(InvalidArgument) as mistyped:
        pushed_version(typed, "1.0", bad_config)
    assert mistyped.value.code == "MANIFEST_INVALID"


def test_a_helm_chart_is_a_chart_version_named_after_its_archive() -> None:
    config = json.dumps(
        {"name": "nginx", "version": "1.2.3", "appVersion": "1.25", "description": "web"}
    ).encode()
    content = manifest_of(None, HELM_CONFIG_TYPE, [layer(b"tgz", None, HELM_CHART_LAYER)], config)
    pushed = pushed_version(parse_manifest(content, None), "1.2.3", config)
    assert pushed is not None and pushed.kind == "chart"
    assert [f.path for f in pushed.files] == ["nginx-1.2.3.tgz"]
    assert pushed.metadata.description == "web"
    assert pushed.metadata.attribute_map() == {"name": "nginx", "version": "1.2.3", "appVersion": "1.25"}


def test_container_images_are_not_versions() -> None:
    content = manifest_of(None, "application/vnd.oci.image.config.v1+json", [layer(b"a", None)])
    assert pushed_version(parse_manifest(content, None), "v1") is None


def test_a_pushed_version_is_created_committed_at_once() -> None:
    version = Version.of(REPO, "2.0")
    files = [FileRef("a", digest_of(b"a"), 1), FileRef("b", digest_of(b"bb"), 2)]
    version.pushed("model", VersionMetadata(), files, digest_of(b"m"), digest_of(b"c"), created_by="ci")
    events = version.collect()
    assert [type(e) for e in events] == [VersionCreated, FileUploaded, FileUploaded, VersionCommitted]
    assert events[-1] == VersionCommitted(REPO, "2.0", digest_of(b"m"), digest_of(b"c"), 3, 2)
    clash = Version.of(REPO, "3.0")
    with pytest.raises(InvalidArgument):
        clash.pushed(
            "model",
            VersionMetadata(),
            [FileRef("a", "sha256:" + "0" * 64, 1), FileRef("a/b", "sha256:" + "1" * 64, 1)],
            "sha256:" + "2" * 64,
            "sha256:" + "3" * 64,
        )


# -- the repository's metadata and latest -------------------------------------------------------------------


def test_creating_an_artifact_repository_records_kind_metadata_and_policy() -> None:
    created = ArtifactRepository.create(REPO, "model", RepositoryMetadata(description="d"), "manual")
    events = created.collect()
    assert events[0] == RepositoryCreated(REPO, "model")
    assert isinstance(events[1], MetadataUpdated) and events[1].fields == ("description",)
    assert events[2] == LatestPolicyChanged(REPO, "manual")
    plain = ArtifactRepository.create(REPO, "chart", RepositoryMetadata())
    assert plain.collect() == [RepositoryCreated(REPO, "chart")]
    for kind, policy, code in (
        ("container", "", "KIND_INVALID"),
        ("model", "sometimes", "LATEST_POLICY_INVALID"),
        ("x", "", "KIND_INVALID"),
    ):
        with pytest.raises(InvalidArgument) as caught:
            ArtifactRepository.create(REPO, kind, RepositoryMetadata(), policy)
        assert caught.value.code == code
    with pytest.raises(InvalidArgument) as name:
        ArtifactRepository.create("Acme/X", "model", RepositoryMetadata())
    assert name.value.code == "NAME_INVALID"


def restored(policy: str = "auto", latest: str = "", kind: str = "model") -> ArtifactRepository:
    return ArtifactRepository.restore(
        REPO, 3, kind=kind, metadata=RepositoryMetadata(), latest=latest, policy=policy
    )


def test_auto_latest_follows_commits_and_manual_latest_does_not() -> None:
    auto = restored()
    auto.version_committed("1.0")
    assert auto.collect() == [LatestMoved(REPO, "1.0", "")]
    manual = restored("manual", "1.0")
    manual.version_committed("2.0")
    assert manual.collect() == []


def test_set_latest_makes_the_policy_manual_and_needs_a_committed_version() -> None:
    repository = restored(latest="1.0")
    with pytest.raises(NotFound) as caught:
        repository.set_latest("2.0", committed=False)
    assert caught.value.code == "VERSION_UNKNOWN"
    assert repository.collect() == []
    repository.set_latest("2.0", committed=True)
    assert repository.collect() == [LatestPolicyChanged(REPO, "manual"), LatestMoved(REPO, "2.0", "1.0")]
    repository.set_auto()
    assert repository.collect() == [LatestPolicyChanged(REPO, "auto")]
    with pytest.raises(FailedPrecondition) as container:
        restored(kind="container").set_latest("1.0", committed=True)
    assert container.value.code == "KIND_MISMATCH"


def test_deleting_the_latest_version_moves_latest_by_policy() -> None:
    auto = restored(latest="2.0")
    auto.version_deleted("2.0", "1.0")
    assert auto.collect() == [LatestMoved(REPO, "1.0", "2.0")]
    manual = restored("manual", "2.0")
    manual.version_deleted("2.0", "1.0")
    assert manual.collect() == [LatestMoved(REPO, "", "2.0")]
    other = restored(latest="2.0")
    other.version_deleted("1.0", "2.0")
    assert other.collect() == []


def test_metadata_updates_record_only_real_changes() -> None:
    repository = restored()
    repository.update_metadata(RepositoryMetadata(labels=("X",)), ["labels"])
    (event,) = repository.collect()
    assert isinstance(event, MetadataUpdated) and event.labels == ("x",) and event.fields == ("labels",)
    repository.update_metadata(RepositoryMetadata(labels=("x",)), ["labels"])
    assert repository.collect() == []
    with pytest.raises(InvalidArgument):
        repository.update_metadata(RepositoryMetadata(setup="x"), ["setup"])
    assert repository.collect() == []
