"""Deleting manifests and tags in the Repository aggregate: folded from its stream, restored from views."""

from __future__ import annotations

import json

import pytest

from hangar.kit.errors import FailedPrecondition, InvalidArgument, NotFound
from hangar.registry.domain import (
    OCI_INDEX,
    OCI_MANIFEST,
    Digest,
    ManifestDeleted,
    ManifestPushed,
    ParsedManifest,
    Repository,
    TagDeleted,
    TagMoved,
    parse_manifest,
)

REPO = "acme/web"
CONFIG = b"{}"
LAYERS = (b"amd64 layer", b"arm64 layer")


def descriptor(data: bytes, media_type: str) -> dict[str, object]:
    return {"mediaType": media_type, "digest": str(Digest.of(data)), "size": len(data)}


def image(layer: bytes = LAYERS[0]) -> ParsedManifest:
    content = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(CONFIG, "application/vnd.oci.empty.v1+json"),
            "layers": [descriptor(layer, "application/vnd.oci.image.layer.v1.tar")],
        }
    ).encode()
    return parse_manifest(content, OCI_MANIFEST)


def index(*children: ParsedManifest) -> ParsedManifest:
    content = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": str(child.digest), "size": child.size}
                for child in children
            ],
        }
    ).encode()
    return parse_manifest(content, OCI_INDEX)


def blobs() -> dict[str, int]:
    return {str(Digest.of(data)): len(data) for data in (CONFIG, *LAYERS)}


def pushed(*manifests: tuple[ParsedManifest, str | None]) -> Repository:
    """A repository folded from its events, holding `manifests` (each under its tag, if any)."""
    repository = Repository.create(REPO)
    for parsed, tag in manifests:
        repository.push_manifest(parsed, tag, blobs(), set())  # an index's children: pushed before it
    return Repository.rehydrate(REPO, repository.collect())


def test_deleting_by_digest_deletes_every_tag_pointing_at_it_then_the_manifest() -> None:
    one, other = image(), image(LAYERS[1])
    repository = pushed((one, "v1"), (one, "latest"), (other, "v2"))
    repository.delete_manifest(one.digest)
    digest = str(one.digest)
    assert repository.collect() == [
        TagDeleted(repository=REPO, tag="latest", digest=digest),
        TagDeleted(repository=REPO, tag="v1", digest=digest),
        ManifestDeleted(repository=REPO, digest=digest),
    ]
    assert repository.manifests == {str(other.digest)}
    assert repository.tags == {"v2": str(other.digest)}


def test_deleting_an_untagged_manifest_records_only_its_deletion() -> None:
    one = image()
    repository = pushed((one, None))
    repository.delete_manifest(str(one.digest))
    assert repository.collect() == [ManifestDeleted(repository=REPO, digest=str(one.digest))]


def test_deleting_a_tag_keeps_the_manifest_and_its_other_tags() -> None:
    one = image()
    repository = pushed((one, "v1"), (one, "latest"))
    repository.delete_tag("v1")
    assert repository.collect() == [TagDeleted(repository=REPO, tag="v1", digest=str(one.digest))]
    assert repository.tags == {"latest": str(one.digest)}
    assert repository.manifests == {str(one.digest)}


@pytest.mark.parametrize("reference", ["v9", str(Digest.of(b"never pushed"))])
def test_deleting_what_the_repository_lacks_is_manifest_unknown(reference: str) -> None:
    repository = pushed((image(), "v1"))
    with pytest.raises(NotFound) as caught:
        if ":" in reference:
            repository.delete_manifest(reference)
        else:
            repository.delete_tag(reference)
    assert caught.value.code == "MANIFEST_UNKNOWN"
    assert reference in caught.value.message
    assert repository.collect() == []


def test_deleting_in_a_repository_never_created_is_name_unknown() -> None:
    for delete in (
        lambda repository: repository.delete_manifest(image().digest),
        lambda repository: repository.delete_tag("v1"),
    ):
        with pytest.raises(NotFound) as caught:
            delete(Repository(REPO))
        assert caught.value.code == "NAME_UNKNOWN"


def test_malformed_references_are_refused_with_their_codes() -> None:
    repository = pushed((image(), "v1"))
    with pytest.raises(InvalidArgument) as caught:
        repository.delete_tag("-v1")
    assert caught.value.code == "TAG_INVALID"
    with pytest.raises(InvalidArgument) as caught:
        repository.delete_manifest("sha256:nothex")
    assert caught.value.code == "DIGEST_INVALID"


def test_a_manifest_an_index_lists_cannot_be_deleted_before_the_index() -> None:
    amd64, arm64 = image(LAYERS[0]), image(LAYERS[1])
    listing = index(amd64, arm64)
    repository = pushed((amd64, None), (arm64, None), (listing, "multi"))
    with pytest.raises(FailedPrecondition) as caught:
        repository.delete_manifest(amd64.digest)
    assert caught.value.code == "MANIFEST_REFERENCED"
    assert str(listing.digest) in caught.value.message
    assert caught.value.detail == str(listing.digest)
    assert repository.collect() == []

    repository.delete_manifest(listing.digest)
    repository.delete_manifest(amd64.digest)
    assert [type(event) for event in repository.collect()] == [TagDeleted, ManifestDeleted, ManifestDeleted]
    assert repository.children == {}


def test_a_restored_repository_is_refused_on_the_indexes_its_caller_found() -> None:
    child = image()
    indexes = sorted(str(Digest.of(f"index {i}".encode())) for i in range(40))
    repository = Repository.restore(REPO, 12, kind="container", manifests=[str(child.digest)])
    with pytest.raises(FailedPrecondition) as caught:
        repository.delete_manifest(child.digest, referenced_by=indexes)
    assert caught.value.code == "MANIFEST_REFERENCED"
    assert indexes[0] in caught.value.message and "and 37 more" in caught.value.message
    # The detail travels in a gRPC trailer: only as many digests as 2 KiB holds, in order.
    assert len(caught.value.detail) <= 2048
    assert caught.value.detail.split(" ") == indexes[: len(caught.value.detail.split(" "))]


def test_a_restored_repository_deletes_at_its_version() -> None:
    child = image()
    digest = str(child.digest)
    repository = Repository.restore(
        REPO, 9, kind="container", tags={"v1": digest, "stable": digest}, manifests=[digest]
    )
    repository.delete_manifest(digest, referenced_by=[])
    assert repository.loaded_version == 9
    assert [event.tag for event in repository.collect() if isinstance(event, TagDeleted)] == ["stable", "v1"]


def test_a_deleted_manifest_can_be_pushed_again() -> None:
    one = image()
    repository = pushed((one, "v1"))
    repository.delete_manifest(one.digest)
    repository.push_manifest(one, "v1", blobs(), {})
    events = repository.collect()
    assert [type(event) for event in events] == [TagDeleted, ManifestDeleted, ManifestPushed, TagMoved]
    assert events[-1] == TagMoved(repository=REPO, tag="v1", digest=str(one.digest), previous_digest="")
    loaded = Repository.rehydrate(REPO, [*Repository.create(REPO).collect(), *events])
    assert loaded.manifests == {str(one.digest)} and loaded.tags == {"v1": str(one.digest)}
