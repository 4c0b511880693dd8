"""ArtifactService over in-process gRPC: the main flows, and domain error codes in the trailers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from hangar.api.registry.v1 import artifacts_pb2 as pb
from hangar.api.registry.v1 import artifacts_pb2_grpc, registry_pb2, registry_pb2_grpc
from hangar.kit.grpcio import ERROR_CODE_KEY, GrpcServer, channel
from hangar.kit.uow import UnitOfWorkFactory
from hangar.registry.app import App
from hangar.registry.artifacts import ArtifactApp
from hangar.registry.artifacts_rpc import ARTIFACT_SERVICE_NAME, artifact_registrations
from hangar.registry.domain.artifacts import MODEL_ARTIFACT_TYPE, TITLE
from hangar.registry.rpc import SERVICE_NAME, registrations

REPO = "acme/vision/resnet"


def digest_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


class Stubs:
    def __init__(self, chan: grpc.aio.Channel) -> None:
        self.artifacts = artifacts_pb2_grpc.ArtifactServiceStub(chan)
        self.registry = registry_pb2_grpc.RegistryServiceStub(chan)


@pytest.fixture
async def stubs(app: App, uow: UnitOfWorkFactory[Any]) -> AsyncIterator[Stubs]:
    artifacts = ArtifactApp(uow, app.link_blob)
    server = GrpcServer(
        "127.0.0.1:0",
        [*registrations(app), *artifact_registrations(artifacts)],
        [SERVICE_NAME, ARTIFACT_SERVICE_NAME],
    )
    await server.start()
    try:
        async with channel(f"127.0.0.1:{server.port}") as chan:
            yield Stubs(chan)
    finally:
        await server.stop(grace=0)


async def error_code(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value.code(), str(dict(caught.value.trailing_metadata() or ())[ERROR_CODE_KEY])


async def upload(stubs: Stubs, version: str, path: str, data: bytes) -> None:
    upload_id = f"{version}/{path}"
    begun = await stubs.artifacts.BeginFile(
        pb.BeginFileRequest(repository=REPO, version=version, path=path, upload_id=upload_id, size=len(data))
    )
    assert begun.started and begun.file.status == "UPLOADING"
    done = await stubs.artifacts.CompleteFile(
        pb.CompleteFileRequest(
            repository=REPO,
            version=version,
            path=path,
            upload_id=upload_id,
            digest=digest_of(data),
            size=len(data),
        )
    )
    assert (done.file.status, done.file.digest, done.file.size) == ("COMPLETE", digest_of(data), len(data))


async def commit(stubs: Stubs, version: str) -> pb.CommitVersionResponse:
    config = await stubs.artifacts.GetVersionConfig(
        pb.GetVersionConfigRequest(repository=REPO, version=version)
    )
    assert config.digest == digest_of(config.content)
    await stubs.registry.LinkBlob(
        registry_pb2.LinkBlobRequest(repository=REPO, digest=config.digest, size=len(config.content))
    )
    return await stubs.artifacts.CommitVersion(
        pb.CommitVersionRequest(repository=REPO, version=version, config_digest=config.digest)
    )


async def test_the_main_flow_through_grpc(stubs: Stubs) -> None:
    created = await stubs.artifacts.CreateRepository(
        pb.CreateRepositoryRequest(
            name=REPO,
            kind="model",
            metadata=pb.RepositoryMetadata(
                description="ResNet-50", labels=["Vision", "pytorch"], framework="PyTorch"
            ),
        )
    )
    assert (created.repository.kind, list(created.repository.metadata.labels)) == (
        "model",
        ["pytorch", "vision"],
    )
    assert created.repository.latest_policy == "auto" and created.repository.created_at_ms > 0
    await stubs.artifacts.CreateVersion(
        pb.CreateVersionRequest(
            repository=REPO,
            version="1.0.0",
            metadata=pb.VersionMetadata(accuracy="0.76", epochs=90, attributes={"dataset": "imagenet"}),
            created_by="alice",
        )
    )
    await upload(stubs, "1.0.0", "weights/model.safetensors", b"weights")
    await upload(stubs, "1.0.0", "README.md", b"# ResNet")
    committed = await commit(stubs, "1.0.0")
    assert committed.version.status == "UPLOAD_COMPLETE"
    assert committed.version.manifest_digest == digest_of(committed.manifest)
    manifest = json.loads(committed.manifest)
    assert manifest["artifactType"] == MODEL_ARTIFACT_TYPE
    assert [layer["annotations"][TITLE] for layer in manifest["layers"]] == [
        "README.md",
        "weights/model.safetensors",
    ]
    pulled = await stubs.registry.GetManifest(
        registry_pb2.GetManifestRequest(repository=REPO, reference="1.0.0")
    )
    assert pulled.content == committed.manifest

    based = await stubs.artifacts.CreateVersion(
        pb.CreateVersionRequest(repository=REPO, version="1.1.0", base_version="1.0.0")
    )
    assert [(f.path, f.status) for f in based.version.files] == [
        ("README.md", "INHERITED"),
        ("weights/model.safetensors", "INHERITED"),
    ]
    await stubs.artifacts.RemoveFile(pb.RemoveFileRequest(repository=REPO, version="1.1.0", path="README.md"))
    await upload(stubs, "1.1.0", "weights/model.safetensors", b"better weights")
    await commit(stubs, "1.1.0")
    latest = await stubs.artifacts.GetVersion(pb.GetVersionRequest(repository=REPO, version="latest"))
    assert (latest.version.version, [f.path for f in latest.version.files]) == (
        "1.1.0",
        ["weights/model.safetensors"],
    )
    assert latest.version.metadata == pb.VersionMetadata()
    first = await stubs.artifacts.GetVersion(pb.GetVersionRequest(repository=REPO, version="1.0.0"))
    assert first.version.metadata.attributes["dataset"] == "imagenet" and first.version.created_by == "alice"

    manual = await stubs.artifacts.SetLatest(pb.SetLatestRequest(repository=REPO, version="1.0.0"))
    assert (manual.repository.latest_version, manual.repository.latest_policy) == ("1.0.0", "manual")
    auto = await stubs.artifacts.SetLatest(pb.SetLatestRequest(repository=REPO, auto=True))
    assert auto.repository.latest_policy == "auto"

    await stubs.artifacts.CreateVersion(pb.CreateVersionRequest(repository=REPO, version="v2.0.0-rc.1"))
    await upload(stubs, "v2.0.0-rc.1", "w", b"rc")
    await commit(stubs, "v2.0.0-rc.1")
    await stubs.artifacts.CreateVersion(pb.CreateVersionRequest(repository=REPO, version="nightly"))
    listed = await stubs.artifacts.ListVersions(pb.ListVersionsRequest(repository=REPO, page_size=2))
    assert [v.version for v in listed.versions] == ["v2.0.0-rc.1", "1.1.0"] and listed.next_page_token
    rest = await stubs.artifacts.ListVersions(
        pb.ListVersionsRequest(repository=REPO, page_size=2, page_token=listed.next_page_token)
    )
    assert [v.version for v in rest.versions] == ["1.0.0"] and not rest.next_page_token
    pending = await stubs.artifacts.ListVersions(
        pb.ListVersionsRequest(repository=REPO, order="created", include_pending=True)
    )
    assert [v.version for v in pending.versions] == ["nightly", "v2.0.0-rc.1", "1.1.0", "1.0.0"]

    updated = await stubs.artifacts.UpdateRepository(
        pb.UpdateRepositoryRequest(
            name=REPO,
            metadata=pb.RepositoryMetadata(description="new", publisher="x"),
            fields=["description"],
        )
    )
    assert (updated.repository.metadata.description, updated.repository.metadata.publisher) == ("new", "")
    assert updated.repository.metadata.framework == "PyTorch"

    await stubs.artifacts.CreateRepository(pb.CreateRepositoryRequest(name="acme/notebooks", kind="resource"))
    found = await stubs.artifacts.SearchRepositories(
        pb.SearchRepositoriesRequest(namespaces=["acme/vision"], kind="model", labels=["vision"])
    )
    assert [(r.name, r.version_count) for r in found.repositories] == [(REPO, 3)]
    by_pattern = await stubs.artifacts.SearchRepositories(
        pb.SearchRepositoriesRequest(all_namespaces=True, name_pattern="acme/*book*")
    )
    assert [r.name for r in by_pattern.repositories] == ["acme/notebooks"]

    await stubs.artifacts.DeleteVersion(pb.DeleteVersionRequest(repository=REPO, version="v2.0.0-rc.1"))
    tags = await stubs.registry.ListTags(registry_pb2.ListTagsRequest(repository=REPO))
    assert list(tags.tags) == ["1.0.0", "1.1.0"]
    repository = await stubs.artifacts.GetRepository(pb.GetRepositoryRequest(name=REPO))
    assert (repository.repository.latest_version, repository.repository.version_count) == ("1.1.0", 2)


async def test_domain_errors_arrive_as_statuses_with_their_codes(stubs: Stubs) -> None:
    a = stubs.artifacts
    assert await error_code(a.GetRepository(pb.GetRepositoryRequest(name=REPO))) == (
        grpc.StatusCode.NOT_FOUND,
        "NAME_UNKNOWN",
    )
    await a.CreateRepository(pb.CreateRepositoryRequest(name=REPO, kind="model"))
    cases: list[tuple[Any, grpc.StatusCode, str]] = [
        (
            a.CreateRepository(pb.CreateRepositoryRequest(name=REPO, kind="model")),
            grpc.StatusCode.ALREADY_EXISTS,
            "REPOSITORY_EXISTS",
        ),
        (
            a.CreateRepository(pb.CreateRepositoryRequest(name="Acme/X", kind="model")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "NAME_INVALID",
        ),
        (
            a.CreateVersion(pb.CreateVersionRequest(repository=REPO, version="latest")),
            grpc.StatusCode.INVALID_ARGUMENT,
            "VERSION_INVALID",
        ),
        (
            a.GetVersion(pb.GetVersionRequest(repository=REPO, version="9.9")),
            grpc.StatusCode.NOT_FOUND,
            "VERSION_UNKNOWN",
        ),
        (
            a.CreateVersion(pb.CreateVersionRequest(repository=REPO, version="1", create_kind="chart")),
            grpc.StatusCode.FAILED_PRECONDITION,
            "KIND_MISMATCH",
        ),
    ]
    for call, status, code in cases:
        assert await error_code(call) == (status, code)
    await a.CreateVersion(pb.CreateVersionRequest(repository=REPO, version="1"))
    assert await error_code(
        a.BeginFile(pb.BeginFileRequest(repository=REPO, version="1", path="/abs", upload_id="u"))
    ) == (grpc.StatusCode.INVALID_ARGUMENT, "PATH_INVALID")
    assert await error_code(a.RemoveFile(pb.RemoveFileRequest(repository=REPO, version="1", path="x"))) == (
        grpc.StatusCode.NOT_FOUND,
        "FILE_UNKNOWN",
    )
    await a.BeginFile(pb.BeginFileRequest(repository=REPO, version="1", path="x", upload_id="u"))
    assert await error_code(
        a.CommitVersion(pb.CommitVersionRequest(repository=REPO, version="1", config_digest=digest_of(b"c")))
    ) == (grpc.StatusCode.FAILED_PRECONDITION, "FILES_INCOMPLETE")
    await a.CompleteFile(
        pb.CompleteFileRequest(
            repository=REPO, version="1", path="x", upload_id="u", digest=digest_of(b"x"), size=1
        )
    )
    assert await error_code(
        a.BeginFile(pb.BeginFileRequest(repository=REPO, version="1", path="x", upload_id="u2"))
    ) == (grpc.StatusCode.ALREADY_EXISTS, "FILE_EXISTS")
    assert await error_code(
        a.CommitVersion(pb.CommitVersionRequest(repository=REPO, version="1", config_digest=digest_of(b"c")))
    ) == (grpc.StatusCode.FAILED_PRECONDITION, "CONFIG_MISMATCH")
    await commit(stubs, "1")
    assert await error_code(
        a.BeginFile(pb.BeginFileRequest(repository=REPO, version="1", path="y", upload_id="u3"))
    ) == (grpc.StatusCode.FAILED_PRECONDITION, "VERSION_COMMITTED")
    assert await error_code(a.SearchRepositories(pb.SearchRepositoriesRequest(page_token="nope"))) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "PAGE_TOKEN_INVALID",
    )
    version = await a.GetVersion(pb.GetVersionRequest(repository=REPO, version="1"))
    assert [f.path for f in version.version.files] == ["x"]


async def test_a_model_pushed_with_its_config_through_put_manifest_is_a_version(stubs: Stubs) -> None:
    config = json.dumps({"kind": "model", "version": "3.0", "description": "from oras", "epochs": 7}).encode()
    weights = b"weights"
    for blob in (config, weights):
        await stubs.registry.LinkBlob(
            registry_pb2.LinkBlobRequest(repository="acme/oras", digest=digest_of(blob), size=len(blob))
        )
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": MODEL_ARTIFACT_TYPE,
            "config": {
                "mediaType": "application/vnd.hangar.model.config.v1+json",
                "digest": digest_of(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/octet-stream",
                    "digest": digest_of(weights),
                    "size": len(weights),
                    "annotations": {TITLE: "model.bin"},
                }
            ],
        }
    ).encode()
    await stubs.registry.PutManifest(
        registry_pb2.PutManifestRequest(
            repository="acme/oras", reference="3.0", content=manifest, config=config
        )
    )
    version = await stubs.artifacts.GetVersion(pb.GetVersionRequest(repository="acme/oras", version="latest"))
    assert (version.version.version, version.version.status) == ("3.0", "UPLOAD_COMPLETE")
    assert (version.version.metadata.description, version.version.metadata.epochs) == ("from oras", 7)
    repository = await stubs.artifacts.GetRepository(pb.GetRepositoryRequest(name="acme/oras"))
    assert repository.repository.kind == "model"
    assert await error_code(
        stubs.registry.PutManifest(
            registry_pb2.PutManifestRequest(
                repository="acme/oras", reference="3.1", content=manifest, config=b'{"other":1}'
            )
        )
    ) == (grpc.StatusCode.INVALID_ARGUMENT, "MANIFEST_INVALID")
    deleted = await stubs.registry.DeleteManifest(
        registry_pb2.DeleteManifestRequest(repository="acme/oras", reference=digest_of(manifest))
    )
    assert list(deleted.deleted_tags) == ["3.0"]
    assert await error_code(
        stubs.artifacts.GetVersion(pb.GetVersionRequest(repository="acme/oras", version="3.0"))
    ) == (grpc.StatusCode.NOT_FOUND, "VERSION_UNKNOWN")
