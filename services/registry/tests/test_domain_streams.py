"""The aggregates as the service's streams use them: a BlobLink per blob, a Repository restored from views."""

from __future__ import annotations

import json

import pytest

from hangar.kit.errors import FailedPrecondition, InvalidArgument
from hangar.registry.domain import (
    OCI_INDEX,
    OCI_MANIFEST,
    BlobLink,
    BlobLinked,
    Digest,
    ManifestPushed,
    Repository,
    TagMoved,
    parse_manifest,
)

REPO = "acme/web"
CONFIG = b"{}"
LAYER = b"layer"


def manifest() -> bytes:
    def descriptor(data: bytes, media_type: str) -> dict[str, object]:
        return {"mediaType": media_type, "digest": str(Digest.of(data)), "size": len(data)}

    return json.dumps(
        {
            "schemaVersion": 2,
            "config": descriptor(CONFIG, "application/vnd.oci.empty.v1+json"),
            "layers": [descriptor(LAYER, "application/vnd.oci.image.layer.v1.tar")],
        }
    ).encode()


def new_link(repository: str = REPO, data: bytes = LAYER) -> BlobLink:
    return BlobLink(BlobLink.id_for(repository, Digest.of(data)))


def test_a_blob_link_has_a_short_stream_of_its_own_per_repository_and_digest() -> None:
    long_name = "acme/" + "x" * 240
    sha512 = Digest.of(LAYER, "sha512")
    link = BlobLink(BlobLink.id_for(long_name, sha512))
    assert link.stream_id.startswith("bloblink-")
    assert len(link.stream_id) <= 300
    assert BlobLink.id_for(REPO, sha512) != BlobLink.id_for("acme/api", sha512)
    assert BlobLink.id_for(REPO, sha512) != BlobLink.id_for(REPO, Digest.of(LAYER))


def test_linking_records_the_link_once() -> None:
    link = new_link()
    link.link(REPO, str(Digest.of(LAYER)), len(LAYER))
    link.link(REPO, Digest.of(LAYER), len(LAYER))
    assert link.collect() == [BlobLinked(repository=REPO, digest=str(Digest.of(LAYER)), size=len(LAYER))]
    loaded = BlobLink.rehydrate(link.id, [BlobLinked(REPO, str(Digest.of(LAYER)), len(LAYER))])
    loaded.link(REPO, Digest.of(LAYER), len(LAYER))
    assert loaded.linked and loaded.collect() == []


def test_a_link_refuses_another_size_and_impossible_sizes() -> None:
    link = BlobLink.rehydrate(new_link().id, [BlobLinked(REPO, str(Digest.of(LAYER)), len(LAYER))])
    for size in (len(LAYER) + 1, -1, 2**63):
        with pytest.raises(InvalidArgument) as caught:
            link.link(REPO, Digest.of(LAYER), size)
        assert caught.value.code == "SIZE_INVALID"


def test_a_link_refuses_a_digest_of_another_stream() -> None:
    with pytest.raises(ValueError, match="not the link"):
        new_link().link("acme/api", Digest.of(LAYER), len(LAYER))


def test_a_restored_repository_appends_after_its_version() -> None:
    parsed = parse_manifest(manifest(), OCI_MANIFEST)
    known = {str(Digest.of(CONFIG)): len(CONFIG), str(Digest.of(LAYER)): len(LAYER)}
    repository = Repository.restore(REPO, 7, kind="container", tags={"v1": "sha256:" + "0" * 64})
    repository.push_manifest(parsed, "v1", known, {})
    assert repository.loaded_version == 7
    events = repository.collect()
    assert [type(e) for e in events] == [ManifestPushed, TagMoved]
    assert events[1] == TagMoved(REPO, "v1", str(parsed.digest), "sha256:" + "0" * 64)


def test_a_restored_repository_knows_the_manifest_it_was_given() -> None:
    parsed = parse_manifest(manifest(), OCI_MANIFEST)
    known = {str(Digest.of(CONFIG)): len(CONFIG), str(Digest.of(LAYER)): len(LAYER)}
    repository = Repository.restore(REPO, 3, kind="container", manifests=[str(parsed.digest)])
    repository.push_manifest(parsed, "v2", known, {})
    assert [type(e) for e in repository.collect()] == [TagMoved]


def test_known_blob_sizes_must_match_the_descriptors() -> None:
    parsed = parse_manifest(manifest(), OCI_MANIFEST)
    repository = Repository.restore(REPO, 1, kind="container")
    with pytest.raises(InvalidArgument) as caught:
        repository.push_manifest(parsed, None, {str(Digest.of(CONFIG)): 2, str(Digest.of(LAYER)): 99}, {})
    assert caught.value.code == "MANIFEST_INVALID"


def test_known_manifest_sizes_must_match_an_index_descriptors() -> None:
    child = manifest()
    content = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": str(Digest.of(child)), "size": len(child)}],
        }
    ).encode()
    parsed = parse_manifest(content, OCI_INDEX)
    repository = Repository.restore(REPO, 1, kind="container")
    with pytest.raises(InvalidArgument) as caught:
        repository.push_manifest(parsed, None, {}, {str(Digest.of(child)): len(child) + 1})
    assert caught.value.code == "MANIFEST_INVALID"
    repository.push_manifest(parsed, None, {}, {str(Digest.of(child)): len(child)})
    [pushed] = repository.collect()
    assert isinstance(pushed, ManifestPushed)
    assert pushed.children == (str(Digest.of(child)),)
    assert pushed.content == content
    assert pushed.artifact_type == ""
    assert "content" not in repr(pushed)


def test_the_detail_of_a_refusal_lists_only_as_many_missing_digests_as_a_trailer_holds() -> None:
    layers = [
        {
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": str(Digest.of(bytes([i]))),
            "size": 1,
        }
        for i in range(200)
    ]
    content = json.dumps({**json.loads(manifest()), "layers": layers}).encode()
    with pytest.raises(FailedPrecondition) as caught:
        Repository.restore(REPO, 1, kind="container").push_manifest(
            parse_manifest(content, OCI_MANIFEST), None, {}, {}
        )
    detail = caught.value.detail.split(" ")
    assert len(caught.value.detail) <= 2048
    assert detail == [str(Digest.of(CONFIG)), *(layer["digest"] for layer in layers)][: len(detail)]
    assert "and 198 more" in caught.value.message
