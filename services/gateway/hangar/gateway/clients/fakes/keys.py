"""The in-memory keys service: personal and service keys, scopes, limits, revocations."""

from __future__ import annotations

import dataclasses
import secrets
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Final

from hangar.gateway.clients.fakes._common import _offset_page
from hangar.gateway.clients.model import (
    IssuedKey,
    KeyInfo,
    KeyScope,
    Page,
)
from hangar.kit.errors import (
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    Unauthenticated,
)

KEY_SERVICES: Final = frozenset({"registry", "admin"})
SCOPE_ACTIONS: Final = frozenset({"get", "list", "push", "delete"})
ENTITY_TYPES: Final = frozenset({"container", "model", "resource", "chart"})
PERSONAL_KEYS_PER_USER: Final = 8
SERVICE_KEYS_PER_ORG: Final = 50
MIN_KEY_SECONDS: Final = 3600


class FakeKeys:
    """API keys in memory: secrets -> key ids -> metadata, with the limits and states the gateway shows."""

    def __init__(self) -> None:
        self.by_id: dict[str, KeyInfo] = {}
        self.secrets: dict[str, str] = {}
        self.refusals: dict[str, DomainError] = {}
        self.deleted: set[str] = set()
        self.revocations: dict[str, str] = {}
        self.authenticate_calls = 0
        self.healthy = True

    @property
    def keys(self) -> dict[str, KeyInfo]:
        """Live secrets and their keys."""
        return {secret: self.by_id[key_id] for secret, key_id in self.secrets.items()}

    def add(self, secret: str, key: KeyInfo) -> None:
        self.refusals.pop(secret, None)
        self.by_id[key.key_id] = key
        self.secrets[secret] = key.key_id

    def refuse(self, secret: str, error: DomainError) -> None:
        """Make `secret` fail authentication with `error` (a revoked or expired key)."""
        self.secrets.pop(secret, None)
        self.refusals[secret] = error

    def _issue(self, key: KeyInfo) -> IssuedKey:
        secret = f"{key.prefix}_{secrets.token_urlsafe(32)}"
        self.add(secret, key)
        return IssuedKey(key, secret)

    def _live(self, key: KeyInfo) -> bool:
        return key.key_id not in self.deleted and key.status in ("ACTIVE", "INACTIVE")

    def _new(
        self,
        org: str,
        user_id: str,
        name: str,
        services: Sequence[str],
        *,
        expires_in_seconds: int = 0,
        key_type: str = "PERSONAL",
        scopes: tuple[KeyScope, ...] = (),
        created_by: str = "",
    ) -> KeyInfo:
        _check_name(name)
        _check_services(services)
        if expires_in_seconds and expires_in_seconds < MIN_KEY_SECONDS:
            raise InvalidArgument(
                f"a key lives at least {MIN_KEY_SECONDS} seconds", code="KEY_EXPIRY_TOO_SHORT"
            )
        now = int(time.time())
        return KeyInfo(
            key_id=uuid.uuid4().hex,
            org=org,
            user_id=user_id,
            services=frozenset(services),
            expires_at=now + expires_in_seconds if expires_in_seconds else 0,
            prefix="hgr_" + secrets.token_hex(4),
            key_type=key_type,
            scopes=scopes,
            name=name,
            created_at=now,
            created_by=created_by or user_id,
        )

    async def issue_personal_key(
        self, org: str, user_id: str, name: str, services: Sequence[str], expires_in_seconds: int = 0
    ) -> IssuedKey:
        held = [k for k in self.by_id.values() if k.user_id == user_id and k.key_type == "PERSONAL"]
        if sum(self._live(k) for k in held) >= PERSONAL_KEYS_PER_USER:
            raise LimitExceeded(
                f"a user holds at most {PERSONAL_KEYS_PER_USER} personal keys; delete one first",
                code="PERSONAL_KEY_LIMIT",
            )
        return self._issue(self._new(org, user_id, name, services, expires_in_seconds=expires_in_seconds))

    async def issue_service_key(
        self,
        org: str,
        name: str,
        services: Sequence[str],
        scopes: Iterable[KeyScope],
        *,
        expires_in_seconds: int = 0,
        created_by: str = "",
    ) -> IssuedKey:
        scopes = tuple(scopes)
        _check_scopes(scopes)
        held = [k for k in self.by_id.values() if k.org == org and k.key_type == "SERVICE"]
        if sum(self._live(k) for k in held) >= SERVICE_KEYS_PER_ORG:
            raise LimitExceeded(
                f"an org holds at most {SERVICE_KEYS_PER_ORG} service keys", code="SERVICE_KEY_LIMIT"
            )
        key = self._new(
            org,
            "",
            name,
            services,
            expires_in_seconds=expires_in_seconds,
            key_type="SERVICE",
            scopes=scopes,
            created_by=created_by,
        )
        return self._issue(key)

    async def issue_legacy_key(self, org: str, user_id: str) -> IssuedKey:
        for key in list(self.by_id.values()):
            if key.user_id == user_id and key.org == org and key.key_type == "LEGACY" and self._live(key):
                await self.revoke_key(key.key_id, "regenerated")
        return self._issue(self._new(org, user_id, "legacy", sorted(KEY_SERVICES), key_type="LEGACY"))

    async def authenticate(self, secret: str) -> KeyInfo:
        self.authenticate_calls += 1
        if secret in self.refusals:
            raise self.refusals[secret]
        key = self.by_id.get(self.secrets.get(secret, ""))
        if key is None:
            raise Unauthenticated("the API key is not valid", code="KEY_INVALID")
        if key.status == "REVOKED":
            raise Unauthenticated(f"API key {key.prefix} has been revoked", code="KEY_REVOKED")
        if key.status == "INACTIVE":
            raise Unauthenticated(
                f"API key {key.prefix} is inactive; activate it to use it again", code="KEY_INACTIVE"
            )
        return key

    async def get_key(self, key_id: str) -> KeyInfo:
        key = self.by_id.get(key_id)
        if key is None or key_id in self.deleted:
            raise NotFound(f"API key {key_id} does not exist", code="KEY_NOT_FOUND")
        return key

    async def list_keys(self, user_id: str) -> tuple[KeyInfo, ...]:
        mine = [k for k in self.by_id.values() if k.user_id == user_id and k.key_id not in self.deleted]
        return tuple(sorted(mine, key=lambda k: k.created_at))

    async def list_org_keys(
        self,
        org: str,
        *,
        page_size: int = 0,
        page_token: str = "",
        user_id: str = "",
        include_dead: bool = False,
    ) -> Page[KeyInfo]:
        keys = [
            k
            for k in self.by_id.values()
            if k.org == org and (not user_id or k.user_id == user_id) and (include_dead or self._live(k))
        ]
        return _offset_page(sorted(keys, key=lambda k: k.created_at), page_size, page_token)

    async def _changeable(self, key_id: str) -> KeyInfo:
        key = await self.get_key(key_id)
        if key.status == "REVOKED":
            raise FailedPrecondition(f"API key {key.prefix} has been revoked", code="KEY_REVOKED")
        return key

    async def rotate_key(self, key_id: str) -> IssuedKey:
        key = await self._changeable(key_id)
        for secret in [s for s, k in self.secrets.items() if k == key_id]:
            del self.secrets[secret]
        return self._issue(key)

    async def set_key_active(self, key_id: str, active: bool) -> KeyInfo:
        key = await self._changeable(key_id)
        self.by_id[key_id] = dataclasses.replace(key, status="ACTIVE" if active else "INACTIVE")
        return self.by_id[key_id]

    async def update_key(
        self,
        key_id: str,
        *,
        name: str | None = None,
        services: Sequence[str] | None = None,
        scopes: Iterable[KeyScope] | None = None,
    ) -> KeyInfo:
        key = await self._changeable(key_id)
        if name is not None:
            _check_name(name)
            key = dataclasses.replace(key, name=name)
        if services is not None:
            _check_services(services)
            key = dataclasses.replace(key, services=frozenset(services))
        if scopes is not None:
            if key.key_type != "SERVICE":
                raise FailedPrecondition("only service keys have scopes", code="KEY_TYPE_MISMATCH")
            scopes = tuple(scopes)
            _check_scopes(scopes)
            key = dataclasses.replace(key, scopes=scopes)
        self.by_id[key_id] = key
        return key

    async def revoke_key(self, key_id: str, reason: str) -> None:
        key = await self.get_key(key_id)
        self.by_id[key_id] = dataclasses.replace(key, status="REVOKED")
        self.revocations[key_id] = reason

    async def delete_key(self, key_id: str) -> None:
        await self.revoke_key(key_id, "deleted")
        self.deleted.add(key_id)

    async def serving(self) -> bool:
        return self.healthy


def _check_name(name: str) -> None:
    if not 1 <= len(name.strip()) <= 64 or not name.isprintable():
        raise InvalidArgument("a key name must be 1 to 64 printable characters", code="KEY_NAME_INVALID")


def _check_services(services: Sequence[str]) -> None:
    if not services:
        raise InvalidArgument("a key must include at least one service", code="KEY_SERVICES_EMPTY")
    unknown = set(services) - KEY_SERVICES
    if unknown:
        raise InvalidArgument(f"unknown service {sorted(unknown)[0]!r}", code="KEY_SERVICE_UNKNOWN")


def _check_scopes(scopes: Sequence[KeyScope]) -> None:
    if not scopes:
        raise InvalidArgument("a service key needs at least one scope", code="SCOPE_INVALID")
    for scope in scopes:
        if not scope.actions or scope.actions - SCOPE_ACTIONS:
            raise InvalidArgument("scope actions are get, list, push, delete", code="SCOPE_INVALID")
        if scope.entity_types - ENTITY_TYPES:
            raise InvalidArgument(
                "scope entity types are container, model, resource, chart", code="SCOPE_INVALID"
            )
