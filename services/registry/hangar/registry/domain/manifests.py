"""Image manifests and indexes (OCI and Docker schema 2): validation and what a manifest references."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any, Final, NoReturn

from hangar.kit.errors import InvalidArgument
from hangar.registry.domain.digests import Digest
from hangar.registry.domain.quoting import quote

OCI_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX: Final = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST: Final = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST: Final = "application/vnd.docker.distribution.manifest.list.v2+json"
IMAGE_MANIFEST_TYPES: Final = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEX_TYPES: Final = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_MEDIA_TYPES: Final = IMAGE_MANIFEST_TYPES | INDEX_TYPES
_DOCKER_TYPES: Final = frozenset({DOCKER_MANIFEST, DOCKER_MANIFEST_LIST})
# Layers a registry does not hold: the client fetches them from the descriptor's `urls`.
_FOREIGN_LAYER_TYPES: Final = frozenset(
    {
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    }
)

MAX_MANIFEST_BYTES: Final = 4 * 1024 * 1024
#: Sizes travel as int64 on every wire (OCI descriptors, protobuf).
MAX_CONTENT_SIZE: Final = 2**63 - 1
# The image-spec's descriptor schema pattern for media types (RFC 6838 restricted names).
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")
_SCHEMA_VERSION: Final = 2


class ManifestTooLarge(InvalidArgument):
    """A manifest over MAX_MANIFEST_BYTES; the OCI edge answers 413 Payload Too Large."""

    code = "SIZE_INVALID"


@dataclasses.dataclass(frozen=True)
class Descriptor:
    """A typed reference to content (image-spec descriptor)."""

    media_type: str
    digest: Digest
    size: int
    artifact_type: str | None = None
    urls: tuple[str, ...] = ()
    annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ParsedManifest:
    """A validated manifest or index.

    `blobs` are the blobs the repository must hold (config first, then layers; foreign layers, fetched by
    clients from their `urls`, are in `foreign_layers` instead); `children` are the manifests an index
    lists; `references` are the descriptors behind `blobs`/`foreign_layers` or `children`; `content` is
    the exact bytes pushed (their digest is `digest`).
    """

    media_type: str
    digest: Digest
    size: int
    blobs: tuple[Digest, ...]
    children: tuple[Digest, ...]
    subject: Digest | None
    artifact_type: str | None
    annotations: Mapping[str, str]
    references: tuple[Descriptor, ...] = ()
    foreign_layers: tuple[Digest, ...] = ()
    content: bytes = dataclasses.field(default=b"", repr=False)

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


def invalid_manifest(message: str) -> InvalidArgument:
    """The refusal of a malformed manifest (MANIFEST_INVALID)."""
    return InvalidArgument(message, code="MANIFEST_INVALID")


def parse_manifest(
    content: bytes, declared_media_type: str | None, *, expected_digest: Digest | None = None
) -> ParsedManifest:
    """Validate a pushed manifest (exact bytes, as sent) and extract what it references.

    `declared_media_type` is the request's Content-Type; when absent the body's `mediaType` decides, else
    its shape. `expected_digest` is the digest a push by digest named; it must be the digest of `content`.
    """
    if len(content) > MAX_MANIFEST_BYTES:
        raise ManifestTooLarge(
            f"manifest is {len(content)} bytes; the limit is {MAX_MANIFEST_BYTES} bytes (4 MiB)"
        )
    document = _load_object(content)
    version = document.get("schemaVersion")
    if type(version) is not int or version != _SCHEMA_VERSION:
        raise invalid_manifest(f"schemaVersion must be {_SCHEMA_VERSION}, got {json.dumps(version)}")
    media_type = _resolve_media_type(document, declared_media_type)
    annotations = _annotations(document.get("annotations"), "annotations")
    oci = media_type not in _DOCKER_TYPES
    subject = _descriptor(document["subject"], "subject").digest if oci and "subject" in document else None
    artifact_type = (
        _media_type(document["artifactType"], "artifactType") if oci and "artifactType" in document else None
    )
    blobs: dict[Digest, None] = {}
    foreign: dict[Digest, None] = {}
    children: dict[Digest, None] = {}
    references: tuple[Descriptor, ...]
    if media_type in IMAGE_MANIFEST_TYPES:
        if "manifests" in document:
            raise invalid_manifest("an image manifest has no 'manifests' field (that is an index)")
        if "config" not in document:
            raise invalid_manifest("config is required in an image manifest")
        config = _descriptor(document["config"], "config")
        layers = [_descriptor(item, f"layers[{i}]") for i, item in enumerate(_array(document, "layers"))]
        references = (config, *layers)
        blobs[config.digest] = None
        for layer in layers:
            is_foreign = bool(layer.urls) and layer.media_type in _FOREIGN_LAYER_TYPES
            (foreign if is_foreign else blobs)[layer.digest] = None
        artifact_type = artifact_type or config.media_type
    else:
        if "config" in document or "layers" in document:
            raise invalid_manifest("an index has no 'config' or 'layers' field (that is an image manifest)")
        if "manifests" not in document:
            raise invalid_manifest("manifests is required in an index")
        references = tuple(
            _descriptor(item, f"manifests[{i}]") for i, item in enumerate(_array(document, "manifests"))
        )
        children.update((child.digest, None) for child in references)
    digest = Digest.of(content, expected_digest.algorithm if expected_digest else "sha256")
    if expected_digest is not None and digest != expected_digest:
        raise InvalidArgument(
            f"the manifest's digest is {digest}, not {expected_digest} as the request named",
            code="DIGEST_INVALID",
        )
    return ParsedManifest(
        media_type=media_type,
        digest=digest,
        size=len(content),
        blobs=tuple(blobs),
        children=tuple(children),
        subject=subject,
        artifact_type=artifact_type,
        annotations=annotations,
        references=references,
        foreign_layers=tuple(foreign),
        content=content,
    )


def manifest_blob_digests(media_type: str, content: bytes) -> tuple[str, ...]:
    """The blobs (config, then layers; no foreign layers) an image manifest already validated on push names.

    An index names none. Lenient on purpose: read models are rebuilt from stored manifests, which stricter
    validation rules of a later version must not make unreadable; what cannot be read names nothing.
    """
    if media_type not in IMAGE_MANIFEST_TYPES:
        return ()
    try:
        document = json.loads(content)
    except ValueError:
        return ()
    if not isinstance(document, dict):
        return ()
    named: dict[str, None] = {}
    config = document.get("config")
    if isinstance(config, dict) and isinstance(config.get("digest"), str):
        named[config["digest"]] = None
    layers = document.get("layers")
    for layer in layers if isinstance(layers, list) else ():
        if not isinstance(layer, dict) or not isinstance(layer.get("digest"), str):
            continue
        if layer.get("urls") and layer.get("mediaType") in _FOREIGN_LAYER_TYPES:
            continue  # fetched from elsewhere: never linked here
        named[layer["digest"]] = None
    return tuple(named)


def stored_annotations(content: bytes) -> dict[str, str]:
    """The top-level annotations of a manifest already validated on push ({} if it has none)."""
    annotations = json.loads(content).get("annotations")
    return dict(annotations) if isinstance(annotations, dict) else {}


def _load_object(content: bytes) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        # Parsers disagree on which duplicate wins; a registry must not see another manifest than clients.
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise invalid_manifest(f"manifest JSON repeats the key {quote(key)}")
            result[key] = value
        return result

    def no_constant(constant: str) -> NoReturn:
        raise invalid_manifest(f"manifest JSON contains {constant}, which JSON does not allow")

    try:
        document = json.loads(
            content.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=no_constant
        )
    except UnicodeDecodeError:
        raise invalid_manifest("manifest is not UTF-8 text") from None
    except RecursionError:
        raise invalid_manifest("manifest JSON is nested too deeply") from None
    except ValueError as error:
        raise invalid_manifest(f"manifest is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise invalid_manifest("manifest must be a JSON object")
    return document


def _resolve_media_type(document: Mapping[str, Any], declared: str | None) -> str:
    declared_type = (declared or "").split(";", 1)[0].strip().lower() or None
    body_type = _string(document["mediaType"], "mediaType") if "mediaType" in document else None
    if declared_type is not None and declared_type not in MANIFEST_MEDIA_TYPES:
        raise invalid_manifest(f"Content-Type {quote(declared_type)} is not a supported manifest media type")
    if declared_type is not None and body_type is not None and body_type != declared_type:
        raise invalid_manifest(
            f"the manifest's mediaType {quote(body_type)} does not match "
            f"its Content-Type {quote(declared_type)}"
        )
    media_type = declared_type or body_type or _media_type_from_shape(document)
    if media_type not in MANIFEST_MEDIA_TYPES:
        raise invalid_manifest(f"manifest media type {quote(media_type)} is not supported")
    if media_type in _DOCKER_TYPES and body_type is None:
        raise invalid_manifest("a Docker schema 2 manifest or manifest list must carry its mediaType field")
    return media_type


def _media_type_from_shape(document: Mapping[str, Any]) -> str:
    if "manifests" in document and "config" not in document:
        return OCI_INDEX
    if "config" in document and "manifests" not in document:
        return OCI_MANIFEST
    raise invalid_manifest(
        "cannot tell an image manifest from an index: set the Content-Type or the mediaType field"
    )


def _array(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise invalid_manifest(f"{key} must be an array")
    return value


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise invalid_manifest(f"{where} must be a string")
    return value


def _media_type(value: object, where: str) -> str:
    media_type = _string(value, where)
    if not _MEDIA_TYPE.fullmatch(media_type):
        raise invalid_manifest(f"{where} {quote(media_type)} is not a media type (type/subtype)")
    return media_type


def _annotations(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid_manifest(f"{where} must be an object of strings")
    return dict(value)


def _descriptor(value: object, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise invalid_manifest(f"{where} must be a descriptor object")
    for required in ("mediaType", "digest", "size"):
        if required not in value:
            raise invalid_manifest(f"{where}.{required} is required")
    media_type = _media_type(value["mediaType"], f"{where}.mediaType")
    try:
        digest = Digest.parse(_string(value["digest"], f"{where}.digest"))
    except InvalidArgument as error:
        raise invalid_manifest(f"{where}.digest is invalid: {error}") from None
    size = value["size"]
    if type(size) is not int or not 0 <= size <= MAX_CONTENT_SIZE:
        raise invalid_manifest(f"{where}.size must be a non-negative integer, got {json.dumps(size)}")
    urls = value.get("urls", [])
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        raise invalid_manifest(f"{where}.urls must be an array of strings")
    artifact_type = value.get("artifactType")
    if artifact_type is not None:
        artifact_type = _media_type(artifact_type, f"{where}.artifactType")
    if "data" in value:
        _check_embedded_data(value["data"], digest, size, where)
    return Descriptor(
        media_type=media_type,
        digest=digest,
        size=size,
        artifact_type=artifact_type,
        urls=tuple(urls),
        annotations=_annotations(value.get("annotations"), f"{where}.annotations"),
    )


def _check_embedded_data(data: object, digest: Digest, size: int, where: str) -> None:
    try:
        embedded = base64.b64decode(_string(data, f"{where}.data"), validate=True)
    except (binascii.Error, ValueError):
        raise invalid_manifest(f"{where}.data is not base64") from None
    if len(embedded) != size or Digest.of(embedded, digest.algorithm) != digest:
        raise invalid_manifest(f"{where}.data does not match the descriptor's digest and size")
