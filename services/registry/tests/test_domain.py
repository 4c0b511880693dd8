"""Rules of the registry domain: digests, names, tags, manifests, tag pages and the Repository aggregate."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from hangar.kit.errors import FailedPrecondition, InvalidArgument, NotFound
from hangar.registry.domain import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    MAX_MANIFEST_BYTES,
    OCI_INDEX,
    OCI_MANIFEST,
    BlobLinked,
    Digest,
    ManifestPushed,
    ManifestTooLarge,
    ParsedManifest,
    Repository,
    RepositoryCreated,
    Tag,
    TagMoved,
    paginate_tags,
    parse_manifest,
    parse_reference,
    validate_repository_name,
)

CONFIG = b'{"architecture":"amd64","os":"linux"}'
LAYER = b"layer one"
OTHER_LAYER = b"layer two"
EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"


def descriptor(content: bytes, media_type: str = LAYER_TYPE, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": str(Digest.of(content)), "size": len(content), **extra}


def image_manifest(**fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(CONFIG, "application/vnd.oci.image.config.v1+json"),
        "layers": [descriptor(LAYER), descriptor(OTHER_LAYER)],
    }
    document.update(fields)
    return document


def index(children: list[bytes], media_type: str = OCI_INDEX, **fields: Any) -> dict[str, Any]:
    child_type = DOCKER_MANIFEST if media_type == DOCKER_MANIFEST_LIST else OCI_MANIFEST
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [descriptor(child, child_type) for child in children],
    }
    document.update(fields)
    return document


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def refusal(content: bytes, media_type: str | None = OCI_MANIFEST) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as caught:
        parse_manifest(content, media_type)
    return caught.value


def created(name: str = "acme/web") -> Repository:
    repository = Repository.create(name)
    repository.collect()
    return repository


def linked_blobs() -> set[str]:
    return {str(Digest.of(CONFIG)), str(Digest.of(LAYER)), str(Digest.of(OTHER_LAYER))}


# --- digests and references -------------------------------------------------------------------------


def test_sha256_digest_round_trips() -> None:
    text = "sha256:" + hashlib.sha256(b"x").hexdigest()
    assert str(Digest.parse(text)) == text
    assert Digest.parse(text) == Digest.of(b"x")


def test_sha512_digest_is_accepted() -> None:
    text = "sha512:" + hashlib.sha512(b"x").hexdigest()
    digest = Digest.parse(text)
    assert (digest.algorithm, str(digest)) == ("sha512", text)
    assert Digest.of(b"x", "sha512") == digest


@pytest.mark.parametrize(
    "text",
    [
        "sha256:" + "A" * 64,  # uppercase hex
        "sha256:" + "a" * 63,  # too short
        "sha512:" + "a" * 64,  # sha512 with a sha256 length
        "md5:" + "a" * 32,  # unsupported algorithm
        "a" * 64,  # no algorithm
        "sha256:" + "g" * 64,  # not hex
        "sha256:" + "a" * 64 + "\n",
    ],
)
def test_malformed_or_unsupported_digest_is_refused(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        Digest.parse(text)
    assert caught.value.code == "DIGEST_INVALID"


def test_reference_with_colon_is_a_digest_and_without_is_a_tag() -> None:
    digest = Digest.of(b"x")
    assert parse_reference(str(digest)) == digest
    assert parse_reference("v1.2.0") == Tag("v1.2.0")


@pytest.mark.parametrize("tag", ["-leading-dash", ".hidden", "a" * 129, "has space", "semi;colon", ""])
def test_invalid_tag_is_refused(tag: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_reference(tag)
    assert caught.value.code == "TAG_INVALID"


def test_tag_of_128_characters_is_accepted() -> None:
    assert parse_reference("_" + "a" * 127) == Tag("_" + "a" * 127)


# --- repository names -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["acme/web", "acme/vision/detector", "a-b/c.d", "acme/x__y", "acme/x--y"])
def test_org_and_team_repository_names_are_accepted(name: str) -> None:
    assert validate_repository_name(name) == name


def test_uppercase_repository_name_is_refused() -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_repository_name("Acme/web")
    assert caught.value.code == "NAME_INVALID"
    assert "repository names are lowercase" in caught.value.message


@pytest.mark.parametrize("name", ["../x", "acme/../x", "a//b", "/acme/web", "acme/web/", "./acme", "acme/."])
def test_traversal_looking_repository_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_repository_name(name)
    assert caught.value.code == "NAME_INVALID"


@pytest.mark.parametrize("name", ["a//b", "/acme/web", "acme/web/"])
def test_empty_path_component_is_named_in_the_refusal(name: str) -> None:
    with pytest.raises(InvalidArgument, match="empty path component"):
        validate_repository_name(name)


@pytest.mark.parametrize("name", ["web", "acme/team/sub/web"])
def test_repository_name_must_have_two_or_three_components(name: str) -> None:
    with pytest.raises(InvalidArgument, match="org/name or org/team/name"):
        validate_repository_name(name)


@pytest.mark.parametrize("name", ["acme/x___y", "acme/-x", "acme/x.", "acme/x..y", "acme/x_-y", "acme/wéb"])
def test_misplaced_separators_and_foreign_characters_are_refused(name: str) -> None:
    with pytest.raises(InvalidArgument, match="path component"):
        validate_repository_name(name)


def test_repository_name_longer_than_255_characters_is_refused() -> None:
    assert validate_repository_name("acme/" + "a" * 250)
    with pytest.raises(InvalidArgument, match="longer than 255"):
        validate_repository_name("acme/" + "a" * 251)


def test_repository_name_with_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        validate_repository_name("acme/web\n")


# --- manifests --------------------------------------------------------------------------------------


def test_oci_image_manifest_lists_config_and_layers_as_blobs() -> None:
    content = encode(image_manifest(annotations={"org.opencontainers.image.title": "web"}))
    parsed = parse_manifest(content, OCI_MANIFEST)
    assert parsed.media_type == OCI_MANIFEST
    assert parsed.blobs == (Digest.of(CONFIG), Digest.of(LAYER), Digest.of(OTHER_LAYER))
    assert parsed.children == ()
    assert parsed.annotations == {"org.opencontainers.image.title": "web"}
    assert parsed.artifact_type == "application/vnd.oci.image.config.v1+json"


def test_manifest_digest_is_of_the_exact_bytes() -> None:
    compact = encode(image_manifest())
    spaced = json.dumps(image_manifest(), indent=2).encode()
    assert parse_manifest(compact, OCI_MANIFEST).digest == Digest.of(compact)
    assert parse_manifest(spaced, OCI_MANIFEST).digest == Digest.of(spaced)
    assert parse_manifest(spaced, OCI_MANIFEST).size == len(spaced)


def test_push_by_digest_must_name_the_content_digest() -> None:
    content = encode(image_manifest())
    assert parse_manifest(content, OCI_MANIFEST, expected_digest=Digest.of(content, "sha512")).digest == (
        Digest.of(content, "sha512")
    )
    with pytest.raises(InvalidArgument) as caught:
        parse_manifest(content, OCI_MANIFEST, expected_digest=Digest.of(b"other"))
    assert caught.value.code == "DIGEST_INVALID"


def test_artifact_type_wins_over_config_media_type() -> None:
    document = image_manifest(
        artifactType="application/vnd.hangar.model.v1+json", config=descriptor(b"{}", EMPTY_CONFIG_TYPE)
    )
    assert (
        parse_manifest(encode(document), OCI_MANIFEST).artifact_type == "application/vnd.hangar.model.v1+json"
    )


def test_subject_is_extracted_even_when_unknown() -> None:
    subject = Digest.of(b"signed image")
    document = image_manifest(subject=descriptor(b"signed image", OCI_MANIFEST))
    assert parse_manifest(encode(document), OCI_MANIFEST).subject == subject


def test_media_type_mismatch_is_refused() -> None:
    error = refusal(encode(image_manifest()), OCI_INDEX)
    assert error.code == "MANIFEST_INVALID"
    assert "does not match" in error.message


def test_content_type_parameters_are_ignored() -> None:
    parsed = parse_manifest(
        encode(image_manifest()), "application/vnd.oci.image.manifest.v1+json; charset=utf-8"
    )
    assert parsed.media_type == OCI_MANIFEST


def test_unsupported_content_type_is_refused() -> None:
    error = refusal(encode(image_manifest()), "application/vnd.docker.distribution.manifest.v1+prettyjws")
    assert "not a supported manifest media type" in error.message


def test_media_type_is_taken_from_the_body_or_the_shape_without_content_type() -> None:
    assert parse_manifest(encode(index([CONFIG])), None).media_type == OCI_INDEX
    shapeless = image_manifest()
    del shapeless["mediaType"]
    assert parse_manifest(encode(shapeless), None).media_type == OCI_MANIFEST


def test_docker_schema2_manifest_is_accepted() -> None:
    document = image_manifest(
        mediaType=DOCKER_MANIFEST,
        config=descriptor(CONFIG, "application/vnd.docker.container.image.v1+json"),
        layers=[descriptor(LAYER, "application/vnd.docker.image.rootfs.diff.tar.gzip")],
    )
    parsed = parse_manifest(encode(document), DOCKER_MANIFEST)
    assert parsed.blobs == (Digest.of(CONFIG), Digest.of(LAYER))
    assert parsed.artifact_type == "application/vnd.docker.container.image.v1+json"


def test_docker_manifest_without_media_type_field_is_refused() -> None:
    document = image_manifest()
    del document["mediaType"]
    assert "mediaType field" in refusal(encode(document), DOCKER_MANIFEST).message


def test_docker_manifest_list_children_are_found() -> None:
    content = encode(index([b"amd64 manifest", b"arm64 manifest"], DOCKER_MANIFEST_LIST))
    parsed = parse_manifest(content, DOCKER_MANIFEST_LIST)
    assert parsed.is_index
    assert parsed.children == (Digest.of(b"amd64 manifest"), Digest.of(b"arm64 manifest"))
    assert parsed.blobs == ()


def test_oci_index_children_are_found() -> None:
    parsed = parse_manifest(encode(index([b"child"])), OCI_INDEX)
    assert parsed.children == (Digest.of(b"child"),)


def test_image_manifest_without_config_is_refused() -> None:
    document = image_manifest()
    del document["config"]
    assert "config is required" in refusal(encode(document)).message


def test_index_carrying_layers_is_refused() -> None:
    document = index([b"child"], layers=[descriptor(LAYER)])
    assert "index has no" in refusal(encode(document), OCI_INDEX).message


@pytest.mark.parametrize("version", [1, "2", 2.0, True, None])
def test_schema_version_other_than_2_is_refused(version: object) -> None:
    assert "schemaVersion" in refusal(encode(image_manifest(schemaVersion=version))).message


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("size", -1, "size must be a non-negative integer"),
        ("size", 1.5, "size must be a non-negative integer"),
        ("size", True, "size must be a non-negative integer"),
        ("digest", "sha256:abc", "digest is invalid"),
        ("mediaType", "not a media type", "is not a media type"),
    ],
)
def test_malformed_descriptor_is_refused(field: str, value: object, problem: str) -> None:
    layer = descriptor(LAYER)
    layer[field] = value
    error = refusal(encode(image_manifest(layers=[layer])))
    assert error.code == "MANIFEST_INVALID"
    assert f"layers[0].{field}" in error.message
    assert problem in error.message


@pytest.mark.parametrize("field", ["mediaType", "digest", "size"])
def test_descriptor_missing_a_required_field_is_refused(field: str) -> None:
    layer = descriptor(LAYER)
    del layer[field]
    assert f"layers[0].{field} is required" in refusal(encode(image_manifest(layers=[layer]))).message


def test_embedded_data_must_match_the_descriptor() -> None:
    good = descriptor(b"{}", EMPTY_CONFIG_TYPE, data=base64.b64encode(b"{}").decode())
    assert parse_manifest(encode(image_manifest(config=good)), OCI_MANIFEST).blobs[0] == Digest.of(b"{}")
    bad = descriptor(b"{}", EMPTY_CONFIG_TYPE, data=base64.b64encode(b"[]").decode())
    assert "config.data does not match" in refusal(encode(image_manifest(config=bad))).message


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"\xff\xfe", "UTF-8"),
        (b'{"schemaVersion": 2, "schemaVersion": 2}', "repeats the key"),
        (b'{"schemaVersion": NaN}', "NaN"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_content_that_is_not_a_json_object_is_refused(content: bytes, problem: str) -> None:
    error = refusal(content)
    assert error.code == "MANIFEST_INVALID"
    assert problem in error.message


def test_manifest_over_4mib_is_refused() -> None:
    document = image_manifest(annotations={"padding": ""})
    overhead = len(encode(document))
    document["annotations"]["padding"] = "x" * (MAX_MANIFEST_BYTES - overhead)
    at_limit = encode(document)
    assert len(at_limit) == MAX_MANIFEST_BYTES
    assert parse_manifest(at_limit, OCI_MANIFEST).size == MAX_MANIFEST_BYTES
    document["annotations"]["padding"] += "x"
    with pytest.raises(ManifestTooLarge) as caught:
        parse_manifest(encode(document), OCI_MANIFEST)
    assert caught.value.code == "SIZE_INVALID"


def test_foreign_layer_with_urls_need_not_be_in_the_repository() -> None:
    foreign = descriptor(
        b"windows base", "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", urls=["https://x/y"]
    )
    document = image_manifest(mediaType=DOCKER_MANIFEST, layers=[foreign, descriptor(LAYER)])
    parsed = parse_manifest(encode(document), DOCKER_MANIFEST)
    assert parsed.foreign_layers == (Digest.of(b"windows base"),)
    assert Digest.of(b"windows base") not in parsed.blobs


# --- tag pagination ---------------------------------------------------------------------------------


def test_tags_are_listed_in_lexical_order() -> None:
    assert paginate_tags(["v2", "latest", "V1", "v10"], None, None) == (["V1", "latest", "v10", "v2"], False)


def test_tag_pagination_with_last_and_n() -> None:
    tags = ["e", "a", "d", "c", "b"]
    assert paginate_tags(tags, 2, None) == (["a", "b"], True)
    assert paginate_tags(tags, 2, "b") == (["c", "d"], True)
    assert paginate_tags(tags, 2, "d") == (["e"], False)
    assert paginate_tags(tags, 3, "bb") == (["c", "d", "e"], False)


def test_tag_page_of_zero_is_empty_and_final() -> None:
    assert paginate_tags(["a", "b"], 0, None) == ([], False)


@pytest.mark.parametrize("n", [-1, 10_001])
def test_negative_or_absurd_page_size_is_refused(n: int) -> None:
    with pytest.raises(InvalidArgument) as caught:
        paginate_tags(["a"], n, None)
    assert caught.value.code == "PAGINATION_NUMBER_INVALID"


# --- the Repository aggregate -----------------------------------------------------------------------


def test_repository_is_created_with_a_kind() -> None:
    repository = Repository.create("acme/vision/detector", kind="model")
    assert repository.stream_id == "repo-acme/vision/detector"
    assert repository.collect() == [RepositoryCreated(repository="acme/vision/detector", kind="model")]


def test_unknown_repository_kind_is_refused() -> None:
    with pytest.raises(InvalidArgument) as caught:
        Repository.create("acme/web", kind="dataset")
    assert caught.value.code == "KIND_INVALID"


def test_repository_with_invalid_name_cannot_be_created() -> None:
    with pytest.raises(InvalidArgument):
        Repository.create("../etc")


def test_linking_a_blob_twice_records_one_event() -> None:
    repository = created()
    repository.link_blob(Digest.of(LAYER), len(LAYER))
    repository.link_blob(str(Digest.of(LAYER)), len(LAYER))
    assert repository.collect() == [BlobLinked(repository="acme/web", digest=str(Digest.of(LAYER)), size=9)]


def test_blob_relinked_with_another_size_is_refused() -> None:
    repository = created()
    repository.link_blob(Digest.of(LAYER), len(LAYER))
    with pytest.raises(InvalidArgument):
        repository.link_blob(Digest.of(LAYER), len(LAYER) + 1)


def test_commands_on_a_repository_never_created_are_refused() -> None:
    with pytest.raises(NotFound) as caught:
        Repository("acme/web").link_blob(Digest.of(LAYER), len(LAYER))
    assert caught.value.code == "NAME_UNKNOWN"


def test_manifest_push_records_the_manifest_and_moves_the_tag() -> None:
    repository = created()
    parsed = parse_manifest(encode(image_manifest()), OCI_MANIFEST)
    repository.push_manifest(parsed, "v1", linked_blobs(), set())
    assert repository.collect() == [
        ManifestPushed(
            repository="acme/web",
            digest=str(parsed.digest),
            media_type=OCI_MANIFEST,
            size=parsed.size,
            subject_digest="",
            artifact_type="application/vnd.oci.image.config.v1+json",
            children=(),
            content=encode(image_manifest()),
        ),
        TagMoved(repository="acme/web", tag="v1", digest=str(parsed.digest), previous_digest=""),
    ]


def test_manifest_naming_unknown_layer_is_refused() -> None:
    repository = created()
    parsed = parse_manifest(encode(image_manifest()), OCI_MANIFEST)
    known = linked_blobs() - {str(Digest.of(OTHER_LAYER))}
    with pytest.raises(FailedPrecondition) as caught:
        repository.push_manifest(parsed, "v1", known, set())
    assert caught.value.code == "MANIFEST_BLOB_UNKNOWN"
    assert str(Digest.of(OTHER_LAYER)) in caught.value.message
    assert repository.collect() == []


def test_blob_linked_to_the_aggregate_counts_as_known() -> None:
    repository = created()
    for blob in (CONFIG, LAYER, OTHER_LAYER):
        repository.link_blob(Digest.of(blob), len(blob))
    repository.push_manifest(parse_manifest(encode(image_manifest()), OCI_MANIFEST), None, set(), set())
    assert isinstance(repository.collect()[-1], ManifestPushed)


def test_index_naming_unknown_child_is_refused() -> None:
    repository = created()
    parsed = parse_manifest(encode(index([b"amd64", b"arm64"])), OCI_INDEX)
    with pytest.raises(FailedPrecondition) as caught:
        repository.push_manifest(parsed, "v1", set(), {str(Digest.of(b"amd64"))})
    assert caught.value.code == "MANIFEST_BLOB_UNKNOWN"
    assert str(Digest.of(b"arm64")) in caught.value.message


def test_index_with_known_children_is_pushed() -> None:
    repository = created()
    parsed = parse_manifest(encode(index([b"amd64"])), OCI_INDEX)
    repository.push_manifest(parsed, None, set(), {str(Digest.of(b"amd64"))})
    assert [type(event) for event in repository.collect()] == [ManifestPushed]


def test_descriptor_size_must_match_the_linked_blob() -> None:
    repository = created()
    repository.link_blob(Digest.of(LAYER), len(LAYER) + 100)
    parsed = parse_manifest(encode(image_manifest()), OCI_MANIFEST)
    with pytest.raises(InvalidArgument) as caught:
        repository.push_manifest(parsed, None, linked_blobs(), set())
    assert caught.value.code == "MANIFEST_INVALID"


def test_repushing_a_manifest_under_its_tag_records_nothing() -> None:
    repository = created()
    parsed = parse_manifest(encode(image_manifest()), OCI_MANIFEST)
    repository.push_manifest(parsed, "v1", linked_blobs(), set())
    repository.collect()
    repository.push_manifest(parsed, "v1", linked_blobs(), set())
    assert repository.collect() == []


def test_moving_a_tag_names_the_previous_digest() -> None:
    repository = created()
    first = parse_manifest(encode(image_manifest()), OCI_MANIFEST)
    second = parse_manifest(encode(image_manifest(layers=[descriptor(LAYER)])), OCI_MANIFEST)
    repository.push_manifest(first, "latest", linked_blobs(), set())
    repository.push_manifest(second, "latest", linked_blobs(), set())
    assert repository.collect()[-1] == TagMoved(
        repository="acme/web", tag="latest", digest=str(second.digest), previous_digest=str(first.digest)
    )


def test_pushing_a_known_manifest_under_a_new_tag_only_moves_the_tag() -> None:
    repository = created()
    parsed = parse_manifest(encode(image_manifest()), OCI_MANIFEST)
    repository.push_manifest(parsed, "v1", linked_blobs(), set())
    repository.collect()
    repository.push_manifest(parsed, "stable", linked_blobs(), set())
    assert [type(event) for event in repository.collect()] == [TagMoved]


def test_manifest_push_with_invalid_tag_is_refused() -> None:
    repository = created()
    parsed = parse_manifest(encode(image_manifest()), OCI_MANIFEST)
    with pytest.raises(InvalidArgument) as caught:
        repository.push_manifest(parsed, "-bad", linked_blobs(), set())
    assert caught.value.code == "TAG_INVALID"


def test_subject_is_carried_by_the_pushed_event() -> None:
    repository = created()
    subject = Digest.of(b"signed image")
    parsed = parse_manifest(encode(image_manifest(subject=descriptor(b"signed image", OCI_MANIFEST))), None)
    repository.push_manifest(parsed, None, linked_blobs(), set())
    event = repository.collect()[0]
    assert isinstance(event, ManifestPushed)
    assert event.subject_digest == str(subject)


def test_rehydrated_repository_has_the_state_its_events_built() -> None:
    repository = Repository.create("acme/web")
    repository.link_blob(Digest.of(LAYER), len(LAYER))
    parsed: ParsedManifest = parse_manifest(encode(image_manifest()), OCI_MANIFEST)
    repository.push_manifest(parsed, "v1", linked_blobs(), set())
    events = repository.collect()
    loaded = Repository.rehydrate("acme/web", events)
    assert loaded.kind == "container"
    assert loaded.tags == {"v1": str(parsed.digest)}
    assert loaded.manifests == {str(parsed.digest)}
    assert loaded.blobs == {str(Digest.of(LAYER)): len(LAYER)}
    assert loaded.loaded_version == len(events) == 4
