"""The config blob of a model, resource or chart manifest pushed under a tag, for the registry.

A manifest whose artifactType is a Hangar model or resource, or whose config media type is a Hangar model's
or resource's or a Helm chart's, pushed under a tag becomes a committed version (ArtifactService); the
version takes its metadata from the config blob, which the registry does not read itself. The gateway reads
it from the blobstore (at most 1 MiB) and sends it with the manifest (PutManifestRequest.config). Other
manifests, and pushes by digest, send none.
"""

from __future__ import annotations

import json
from typing import Final

from hangar.gateway.clients import BlobstorePort
from hangar.gateway.oci.errors import OciError
from hangar.kit.errors import DomainError

MODEL_ARTIFACT_TYPE: Final = "application/vnd.hangar.model.v1+json"
RESOURCE_ARTIFACT_TYPE: Final = "application/vnd.hangar.resource.v1+json"
MODEL_CONFIG_TYPE: Final = "application/vnd.hangar.model.config.v1+json"
RESOURCE_CONFIG_TYPE: Final = "application/vnd.hangar.resource.config.v1+json"
HELM_CONFIG_TYPE: Final = "application/vnd.cncf.helm.config.v1+json"
VERSION_ARTIFACT_TYPES: Final = frozenset({MODEL_ARTIFACT_TYPE, RESOURCE_ARTIFACT_TYPE})
#: Config media types that make a manifest a version without an artifactType (oras-py sets none).
VERSION_CONFIG_TYPES: Final = frozenset({MODEL_CONFIG_TYPE, RESOURCE_CONFIG_TYPE, HELM_CONFIG_TYPE})
MAX_CONFIG_BYTES: Final = 1024 * 1024


def _too_large(size: int) -> OciError:
    return OciError(
        "MANIFEST_INVALID",
        f"the config blob of a model, resource or chart is at most {MAX_CONFIG_BYTES} bytes (1 MiB); "
        f"this one has {size}",
        detail={"reason": "CONFIG_TOO_LARGE", "limit": MAX_CONFIG_BYTES},
    )


def config_reference(reference: str, content: bytes) -> tuple[str, int] | None:
    """The (digest, declared size) of the config a version's manifest pushed under tag `reference` names;
    None for any other manifest (or one the registry will refuse as malformed anyway)."""
    if ":" in reference:
        return None
    try:
        document = json.loads(content)
    except ValueError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        return None
    config = document["config"]
    if (
        document.get("artifactType") not in VERSION_ARTIFACT_TYPES
        and config.get("mediaType") not in VERSION_CONFIG_TYPES
    ):
        return None
    digest, size = config.get("digest"), config.get("size")
    if not isinstance(digest, str) or not isinstance(size, int) or isinstance(size, bool):
        return None
    return digest, size


async def version_config(blobstore: BlobstorePort, reference: str, content: bytes) -> bytes:
    """The config blob's bytes when the manifest makes a version; b"" otherwise, or when the blob is not
    there (the registry then refuses the manifest naming an unknown blob)."""
    named = config_reference(reference, content)
    if named is None:
        return b""
    digest, declared = named
    if declared > MAX_CONFIG_BYTES:
        raise _too_large(declared)
    try:
        stored = await blobstore.stat_blob(digest)
    except DomainError as error:
        if error.kind in ("not_found", "invalid_argument"):
            return b""
        raise
    if stored.size > MAX_CONFIG_BYTES:
        raise _too_large(stored.size)
    data = bytearray()
    async for chunk in blobstore.read(digest, 0, stored.size):
        data += chunk
        if len(data) > MAX_CONFIG_BYTES:
            raise _too_large(len(data))
    return bytes(data)
