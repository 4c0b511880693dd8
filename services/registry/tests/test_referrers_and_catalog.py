"""Referrers (manifests whose subject is a digest) and the catalog of repositories: the app and gRPC."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from hangar.api.registry.v1 import registry_pb2, registry_pb2_grpc
from hangar.kit.errors import InvalidArgument
from hangar.kit.grpcio import ERROR_CODE_KEY, GrpcServer, channel
from hangar.registry.app import App, Referrer
from hangar.registry.domain import OCI_INDEX, OCI_MANIFEST
from hangar.registry.rpc import SERVICE_NAME, registrations

REPO = "acme/web"
CONFIG = b'{"architecture":"amd64","os":"linux"}'
LAYERS = [b"layer one", b"layer two"]
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
SIGNATURE = "application/vnd.example.signature.v1"
SBOM = "application/vnd.example.sbom.v1"
EMPTY = b"{}"


def digest_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def descriptor(data: bytes, media_type: str = OCI_LAYER) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest_of(data), "size": len(data)}


def image(**fields: Any) -> bytes:
    document = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(CONFIG, OCI_CONFIG),
        "layers": [descriptor(layer) for layer in LAYERS],
        **fields,
    }
    return json.dumps(document).encode()


async def link(app: App, *blobs: bytes, repository: str = REPO) -> None:
    for blob in blobs:
        await app.link_blob(repository, digest_of(blob), len(blob))


def artifact(subject: bytes, artifact_type: str, **annotations: str) -> bytes:
    document: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": descriptor(EMPTY, "application/vnd.oci.empty.v1+json"),
        "layers": [descriptor(EMPTY, "application/vnd.oci.empty.v1+json")],
        "subject": descriptor(subject, OCI_MANIFEST),
    }
    if annotations:
        document["annotations"] = annotations
    return json.dumps(document).encode()


async def push_image_and_referrers(app: App, repository: str = REPO) -> tuple[bytes, bytes, bytes]:
    await link(app, CONFIG, *LAYERS, EMPTY, repository=repository)
    subject = image()
    await app.put_manifest(repository, "v1", OCI_MANIFEST, subject)
    signature = artifact(subject, SIGNATURE, **{"org.example.signer": "alice"})
    sbom = artifact(subject, SBOM)
    for referrer in (signature, sbom):
        await app.put_manifest(repository, digest_of(referrer), OCI_MANIFEST, referrer)
    return subject, signature, sbom


async def test_referrers_are_the_manifests_whose_subject_is_the_digest_with_their_annotations(
    app: App,
) -> None:
    subject, signature, sbom = await push_image_and_referrers(app)
    found = await app.list_referrers(REPO, digest_of(subject))
    expected = [
        Referrer(
            OCI_MANIFEST, digest_of(signature), len(signature), SIGNATURE, {"org.example.signer": "alice"}
        ),
        Referrer(OCI_MANIFEST, digest_of(sbom), len(sbom), SBOM, {}),
    ]
    assert found == sorted(expected, key=lambda r: r.digest)


async def test_referrers_are_filtered_by_artifact_type(app: App) -> None:
    subject, signature, _ = await push_image_and_referrers(app)
    found = await app.list_referrers(REPO, digest_of(subject), SIGNATURE)
    assert [r.digest for r in found] == [digest_of(signature)]
    assert await app.list_referrers(REPO, digest_of(subject), "application/vnd.example.none") == []


async def test_an_image_without_artifact_type_refers_with_its_config_media_type(app: App) -> None:
    await link(app, CONFIG, *LAYERS)
    subject = image()
    await app.put_manifest(REPO, "v1", OCI_MANIFEST, subject)
    referrer = image(subject=descriptor(subject, OCI_MANIFEST), annotations={"a": "b"})
    await app.put_manifest(REPO, "signed", OCI_MANIFEST, referrer)
    [found] = await app.list_referrers(REPO, digest_of(subject))
    assert (found.artifact_type, found.annotations) == (OCI_CONFIG, {"a": "b"})


async def test_an_index_can_be_a_referrer(app: App) -> None:
    await link(app, CONFIG, *LAYERS)
    subject = image()
    await app.put_manifest(REPO, "v1", OCI_MANIFEST, subject)
    referrer = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "artifactType": SBOM,
            "manifests": [descriptor(subject, OCI_MANIFEST)],
            "subject": descriptor(subject, OCI_MANIFEST),
        }
    ).encode()
    await app.put_manifest(REPO, digest_of(referrer), OCI_INDEX, referrer)
    [found] = await app.list_referrers(REPO, digest_of(subject))
    assert (found.media_type, found.artifact_type) == (OCI_INDEX, SBOM)


async def test_no_referrers_an_unknown_subject_or_repository_is_an_empty_list(app: App) -> None:
    subject, signature, _ = await push_image_and_referrers(app)
    assert await app.list_referrers(REPO, digest_of(signature)) == []
    assert await app.list_referrers(REPO, digest_of(b"never pushed")) == []
    assert await app.list_referrers("acme/nothing", digest_of(subject)) == []


async def test_referrers_stay_in_their_repository(app: App) -> None:
    subject, _, _ = await push_image_and_referrers(app, "acme/other")
    assert await app.list_referrers(REPO, digest_of(subject)) == []
    assert len(await app.list_referrers("acme/other", digest_of(subject))) == 2


async def test_a_deleted_referrer_is_no_longer_listed(app: App) -> None:
    subject, signature, sbom = await push_image_and_referrers(app)
    await app.delete_manifest(REPO, digest_of(signature))
    assert [r.digest for r in await app.list_referrers(REPO, digest_of(subject))] == [digest_of(sbom)]


async def test_a_malformed_subject_or_repository_is_refused(app: App) -> None:
    with pytest.raises(InvalidArgument) as digest:
        await app.list_referrers(REPO, "sha256:nothex")
    assert digest.value.code == "DIGEST_INVALID"
    with pytest.raises(InvalidArgument) as name:
        await app.list_referrers("Acme/Web", digest_of(b"x"))
    assert name.value.code == "NAME_INVALID"


async def test_repositories_are_listed_in_lexical_order_and_paginated(app: App) -> None:
    for name in ("b/two", "a/one", "b/one/deep", "c/three"):
        await link(app, CONFIG, repository=name)
    assert await app.list_repositories(None, None) == (["a/one", "b/one/deep", "b/two", "c/three"], False)
    assert await app.list_repositories(2, None) == (["a/one", "b/one/deep"], True)
    assert await app.list_repositories(2, "b/one/deep") == (["b/two", "c/three"], False)
    assert await app.list_repositories(0, None) == ([], False)
    with pytest.raises(InvalidArgument) as refused:
        await app.list_repositories(10_001, None)
    assert refused.value.code == "PAGINATION_NUMBER_INVALID"


async def test_an_empty_registry_lists_no_repositories(app: App) -> None:
    assert await app.list_repositories(None, None) == ([], False)


# -- over gRPC --------------------------------------------------------------------------------------------


@pytest.fixture
async def stub(app: App) -> AsyncIterator[registry_pb2_grpc.RegistryServiceStub]:
    server = GrpcServer("127.0.0.1:0", registrations(app), [SERVICE_NAME])
    await server.start()
    try:
        async with channel(f"127.0.0.1:{server.port}") as chan:
            yield registry_pb2_grpc.RegistryServiceStub(chan)
    finally:
        await server.stop(grace=0)


async def test_referrers_travel_as_descriptors(app: App, stub: registry_pb2_grpc.RegistryServiceStub) -> None:
    subject, signature, _ = await push_image_and_referrers(app)
    reply = await stub.ListReferrers(
        registry_pb2.ListReferrersRequest(
            repository=REPO, subject_digest=digest_of(subject), artifact_type=SIGNATURE
        )
    )
    [found] = reply.referrers
    assert (found.media_type, found.digest, found.size, found.artifact_type) == (
        OCI_MANIFEST,
        digest_of(signature),
        len(signature),
        SIGNATURE,
    )
    assert dict(found.annotations) == {"org.example.signer": "alice"}
    everything = await stub.ListReferrers(
        registry_pb2.ListReferrersRequest(repository=REPO, subject_digest=digest_of(subject))
    )
    assert len(everything.referrers) == 2


async def test_a_malformed_subject_is_invalid_argument_with_its_code(
    stub: registry_pb2_grpc.RegistryServiceStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListReferrers(registry_pb2.ListReferrersRequest(repository=REPO, subject_digest="nope"))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert dict(refused.value.trailing_metadata() or ())[ERROR_CODE_KEY] == "DIGEST_INVALID"


async def test_repositories_are_paged_through_grpc(
    app: App, stub: registry_pb2_grpc.RegistryServiceStub
) -> None:
    for name in ("acme/a", "acme/b", "acme/c"):
        await link(app, CONFIG, repository=name)
    first = await stub.ListRepositories(registry_pb2.ListRepositoriesRequest(page_size=2))
    assert (list(first.repositories), first.more) == (["acme/a", "acme/b"], True)
    rest = await stub.ListRepositories(registry_pb2.ListRepositoriesRequest(page_size=2, last="acme/b"))
    assert (list(rest.repositories), rest.more) == (["acme/c"], False)
    everything = await stub.ListRepositories(registry_pb2.ListRepositoriesRequest())
    assert list(everything.repositories) == ["acme/a", "acme/b", "acme/c"]
