"""How many keys an owner may hold, and how long a key may live."""

from __future__ import annotations

from datetime import datetime, timedelta

from hangar.keys.domain.vocabulary import KeyType, utc
from hangar.kit.errors import InvalidArgument, LimitExceeded

PERSONAL_KEYS_PER_USER = 8
SERVICE_KEYS_PER_ORG = 50
LEGACY_KEYS_PER_USER = 1  # in each org; regenerating revokes the old one

# The counts below are of live keys: those whose status holds a slot (KeyStatus.holds_slot: active or
# inactive) and that are not past their expiry. Revoked, deleted and expired keys are dead: no slot.


def check_personal_key_limit(active_count: int) -> None:
    """Refuse a new personal key when the user already holds the maximum."""
    if active_count >= PERSONAL_KEYS_PER_USER:
        raise LimitExceeded(
            f"a user may hold at most {PERSONAL_KEYS_PER_USER} personal keys and already holds "
            f"{active_count}; revoke or delete one before creating another",
            code="PERSONAL_KEY_LIMIT",
        )


def check_service_key_limit(active_count: int) -> None:
    """Refuse a new service key when the org already holds the maximum."""
    if active_count >= SERVICE_KEYS_PER_ORG:
        raise LimitExceeded(
            f"an org may hold at most {SERVICE_KEYS_PER_ORG} service keys and already holds "
            f"{active_count}; revoke or delete one before creating another",
            code="SERVICE_KEY_LIMIT",
        )


def check_legacy_key_limit(active_count: int) -> None:
    """Refuse a second legacy key: a user has one per org, and regenerating it revokes the old one."""
    if active_count >= LEGACY_KEYS_PER_USER:
        raise LimitExceeded(
            "a user may hold only one legacy key; regenerate it instead of creating another",
            code="LEGACY_KEY_LIMIT",
        )


MIN_KEY_LIFETIME = timedelta(hours=1)
MIN_PERSONAL_KEY_LIFETIME = MIN_KEY_LIFETIME


def lifetime_of(seconds: int | None) -> timedelta | None:
    """A lifetime asked for in seconds: None or 0 means never expires; negative or absurd is refused."""
    if seconds is None or seconds == 0:
        return None
    if seconds < 0:
        raise InvalidArgument("a key's lifetime cannot be negative", code="KEY_EXPIRY_INVALID")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise InvalidArgument(
            "the key's lifetime is beyond the calendar; choose no expiry instead", code="KEY_EXPIRY_INVALID"
        ) from None


def key_expiry(
    now: datetime, expires_in: timedelta | None, key_type: KeyType = KeyType.PERSONAL
) -> datetime | None:
    """When a key issued at `now` expires: 1 hour at the soonest, or never (None)."""
    now = utc(now)
    if expires_in is None:
        return None
    if expires_in < MIN_KEY_LIFETIME:
        raise InvalidArgument(
            f"a {key_type.value} key must live at least 1 hour "
            f"(asked for {int(expires_in.total_seconds())}s); choose a longer lifetime or no expiry",
            code="KEY_EXPIRY_TOO_SHORT",
        )
    try:
        return now + expires_in
    except OverflowError:
        raise InvalidArgument(
            "the key's expiry is beyond the calendar; choose no expiry instead", code="KEY_EXPIRY_INVALID"
        ) from None


def personal_key_expiry(now: datetime, expires_in: timedelta | None) -> datetime | None:
    """When a personal key issued at `now` expires: 1 hour at the soonest, or never (None)."""
    return key_expiry(now, expires_in, KeyType.PERSONAL)
