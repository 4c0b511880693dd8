"""Pagination shared by every listing (DESIGN §3: `page_size`, opaque `page_token`), pure.

A page token is base64url JSON holding the listing's cursor and a fingerprint of the query it pages, so a
token handed out for one listing cannot silently page another; anything else is PAGE_TOKEN_INVALID.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

from hangar.kit.errors import InvalidArgument

DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 1000


def page_limit(page_size: int) -> int:
    """How many items a page holds: 0 means DEFAULT_PAGE_SIZE, above MAX_PAGE_SIZE means the maximum."""
    if page_size < 0:
        raise InvalidArgument("the page size cannot be negative", code="PAGE_SIZE_INVALID")
    return min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_page_token(cursor: Mapping[str, Any], query: str = "") -> str:
    """An opaque token for the page after `cursor` (JSON values) of the listing `query`."""
    raw = json.dumps({"c": dict(cursor), "q": _fingerprint(query)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str, query: str = "") -> dict[str, Any] | None:
    """The cursor in `token` (None for the first page, an empty token); PAGE_TOKEN_INVALID if it is not
    a token this listing handed out."""
    if not token:
        return None
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        body = json.loads(raw)
        if (
            not isinstance(body, dict)
            or body.get("q") != _fingerprint(query)
            or not isinstance(body.get("c"), dict)
        ):
            raise ValueError("not a cursor of this listing")
    except (binascii.Error, ValueError, TypeError):  # not base64url, not UTF-8 JSON, not ours
        raise InvalidArgument(
            "the page token is not one this listing handed out", code="PAGE_TOKEN_INVALID"
        ) from None
    return dict(body["c"])


def _fingerprint(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()[:16]
