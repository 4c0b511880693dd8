"""Versions as OCI artifacts (docs/decisions/0022): config blobs, manifests, pushed manifests read back as
versions (the repository-level rules of models, resources and charts, metadata and `latest`, are in
`artifact_repository`).

A committed version is an OCI image manifest: artifactType application/vnd.hangar.model.v1+json (or
...resource...), a config blob holding its metadata as canonical JSON (sorted keys, no spaces), and one
layer per file ordered by path, titled with the path (`org.opencontainers.image.title`), so `oras pull`
writes the files back. The same bytes come out for the same version, always. Charts are Helm's OCI charts:
config application/vnd.cncf.helm.config.v1+json (Chart.yaml as JSON), the chart archive as a layer.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any, Final

from hangar.kit.errors import InvalidArgument
from hangar.registry.domain.artifact_repository import ArtifactRepository as ArtifactRepository
from hangar.registry.domain.artifact_repository import LatestMoved as LatestMoved
from hangar.registry.domain.artifact_repository import LatestPolicyChanged as LatestPolicyChanged
from hangar.registry.domain.artifact_repository import MetadataUpdated as MetadataUpdated
from hangar.registry.domain.artifact_repository import RepositoryKindChanged as RepositoryKindChanged
from hangar.registry.domain.digests import Digest
from hangar.registry.domain.manifests import OCI_MANIFEST, ParsedManifest, invalid_manifest
from hangar.registry.domain.metadata import (
    VersionMetadata,
)
from hangar.registry.domain.quoting import quote
from hangar.registry.domain.versions import FileRef, validate_path, validate_version_name

MODEL_ARTIFACT_TYPE: Final = "application/vnd.hangar.model.v1+json"
RESOURCE_ARTIFACT_TYPE: Final = "application/vnd.hangar.resource.v1+json"
MODEL_CONFIG_TYPE: Final = "application/vnd.hangar.model.config.v1+json"
RESOURCE_CONFIG_TYPE: Final = "application/vnd.hangar.resource.config.v1+json"
HELM_CONFIG_TYPE: Final = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART_LAYER: Final = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
HELM_PROVENANCE_LAYER: Final = "application/vnd.cncf.helm.chart.provenance.v1.prov"
#: A file of a model or resource is opaque bytes (not a tar): clients must write it as it is.
FILE_LAYER_TYPE: Final = "application/octet-stream"
TITLE: Final = "org.opencontainers.image.title"
VERSION_ANNOTATION: Final = "org.opencontainers.image.version"
MAX_CONFIG_BYTES: Final = 1024 * 1024

ARTIFACT_TYPES: Final = {"model": MODEL_ARTIFACT_TYPE, "resource": RESOURCE_ARTIFACT_TYPE}
CONFIG_TYPES: Final = {
    "model": MODEL_CONFIG_TYPE,
    "resource": RESOURCE_CONFIG_TYPE,
    "chart": HELM_CONFIG_TYPE,
}
_KIND_OF_TYPE: Final = {
    MODEL_ARTIFACT_TYPE: "model",
    RESOURCE_ARTIFACT_TYPE: "resource",
    MODEL_CONFIG_TYPE: "model",
    RESOURCE_CONFIG_TYPE: "resource",
    HELM_CONFIG_TYPE: "chart",
}
#: The Chart.yaml fields a chart version keeps as attributes (its description is the version's).
CHART_ATTRIBUTES: Final = (
    "name",
    "version",
    "appVersion",
    "apiVersion",
    "type",
    "kubeVersion",
    "home",
    "icon",
)


def canonical_json(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# -- config blobs -------------------------------------------------------------------------------------------


def config_blob(
    kind: str, version: str, metadata: VersionMetadata, repository: str = ""
) -> tuple[str, bytes]:
    """The config blob (media type, bytes) a commit of this version names."""
    if kind == "chart":
        chart = {"apiVersion": "v2", "name": repository.rsplit("/", 1)[-1], "version": version}
        chart.update((a.key, a.value) for a in metadata.attributes if a.key in CHART_ATTRIBUTES)
        chart["version"] = version
        if metadata.description:
            chart["description"] = metadata.description
        return HELM_CONFIG_TYPE, canonical_json(chart)
    document = {
        "kind": kind,
        "version": version,
        "description": metadata.description,
        "accuracy": metadata.accuracy,
        "epochs": metadata.epochs,
        "batch_size": metadata.batch_size,
        "gpu_model": metadata.gpu_model,
        "memory_footprint_bytes": metadata.memory_footprint_bytes,
        "attributes": metadata.attribute_map(),
    }
    return CONFIG_TYPES[kind], canonical_json(document)


def metadata_from_config(kind: str, config: bytes) -> VersionMetadata:
    """The version metadata a pushed config blob holds (MANIFEST_INVALID if it cannot be read)."""
    if not config:
        return VersionMetadata()
    if len(config) > MAX_CONFIG_BYTES:
        raise invalid_manifest(f"the config blob is over {MAX_CONFIG_BYTES} bytes")
    try:
        document = json.loads(config.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise invalid_manifest("the config blob is not JSON") from None
    if not isinstance(document, dict):
        raise invalid_manifest("the config blob must be a JSON object")
    try:
        if kind == "chart":
            attributes = {
                key: document[key]
                for key in CHART_ATTRIBUTES
                if isinstance(document.get(key), str) and document[key]
            }
            description = document.get("description", "")
            return VersionMetadata.of(
                description=description if isinstance(description, str) else "", attributes=attributes
            )
        values: dict[str, Any] = {}
        for field, kind_of in (
            ("description", str),
            ("accuracy", str),
            ("gpu_model", str),
            ("epochs", int),
            ("batch_size", int),
            ("memory_footprint_bytes", int),
            ("attributes", dict),
        ):
            if field in document:
                value = document[field]
                if type(value) is not kind_of:
                    raise invalid_manifest(f"the config's {field} must be a {kind_of.__name__}")
                values[field] = value
        return VersionMetadata.of(**values)
    except InvalidArgument as error:
        if error.code == "MANIFEST_INVALID":
            raise
        raise invalid_manifest(f"the config blob's metadata is invalid: {error}") from None


# -- manifests ----------------------------------------------------------------------------------------------


def _layer_type(kind: str, path: str) -> str:
    if kind == "chart" and path.endswith(".tgz"):
        return HELM_CHART_LAYER
    if kind == "chart" and path.endswith(".prov"):
        return HELM_PROVENANCE_LAYER
    return FILE_LAYER_TYPE


def build_manifest(
    kind: str, version: str, files: Iterable[FileRef], config_type: str, config: bytes
) -> bytes:
    """The version's manifest: deterministic bytes for the same kind, version, files and config."""
    document: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": config_type, "digest": str(Digest.of(config)), "size": len(config)},
        "layers": [
            {
                "mediaType": _layer_type(kind, f.path),
                "digest": f.digest,
                "size": f.size,
                "annotations": {TITLE: f.path},
            }
            for f in sorted(files)
        ],
        "annotations": {VERSION_ANNOTATION: version},
    }
    if kind in ARTIFACT_TYPES:
        document["artifactType"] = ARTIFACT_TYPES[kind]
    return canonical_json(document)


def artifact_kind(parsed: ParsedManifest) -> str | None:
    """model, resource or chart when a pushed manifest is one of those versions; None for anything else."""
    if parsed.is_index or not parsed.references:
        return None
    config_type = parsed.references[0].media_type
    by_type = _KIND_OF_TYPE.get(parsed.artifact_type or "")
    by_config = _KIND_OF_TYPE.get(config_type)
    if by_type and by_config and by_type != by_config:
        raise invalid_manifest(
            f"artifactType {parsed.artifact_type} does not go with a config of {config_type}"
        )
    return by_type or by_config


@dataclasses.dataclass(frozen=True)
class PushedVersion:
    """A version read from a pushed manifest: its kind, files (the titled layers) and metadata."""

    kind: str
    files: tuple[FileRef, ...]
    metadata: VersionMetadata
    config_digest: str


def pushed_version(parsed: ParsedManifest, version: str, config: bytes = b"") -> PushedVersion | None:
    """The version a manifest pushed under tag `version` makes, or None when it is not a version's manifest.

    Every layer needs its title (the file's path), unique and a valid path; a chart's archive and provenance
    are named `<name>-<version>.tgz[.prov]` when untitled. `config` (optional) must be the config blob named.
    """
    kind = artifact_kind(parsed)
    if kind is None:
        return None
    try:
        validate_version_name(version)
    except InvalidArgument as error:
        raise InvalidArgument(
            f"a {kind} is pushed under its version name: {error}", code="VERSION_INVALID"
        ) from None
    config_ref, *layers = parsed.references
    if config and (
        len(config) != config_ref.size or Digest.of(config, config_ref.digest.algorithm) != config_ref.digest
    ):
        raise invalid_manifest("the config blob given is not the one the manifest names")
    metadata = metadata_from_config(kind, config)
    chart_name = metadata.attribute_map().get("name", "chart")
    files: dict[str, FileRef] = {}
    for index, layer in enumerate(layers):
        path = layer.annotations.get(TITLE, "")
        if not path and kind == "chart" and layer.media_type == HELM_CHART_LAYER:
            path = f"{chart_name}-{version}.tgz"
        elif not path and kind == "chart" and layer.media_type == HELM_PROVENANCE_LAYER:
            path = f"{chart_name}-{version}.tgz.prov"
        if not path:
            raise invalid_manifest(f"layers[{index}] has no {TITLE} annotation (the file's path)")
        try:
            validate_path(path)
        except InvalidArgument as error:
            raise invalid_manifest(f"layers[{index}]: {error}") from None
        if path in files:
            raise invalid_manifest(f"two layers are titled {quote(path)}")
        files[path] = FileRef(path, str(layer.digest), layer.size)
    return PushedVersion(kind, tuple(sorted(files.values())), metadata, str(config_ref.digest))
