"""Pages of an org's keys: page sizes and the opaque page token (a keyset cursor bound to its query)."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta

from hangar.kit.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

# Exact integer microseconds: a float timestamp may round a cursor onto its neighbour.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def page_limit(page_size: int) -> int:
    """How many keys a page holds: 0 means 100, above 1000 means 1000; negative is refused."""
    if page_size < 0:
        raise InvalidArgument("the page size cannot be negative", code="PAGE_SIZE_INVALID")
    return min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


@dataclasses.dataclass(frozen=True)
class PageCursor:
    """Where a page ends in the listing order (creation time, then key id), and which query it pages.

    The token carries a fingerprint of the query (org, user filter, include_dead) so a token handed out
    for one listing cannot silently page another.
    """

    created_at: datetime
    key_id: str

    def token(self, query: str) -> str:
        body = {
            "c": (self.created_at - _EPOCH) // _MICROSECOND,
            "k": self.key_id,
            "q": _fingerprint(query),
        }
        raw = json.dumps(body, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str, query: str) -> PageCursor | None:
        """The cursor of `token` (None for the first page); PAGE_TOKEN_INVALID if it is not ours for it."""
        if not token:
            return None
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
            body = json.loads(raw)
            micros, key_id, fingerprint = body["c"], body["k"], body["q"]
            if not (
                isinstance(micros, int) and isinstance(key_id, str) and fingerprint == _fingerprint(query)
            ):
                raise ValueError("not a cursor of this query")
            created_at = _EPOCH + micros * _MICROSECOND
        except (binascii.Error, ValueError, TypeError, KeyError, OverflowError, OSError):
            raise InvalidArgument(
                "the page token is not one this listing handed out", code="PAGE_TOKEN_INVALID"
            ) from None
        return cls(created_at, key_id)


def listing_query(org: str, user_id: str, include_dead: bool) -> str:
    """The identity of a listing, for `PageCursor` tokens."""
    return json.dumps([org, user_id, include_dead])


def _fingerprint(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()[:16]
