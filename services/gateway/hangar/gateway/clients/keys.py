"""Typed client of KeysService: issue, authenticate, list, rotate, (de)activate, update, revoke keys."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import grpc

from hangar.api.keys.v1 import keys_pb2, keys_pb2_grpc
from hangar.gateway.clients import rpc
from hangar.gateway.clients.model import IssuedKey, KeyInfo, KeyScope, Page


def _scope(message: Any) -> KeyScope:
    return KeyScope(
        actions=frozenset(message.actions),
        entity_types=frozenset(message.entity_types),
        team=message.team,
        repository=message.repository,
    )


def _scope_message(scope: KeyScope) -> Any:
    return keys_pb2.KeyScope(
        actions=sorted(scope.actions),
        entity_types=sorted(scope.entity_types),
        team=scope.team,
        repository=scope.repository,
    )


def _key_info(key: Any) -> KeyInfo:
    return KeyInfo(
        key_id=key.key_id,
        org=key.org,
        user_id=key.owner_user_id,
        services=frozenset(key.services),
        expires_at=int(key.expires_at),
        prefix=key.prefix,
        key_type=str(keys_pb2.KeyType.Name(key.type)).removeprefix("KEY_TYPE_"),
        scopes=tuple(_scope(scope) for scope in key.scopes),
        name=key.name,
        status=str(keys_pb2.KeyStatus.Name(key.status)).removeprefix("KEY_STATUS_"),
        created_at=int(key.created_at),
        last_used_at=int(key.last_used_at),
        created_by=key.created_by,
    )


def _issued(reply: Any) -> IssuedKey:
    return IssuedKey(key=_key_info(reply.key), secret=reply.secret)


class KeysClient:
    """KeysService over one channel. Secrets pass through; they are never logged, cached or repr'd here."""

    def __init__(self, channel: grpc.aio.Channel, timeout: float = rpc.UNARY_TIMEOUT) -> None:
        self._channel = channel
        self._stub = keys_pb2_grpc.KeysServiceStub(channel)
        self._timeout = timeout

    async def issue_personal_key(
        self, org: str, user_id: str, name: str, services: Sequence[str], expires_in_seconds: int = 0
    ) -> IssuedKey:
        request = keys_pb2.IssuePersonalKeyRequest(
            org=org,
            user_id=user_id,
            name=name,
            services=list(services),
            expires_in_seconds=expires_in_seconds,
        )
        with rpc.domain_errors():
            reply = await self._stub.IssuePersonalKey(request, timeout=self._timeout)
        return _issued(reply)

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
        request = keys_pb2.IssueServiceKeyRequest(
            org=org,
            name=name,
            services=list(services),
            scopes=[_scope_message(scope) for scope in scopes],
            expires_in_seconds=expires_in_seconds,
            created_by=created_by,
        )
        with rpc.domain_errors():
            reply = await self._stub.IssueServiceKey(request, timeout=self._timeout)
        return _issued(reply)

    async def issue_legacy_key(self, org: str, user_id: str) -> IssuedKey:
        """A new legacy key for the user; the previous one (if any) is revoked at once."""
        with rpc.domain_errors():
            reply = await self._stub.IssueLegacyKey(
                keys_pb2.IssueLegacyKeyRequest(org=org, user_id=user_id), timeout=self._timeout
            )
        return _issued(reply)

    async def authenticate(self, secret: str) -> KeyInfo:
        """The key and principal behind `secret`; Unauthenticated (KEY_INVALID, KEY_REVOKED...) otherwise."""
        with rpc.domain_errors():
            reply = await self._stub.Authenticate(
                keys_pb2.AuthenticateRequest(secret=secret), timeout=self._timeout
            )
        return _key_info(reply.key)

    async def get_key(self, key_id: str) -> KeyInfo:
        with rpc.domain_errors():
            reply = await self._stub.GetKey(keys_pb2.GetKeyRequest(key_id=key_id), timeout=self._timeout)
        return _key_info(reply.key)

    async def list_keys(self, user_id: str) -> tuple[KeyInfo, ...]:
        """Every key of the user, oldest first, revoked and expired ones included."""
        with rpc.domain_errors():
            reply = await self._stub.ListKeys(
                keys_pb2.ListKeysRequest(user_id=user_id), timeout=self._timeout
            )
        return tuple(_key_info(key) for key in reply.keys)

    async def list_org_keys(
        self,
        org: str,
        *,
        page_size: int = 0,
        page_token: str = "",
        user_id: str = "",
        include_dead: bool = False,
    ) -> Page[KeyInfo]:
        request = keys_pb2.ListOrgKeysRequest(
            org=org, page_size=page_size, page_token=page_token, user_id=user_id, include_dead=include_dead
        )
        with rpc.domain_errors():
            reply = await self._stub.ListOrgKeys(request, timeout=self._timeout)
        return Page(tuple(_key_info(key) for key in reply.keys), reply.next_page_token)

    async def rotate_key(self, key_id: str) -> IssuedKey:
        """A new secret for the key (same id); the old secret fails at once."""
        with rpc.domain_errors():
            reply = await self._stub.RotateKey(
                keys_pb2.RotateKeyRequest(key_id=key_id), timeout=self._timeout
            )
        return _issued(reply)

    async def set_key_active(self, key_id: str, active: bool) -> KeyInfo:
        with rpc.domain_errors():
            reply = await self._stub.SetKeyActive(
                keys_pb2.SetKeyActiveRequest(key_id=key_id, active=active), timeout=self._timeout
            )
        return _key_info(reply.key)

    async def update_key(
        self,
        key_id: str,
        *,
        name: str | None = None,
        services: Sequence[str] | None = None,
        scopes: Iterable[KeyScope] | None = None,
    ) -> KeyInfo:
        """Rename the key, or replace its services or (service keys only) its scopes; None leaves a field."""
        request = keys_pb2.UpdateKeyRequest(key_id=key_id)
        if name is not None:
            request.name = name
        if services is not None:
            request.services.extend(services)
            request.update_services = True
        if scopes is not None:
            request.scopes.extend(_scope_message(scope) for scope in scopes)
            request.update_scopes = True
        with rpc.domain_errors():
            reply = await self._stub.UpdateKey(request, timeout=self._timeout)
        return _key_info(reply.key)

    async def revoke_key(self, key_id: str, reason: str) -> None:
        with rpc.domain_errors():
            await self._stub.RevokeKey(
                keys_pb2.RevokeKeyRequest(key_id=key_id, reason=reason), timeout=self._timeout
            )

    async def delete_key(self, key_id: str) -> None:
        """Revoke the key and remove it from listings."""
        with rpc.domain_errors():
            await self._stub.DeleteKey(keys_pb2.DeleteKeyRequest(key_id=key_id), timeout=self._timeout)

    async def serving(self) -> bool:
        return await rpc.serving(self._channel)
