"""Typed client of IdentityService: orgs, teams, users, invitations, sessions, the audit log, and "what
may this user do here"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import grpc

from hangar.api.identity.v1 import identity_pb2, identity_pb2_grpc, types_pb2
from hangar.gateway.clients import rpc
from hangar.gateway.clients.model import (
    AccessResult,
    AuditEvent,
    CreatedOrg,
    Invitation,
    IssuedInvitation,
    Member,
    Membership,
    Org,
    Page,
    Permission,
    Session,
    Team,
    User,
    VerifiedSession,
)
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


def role_name(value: int) -> str:
    return str(types_pb2.Role.Name(value)).removeprefix("ROLE_")


def _user(message: Any) -> User:
    return User(user_id=message.user_id, email=message.email, display_name=message.display_name)


def _memberships(messages: Iterable[Any]) -> tuple[Membership, ...]:
    return tuple(
        Membership(org=m.org, team=m.team, roles=tuple(role_name(r) for r in m.roles)) for m in messages
    )


def _member(message: Any) -> Member:
    return Member(user=_user(message.user), memberships=_memberships(message.memberships))


def _invitation(message: Any) -> Invitation:
    return Invitation(
        invitation_id=message.invitation_id,
        org=message.org,
        team=message.team,
        email=message.email,
        display_name=message.display_name,
        roles=tuple(role_name(r) for r in message.roles),
        invited_by=message.invited_by,
        expires_at=int(message.expires_at),
        status=message.status,
    )


def _audit_event(message: Any) -> AuditEvent:
    return AuditEvent(
        event_id=message.event_id,
        type=message.type,
        service=message.service,
        org=message.org,
        actor=message.actor,
        time=int(message.time),
        payload_json=message.payload_json,
        correlation_id=message.correlation_id,
        causation_id=message.causation_id,
    )


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

    async def get_member(self, user_id: str) -> Member:
        """The user with every membership they hold, in every org."""
        with rpc.domain_errors():
            reply = await self._stub.GetUser(
                identity_pb2.GetUserRequest(user_id=user_id), timeout=self._timeout
            )
        return _member(reply)

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

    async def create_team(self, org: str, team: str) -> Team:
        with rpc.domain_errors():
            reply = await self._stub.CreateTeam(
                identity_pb2.CreateTeamRequest(org=org, team=team), timeout=self._timeout
            )
        return Team(org=reply.team.org, name=reply.team.name)

    async def list_teams(self, org: str) -> tuple[Team, ...]:
        with rpc.domain_errors():
            reply = await self._stub.ListTeams(identity_pb2.ListTeamsRequest(org=org), timeout=self._timeout)
        return tuple(Team(org=t.org, name=t.name) for t in reply.teams)

    async def list_users(
        self, org: str, team: str = "", *, page_size: int = 0, page_token: str = ""
    ) -> Page[Member]:
        """Members of the org (or of one team) by email, each with their memberships in the org."""
        request = identity_pb2.ListUsersRequest(
            org=org, team=team, page_size=page_size, page_token=page_token
        )
        with rpc.domain_errors():
            reply = await self._stub.ListUsers(request, timeout=self._timeout)
        return Page(tuple(_member(m) for m in reply.members), reply.next_page_token)

    async def set_roles(
        self, org: str, user_id: str, roles: Sequence[str], team: str = ""
    ) -> tuple[Membership, ...]:
        """Make `roles` the user's roles at the org (or one team); none ends that membership."""
        request = identity_pb2.SetRolesRequest(
            org=org, team=team, user_id=user_id, roles=[role_value(role) for role in roles]
        )
        with rpc.domain_errors():
            reply = await self._stub.SetRoles(request, timeout=self._timeout)
        return _memberships(reply.memberships)

    async def remove_user_from_team(self, org: str, team: str, user_id: str) -> None:
        with rpc.domain_errors():
            await self._stub.RemoveUserFromTeam(
                identity_pb2.RemoveUserFromTeamRequest(org=org, team=team, user_id=user_id),
                timeout=self._timeout,
            )

    async def check_org_access(self, user_id: str, org: str, capability: str, team: str = "") -> Permission:
        request = identity_pb2.CheckOrgAccessRequest(
            user_id=user_id, org=org, team=team, capability=capability_value(capability)
        )
        with rpc.domain_errors():
            reply = await self._stub.CheckOrgAccess(request, timeout=self._timeout)
        return Permission(allowed=reply.allowed, denial_reason=reply.denial_reason)

    async def check_grant(
        self,
        granter_user_id: str,
        org: str,
        roles: Sequence[str],
        *,
        team: str = "",
        user_id: str = "",
        email: str = "",
    ) -> Permission:
        """May the granter make `roles` the roles of a user (by id, else by email) at the org or team?"""
        request = identity_pb2.CheckGrantRequest(
            granter_user_id=granter_user_id,
            org=org,
            team=team,
            roles=[role_value(role) for role in roles],
        )
        if user_id:
            request.user_id = user_id
        else:
            request.email = email
        with rpc.domain_errors():
            reply = await self._stub.CheckGrant(request, timeout=self._timeout)
        return Permission(allowed=reply.allowed, denial_reason=reply.denial_reason)

    async def invite_user(
        self,
        org: str,
        email: str,
        display_name: str,
        roles: Sequence[str],
        *,
        invited_by: str,
        team: str = "",
    ) -> IssuedInvitation:
        request = identity_pb2.InviteUserRequest(
            org=org,
            team=team,
            email=email,
            display_name=display_name,
            roles=[role_value(role) for role in roles],
            invited_by=invited_by,
        )
        with rpc.domain_errors():
            reply = await self._stub.InviteUser(request, timeout=self._timeout)
        return IssuedInvitation(invitation=_invitation(reply.invitation), token=reply.token)

    async def accept_invitation(self, token: str, password: str, display_name: str = "") -> Member:
        request = identity_pb2.AcceptInvitationRequest(
            token=token, password=password, display_name=display_name
        )
        with rpc.domain_errors():
            reply = await self._stub.AcceptInvitation(request, timeout=self._timeout)
        return _member(reply)

    async def login(self, email: str, password: str) -> Session:
        with rpc.domain_errors():
            reply = await self._stub.Login(
                identity_pb2.LoginRequest(email=email, password=password), timeout=self._timeout
            )
        return Session(token=reply.session_token, expires_at=int(reply.expires_at), user=_user(reply.user))

    async def verify_session(self, token: str) -> VerifiedSession:
        """Who the session token belongs to; Unauthenticated (SESSION_INVALID, SESSION_EXPIRED) otherwise."""
        with rpc.domain_errors():
            reply = await self._stub.VerifySession(
                identity_pb2.VerifySessionRequest(session_token=token), timeout=self._timeout
            )
        return VerifiedSession(
            session_id=reply.session_id, user=_user(reply.user), expires_at=int(reply.expires_at)
        )

    async def logout(self, token: str) -> None:
        with rpc.domain_errors():
            await self._stub.Logout(identity_pb2.LogoutRequest(session_token=token), timeout=self._timeout)

    async def list_events(
        self,
        org: str,
        *,
        types: Sequence[str] = (),
        actor: str = "",
        since: int = 0,
        page_size: int = 0,
        page_token: str = "",
    ) -> Page[AuditEvent]:
        """One page of the org's audit log, oldest first; `since` in unix microseconds."""
        request = identity_pb2.ListEventsRequest(
            org=org, types=list(types), actor=actor, since=since, page_size=page_size, page_token=page_token
        )
        with rpc.domain_errors():
            reply = await self._stub.ListEvents(request, timeout=self._timeout)
        return Page(tuple(_audit_event(e) for e in reply.events), reply.next_page_token)

    async def serving(self) -> bool:
        return await rpc.serving(self._channel)
