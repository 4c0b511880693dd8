"""RegistryService over in-process gRPC: messages map onto the App, error codes travel in trailers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator

import grpc
import pytest

from hangar.api.registry.v1 import registry_pb2, registry_pb2_grpc
from hangar.kit.grpcio import ERROR_CODE_KEY, GrpcServer, channel, error_from_rpc
from hangar.registry.app import App
from hangar.registry.domain import OCI_MANIFEST
from hangar.registry.rpc import SERVICE_NAME, registrations

REPO = "acme/web"
CONFIG = b"{}"
LAYER = b"layer"


def digest_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def manifest() -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": digest_of(CONFIG),
                "size": 2,
            },
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest_of(LAYER), "size": 5}
            ],
        }
    ).encode()


@pytest.fixture
async def stub(app: App) -> AsyncIterator[registry_pb2_grpc.RegistryServiceStub]:
    server = GrpcServer("127.0.0.1:0", registrations(app), [SERVICE_NAME])
    await server.start()
    try:
        async with channel(f"127.0.0.1:{server.port}") as chan:
            yield registry_pb2_grpc.RegistryServiceStub(chan)
    finally:
        await server.stop(grace=0)


def trailer(error: grpc.aio.AioRpcError, key: str) -> str:
    return str(dict(error.trailing_metadata() or ())[key])


async def link(stub: registry_pb2_grpc.RegistryServiceStub, *blobs: bytes) -> None:
    for blob in blobs:
        await stub.LinkBlob(
            registry_pb2.LinkBlobRequest(repository=REPO, digest=digest_of(blob), size=len(blob))
        )


async def test_manifest_round_trips_through_grpc(stub: registry_pb2_grpc.RegistryServiceStub) -> None:
    await link(stub, CONFIG, LAYER)
    stat = await stub.StatBlob(registry_pb2.StatBlobRequest(repository=REPO, digest=digest_of(LAYER)))
    assert (stat.digest, stat.size) == (digest_of(LAYER), len(LAYER))
    pushed = await stub.PutManifest(
        registry_pb2.PutManifestRequest(
            repository=REPO, reference="v1", media_type=OCI_MANIFEST, content=manifest()
        )
    )
    assert (pushed.digest, pushed.subject_digest) == (digest_of(manifest()), "")
    got = await stub.GetManifest(registry_pb2.GetManifestRequest(repository=REPO, reference="v1"))
    assert (got.digest, got.media_type, got.content) == (pushed.digest, OCI_MANIFEST, manifest())


async def test_manifests_and_tags_are_deleted_through_grpc(
    stub: registry_pb2_grpc.RegistryServiceStub,
) -> None:
    await link(stub, CONFIG, LAYER)
    for tag in ("v1", "latest", "old"):
        await stub.PutManifest(
            registry_pb2.PutManifestRequest(repository=REPO, reference=tag, media_type="", content=manifest())
        )
    untagged = await stub.DeleteManifest(registry_pb2.DeleteManifestRequest(repository=REPO, reference="old"))
    assert (untagged.digest, list(untagged.deleted_tags), untagged.manifest_deleted) == (
        digest_of(manifest()),
        ["old"],
        False,
    )
    deleted = await stub.DeleteManifest(
        registry_pb2.DeleteManifestRequest(repository=REPO, reference=digest_of(manifest()))
    )
    assert (deleted.digest, list(deleted.deleted_tags), deleted.manifest_deleted) == (
        digest_of(manifest()),
        ["latest", "v1"],
        True,
    )
    listed = await stub.ListTags(registry_pb2.ListTagsRequest(repository=REPO))
    assert list(listed.tags) == []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetManifest(registry_pb2.GetManifestRequest(repository=REPO, reference=deleted.digest))
    assert trailer(caught.value, ERROR_CODE_KEY) == "MANIFEST_UNKNOWN"


async def test_deleting_a_child_of_an_index_is_failed_precondition_naming_the_index(
    stub: registry_pb2_grpc.RegistryServiceStub,
) -> None:
    await link(stub, CONFIG, LAYER)
    child = digest_of(manifest())
    await stub.PutManifest(
        registry_pb2.PutManifestRequest(repository=REPO, reference=child, media_type="", content=manifest())
    )
    listing = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": child, "size": len(manifest())}],
        }
    ).encode()
    index = await stub.PutManifest(
        registry_pb2.PutManifestRequest(repository=REPO, reference="multi", media_type="", content=listing)
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.DeleteManifest(registry_pb2.DeleteManifestRequest(repository=REPO, reference=child))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert trailer(caught.value, ERROR_CODE_KEY) == "MANIFEST_REFERENCED"
    refused = error_from_rpc(caught.value)
    assert index.digest in refused.message and refused.detail == index.digest


async def test_page_size_zero_lists_all_tags(stub: registry_pb2_grpc.RegistryServiceStub) -> None:
    await link(stub, CONFIG, LAYER)
    for tag in ("b", "a", "c"):
        await stub.PutManifest(
            registry_pb2.PutManifestRequest(repository=REPO, reference=tag, media_type="", content=manifest())
        )
    everything = await stub.ListTags(registry_pb2.ListTagsRequest(repository=REPO, page_size=0))
    assert (list(everything.tags), everything.more) == (["a", "b", "c"], False)
    page = await stub.ListTags(registry_pb2.ListTagsRequest(repository=REPO, page_size=1, last="a"))
    assert (page.repository, list(page.tags), page.more) == (REPO, ["b"], True)


async def test_unknown_blob_in_a_manifest_is_failed_precondition_with_its_code(
    stub: registry_pb2_grpc.RegistryServiceStub,
) -> None:
    await link(stub, CONFIG)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.PutManifest(
            registry_pb2.PutManifestRequest(
                repository=REPO, reference="v1", media_type=OCI_MANIFEST, content=manifest()
            )
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert trailer(caught.value, ERROR_CODE_KEY) == "MANIFEST_BLOB_UNKNOWN"
    assert error_from_rpc(caught.value).detail == digest_of(LAYER)


async def test_a_manifest_missing_hundreds_of_layers_still_gets_its_code_through(
    stub: registry_pb2_grpc.RegistryServiceStub,
) -> None:
    layers = [
        {
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": digest_of(str(i).encode()),
            "size": 1,
        }
        for i in range(300)
    ]
    document = {**json.loads(manifest()), "layers": layers}
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.PutManifest(
            registry_pb2.PutManifestRequest(
                repository=REPO, reference="v1", content=json.dumps(document).encode()
            )
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert trailer(caught.value, ERROR_CODE_KEY) == "MANIFEST_BLOB_UNKNOWN"
    assert error_from_rpc(caught.value).detail.startswith(digest_of(CONFIG))


async def test_unknown_manifest_is_not_found_with_its_code(
    stub: registry_pb2_grpc.RegistryServiceStub,
) -> None:
    await link(stub, CONFIG)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetManifest(registry_pb2.GetManifestRequest(repository=REPO, reference="v1"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert trailer(caught.value, ERROR_CODE_KEY) == "MANIFEST_UNKNOWN"


@pytest.mark.parametrize(
    ("request_", "status", "code"),
    [
        (
            registry_pb2.StatBlobRequest(repository="acme/none", digest=digest_of(LAYER)),
            "NOT_FOUND",
            "NAME_UNKNOWN",
        ),
        (registry_pb2.StatBlobRequest(repository=REPO, digest=digest_of(b"x")), "NOT_FOUND", "BLOB_UNKNOWN"),
        (
            registry_pb2.StatBlobRequest(repository="../etc", digest=digest_of(b"x")),
            "INVALID_ARGUMENT",
            "NAME_INVALID",
        ),
        (
            registry_pb2.LinkBlobRequest(repository=REPO, digest="md5:abc", size=1),
            "INVALID_ARGUMENT",
            "DIGEST_INVALID",
        ),
        (
            registry_pb2.LinkBlobRequest(repository=REPO, digest=digest_of(CONFIG), size=3),
            "INVALID_ARGUMENT",
            "SIZE_INVALID",
        ),
        (
            registry_pb2.ListTagsRequest(repository=REPO, page_size=-1),
            "INVALID_ARGUMENT",
            "PAGINATION_NUMBER_INVALID",
        ),
        (
            registry_pb2.PutManifestRequest(
                repository=REPO, reference="v1", media_type=OCI_MANIFEST, content=b"{"
            ),
            "INVALID_ARGUMENT",
            "MANIFEST_INVALID",
        ),
        (
            registry_pb2.DeleteManifestRequest(repository=REPO, reference="v1"),
            "NOT_FOUND",
            "MANIFEST_UNKNOWN",
        ),
        (
            registry_pb2.DeleteManifestRequest(repository=REPO, reference=digest_of(b"x")),
            "NOT_FOUND",
            "MANIFEST_UNKNOWN",
        ),
        (
            registry_pb2.DeleteManifestRequest(repository="acme/none", reference="v1"),
            "NOT_FOUND",
            "NAME_UNKNOWN",
        ),
        (
            registry_pb2.DeleteManifestRequest(repository=REPO, reference="-v1"),
            "INVALID_ARGUMENT",
            "TAG_INVALID",
        ),
    ],
)
async def test_refusals_carry_status_and_code(
    stub: registry_pb2_grpc.RegistryServiceStub, request_: object, status: str, code: str
) -> None:
    await link(stub, CONFIG)
    method = {
        registry_pb2.StatBlobRequest: stub.StatBlob,
        registry_pb2.LinkBlobRequest: stub.LinkBlob,
        registry_pb2.ListTagsRequest: stub.ListTags,
        registry_pb2.PutManifestRequest: stub.PutManifest,
        registry_pb2.DeleteManifestRequest: stub.DeleteManifest,
    }[type(request_)]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await method(request_)
    assert caught.value.code() == getattr(grpc.StatusCode, status)
    assert trailer(caught.value, ERROR_CODE_KEY) == code
