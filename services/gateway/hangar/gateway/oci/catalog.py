"""`GET /v2/_catalog[?n=<int>&last=<name>]`: the repositories the caller may list, lexically, paginated.

The registry lists every repository; the gateway keeps those the caller holds `list` (or `pull`) on, reading
the registry's pages until it has a page of visible names (see docs/decisions/0015).

Work per request is bounded: at most SCAN_PAGES registry pages are read. When they run out before the page
is full, the response holds the visible names found so far and a `Link` whose `last` is a sealed cursor
(`~` + AES-GCM of the last name read, with a key derived from the token signing key every replica shares),
so following it resumes the scan without telling the caller the name of a repository it may not see.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Final
from urllib.parse import urlencode

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hangar.gateway.clients import RegistryPort
from hangar.gateway.oci.access import AccessControl, Caller
from hangar.gateway.oci.errors import OciError
from hangar.gateway.oci.tags import MAX_PAGE, parse_page_size

#: Names asked of the registry at a time while filtering.
SCAN_PAGE: Final = 1000
#: Registry pages read at most per catalog request (bounded work whatever the caller may see).
SCAN_PAGES: Final = 10
#: A sealed cursor starts with this (never the first character of a repository name).
SEALED: Final = "~"
_NONCE_BYTES: Final = 12
_MAX_CURSOR: Final = 1024


def cursor_key(signing_key: Ed25519PrivateKey) -> bytes:
    """The catalog cursors' AES key, derived from the token signing key (the same on every replica)."""
    raw = signing_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"hangar catalog cursor v1").derive(raw)


class CursorSealer:
    """Seals a registry position so that it can travel in a `Link` without revealing the name it holds."""

    def __init__(self, key: bytes | None = None) -> None:
        self._aead = AESGCM(key or AESGCM.generate_key(bit_length=256))

    def seal(self, name: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, name.encode(), b"catalog")
        return SEALED + base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, cursor: str) -> str:
        """The name a sealed cursor holds; 400 when it is not one this registry made."""
        try:
            if len(cursor) > _MAX_CURSOR:
                raise ValueError
            text = cursor[len(SEALED) :]
            sealed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            name = self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], b"catalog")
            return name.decode()
        except (ValueError, binascii.Error, InvalidTag, UnicodeDecodeError):
            raise OciError(
                "PAGINATION_NUMBER_INVALID", "last is not a repository name or a cursor this registry gave"
            ) from None


def next_link(n: int, last: str) -> str:
    return f'</v2/_catalog?{urlencode({"n": n, "last": last})}>; rel="next"'


class Catalog:
    def __init__(
        self, registry: RegistryPort, access: AccessControl, *, cursor_key: bytes | None = None
    ) -> None:
        self._registry = registry
        self._access = access
        self._cursors = CursorSealer(cursor_key)

    async def list(self, request: Request, caller: Caller) -> Response:
        asked = parse_page_size(request.query_params.get("n"))
        last = request.query_params.get("last", "")
        if last.startswith(SEALED):
            last = self._cursors.open(last)
        if asked == 0:
            return JSONResponse({"repositories": []})
        page_size = min(asked or MAX_PAGE, MAX_PAGE)
        shown: list[str] = []
        cursor = last
        more = True
        # One visible name more than the page tells whether another page follows.
        for _ in range(SCAN_PAGES):
            page = await self._registry.list_repositories(page_size=SCAN_PAGE, last=cursor)
            names = sorted(page.repositories)  # lexical, whatever the service's collation
            more = page.more and bool(names)
            if names:
                allowed = await self._access.visible(caller, names)
                shown.extend(name for name in names if name in allowed)
                cursor = names[-1]
            if not more or len(shown) > page_size:
                break
        headers = {}
        if len(shown) > page_size:
            shown = shown[:page_size]
            headers["Link"] = next_link(page_size, shown[-1])
        elif more:  # the scan's bound was reached first: resume after the last name read, sealed
            headers["Link"] = next_link(page_size, self._cursors.seal(cursor))
        return JSONResponse({"repositories": shown}, headers=headers)
