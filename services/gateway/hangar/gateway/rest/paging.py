"""Pagination of REST lists: `page_size` and `page_token` in, `{"items", "next_page_token"}` out.

Services that paginate hand out their own tokens, passed through as they are; lists the gateway holds whole
(a user's keys, an org's teams) are cut here, with an opaque offset token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Final, TypeVar

from fastapi import Query

from hangar.kit.errors import InvalidArgument
from hangar.kit.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, decode_page_token, encode_page_token

T = TypeVar("T")

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "PageSize", "PageToken", "cut", "next_token"]

#: The query the gateway's own offset tokens are bound to.
_OFFSET: Final = "gateway-offset"

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
    return encode_page_token({"offset": offset}, _OFFSET)


def _offset(token: str) -> int:
    cursor = decode_page_token(token, _OFFSET)
    offset = 0 if cursor is None else cursor.get("offset")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset < 10**9:
        raise InvalidArgument("page_token is not one this API handed out", code="PAGE_TOKEN_INVALID")
    return offset


def next_token(token: str) -> str | None:
    """A service's next-page token as the API answers it: null on the last page."""
    return token or None
