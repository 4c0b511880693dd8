"""API keys: secret format, services, limits, expiry and the ApiKey aggregate; pure rules, no I/O."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from hangar.kit.errors import InvalidArgument, LimitExceeded, NotFound, Unauthenticated
from hangar.kit.events import Aggregate, DomainEvent

# ---------------------------------------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------------------


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


def _validate_reason(reason: str) -> str:
    cleaned = reason.strip()
    if not 1 <= len(cleaned) <= REASON_MAX_LENGTH or not cleaned.isprintable():
        raise InvalidArgument(
            f"a revocation reason must be 1 to {REASON_MAX_LENGTH} printable characters",
            code="REVOCATION_REASON_INVALID",
        )
    return cleaned


def _require_id(value: str, what: str) -> str:
    if not value or len(value) > 128 or not value.isprintable() or any(c.isspace() for c in value):
        raise InvalidArgument(f"{what} must be a non-empty identifier without spaces")
    return value


# ---------------------------------------------------------------------------------------------------------
# Limits and expiry
# ---------------------------------------------------------------------------------------------------------

PERSONAL_KEYS_PER_USER = 8
SERVICE_KEYS_PER_ORG = 50
LEGACY_KEYS_PER_USER = 1

# The counts below are of keys whose status holds a slot (KeyStatus.holds_slot: active or inactive);
# revoked and expired keys are dead and free their slot.


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
    """Refuse a second legacy key: a user has one, and regenerating it revokes the old one."""
    if active_count >= LEGACY_KEYS_PER_USER:
        raise LimitExceeded(
            "a user may hold only one legacy key; regenerate it instead of creating another",
            code="LEGACY_KEY_LIMIT",
        )


MIN_PERSONAL_KEY_LIFETIME = timedelta(hours=1)


def personal_key_expiry(now: datetime, expires_in: timedelta | None) -> datetime | None:
    """When a personal key issued at `now` expires: 1 hour at the soonest, or never (None)."""
    now = _utc(now)
    if expires_in is None:
        return None
    if expires_in < MIN_PERSONAL_KEY_LIFETIME:
        raise InvalidArgument(
            f"a personal key must live at least 1 hour (asked for {int(expires_in.total_seconds())}s); "
            "choose a longer lifetime or no expiry",
            code="KEY_EXPIRY_TOO_SHORT",
        )
    try:
        return now + expires_in
    except OverflowError:
        raise InvalidArgument(
            "the key's expiry is beyond the calendar; choose no expiry instead", code="KEY_EXPIRY_INVALID"
        ) from None


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times passed to the keys domain must be timezone-aware")
    return moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class KeyIssued(DomainEvent):
    """A key was created; its secret was shown once and only its prefix and hash remain.

    `owner_user_id` is empty for keys the org owns (service keys). `expires_at` None means never.
    """

    key_id: str
    key_type: str
    org: str
    owner_user_id: str
    name: str
    prefix: str
    secret_hash: str = dataclasses.field(repr=False)
    services: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None


@dataclasses.dataclass(frozen=True)
class KeyRevoked(DomainEvent):
    """A key was revoked for good (by its owner, an admin, or because its user left the org)."""

    key_id: str
    org: str
    owner_user_id: str
    reason: str


@dataclasses.dataclass(frozen=True)
class KeyExpired(DomainEvent):
    """A key's lifetime ended; `expired_at` is the moment it stopped working, not when this was noticed."""

    key_id: str
    org: str
    owner_user_id: str
    expired_at: datetime


# ---------------------------------------------------------------------------------------------------------
# View and aggregate
# ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class KeyView:
    """What is known of a key, without its secret: the aggregate's state and the read model's row.

    `status` is the recorded status; `status_at(now)` also counts an expiry that no event has recorded yet.
    `last_used_at` is kept by the read model (uses are not events); the aggregate leaves it None.
    """

    key_id: str
    key_type: KeyType
    org: str
    owner_user_id: str
    name: str
    prefix: str
    services: tuple[str, ...]
    status: KeyStatus
    created_at: datetime
    expires_at: datetime | None
    secret_hash: str = dataclasses.field(repr=False)
    last_used_at: datetime | None = None

    def status_at(self, now: datetime) -> KeyStatus:
        # A key is dead from the instant of its expiry on.
        if self.status.holds_slot and self.expires_at is not None and _utc(now) >= self.expires_at:
            return KeyStatus.EXPIRED
        return self.status

    def check_usable(self, secret: str, now: datetime) -> None:
        """Refuse `secret` unless it is this key's and the key is active at `now`.

        The secret is checked first, so someone holding only a prefix learns nothing about the key's state.
        """
        if not KeySecret.verify(secret, self.secret_hash):
            raise Unauthenticated("the API key is not valid", code="KEY_INVALID")
        status = self.status_at(now)
        if status is KeyStatus.REVOKED:
            raise Unauthenticated(f"API key {self.prefix} has been revoked", code="KEY_REVOKED")
        if status is KeyStatus.EXPIRED:
            when = _iso(self.expires_at) if self.expires_at is not None else "an earlier time"
            raise Unauthenticated(f"API key {self.prefix} expired at {when}", code="KEY_EXPIRED")
        if status is KeyStatus.INACTIVE:
            raise Unauthenticated(
                f"API key {self.prefix} is inactive; activate it to use it again", code="KEY_INACTIVE"
            )


class ApiKey(Aggregate):
    """One API key's lifecycle, as a stream of events `key-<key_id>`."""

    stream_prefix = "key"

    def __init__(self, id: str) -> None:
        super().__init__(id)
        self._view: KeyView | None = None

    def __repr__(self) -> str:
        if self._view is None:
            return f"ApiKey(id={self.id!r}, issued=False)"
        return (
            f"ApiKey(id={self.id!r}, type={self._view.key_type.value}, prefix={self._view.prefix!r}, "
            f"status={self._view.status.value}, version={self.version})"
        )

    @property
    def view(self) -> KeyView:
        if self._view is None:
            raise NotFound(f"API key {self.id} does not exist", code="KEY_NOT_FOUND")
        return self._view

    @property
    def status(self) -> KeyStatus:
        return self.view.status

    # -- commands ----------------------------------------------------------------------------------------

    @classmethod
    def issue_personal(
        cls,
        key_id: str,
        org: str,
        owner_user_id: str,
        name: str,
        services: Iterable[str],
        now: datetime,
        expires_in: timedelta | None,
    ) -> tuple[ApiKey, str]:
        """A new personal key and its secret, to show once. The caller checks the limit beforehand."""
        now = _utc(now)
        return cls._issue(
            key_id,
            KeyType.PERSONAL,
            org=org,
            owner_user_id=_require_id(owner_user_id, "the owner user id"),
            name=name,
            services=validate_services(services),
            now=now,
            expires_at=personal_key_expiry(now, expires_in),
        )

    @classmethod
    def _issue(
        cls,
        key_id: str,
        key_type: KeyType,
        *,
        org: str,
        owner_user_id: str,
        name: str,
        services: tuple[str, ...],
        now: datetime,
        expires_at: datetime | None,
    ) -> tuple[ApiKey, str]:
        generated = KeySecret.generate()
        key = cls(_require_id(key_id, "the key id"))
        key.record(
            KeyIssued(
                key_id=key.id,
                key_type=key_type.value,
                org=_require_id(org, "the org"),
                owner_user_id=owner_user_id,
                name=validate_key_name(name),
                prefix=generated.prefix,
                secret_hash=generated.secret_hash,
                services=services,
                created_at=now,
                expires_at=expires_at,
            )
        )
        return key, generated.secret

    def revoke(self, reason: str) -> None:
        """Revoke the key for good. Revoking a revoked key records nothing."""
        view = self.view
        reason = _validate_reason(reason)
        if view.status is KeyStatus.REVOKED:
            return
        self.record(KeyRevoked(key_id=self.id, org=view.org, owner_user_id=view.owner_user_id, reason=reason))

    def expire(self, now: datetime) -> None:
        """Record the expiry of a key that is past it and not already dead; otherwise record nothing."""
        view = self.view
        if view.expires_at is None or not view.status.holds_slot or _utc(now) < view.expires_at:
            return
        self.record(
            KeyExpired(
                key_id=self.id, org=view.org, owner_user_id=view.owner_user_id, expired_at=view.expires_at
            )
        )

    # -- queries -----------------------------------------------------------------------------------------

    def check_usable(self, secret: str, now: datetime) -> KeyView:
        """The key's view if `secret` is its secret and it may be used at `now`; Unauthenticated otherwise."""
        view = self.view
        view.check_usable(secret, now)
        return view

    # -- state -------------------------------------------------------------------------------------------

    def apply(self, event: DomainEvent) -> None:
        match event:
            case KeyIssued():
                self._view = KeyView(
                    key_id=event.key_id,
                    key_type=KeyType(event.key_type),
                    org=event.org,
                    owner_user_id=event.owner_user_id,
                    name=event.name,
                    prefix=event.prefix,
                    services=event.services,
                    status=KeyStatus.ACTIVE,
                    created_at=event.created_at,
                    expires_at=event.expires_at,
                    secret_hash=event.secret_hash,
                )
            case KeyRevoked():
                self._view = dataclasses.replace(self.view, status=KeyStatus.REVOKED)
            case KeyExpired():
                self._view = dataclasses.replace(self.view, status=KeyStatus.EXPIRED)
            case _:
                raise TypeError(f"ApiKey cannot apply {type(event).__name__}")
