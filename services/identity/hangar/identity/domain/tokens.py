"""One-time tokens: invitations (`hgi_...`) and console sessions (`hgs_...`).

A token is `<scheme>_<token_urlsafe(32)>`: 256 random bits. Only its SHA-256 is stored (a fast hash is
right for a random token: there is no dictionary to try, unlike for passwords), and it is never logged whole:
`redact` keeps the scheme and 4 characters.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import NamedTuple

INVITATION_SCHEME = "hgi"
SESSION_SCHEME = "hgs"
RANDOM_BYTES = 32
#: Characters of the random part kept by `redact` (enough to tell tokens apart in a log, nothing more).
REDACTED_CHARACTERS = 4

# token_urlsafe(32) yields 43 characters; accept longer random parts so the entropy can grow later.
_RANDOM_PART = r"[A-Za-z0-9_-]{43,128}"
_MAX_TOKEN_LENGTH = 4 + 128


class IssuedToken(NamedTuple):
    """A fresh token and what may be stored of it. Unpacks as `(token, token_hash)`."""

    token: str
    token_hash: str

    def __repr__(self) -> str:
        # The token is shown once, to its holder; a log line or a traceback must never be that once.
        return f"IssuedToken(token={redact(self.token)!r})"


def issue_token(scheme: str) -> IssuedToken:
    """A new random token of `scheme` (INVITATION_SCHEME or SESSION_SCHEME) with its hash."""
    token = f"{scheme}_{secrets.token_urlsafe(RANDOM_BYTES)}"
    return IssuedToken(token, token_hash(token))


def token_hash(token: str) -> str:
    """The stored form of a token: the SHA-256 of the whole token, in hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def has_shape(scheme: str, token: str) -> bool:
    """Whether `token` could be a token of `scheme` (so a lookup is worth making)."""
    return len(token) <= _MAX_TOKEN_LENGTH and re.fullmatch(rf"{scheme}_{_RANDOM_PART}", token) is not None


def redact(token: str) -> str:
    """The token as it may appear in a log: the scheme, 4 characters, and an ellipsis (`hgi_AbCd…`)."""
    scheme, _, rest = token.partition("_")
    return f"{scheme[:3]}_{rest[:REDACTED_CHARACTERS]}…"
