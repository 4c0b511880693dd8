"""Typed client of IdentityService: orgs, users and "which capabilities does this user hold here"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import grpc

from hangar.api.identity.v1 import identity_pb2, identity_pb2_grpc, types_pb2
from hangar.gateway.clients import rpc
from hangar.gateway.clients.model import AccessResult, CreatedOrg, Org, User
from hangar.kit.errors import InvalidArgument


def _enum_value(enum: Any, prefix: str, name: str, what: str) -> Any:
    try:
        return enum.Value(prefix + name.upper())
    except ValueError:
        raise InvalidArgument(f"unknown {what} {name[:64]!r}", code=f"{what.upper()}_UNKNOWN") from None


def capability_value(name: str) -> Any:
    """`"DOWNLOAD_ARTIFACTS"` -> `CAPABILITY_DOWNLOAD_ARTIFACTS`."""
    return _enum_value(types_pb2.Capability, "CAPABILITY_", name, "capability")


def capability_name(value: int) -> str:
    return str(types_pb2.Capability.Name(value)).removeprefix("CAPABILITY_")


def role_value(name: str) -> Any:
    """`"REGISTRY_USER"` -> `ROLE_REGISTRY_USER`."""
    return _enum_value(types_pb2.Role, "ROLE_", name, "role")


def _user(message: Any) -> User:
    return User(user_id=message.user_id, email=message.email, display_name=message.display_name)


class IdentityClient:
    """IdentityService over one channel; callers see dataclasses and DomainErrors, never stubs."""

    def __init__(self, channel: grpc.aio.Channel, timeout: float = rpc.UNARY_TIMEOUT) -> None:
        self._channel = channel
        self._stub = identity_pb2_grpc.IdentityServiceStub(channel)
        self._timeout = timeout

    async def create_org(
        self, name: str, display_name: str, owner_email: str, owner_display_name: str
    ) -> CreatedOrg:
        request = identity_pb2.CreateOrgRequest(
            name=name,
            display_name=display_name,
            owner_email=owner_email,
            owner_display_name=owner_display_name,
        )
        with rpc.domain_errors():
            reply = await self._stub.CreateOrg(request, timeout=self._timeout)
        return CreatedOrg(org_id=reply.org.org_id, org=reply.org.name, owner_user_id=reply.owner.user_id)

    async def get_org(self, name: str) -> Org:
        with rpc.domain_errors():
            reply = await self._stub.GetOrg(identity_pb2.GetOrgRequest(name=name), timeout=self._timeout)
        return Org(org_id=reply.org.org_id, name=reply.org.name, display_name=reply.org.display_name)

    async def get_user(self, user_id: str) -> User:
        with rpc.domain_errors():
            reply = await self._stub.GetUser(
                identity_pb2.GetUserRequest(user_id=user_id), timeout=self._timeout
            )
        return _user(reply.user)

    async def get_user_by_email(self, email: str) -> User:
        with rpc.domain_errors():
            reply = await self._stub.GetUser(identity_pb2.GetUserRequest(email=email), timeout=self._timeout)
        return _user(reply.user)

    async def add_user(
        self, org: str, email: str, display_name: str, roles: Sequence[str], team: str = ""
    ) -> User:
        request = identity_pb2.AddUserRequest(
            org=org,
            team=team,
            email=email,
            display_name=display_name,
            roles=[role_value(role) for role in roles],
        )
        with rpc.domain_errors():
            reply = await self._stub.AddUser(request, timeout=self._timeout)
        return _user(reply.user)

    async def remove_user(self, org: str, user_id: str) -> None:
        with rpc.domain_errors():
            await self._stub.RemoveUser(
                identity_pb2.RemoveUserRequest(org=org, user_id=user_id), timeout=self._timeout
            )

    async def check_access(self, user_id: str, repository: str, capabilities: Iterable[str]) -> AccessResult:
        request = identity_pb2.CheckAccessRequest(
            user_id=user_id,
            repository=repository,
            capabilities=[capability_value(name) for name in capabilities],
        )
        with rpc.domain_errors():
            reply = await self._stub.CheckAccess(request, timeout=self._timeout)
        return AccessResult(
            granted=frozenset(capability_name(value) for value in reply.granted),
            denial_reason=reply.denial_reason,
        )

    async def serving(self) -> bool:
        return await rpc.serving(self._channel)
