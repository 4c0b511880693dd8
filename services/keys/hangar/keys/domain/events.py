"""The events of a key's stream `key-<key_id>`; each maps by field names onto a message of events.proto.

Every event names the key, its org and its owning user (empty for a service key), so a consumer can evict
or audit without looking the key up. The secret's hash is private: kept in the event store, never published.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from hangar.keys.domain.scopes import KeyScope
from hangar.kit.events import DomainEvent


@dataclasses.dataclass(frozen=True)
class KeyIssued(DomainEvent):
    """A key was created; its secret was shown once and only its prefix and hash remain.

    `owner_user_id` is empty for keys the org owns (service keys). `expires_at` None means never.
    `scopes` are a service key's grants (empty for other keys). `created_by` is the user who issued it
    (empty in events recorded before it was kept: the owner, then).
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
    scopes: tuple[KeyScope, ...] = ()
    created_by: str = ""


@dataclasses.dataclass(frozen=True)
class KeyRevoked(DomainEvent):
    """A key was revoked for good (by its owner, an admin, because its user left the org, or regenerated)."""

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


@dataclasses.dataclass(frozen=True)
class KeyRotated(DomainEvent):
    """The key has a new secret (same id); the old secret stopped working with this event."""

    key_id: str
    org: str
    owner_user_id: str
    prefix: str
    secret_hash: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class KeyActivated(DomainEvent):
    """An inactive key may be used again."""

    key_id: str
    org: str
    owner_user_id: str


@dataclasses.dataclass(frozen=True)
class KeyDeactivated(DomainEvent):
    """The key is refused (KEY_INACTIVE) until it is activated again."""

    key_id: str
    org: str
    owner_user_id: str


@dataclasses.dataclass(frozen=True)
class KeyRenamed(DomainEvent):
    key_id: str
    org: str
    owner_user_id: str
    name: str


@dataclasses.dataclass(frozen=True)
class KeyServicesUpdated(DomainEvent):
    key_id: str
    org: str
    owner_user_id: str
    services: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class KeyScopesUpdated(DomainEvent):
    """A service key's scopes were replaced, whole."""

    key_id: str
    org: str
    owner_user_id: str
    scopes: tuple[KeyScope, ...]


@dataclasses.dataclass(frozen=True)
class KeyDeleted(DomainEvent):
    """The key was deleted: it is revoked (a `KeyRevoked` precedes this unless it already was) and hidden
    from listings but those that ask for dead keys; every later command finds no such key."""

    key_id: str
    org: str
    owner_user_id: str
