"""Content addresses shared by every service: `algorithm:hex` digests (sha256, sha512), pure."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import Final

from hangar.kit.errors import InvalidArgument

#: Supported algorithms (OCI names, which are also `hashlib` names) and their hex lengths.
DIGEST_HEX_LENGTHS: Final[dict[str, int]] = {"sha256": 64, "sha512": 128}
_LOWER_HEX = re.compile(r"[0-9a-f]+")
_SHOWN_CHARS: Final = 80


def quote(value: str) -> str:
    """`repr(value)`, cut to a readable length, for echoing user input in error messages."""
    return repr(value if len(value) <= _SHOWN_CHARS else value[: _SHOWN_CHARS - 3] + "...")


def _unsupported(algorithm: str) -> InvalidArgument:
    return InvalidArgument(
        f"digest algorithm {quote(algorithm)} is not supported (use sha256 or sha512)", code="DIGEST_INVALID"
    )


@dataclasses.dataclass(frozen=True, order=True)
class Digest:
    """A content address `algorithm:hex`: sha256 (64 lowercase hex) or sha512 (128 lowercase hex).

    Every instance is valid by construction; anything else is InvalidArgument with code DIGEST_INVALID.
    """

    algorithm: str
    hex: str

    def __post_init__(self) -> None:
        length = DIGEST_HEX_LENGTHS.get(self.algorithm)
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
        if algorithm not in DIGEST_HEX_LENGTHS:
            raise _unsupported(algorithm)
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    @property
    def hashlib_name(self) -> str:
        """The name `hashlib.new()` knows this algorithm by."""
        return self.algorithm

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"
