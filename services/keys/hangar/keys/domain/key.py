"""What is known of a key (`KeyView`) and its lifecycle (`ApiKey`, the aggregate of stream `key-<id>`).

Which operations each key type allows (DESIGN §1, API keys):

| operation                    | personal | service | legacy |
|------------------------------|----------|---------|--------|
| rename, (de)activate, rotate | yes      | yes     | -      |
| update services              | yes      | yes     | -      |
| update scopes                | -        | yes     | -      |
| revoke, delete               | yes      | yes     | yes    |

A refused type is FailedPrecondition(KEY_TYPE_MISMATCH). A deleted key is gone for every command
(NotFound(KEY_NOT_FOUND)); a revoked or expired one refuses changes (FailedPrecondition(KEY_REVOKED or
KEY_EXPIRED)) but may still be revoked (nothing recorded) or deleted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta

from hangar.keys.domain.events import (
    KeyActivated,
    KeyDeactivated,
    KeyDeleted,
    KeyExpired,
    KeyIssued,
    KeyRenamed,
    KeyRevoked,
    KeyRotated,
    KeyScopesUpdated,
    KeyServicesUpdated,
)
from hangar.keys.domain.limits import key_expiry
from hangar.keys.domain.scopes import KeyScope, validate_scopes
from hangar.keys.domain.secrets import GeneratedSecret, KeySecret
from hangar.keys.domain.vocabulary import (
    KeyService,
    KeyStatus,
    KeyType,
    iso,
    require_id,
    utc,
    validate_key_name,
    validate_reason,
    validate_services,
)
from hangar.kit.errors import FailedPrecondition, NotFound, Unauthenticated
from hangar.kit.events import Aggregate, DomainEvent

LEGACY_KEY_NAME = "legacy key"
#: A legacy key carries all of its user's roles: every service.
LEGACY_KEY_SERVICES = tuple(service.value for service in KeyService)
#: The reason recorded when a legacy key is revoked because a new one was generated.
REGENERATED = "regenerated"
#: The reason recorded when a live key is revoked because it was deleted.
DELETED = "deleted"

_CHANGEABLE = frozenset({KeyType.PERSONAL, KeyType.SERVICE})
_SCOPED = frozenset({KeyType.SERVICE})


@dataclasses.dataclass(frozen=True)
class KeyView:
    """What is known of a key, without its secret: the aggregate's state and the read model's row.

    `status` is the recorded status; `status_at(now)` also counts an expiry that no event has recorded yet.
    `last_used_at` is kept by the read model (uses are not events); the aggregate leaves it None. `deleted`
    keys are revoked and hidden from listings.
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
    scopes: tuple[KeyScope, ...] = ()
    created_by: str = ""
    deleted: bool = False

    def status_at(self, now: datetime) -> KeyStatus:
        # A key is dead from the instant of its expiry on.
        if self.status.holds_slot and self.expires_at is not None and utc(now) >= self.expires_at:
            return KeyStatus.EXPIRED
        return self.status

    def is_live_at(self, now: datetime) -> bool:
        """Whether the key holds a slot at `now`: active or inactive, not deleted, not past its expiry."""
        return not self.deleted and self.status_at(now).holds_slot

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
            when = iso(self.expires_at) if self.expires_at is not None else "an earlier time"
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
            f"status={self._view.status.value}, deleted={self._view.deleted}, version={self.version})"
        )

    @property
    def view(self) -> KeyView:
        """The key's state, deleted or not; NotFound(KEY_NOT_FOUND) for a key never issued."""
        if self._view is None:
            raise NotFound(f"API key {self.id[:64]} does not exist", code="KEY_NOT_FOUND")
        return self._view

    @property
    def status(self) -> KeyStatus:
        return self.view.status

    # -- issuing -----------------------------------------------------------------------------------------

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
        *,
        secret: GeneratedSecret | None = None,
    ) -> tuple[ApiKey, str]:
        """A new personal key and its secret, to show once. The caller checks the limit beforehand."""
        now = utc(now)
        owner = require_id(owner_user_id, "the owner user id")
        return cls._issue(
            key_id,
            KeyType.PERSONAL,
            org=org,
            owner_user_id=owner,
            name=name,
            services=validate_services(services),
            scopes=(),
            now=now,
            expires_at=key_expiry(now, expires_in, KeyType.PERSONAL),
            created_by=owner,
            secret=secret,
        )

    @classmethod
    def issue_service(
        cls,
        key_id: str,
        org: str,
        name: str,
        services: Iterable[str],
        scopes: Iterable[KeyScope],
        now: datetime,
        expires_in: timedelta | None,
        *,
        created_by: str,
        secret: GeneratedSecret | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key the org owns, with explicit scopes; `created_by` is the admin issuing it (recorded)."""
        now = utc(now)
        org = require_id(org, "the org")
        return cls._issue(
            key_id,
            KeyType.SERVICE,
            org=org,
            owner_user_id="",
            name=name,
            services=validate_services(services),
            scopes=validate_scopes(org, scopes),
            now=now,
            expires_at=key_expiry(now, expires_in, KeyType.SERVICE),
            created_by=require_id(created_by, "the issuing user id (created_by)"),
            secret=secret,
        )

    @classmethod
    def issue_legacy(
        cls,
        key_id: str,
        org: str,
        owner_user_id: str,
        now: datetime,
        *,
        secret: GeneratedSecret | None = None,
    ) -> tuple[ApiKey, str]:
        """A new legacy key: every service, never expires. The caller revokes the user's previous one."""
        owner = require_id(owner_user_id, "the owner user id")
        return cls._issue(
            key_id,
            KeyType.LEGACY,
            org=org,
            owner_user_id=owner,
            name=LEGACY_KEY_NAME,
            services=LEGACY_KEY_SERVICES,
            scopes=(),
            now=utc(now),
            expires_at=None,
            created_by=owner,
            secret=secret,
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
        scopes: tuple[KeyScope, ...],
        now: datetime,
        expires_at: datetime | None,
        created_by: str,
        secret: GeneratedSecret | None,
    ) -> tuple[ApiKey, str]:
        generated = secret if secret is not None else KeySecret.generate()
        key = cls(require_id(key_id, "the key id"))
        key.record(
            KeyIssued(
                key_id=key.id,
                key_type=key_type.value,
                org=require_id(org, "the org"),
                owner_user_id=owner_user_id,
                name=validate_key_name(name),
                prefix=generated.prefix,
                secret_hash=generated.secret_hash,
                services=services,
                created_at=now,
                expires_at=expires_at,
                scopes=scopes,
                created_by=created_by,
            )
        )
        return key, generated.secret

    # -- changing ----------------------------------------------------------------------------------------

    def rename(self, name: str, now: datetime) -> None:
        """Give the key another display name; the same name records nothing."""
        view = self._changeable("rename", now)
        name = validate_key_name(name)
        if name != view.name:
            self.record(KeyRenamed(**self._ids(), name=name))

    def activate(self, now: datetime) -> None:
        """Let an inactive key be used again; an active key records nothing."""
        if self._changeable("activate", now).status is KeyStatus.INACTIVE:
            self.record(KeyActivated(**self._ids()))

    def deactivate(self, now: datetime) -> None:
        """Refuse the key (KEY_INACTIVE) until it is activated; an inactive key records nothing."""
        if self._changeable("deactivate", now).status is KeyStatus.ACTIVE:
            self.record(KeyDeactivated(**self._ids()))

    def set_active(self, active: bool, now: datetime) -> None:
        if active:
            self.activate(now)
        else:
            self.deactivate(now)

    def rotate(self, now: datetime, *, secret: GeneratedSecret | None = None) -> str:
        """Give the key a new secret (and so a new prefix) and return it, to show once.

        The key keeps its id, name, services, scopes, status and expiry; its old secret fails from this
        event on (KEY_INVALID: its prefix no longer names a key). An inactive key may be rotated.
        """
        self._changeable("rotate", now)
        generated = secret if secret is not None else KeySecret.generate()
        self.record(KeyRotated(**self._ids(), prefix=generated.prefix, secret_hash=generated.secret_hash))
        return generated.secret

    def update_services(self, services: Iterable[str], now: datetime) -> None:
        """Replace the services (at least one); the same set records nothing."""
        view = self._changeable("update the services of", now)
        chosen = validate_services(services)
        if chosen != view.services:
            self.record(KeyServicesUpdated(**self._ids(), services=chosen))

    def update_scopes(self, scopes: Iterable[KeyScope], now: datetime) -> None:
        """Replace a service key's scopes (at least one); the same scopes record nothing."""
        view = self._changeable("update the scopes of", now, allowed=_SCOPED)
        chosen = validate_scopes(view.org, scopes)
        if chosen != view.scopes:
            self.record(KeyScopesUpdated(**self._ids(), scopes=chosen))

    # -- ending ------------------------------------------------------------------------------------------

    def revoke(self, reason: str) -> None:
        """Revoke the key for good. Revoking a revoked key records nothing; a deleted key is not found."""
        view = self._present()
        reason = validate_reason(reason)
        if view.status is KeyStatus.REVOKED:
            return
        self.record(KeyRevoked(**self._ids(), reason=reason))

    def delete(self) -> None:
        """Revoke the key (unless it is already) and hide it from listings; a deleted key is not found."""
        self.revoke(DELETED)
        self.record(KeyDeleted(**self._ids()))

    def expire(self, now: datetime) -> None:
        """Record the expiry of a key that is past it and not already dead; otherwise record nothing."""
        view = self.view
        if view.expires_at is None or not view.status.holds_slot or utc(now) < view.expires_at:
            return
        self.record(KeyExpired(**self._ids(), expired_at=view.expires_at))

    # -- queries -----------------------------------------------------------------------------------------

    def check_usable(self, secret: str, now: datetime) -> KeyView:
        """The key's view if `secret` is its secret and it may be used at `now`; Unauthenticated otherwise."""
        view = self.view
        view.check_usable(secret, now)
        return view

    # -- rules -------------------------------------------------------------------------------------------

    def _ids(self) -> dict[str, str]:
        view = self.view
        return {"key_id": self.id, "org": view.org, "owner_user_id": view.owner_user_id}

    def _present(self) -> KeyView:
        view = self.view
        if view.deleted:
            raise NotFound(f"API key {self.id[:64]} does not exist", code="KEY_NOT_FOUND")
        return view

    def _changeable(
        self, operation: str, now: datetime, *, allowed: frozenset[KeyType] = _CHANGEABLE
    ) -> KeyView:
        view = self._present()
        if view.key_type not in allowed:
            kinds = " and ".join(sorted(kind.value for kind in allowed))
            raise FailedPrecondition(
                f"cannot {operation} a {view.key_type.value} key; only {kinds} keys allow it"
                + (" (regenerate or delete a legacy key instead)" if view.key_type is KeyType.LEGACY else ""),
                code="KEY_TYPE_MISMATCH",
            )
        status = view.status_at(now)
        if status is KeyStatus.REVOKED:
            raise FailedPrecondition(
                f"cannot {operation} API key {view.prefix}: it has been revoked", code="KEY_REVOKED"
            )
        if status is KeyStatus.EXPIRED:
            when = iso(view.expires_at) if view.expires_at is not None else "an earlier time"
            raise FailedPrecondition(
                f"cannot {operation} API key {view.prefix}: it expired at {when}", code="KEY_EXPIRED"
            )
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
                    scopes=event.scopes,
                    # Keys issued before `created_by` was recorded were all issued by their owner.
                    created_by=event.created_by or event.owner_user_id,
                )
            case KeyRotated():
                self._view = dataclasses.replace(
                    self.view, prefix=event.prefix, secret_hash=event.secret_hash
                )
            case KeyActivated():
                self._view = dataclasses.replace(self.view, status=KeyStatus.ACTIVE)
            case KeyDeactivated():
                self._view = dataclasses.replace(self.view, status=KeyStatus.INACTIVE)
            case KeyRenamed():
                self._view = dataclasses.replace(self.view, name=event.name)
            case KeyServicesUpdated():
                self._view = dataclasses.replace(self.view, services=event.services)
            case KeyScopesUpdated():
                self._view = dataclasses.replace(self.view, scopes=event.scopes)
            case KeyRevoked():
                self._view = dataclasses.replace(self.view, status=KeyStatus.REVOKED)
            case KeyExpired():
                self._view = dataclasses.replace(self.view, status=KeyStatus.EXPIRED)
            case KeyDeleted():
                self._view = dataclasses.replace(self.view, status=KeyStatus.REVOKED, deleted=True)
            case _:
                raise TypeError(f"ApiKey cannot apply {type(event).__name__}")
