"""Typed client of KeysService: issue, authenticate and revoke API keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc

from hangar.api.keys.v1 import keys_pb2, keys_pb2_grpc
from hangar.gateway.clients import rpc
from hangar.gateway.clients.model import IssuedKey, KeyInfo


def _key_info(key: Any) -> KeyInfo:
    return KeyInfo(
        key_id=key.key_id,
        org=key.org,
        user_id=key.owner_user_id,
        services=frozenset(key.services),
        expires_at=int(key.expires_at),
        prefix=key.prefix,
        key_type=str(keys_pb2.KeyType.Name(key.type)).removeprefix("KEY_TYPE_"),
    )


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
        return IssuedKey(key_id=reply.key.key_id, secret=reply.secret, prefix=reply.key.prefix)

    async def authenticate(self, secret: str) -> KeyInfo:
        """The key and principal behind `secret`; Unauthenticated (KEY_INVALID, KEY_REVOKED...) otherwise."""
        with rpc.domain_errors():
            reply = await self._stub.Authenticate(
                keys_pb2.AuthenticateRequest(secret=secret), timeout=self._timeout
            )
        return _key_info(reply.key)

    async def revoke_key(self, key_id: str, reason: str) -> None:
        with rpc.domain_errors():
            await self._stub.RevokeKey(
                keys_pb2.RevokeKeyRequest(key_id=key_id, reason=reason), timeout=self._timeout
            )

    async def serving(self) -> bool:
        return await rpc.serving(self._channel)
