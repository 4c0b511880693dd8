"""`GET /v2/<name>/tags/list[?n=<int>&last=<tag>]`: a repository's tags, lexically ordered, paginated."""

from __future__ import annotations

from typing import Final
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hangar.gateway.clients import RegistryPort
from hangar.gateway.oci.access import Caller
from hangar.gateway.oci.errors import OciError
from hangar.gateway.oci.routes import Target

#: The most tags one response lists; more are reached through the Link header, as the spec allows.
MAX_PAGE: Final = 1000


def parse_page_size(value: str | None) -> int | None:
    """`n`: a non-negative integer (None when absent); else 400 PAGINATION_NUMBER_INVALID."""
    if value is None:
        return None
    if not value.isdigit() or len(value) > 9:
        raise OciError("PAGINATION_NUMBER_INVALID", f"n must be a non-negative integer, got {value[:20]!r}")
    return int(value)


def next_link(name: str, n: int, last: str) -> str:
    return f'</v2/{name}/tags/list?{urlencode({"n": n, "last": last})}>; rel="next"'


class Tags:
    def __init__(self, registry: RegistryPort) -> None:
        self._registry = registry

    async def list(self, request: Request, target: Target, caller: Caller) -> Response:
        asked = parse_page_size(request.query_params.get("n"))
        last = request.query_params.get("last", "")
        if asked == 0:  # an empty list and no Link, once the repository is known to exist
            await self._registry.list_tags(target.name, page_size=1, last=last)
            return JSONResponse({"name": target.name, "tags": []})
        page_size = min(asked or MAX_PAGE, MAX_PAGE)
        page = await self._registry.list_tags(target.name, page_size=page_size, last=last)
        tags = sorted(page.tags)  # lexical, whatever the service's collation
        headers = {}
        if page.more and tags:
            headers["Link"] = next_link(target.name, page_size, tags[-1])
        return JSONResponse({"name": target.name, "tags": tags}, headers=headers)
