"""Helpers the in-memory fakes share: digests and offset paging."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

from hangar.gateway.clients.model import (
    Page,
)
from hangar.kit.errors import (
    InvalidArgument,
)

T = TypeVar("T")


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _offset_page(items: Sequence[T], page_size: int, page_token: str) -> Page[T]:
    """A page by offset; the token is the decimal offset of the next item."""
    if page_size < 0:
        raise InvalidArgument("page size must not be negative")
    size = min(page_size or 100, 1000)
    if page_token and not page_token.isdigit():
        raise InvalidArgument("page token is not one this service handed out", code="PAGE_TOKEN_INVALID")
    start = int(page_token or 0)
    end = start + size
    return Page(tuple(items[start:end]), str(end) if end < len(items) else "")
