"""`GET /v2/_catalog[?n=<int>&last=<name>]`: the repositories the caller may list, lexically, paginated.

The registry lists every repository; the gateway keeps those the caller holds `list` (or `pull`) on, reading
the registry's pages until it has a page of visible names (see docs/decisions/0015).
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hangar.gateway.clients import RegistryPort
from hangar.gateway.oci.access import AccessControl, Caller
from hangar.gateway.oci.tags import MAX_PAGE, parse_page_size

#: Names asked of the registry at a time while filtering.
SCAN_PAGE: Final = 1000


def next_link(n: int, last: str) -> str:
    return f'</v2/_catalog?{urlencode({"n": n, "last": last})}>; rel="next"'


class Catalog:
    def __init__(self, registry: RegistryPort, access: AccessControl) -> None:
        self._registry = registry
        self._access = access

    async def list(self, request: Request, caller: Caller) -> Response:
        asked = parse_page_size(request.query_params.get("n"))
        last = request.query_params.get("last", "")
        if asked == 0:
            return JSONResponse({"repositories": []})
        page_size = min(asked or MAX_PAGE, MAX_PAGE)
        shown: list[str] = []
        cursor = last
        # One visible name more than the page tells whether another page follows.
        while len(shown) <= page_size:
            page = await self._registry.list_repositories(page_size=SCAN_PAGE, last=cursor)
            names = sorted(page.repositories)  # lexical, whatever the service's collation
            if not names:
                break
            allowed = await self._access.visible(caller, names)
            shown.extend(name for name in names if name in allowed)
            cursor = names[-1]
            if not page.more:
                break
        headers = {}
        if len(shown) > page_size:
            shown = shown[:page_size]
            headers["Link"] = next_link(page_size, shown[-1])
        return JSONResponse({"repositories": shown}, headers=headers)
