"""The ArtifactService client against an in-process server: every message mapped field by field, the
`all_namespaces` rule, and refusals rebuilt as domain errors with the service's code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hangar.api.registry.v1 import artifacts_pb2, artifacts_pb2_grpc, registry_pb2, registry_pb2_grpc
from hangar.gateway.clients import RegistryClient
from hangar.gateway.clients.artifacts import (
    ArtifactsClient,
    RepositoryMetadataInfo,
    VersionFileInfo,
    VersionInfo,
    VersionMetadataInfo,
)
from hangar.kit.errors import AlreadyExists, FailedPrecondition, NotFound
from hangar.kit.grpcio import GrpcServer, channel

METADATA = artifacts_pb2.RepositoryMetadata(
    description="d",
    labels=["a", "b"],
    overview="o",
    publisher="p",
    built_by="b",
    display_name="D",
    application="app",
    framework="pt",
    format="onnx",
    precision="fp16",
    setup="s",
    quick_start="q",
    release_notes="r",
)
REPOSITORY = artifacts_pb2.Repository(
    name="demo/resnet",
    kind="model",
    metadata=METADATA,
    latest_version="1.0",
    latest_policy="auto",
    version_count=2,
    size=99,
    created_at_ms=1000,
    updated_at_ms=2000,
)
FILE = artifacts_pb2.VersionFile(
    path="w/model.bin", status="UPLOADING", digest="", size=10, upload_id="up1", updated_at_ms=5
)
VERSION = artifacts_pb2.Version(
    repository="demo/resnet",
    version="1.0",
    status="UPLOAD_PENDING",
    metadata=artifacts_pb2.VersionMetadata(
        description="v",
        accuracy="0.9",
        epochs=3,
        batch_size=8,
        gpu_model="H100",
        memory_footprint_bytes=1 << 30,
        attributes={"k": "v"},
    ),
    files=[FILE],
    manifest_digest="",
    base_version="0.9",
    size=0,
    created_at_ms=7,
    committed_at_ms=0,
    created_by="user-1",
)


class Artifacts(artifacts_pb2_grpc.ArtifactServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.requests: dict[str, Any] = {}

    async def SearchRepositories(self, request: Any, context: Any) -> Any:
        self.requests["search"] = request
        return artifacts_pb2.SearchRepositoriesResponse(repositories=[REPOSITORY], next_page_token="next")

    async def CreateRepository(self, request: Any, context: Any) -> Any:
        self.requests["create"] = request
        raise AlreadyExists("repository demo/resnet already exists", code="REPOSITORY_EXISTS")

    async def UpdateRepository(self, request: Any, context: Any) -> Any:
        self.requests["update"] = request
        return artifacts_pb2.UpdateRepositoryResponse(repository=REPOSITORY)

    async def CreateVersion(self, request: Any, context: Any) -> Any:
        self.requests["create_version"] = request
        return artifacts_pb2.CreateVersionResponse(version=VERSION)

    async def GetVersion(self, request: Any, context: Any) -> Any:
        raise NotFound("version demo/resnet:9 does not exist", code="VERSION_UNKNOWN")

    async def ListVersions(self, request: Any, context: Any) -> Any:
        self.requests["list_versions"] = request
        return artifacts_pb2.ListVersionsResponse(versions=[VERSION], next_page_token="")

    async def BeginFile(self, request: Any, context: Any) -> Any:
        self.requests["begin"] = request
        return artifacts_pb2.BeginFileResponse(file=FILE, started=False)

    async def CommitVersion(self, request: Any, context: Any) -> Any:
        raise FailedPrecondition(
            "w/model.bin is still uploading", code="FILES_INCOMPLETE", detail="w/model.bin"
        )

    async def GetVersionConfig(self, request: Any, context: Any) -> Any:
        return artifacts_pb2.GetVersionConfigResponse(
            media_type="application/vnd.hangar.model.config.v1+json", content=b"{}", digest="sha256:c"
        )

    async def SetLatest(self, request: Any, context: Any) -> Any:
        self.requests["latest"] = request
        return artifacts_pb2.SetLatestResponse(repository=REPOSITORY)


class Registry(registry_pb2_grpc.RegistryServiceServicer):  # type: ignore[misc]
    async def PutManifest(self, request: Any, context: Any) -> Any:
        self.put = request
        return registry_pb2.PutManifestResponse(digest="sha256:m")


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, Any]]:
    artifacts, registry = Artifacts(), Registry()
    server = GrpcServer(
        "127.0.0.1:0",
        [
            (artifacts_pb2_grpc.add_ArtifactServiceServicer_to_server, artifacts),
            (registry_pb2_grpc.add_RegistryServiceServicer_to_server, registry),
        ],
        [],
    )
    await server.start()
    async with channel(f"127.0.0.1:{server.port}") as ch:
        yield {"artifacts": artifacts, "registry": registry, "channel": ch}
    await server.stop(0)


async def test_search_maps_repositories_and_all_namespaces(servers: dict[str, Any]) -> None:
    client = ArtifactsClient(servers["channel"])
    rows, token = await client.search_repositories(
        namespaces=["demo", "demo/vision"], kind="model", name_pattern="demo/*", labels=["a"], page_size=5
    )
    asked = servers["artifacts"].requests["search"]
    assert (list(asked.namespaces), asked.all_namespaces, asked.kind, asked.name_pattern) == (
        ["demo", "demo/vision"],
        False,
        "model",
        "demo/*",
    )
    assert (list(asked.labels), asked.page_size, token) == (["a"], 5, "next")
    [row] = rows
    assert (row.name, row.kind, row.latest_version, row.latest_policy) == (
        "demo/resnet",
        "model",
        "1.0",
        "auto",
    )
    assert (row.version_count, row.size, row.created_at_ms, row.updated_at_ms) == (2, 99, 1000, 2000)
    assert row.metadata == RepositoryMetadataInfo(
        "d", ("a", "b"), "o", "p", "b", "D", "app", "pt", "onnx", "fp16", "s", "q", "r"
    )
    await client.search_repositories(namespaces=None)
    everywhere = servers["artifacts"].requests["search"]
    assert everywhere.all_namespaces and list(everywhere.namespaces) == []


async def test_versions_and_files_map_field_by_field(servers: dict[str, Any]) -> None:
    client = ArtifactsClient(servers["channel"])
    metadata = VersionMetadataInfo("v", "0.9", 3, 8, "H100", 1 << 30, {"k": "v"})
    created = await client.create_version(
        "demo/resnet", "1.0", metadata=metadata, base_version="0.9", create_kind="model", created_by="user-1"
    )
    asked = servers["artifacts"].requests["create_version"]
    assert (asked.base_version, asked.create_kind, asked.created_by) == ("0.9", "model", "user-1")
    assert dict(asked.metadata.attributes) == {"k": "v"} and asked.metadata.memory_footprint_bytes == 1 << 30
    assert created == VersionInfo(
        repository="demo/resnet",
        version="1.0",
        status="UPLOAD_PENDING",
        metadata=metadata,
        files=(VersionFileInfo("w/model.bin", "UPLOADING", "", 10, "up1", 5),),
        base_version="0.9",
        created_at_ms=7,
        created_by="user-1",
    )
    listed, token = await client.list_versions("demo/resnet", order="created", include_pending=True)
    asked = servers["artifacts"].requests["list_versions"]
    assert (asked.order, asked.include_pending, asked.page_size) == ("created", True, 100)
    assert [v.version for v in listed] == ["1.0"] and token == ""
    begun = await client.begin_file("demo/resnet", "1.0", "w/model.bin", "up2", size=10)
    assert not begun.started and begun.file.upload_id == "up1"
    assert servers["artifacts"].requests["begin"].upload_id == "up2"
    config = await client.get_version_config("demo/resnet", "1.0")
    assert (config.media_type, config.content, config.digest) == (
        "application/vnd.hangar.model.config.v1+json",
        b"{}",
        "sha256:c",
    )


async def test_updates_name_their_fields_and_latest_its_policy(servers: dict[str, Any]) -> None:
    client = ArtifactsClient(servers["channel"])
    await client.update_repository("demo/resnet", RepositoryMetadataInfo(labels=("x",)), ["labels"])
    asked = servers["artifacts"].requests["update"]
    assert list(asked.fields) == ["labels"] and list(asked.metadata.labels) == ["x"]
    await client.set_latest("demo/resnet", auto=True)
    assert servers["artifacts"].requests["latest"].auto


async def test_refusals_keep_the_service_code(servers: dict[str, Any]) -> None:
    client = ArtifactsClient(servers["channel"])
    with pytest.raises(AlreadyExists) as exists:
        await client.create_repository("demo/resnet", "model")
    assert exists.value.code == "REPOSITORY_EXISTS"
    with pytest.raises(NotFound) as missing:
        await client.get_version("demo/resnet", "9")
    assert missing.value.code == "VERSION_UNKNOWN"
    with pytest.raises(FailedPrecondition) as incomplete:
        await client.commit_version("demo/resnet", "1.0", "sha256:c")
    assert (incomplete.value.code, incomplete.value.detail) == ("FILES_INCOMPLETE", "w/model.bin")


async def test_a_manifest_is_sent_with_its_config(servers: dict[str, Any]) -> None:
    client = RegistryClient(servers["channel"])
    await client.put_manifest(
        "demo/resnet", "1.0", "application/vnd.oci.image.manifest.v1+json", b"{}", config=b"c"
    )
    assert servers["registry"].put.config == b"c"
    await client.put_manifest("demo/resnet", "1.1", "application/vnd.oci.image.manifest.v1+json", b"{}")
    assert servers["registry"].put.config == b""
