"""Pagination of REST lists: `page_size` and `page_token` in, `{"items", "next_page_token"}` out.

Services that paginate hand out their own tokens, passed through as they are; lists the gateway holds whole
(a user's keys, an org's teams) are cut here, with an opaque offset token.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Annotated, Final, TypeVar

from fastapi import Query

from hangar.kit.errors import InvalidArgument

T = TypeVar("T")

DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 1000
_OFFSET: Final = "offset:"

PageSize = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page (at most {MAX_PAGE_SIZE})")
]
PageToken = Annotated[
    str,
    Query(
        max_length=1024,
        pattern=r"^[A-Za-z0-9_=-]*$",
        description="The next_page_token of the previous page (opaque, base64url); empty for the first",
    ),
]


def cut(items: Sequence[T], page_size: int, page_token: str) -> tuple[list[T], str | None]:
    """One page of `items` and the token of the next (None on the last page)."""
    start = _offset(page_token)
    end = start + page_size
    return list(items[start:end]), (_token(end) if end < len(items) else None)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_OFFSET}{offset}".encode()).decode().rstrip("=")


def _offset(token: str) -> int:
    if not token:
        return 0
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, ValueError):  # not base64url, not ASCII, not UTF-8
        decoded = ""
    number = decoded.removeprefix(_OFFSET)
    if not decoded.startswith(_OFFSET) or not number.isdigit() or len(number) > 9:
        raise InvalidArgument("page_token is not one this API handed out", code="PAGE_TOKEN_INVALID")
    return int(number)


def next_token(token: str) -> str | None:
    """A service's next-page token as the API answers it: null on the last page."""
    return token or None
