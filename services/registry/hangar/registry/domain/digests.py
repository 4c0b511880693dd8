"""Content addresses: `algorithm:hex` digests (sha256, sha512) of the exact bytes."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import Final

from hangar.kit.errors import InvalidArgument
from hangar.registry.domain.quoting import quote

_DIGEST_HEX_LENGTHS: Final = {"sha256": 64, "sha512": 128}
_LOWER_HEX = re.compile(r"[0-9a-f]+")


def _unsupported(algorithm: str) -> InvalidArgument:
    return InvalidArgument(
        f"digest algorithm {quote(algorithm)} is not supported (use sha256 or sha512)", code="DIGEST_INVALID"
    )


@dataclasses.dataclass(frozen=True, order=True)
class Digest:
    """A content address `algorithm:hex`: sha256 (64 lowercase hex) or sha512 (128 lowercase hex)."""

    algorithm: str
    hex: str

    def __post_init__(self) -> None:
        length = _DIGEST_HEX_LENGTHS.get(self.algorithm)
        if length is None:
            raise _unsupported(self.algorithm)
        if len(self.hex) != length or not _LOWER_HEX.fullmatch(self.hex):
            raise InvalidArgument(
                f"a {self.algorithm} digest is {length} lowercase hex characters, got {quote(self.hex)}",
                code="DIGEST_INVALID",
            )

    @classmethod
    def parse(cls, value: str) -> Digest:
        algorithm, colon, encoded = value.partition(":")
        if not colon:
            raise InvalidArgument(
                f"digest {quote(value)} is not of the form algorithm:hex", code="DIGEST_INVALID"
            )
        return cls(algorithm, encoded)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        if algorithm not in _DIGEST_HEX_LENGTHS:
            raise _unsupported(algorithm)
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"
