"""Names and addresses of the identity domain: org and team names, emails, display names."""

from __future__ import annotations

import re
import unicodedata

from hangar.kit.errors import InvalidArgument

MAX_DISPLAY_NAME_LENGTH = 128

_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
_EMAIL_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# Longer input is refused before it is echoed in an error message or lowercased.
_MAX_EMAIL_INPUT = 320


def _validate_name(kind: str, name: str) -> str:
    if not 2 <= len(name) <= 64:
        raise InvalidArgument(f"{kind} name {name[:80]!r} must be 2-64 characters long, not {len(name)}")
    if any(char.isupper() for char in name):
        raise InvalidArgument(f"{kind} name {name!r} must be lowercase")
    if not _NAME.fullmatch(name):
        raise InvalidArgument(
            f"{kind} name {name!r} may only hold lowercase letters and digits,"
            " joined by single '.', '_' or '-'"
        )
    return name


def validate_org_name(name: str) -> str:
    """Return `name` if it is a valid org name (`[a-z0-9]+([._-][a-z0-9]+)*`, 2-64 chars), else raise."""
    return _validate_name("org", name)


def validate_team_name(name: str) -> str:
    """Return `name` if it is a valid team name (same rule as org names), else raise InvalidArgument."""
    return _validate_name("team", name)


def validate_email(email: str) -> str:
    """Return the email trimmed and lowercased if it looks like a deliverable address, else raise.

    A sane check, not RFC 5322: one '@', a dot-atom local part, and a domain of DNS labels. Single-label
    domains are accepted because self-hosted installations live on internal networks.
    """
    if len(email) > _MAX_EMAIL_INPUT:
        raise InvalidArgument(f"email must be at most 254 characters, not {len(email)}")
    normalised = email.strip().lower()
    local, at, domain = normalised.rpartition("@")
    if not at or not local or not domain:
        raise InvalidArgument(f"email {email!r} must look like name@example.com")
    if len(normalised) > 254 or len(local) > 64:
        raise InvalidArgument(f"email {email!r} is too long")
    if not _EMAIL_LOCAL.fullmatch(local):
        raise InvalidArgument(f"email {email!r} has an invalid part before the '@'")
    if not all(_DOMAIN_LABEL.fullmatch(label) for label in domain.split(".")):
        raise InvalidArgument(f"email {email!r} has an invalid domain")
    return normalised


def validate_display_name(display_name: str) -> str:
    """Return the display name trimmed if it is 1-128 printable characters, else raise InvalidArgument."""
    trimmed = display_name.strip()
    if not trimmed:
        raise InvalidArgument("display name must not be empty")
    if len(trimmed) > MAX_DISPLAY_NAME_LENGTH:
        raise InvalidArgument(f"display name must be at most {MAX_DISPLAY_NAME_LENGTH} characters")
    if any(unicodedata.category(char) == "Cc" for char in trimmed):
        raise InvalidArgument("display name must not contain control characters")
    return trimmed


def scope_label(org: str, team: str | None) -> str:
    """A scope in words: "org acme" or "team acme/vision"."""
    return f"org {org}" if team is None else f"team {org}/{team}"
