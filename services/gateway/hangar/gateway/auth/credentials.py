"""What an `Authorization` header carries: an API key (Basic `$oauthtoken:<key>`, Bearer `hgr_...`) or a
token."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import Final

from hangar.kit.errors import Unauthenticated

#: The only username Basic credentials may carry (docker login convention); the password is an API key.
OAUTH_USERNAME: Final = "$oauthtoken"
#: Every Hangar API key starts so; any other bearer credential is taken for a signed token.
API_KEY_PREFIX: Final = "hgr_"
#: Longer headers are refused unread: no credential of ours is anywhere near this.
MAX_HEADER_LENGTH: Final = 8192


@dataclasses.dataclass(frozen=True)
class ApiKeyCredential:
    secret: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class TokenCredential:
    token: str = dataclasses.field(repr=False)


Credential = ApiKeyCredential | TokenCredential


def parse_authorization(header: str | None) -> Credential | None:
    """The credential in an Authorization header; None when there is none.

    Raises Unauthenticated with a reason when the header is present but unusable: another scheme, a
    Basic username other than `$oauthtoken`, a malformed encoding or an empty secret.
    """
    if header is None or not header.strip():
        return None
    if len(header) > MAX_HEADER_LENGTH:
        raise Unauthenticated("the Authorization header is too long", code="CREDENTIAL_MALFORMED")
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    scheme = scheme.lower()
    if scheme == "basic":
        return _basic(value)
    if scheme == "bearer":
        if not value:
            raise Unauthenticated("the Bearer credential is empty", code="CREDENTIAL_MALFORMED")
        if value.startswith(API_KEY_PREFIX):
            return ApiKeyCredential(value)
        return TokenCredential(value)
    raise Unauthenticated(
        "unsupported authorization scheme: use Basic ($oauthtoken and an API key) or Bearer",
        code="CREDENTIAL_MALFORMED",
    )


def _basic(value: str) -> ApiKeyCredential:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated("malformed Basic credentials", code="CREDENTIAL_MALFORMED") from None
    username, colon, password = decoded.partition(":")
    if not colon:
        raise Unauthenticated("malformed Basic credentials", code="CREDENTIAL_MALFORMED")
    if username != OAUTH_USERNAME:
        raise Unauthenticated(
            f"the username must be {OAUTH_USERNAME} and the password an API key", code="USERNAME_INVALID"
        )
    if not password:
        raise Unauthenticated("the password (an API key) is empty", code="CREDENTIAL_MALFORMED")
    return ApiKeyCredential(password)
