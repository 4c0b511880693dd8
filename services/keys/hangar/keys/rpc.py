"""The KeysService gRPC servicer: protobuf -> App -> protobuf, nothing else (errors map in the kit)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from hangar.api.keys.v1 import keys_pb2, keys_pb2_grpc
from hangar.keys.app import App
from hangar.keys.domain import KeyScope, KeyStatus, KeyType, KeyView

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


def key_scope(scope: KeyScope) -> keys_pb2.KeyScope:
    return keys_pb2.KeyScope(
        actions=list(scope.actions),
        entity_types=list(scope.entity_types),
        team=scope.team,
        repository=scope.repository,
    )


def scopes_of(messages: Iterable[keys_pb2.KeyScope]) -> list[KeyScope]:
    """The scopes of a request, as given (the domain validates and canonicalizes them)."""
    return [
        KeyScope(
            actions=tuple(message.actions),
            entity_types=tuple(message.entity_types),
            team=message.team,
            repository=message.repository,
        )
        for message in messages
    ]


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
        scopes=[key_scope(scope) for scope in view.scopes],
        created_by=view.created_by,
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

    async def IssueServiceKey(
        self, request: keys_pb2.IssueServiceKeyRequest, context: Any
    ) -> keys_pb2.IssueServiceKeyResponse:
        view, secret = await self._app.issue_service_key(
            request.org,
            request.name,
            list(request.services),
            scopes_of(request.scopes),
            request.expires_in_seconds or None,
            request.created_by,
        )
        return keys_pb2.IssueServiceKeyResponse(key=api_key(view), secret=secret)

    async def IssueLegacyKey(
        self, request: keys_pb2.IssueLegacyKeyRequest, context: Any
    ) -> keys_pb2.IssueLegacyKeyResponse:
        view, secret = await self._app.issue_legacy_key(request.org, request.user_id)
        return keys_pb2.IssueLegacyKeyResponse(key=api_key(view), secret=secret)

    async def Authenticate(
        self, request: keys_pb2.AuthenticateRequest, context: Any
    ) -> keys_pb2.AuthenticateResponse:
        return keys_pb2.AuthenticateResponse(key=api_key(await self._app.authenticate(request.secret)))

    async def RotateKey(self, request: keys_pb2.RotateKeyRequest, context: Any) -> keys_pb2.RotateKeyResponse:
        view, secret = await self._app.rotate_key(request.key_id)
        return keys_pb2.RotateKeyResponse(key=api_key(view), secret=secret)

    async def SetKeyActive(
        self, request: keys_pb2.SetKeyActiveRequest, context: Any
    ) -> keys_pb2.SetKeyActiveResponse:
        view = await self._app.set_key_active(request.key_id, request.active)
        return keys_pb2.SetKeyActiveResponse(key=api_key(view))

    async def UpdateKey(self, request: keys_pb2.UpdateKeyRequest, context: Any) -> keys_pb2.UpdateKeyResponse:
        view = await self._app.update_key(
            request.key_id,
            name=request.name if request.HasField("name") else None,
            services=list(request.services) if request.update_services else None,
            scopes=scopes_of(request.scopes) if request.update_scopes else None,
        )
        return keys_pb2.UpdateKeyResponse(key=api_key(view))

    async def RevokeKey(self, request: keys_pb2.RevokeKeyRequest, context: Any) -> keys_pb2.RevokeKeyResponse:
        view = await self._app.revoke_key(request.key_id, request.reason)
        return keys_pb2.RevokeKeyResponse(key=api_key(view))

    async def DeleteKey(self, request: keys_pb2.DeleteKeyRequest, context: Any) -> keys_pb2.DeleteKeyResponse:
        await self._app.delete_key(request.key_id)
        return keys_pb2.DeleteKeyResponse()

    async def ListKeys(self, request: keys_pb2.ListKeysRequest, context: Any) -> keys_pb2.ListKeysResponse:
        views = await self._app.list_keys(request.user_id)
        return keys_pb2.ListKeysResponse(keys=[api_key(view) for view in views])

    async def ListOrgKeys(
        self, request: keys_pb2.ListOrgKeysRequest, context: Any
    ) -> keys_pb2.ListOrgKeysResponse:
        page = await self._app.list_org_keys(
            request.org,
            user_id=request.user_id,
            include_dead=request.include_dead,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return keys_pb2.ListOrgKeysResponse(
            keys=[api_key(view) for view in page.keys], next_page_token=page.next_page_token
        )

    async def GetKey(self, request: keys_pb2.GetKeyRequest, context: Any) -> keys_pb2.GetKeyResponse:
        return keys_pb2.GetKeyResponse(key=api_key(await self._app.get_key(request.key_id)))


def registrations(app: App) -> list[tuple[Any, Any]]:
    """What `ServiceRuntime.serve` / `GrpcServer` register: this servicer on its generated adder."""
    return [(keys_pb2_grpc.add_KeysServiceServicer_to_server, KeysServicer(app))]
