"""`GET /v2/<name>/referrers/<digest>[?artifactType=<type>]`: the manifests whose subject is the digest.

The answer is always an OCI image index (distribution-spec v1.1): empty when nothing refers to the digest,
and never 404 (a 404 would send clients to the referrers tag schema). A filter on `artifactType` is applied
by the registry and announced with `OCI-Filters-Applied`.
"""

from __future__ import annotations

from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hangar.gateway.clients import Referrer, RegistryPort
from hangar.gateway.oci.access import Caller
from hangar.gateway.oci.routes import Target

OCI_INDEX: Final = "application/vnd.oci.image.index.v1+json"
FILTERS_APPLIED_HEADER: Final = "OCI-Filters-Applied"
ARTIFACT_TYPE_FILTER: Final = "artifactType"


def descriptor(referrer: Referrer) -> dict[str, Any]:
    """A referrer as an index lists it: `artifactType` and `annotations` only when it has them."""
    entry: dict[str, Any] = {
        "mediaType": referrer.media_type,
        "digest": referrer.digest,
        "size": referrer.size,
    }
    if referrer.artifact_type:
        entry["artifactType"] = referrer.artifact_type
    if referrer.annotations:
        entry["annotations"] = dict(referrer.annotations)
    return entry


class Referrers:
    def __init__(self, registry: RegistryPort) -> None:
        self._registry = registry

    async def list(self, request: Request, target: Target, caller: Caller) -> Response:
        artifact_type = request.query_params.get(ARTIFACT_TYPE_FILTER, "")
        found = await self._registry.list_referrers(target.name, target.reference, artifact_type)
        headers = {FILTERS_APPLIED_HEADER: ARTIFACT_TYPE_FILTER} if artifact_type else {}
        return JSONResponse(
            {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [descriptor(r) for r in found]},
            media_type=OCI_INDEX,
            headers=headers,
        )
