"""The KeysService gRPC servicer: protobuf -> App -> protobuf, nothing else (errors map in the kit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hangar.api.keys.v1 import keys_pb2, keys_pb2_grpc
from hangar.keys.app import App
from hangar.keys.domain import KeyStatus, KeyType, KeyView

SERVICE_NAME: str = keys_pb2.DESCRIPTOR.services_by_name["KeysService"].full_name

_TYPES = {
    KeyType.PERSONAL: keys_pb2.KEY_TYPE_PERSONAL,
    KeyType.SERVICE: keys_pb2.KEY_TYPE_SERVICE,
    KeyType.LEGACY: keys_pb2.KEY_TYPE_LEGACY,
}
_STATUSES = {
    KeyStatus.ACTIVE: keys_pb2.KEY_STATUS_ACTIVE,
    KeyStatus.INACTIVE: keys_pb2.KEY_STATUS_INACTIVE,
    KeyStatus.REVOKED: keys_pb2.KEY_STATUS_REVOKED,
    KeyStatus.EXPIRED: keys_pb2.KEY_STATUS_EXPIRED,
}


def _seconds(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.timestamp())


def api_key(view: KeyView) -> keys_pb2.ApiKey:
    """A key's metadata as the ApiKey message (times in unix seconds, 0 when unset); never its hash."""
    return keys_pb2.ApiKey(
        key_id=view.key_id,
        type=_TYPES[view.key_type],
        org=view.org,
        owner_user_id=view.owner_user_id,
        name=view.name,
        prefix=view.prefix,
        services=list(view.services),
        status=_STATUSES[view.status],
        created_at=_seconds(view.created_at),
        expires_at=_seconds(view.expires_at),
        last_used_at=_seconds(view.last_used_at),
    )


class KeysServicer(keys_pb2_grpc.KeysServiceServicer):  # type: ignore[misc]
    """KeysService over the App; registered with keys_pb2_grpc.add_KeysServiceServicer_to_server."""

    def __init__(self, app: App) -> None:
        self._app = app

    async def IssuePersonalKey(
        self, request: keys_pb2.IssuePersonalKeyRequest, context: Any
    ) -> keys_pb2.IssuePersonalKeyResponse:
        view, secret = await self._app.issue_personal_key(
            request.org,
            request.user_id,
            request.name,
            list(request.services),
            request.expires_in_seconds or None,
        )
        return keys_pb2.IssuePersonalKeyResponse(key=api_key(view), secret=secret)

    async def Authenticate(
        self, request: keys_pb2.AuthenticateRequest, context: Any
    ) -> keys_pb2.AuthenticateResponse:
        return keys_pb2.AuthenticateResponse(key=api_key(await self._app.authenticate(request.secret)))

    async def RevokeKey(self, request: keys_pb2.RevokeKeyRequest, context: Any) -> keys_pb2.RevokeKeyResponse:
        view = await self._app.revoke_key(request.key_id, request.reason)
        return keys_pb2.RevokeKeyResponse(key=api_key(view))

    async def ListKeys(self, request: keys_pb2.ListKeysRequest, context: Any) -> keys_pb2.ListKeysResponse:
        views = await self._app.list_keys(request.user_id)
        return keys_pb2.ListKeysResponse(keys=[api_key(view) for view in views])

    async def GetKey(self, request: keys_pb2.GetKeyRequest, context: Any) -> keys_pb2.GetKeyResponse:
        return keys_pb2.GetKeyResponse(key=api_key(await self._app.get_key(request.key_id)))


def registrations(app: App) -> list[tuple[Any, Any]]:
    """What `ServiceRuntime.serve` / `GrpcServer` register: this servicer on its generated adder."""
    return [(keys_pb2_grpc.add_KeysServiceServicer_to_server, KeysServicer(app))]
