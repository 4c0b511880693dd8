"""The words of the keys domain: key types, statuses, services, names, reasons, ids and times."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum

from hangar.kit.errors import InvalidArgument


class KeyType(StrEnum):
    PERSONAL = "personal"
    SERVICE = "service"
    LEGACY = "legacy"


class KeyStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    REVOKED = "revoked"
    EXPIRED = "expired"

    @property
    def holds_slot(self) -> bool:
        """Whether a key in this status counts against its owner's limit (it may still be used again)."""
        return self in (KeyStatus.ACTIVE, KeyStatus.INACTIVE)


class KeyService(StrEnum):
    """What a key may be used for: `registry` (artifacts), `admin` (org/team/user management)."""

    REGISTRY = "registry"
    ADMIN = "admin"


def validate_services(services: Iterable[str]) -> tuple[str, ...]:
    """The services a key includes, deduplicated, in canonical order; at least one, all known."""
    allowed = ", ".join(KeyService)
    if isinstance(services, str):
        raise InvalidArgument(f"services must be a list of names ({allowed}), not one string")
    chosen: set[KeyService] = set()
    for name in services:
        try:
            chosen.add(KeyService(name))
        except ValueError:
            raise InvalidArgument(
                f"unknown service {name[:64]!r}; a key may include: {allowed}", code="KEY_SERVICE_UNKNOWN"
            ) from None
    if not chosen:
        raise InvalidArgument(
            f"a key must include at least one service ({allowed})", code="KEY_SERVICES_EMPTY"
        )
    return tuple(service.value for service in KeyService if service in chosen)


NAME_MAX_LENGTH = 64


def validate_key_name(name: str) -> str:
    """A key's display name: 1-64 printable characters once surrounding whitespace is trimmed."""
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= NAME_MAX_LENGTH or not cleaned.isprintable():
        raise InvalidArgument(
            f"a key name must be 1 to {NAME_MAX_LENGTH} printable characters", code="KEY_NAME_INVALID"
        )
    return cleaned


REASON_MAX_LENGTH = 256


def validate_reason(reason: str) -> str:
    """A revocation reason: 1-256 printable characters once trimmed."""
    cleaned = reason.strip()
    if not 1 <= len(cleaned) <= REASON_MAX_LENGTH or not cleaned.isprintable():
        raise InvalidArgument(
            f"a revocation reason must be 1 to {REASON_MAX_LENGTH} printable characters",
            code="REVOCATION_REASON_INVALID",
        )
    return cleaned


def require_id(value: str, what: str) -> str:
    """An identifier handed over by the caller (org, user, key id): non-empty, printable, no spaces."""
    if not value or len(value) > 128 or not value.isprintable() or any(c.isspace() for c in value):
        raise InvalidArgument(f"{what} must be a non-empty identifier without spaces")
    return value


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive time is a bug of the caller (the domain never guesses a zone)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times passed to the keys domain must be timezone-aware")
    return moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    """`moment` as an ISO 8601 UTC timestamp to the second, for messages."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
