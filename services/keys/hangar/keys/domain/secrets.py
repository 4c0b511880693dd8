"""The secret of a key: its shape, how it is made, and what of it may be stored (a prefix and a hash)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from typing import NamedTuple

from hangar.kit.errors import Unauthenticated

KEY_SCHEME = "hgr"
ID_PART_LENGTH = 8
RANDOM_BYTES = 32
PREFIX_LENGTH = len(KEY_SCHEME) + 1 + ID_PART_LENGTH  # "hgr_" + id part

_ID_PART_ALPHABET = string.ascii_letters + string.digits
# token_urlsafe(32) yields 43 characters; accept longer random parts so the entropy can grow later.
_RANDOM_PART_MIN, _RANDOM_PART_MAX = 43, 128
_MAX_SECRET_LENGTH = PREFIX_LENGTH + 1 + _RANDOM_PART_MAX
_SECRET_SHAPE = re.compile(
    rf"{KEY_SCHEME}_[A-Za-z0-9]{{{ID_PART_LENGTH}}}_[A-Za-z0-9_-]{{{_RANDOM_PART_MIN},{_RANDOM_PART_MAX}}}"
)


class GeneratedSecret(NamedTuple):
    """A fresh secret with what may be stored of it. Unpacks as `(secret, prefix, secret_hash)`."""

    secret: str
    prefix: str
    secret_hash: str

    def __repr__(self) -> str:
        # The secret is shown once, to its owner; a log line or traceback must never be that once.
        return f"GeneratedSecret(secret=<redacted>, prefix={self.prefix!r})"


class KeySecret:
    """The secret of a key, `hgr_<id-part>_<random>`: how it is made, indexed, hashed and checked.

    The id part (8 alphanumerics, ~47 bits) makes the prefix `hgr_<id-part>` that is stored, indexed and
    shown; the random part carries the secret's strength (32 random bytes). At 100,000 keys the chance
    that two prefixes collide is ~2e-5; the store keeps the prefix unique and issuance retries on conflict.
    """

    @staticmethod
    def generate() -> GeneratedSecret:
        id_part = "".join(secrets.choice(_ID_PART_ALPHABET) for _ in range(ID_PART_LENGTH))
        prefix = f"{KEY_SCHEME}_{id_part}"
        secret = f"{prefix}_{secrets.token_urlsafe(RANDOM_BYTES)}"
        return GeneratedSecret(secret, prefix, KeySecret.hash_of(secret))

    @staticmethod
    def hash_of(secret: str) -> str:
        """The stored form of a secret: sha256 hex of the whole secret.

        A fast hash is right here, unlike for passwords: the secret holds 256 random bits, so there is no
        dictionary to try and a leaked hash cannot be brute-forced, while a slow KDF (argon2, bcrypt) would
        add tens of milliseconds to every authenticated request that misses the cache.
        """
        return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()

    @staticmethod
    def verify(secret: str, stored_hash: str) -> bool:
        """Whether `secret` hashes to `stored_hash`, compared in constant time."""
        return hmac.compare_digest(
            KeySecret.hash_of(secret).encode("ascii"), stored_hash.encode("utf-8", "surrogatepass")
        )

    @staticmethod
    def prefix_of(secret: str) -> str:
        """The lookup prefix of a presented secret; Unauthenticated(KEY_MALFORMED) if it has not our shape."""
        if len(secret) > _MAX_SECRET_LENGTH or _SECRET_SHAPE.fullmatch(secret) is None:
            # Never echo the input: a mistyped secret is still mostly a secret.
            raise Unauthenticated(
                f"the API key is malformed: Hangar keys look like {KEY_SCHEME}_<8 characters>_<random>",
                code="KEY_MALFORMED",
            )
        return secret[:PREFIX_LENGTH]
