"""What a file request's headers say: a PUT's Content-Range piece, a GET's Range, and the sha256 a client
gives for the whole file."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from typing import Final

from fastapi import Request

from hangar.gateway.rest.errors import ApiError
from hangar.kit.errors import InvalidArgument

#: `bytes <start>-<end>/<total|*>`, or `bytes */<total>` (no bytes: finish an upload whose bytes all arrived).
_CONTENT_RANGE: Final = re.compile(
    r"bytes (?:(?P<start>\d{1,19})-(?P<end>\d{1,19})|\*)/(?P<total>\d{1,19}|\*)"
)
_RANGE: Final = re.compile(r"bytes=(?P<start>\d{0,19})-(?P<end>\d{0,19})")
_HEX64: Final = re.compile(r"[0-9a-f]{64}")


@dataclasses.dataclass(frozen=True)
class Piece:
    """A PUT's Content-Range: bytes `start`..`end` (inclusive) of `total` (None: unknown).

    `start` None: no bytes (`bytes */<total>`, finishing an upload whose bytes have all arrived)."""

    start: int | None
    end: int
    total: int | None

    @property
    def length(self) -> int:
        return 0 if self.start is None else self.end - self.start + 1


def parse_piece(header: str | None) -> Piece | None:
    if header is None:
        return None
    match = _CONTENT_RANGE.fullmatch(header.strip())
    if match is None:
        raise InvalidArgument(
            "Content-Range must be `bytes <start>-<end>/<total or *>` or `bytes */<total>`",
            code="RANGE_INVALID",
        )
    total = None if match["total"] == "*" else int(match["total"])
    if match["start"] is None:
        if total is None:
            raise InvalidArgument("`bytes */*` names nothing", code="RANGE_INVALID")
        return Piece(None, total - 1, total)
    start, end = int(match["start"]), int(match["end"])
    if end < start or (total is not None and end >= total):
        raise ApiError(
            416, "RANGE_INVALID", f"Content-Range {start}-{end}/{match['total']} is not a range of the file"
        )
    return Piece(start, end, total)


def expected_digest(request: Request) -> str | None:
    """The sha256 the client says the whole file has: `X-Checksum-Sha256: <hex>` (or `sha256:<hex>`),
    `Digest: sha-256=<base64>` (RFC 3230) or `Repr-Digest: sha-256=:<base64>:` (RFC 9530)."""
    headers = request.headers
    value = headers.get("x-checksum-sha256")
    if value is not None:
        hex_digest = value.strip().lower().removeprefix("sha256:")
        if not _HEX64.fullmatch(hex_digest):
            raise InvalidArgument("X-Checksum-Sha256 must be 64 hex digits", code="DIGEST_INVALID")
        return "sha256:" + hex_digest
    for name in ("repr-digest", "digest"):
        value = headers.get(name)
        if value is None:
            continue
        for item in value.split(","):
            algorithm, _, encoded = item.strip().partition("=")
            if algorithm.strip().lower() != "sha-256":
                continue
            try:
                raw = base64.b64decode(encoded.strip().strip(":"), validate=True)
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) != 32:
                raise InvalidArgument(f"{name} sha-256 must be 32 bytes in base64", code="DIGEST_INVALID")
            return "sha256:" + raw.hex()
    return None


def _byte_range(header: str | None, size: int) -> tuple[int, int]:
    """The inclusive byte range a `Range` header asks of a file of `size` bytes (the whole file when absent
    or when it asks for several ranges); 416 when it is outside the file."""
    whole = (0, size - 1)
    if header is None or "," in header:
        return whole
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match["start"] and not match["end"]):
        raise ApiError(
            416,
            "RANGE_INVALID",
            "Range must be bytes=<first>-[<last>] or bytes=-<suffix>",
            headers={"Content-Range": f"bytes */{size}"},
        )
    if not match["start"]:
        suffix = int(match["end"])
        if suffix == 0 or size == 0:
            raise ApiError(
                416, "RANGE_INVALID", "an empty suffix range", headers={"Content-Range": f"bytes */{size}"}
            )
        return max(size - suffix, 0), size - 1
    first = int(match["start"])
    last = min(int(match["end"]), size - 1) if match["end"] else size - 1
    if first >= size or last < first:
        raise ApiError(
            416, "RANGE_INVALID", f"the file has {size} bytes", headers={"Content-Range": f"bytes */{size}"}
        )
    return first, last
