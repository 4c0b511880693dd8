"""Content addresses: the kit's `algorithm:hex` digests (sha256, sha512) of the exact bytes."""

from __future__ import annotations

from hangar.kit.digests import DIGEST_HEX_LENGTHS, Digest

__all__ = ["DIGEST_HEX_LENGTHS", "Digest"]
