"""`GET /v2/`: the API version check; 200 `{}` for any authenticated caller, else the 401 challenge."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hangar.gateway.oci.access import AccessControl
from hangar.gateway.oci.errors import API_VERSION_HEADER


async def version_check(request: Request, access: AccessControl) -> Response:
    await access.identify(request)
    return JSONResponse({}, headers=API_VERSION_HEADER)
