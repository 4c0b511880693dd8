"""`/v2/<name>/manifests/<reference>`: push (PUT), pull (GET/HEAD) and delete (DELETE) by tag or digest.

DELETE by digest deletes the manifest and every tag pointing at it; by tag, only the tag (the spec allows
both). Either is 202 Accepted; a manifest an index of the repository lists is 409 DENIED naming the index.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from hangar.gateway.clients import BlobstorePort, RegistryPort, StoredManifest
from hangar.gateway.oci.access import Caller
from hangar.gateway.oci.errors import OciError
from hangar.gateway.oci.routes import Target
from hangar.gateway.oci.version_configs import version_config

#: Manifests up to 4 MiB are accepted (the spec's minimum); a larger one is 413 and is never read whole.
MAX_MANIFEST_BYTES: Final = 4 * 1024 * 1024


def media_type_of(content_type: str | None) -> str:
    """The media type of a Content-Type header, parameters dropped (the spec says registries ignore them)."""
    return (content_type or "").split(";")[0].strip()


def _too_large() -> OciError:
    return OciError(
        "MANIFEST_INVALID",
        f"the manifest is larger than {MAX_MANIFEST_BYTES} bytes (4 MiB), the most this registry accepts",
        detail={"reason": "SIZE_INVALID", "limit": MAX_MANIFEST_BYTES},
        status=413,
    )


async def read_manifest(request: Request) -> bytes:
    """The request body, read up to the limit plus one byte: a larger body is 413 without reading on."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_MANIFEST_BYTES:
        raise _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_MANIFEST_BYTES:
            raise _too_large()
    return bytes(body)


class Manifests:
    def __init__(self, registry: RegistryPort, blobstore: BlobstorePort) -> None:
        self._registry = registry
        self._blobstore = blobstore

    async def put(self, request: Request, target: Target, caller: Caller) -> Response:
        content = await read_manifest(request)
        media_type = media_type_of(request.headers.get("content-type"))
        # a model, resource or chart pushed under a tag becomes a version, with its config's metadata
        config = await version_config(self._blobstore, target.reference, content)
        with_config = {"config": config} if config else {}
        stored = await self._registry.put_manifest(
            target.name, target.reference, media_type, content, **with_config
        )
        headers = {
            "Location": f"/v2/{target.name}/manifests/{stored.digest}",
            "Docker-Content-Digest": stored.digest,
            "Content-Length": "0",
        }
        if stored.subject_digest:
            headers["OCI-Subject"] = stored.subject_digest
        return Response(status_code=201, headers=headers)

    async def get(self, request: Request, target: Target, caller: Caller) -> Response:
        manifest = await self._registry.get_manifest(target.name, target.reference)
        return Response(manifest.content, status_code=200, headers=self._headers(manifest))

    async def head(self, request: Request, target: Target, caller: Caller) -> Response:
        manifest = await self._registry.get_manifest(target.name, target.reference)
        return Response(status_code=200, headers=self._headers(manifest))

    async def delete(self, request: Request, target: Target, caller: Caller) -> Response:
        await self._registry.delete_manifest(target.name, target.reference)
        return Response(status_code=202, headers={"Content-Length": "0"})

    @staticmethod
    def _headers(manifest: StoredManifest) -> dict[str, str]:
        return {
            "Content-Type": manifest.media_type or "application/octet-stream",
            "Content-Length": str(len(manifest.content)),
            "Docker-Content-Digest": manifest.digest,
            "ETag": f'"{manifest.digest}"',
        }
