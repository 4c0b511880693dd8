"""Pages of an org's keys: page sizes and the opaque page token (a keyset cursor bound to its query)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

from hangar.kit.errors import InvalidArgument
from hangar.kit.paging import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    decode_page_token,
    encode_page_token,
    page_limit,
)

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "PageCursor", "listing_query", "page_limit"]

# Exact integer microseconds: a float timestamp may round a cursor onto its neighbour.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclasses.dataclass(frozen=True)
class PageCursor:
    """Where a page ends in the listing order (creation time, then key id), and which query it pages.

    The token carries a fingerprint of the query (org, user filter, include_dead) so a token handed out
    for one listing cannot silently page another.
    """

    created_at: datetime
    key_id: str

    def token(self, query: str) -> str:
        return encode_page_token({"c": (self.created_at - _EPOCH) // _MICROSECOND, "k": self.key_id}, query)

    @classmethod
    def from_token(cls, token: str, query: str) -> PageCursor | None:
        """The cursor of `token` (None for the first page); PAGE_TOKEN_INVALID if it is not ours for it."""
        cursor = decode_page_token(token, query)
        if cursor is None:
            return None
        try:
            micros, key_id = cursor["c"], cursor["k"]
            if not (isinstance(micros, int) and isinstance(key_id, str)):
                raise ValueError("not a cursor of this query")
            created_at = _EPOCH + micros * _MICROSECOND
        except (ValueError, TypeError, KeyError, OverflowError, OSError):
            raise InvalidArgument(
                "the page token is not one this listing handed out", code="PAGE_TOKEN_INVALID"
            ) from None
        return cls(created_at, key_id)


def listing_query(org: str, user_id: str, include_dead: bool) -> str:
    """The identity of a listing, for `PageCursor` tokens."""
    return json.dumps([org, user_id, include_dead])
