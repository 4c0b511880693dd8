"""The identity gRPC servicer: protobuf requests -> App calls -> protobuf responses, nothing else."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

import grpc

from hangar.api.identity.v1 import identity_pb2, identity_pb2_grpc, types_pb2
from hangar.identity.app import (
    App,
    AuditEvent,
    InvitationView,
    OrgView,
    UserDetails,
    UserView,
    to_micros,
)
from hangar.identity.domain import Capability, Membership, Role
from hangar.kit.errors import InvalidArgument

SERVICE_NAME: str = identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):  # type: ignore[misc]
    """Serves hangar.api.identity.v1.IdentityService over an App; domain errors propagate to the kit."""

    def __init__(self, app: App) -> None:
        self._app = app

    async def CreateOrg(
        self, request: identity_pb2.CreateOrgRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.CreateOrgResponse:
        created = await self._app.create_org(
            request.name, request.display_name, request.owner_email, request.owner_display_name
        )
        org = await self._app.get_org(request.name)
        owner = await self._app.get_user(user_id=created.owner_user_id)
        return identity_pb2.CreateOrgResponse(org=_org(org), owner=_user(owner.user))

    async def GetOrg(
        self, request: identity_pb2.GetOrgRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.GetOrgResponse:
        return identity_pb2.GetOrgResponse(org=_org(await self._app.get_org(request.name)))

    async def GetUser(
        self, request: identity_pb2.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.GetUserResponse:
        lookup = request.WhichOneof("lookup")
        details = await self._app.get_user(
            user_id=request.user_id if lookup == "user_id" else None,
            email=request.email if lookup == "email" else None,
        )
        return identity_pb2.GetUserResponse(
            user=_user(details.user), memberships=_memberships(details.memberships)
        )

    async def AddUser(
        self, request: identity_pb2.AddUserRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.AddUserResponse:
        user = await self._app.add_user(
            request.org,
            request.team or None,
            request.email,
            request.display_name,
            _roles_from_wire(request.roles),
        )
        return identity_pb2.AddUserResponse(user=_user(user))

    async def RemoveUser(
        self, request: identity_pb2.RemoveUserRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.RemoveUserResponse:
        await self._app.remove_user(request.org, request.user_id)
        return identity_pb2.RemoveUserResponse()

    async def CheckAccess(
        self, request: identity_pb2.CheckAccessRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.CheckAccessResponse:
        decision = await self._app.check_access(
            request.user_id,
            request.repository,
            [_capability_from_wire(value) for value in request.capabilities],
        )
        granted = [_capability_to_wire(c) for c in Capability if c in decision.granted]
        return identity_pb2.CheckAccessResponse(granted=granted, denial_reason=decision.denial_reason)

    async def CreateTeam(
        self, request: identity_pb2.CreateTeamRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.CreateTeamResponse:
        await self._app.create_team(request.org, request.team)
        return identity_pb2.CreateTeamResponse(team=types_pb2.Team(org=request.org, name=request.team))

    async def ListTeams(
        self, request: identity_pb2.ListTeamsRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.ListTeamsResponse:
        names = await self._app.list_teams(request.org)
        return identity_pb2.ListTeamsResponse(
            teams=[types_pb2.Team(org=request.org, name=name) for name in names]
        )

    async def ListUsers(
        self, request: identity_pb2.ListUsersRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.ListUsersResponse:
        page = await self._app.list_users(
            request.org,
            request.team or None,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return identity_pb2.ListUsersResponse(
            members=[_member(member) for member in page.members], next_page_token=page.next_page_token
        )

    async def SetRoles(
        self, request: identity_pb2.SetRolesRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.SetRolesResponse:
        held = await self._app.set_roles(
            request.org, request.team or None, request.user_id, _roles_from_wire(request.roles)
        )
        return identity_pb2.SetRolesResponse(memberships=_memberships(held))

    async def CheckOrgAccess(
        self, request: identity_pb2.CheckOrgAccessRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.CheckOrgAccessResponse:
        decision = await self._app.check_org_access(
            request.user_id, request.org, request.team or None, _capability_from_wire(request.capability)
        )
        return identity_pb2.CheckOrgAccessResponse(
            allowed=not decision.denied, denial_reason=decision.denial_reason
        )

    async def CheckGrant(
        self, request: identity_pb2.CheckGrantRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.CheckGrantResponse:
        target = request.WhichOneof("target")
        decision = await self._app.check_grant(
            request.granter_user_id,
            request.org,
            request.team or None,
            _roles_from_wire(request.roles),
            user_id=request.user_id if target == "user_id" else None,
            email=request.email if target == "email" else None,
        )
        return identity_pb2.CheckGrantResponse(allowed=decision.allowed, denial_reason=decision.denial_reason)

    async def InviteUser(
        self, request: identity_pb2.InviteUserRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.InviteUserResponse:
        issued = await self._app.invite_user(
            request.org,
            request.team or None,
            request.email,
            request.display_name,
            _roles_from_wire(request.roles),
            invited_by=request.invited_by,
        )
        return identity_pb2.InviteUserResponse(invitation=_invitation(issued.invitation), token=issued.token)

    async def AcceptInvitation(
        self, request: identity_pb2.AcceptInvitationRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.AcceptInvitationResponse:
        accepted = await self._app.accept_invitation(request.token, request.password, request.display_name)
        return identity_pb2.AcceptInvitationResponse(
            user=_user(accepted.user), memberships=_memberships(accepted.memberships)
        )

    async def Login(
        self, request: identity_pb2.LoginRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.LoginResponse:
        started = await self._app.login(request.email, request.password)
        return identity_pb2.LoginResponse(
            session_token=started.token, expires_at=_seconds(started.expires_at), user=_user(started.user)
        )

    async def VerifySession(
        self, request: identity_pb2.VerifySessionRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.VerifySessionResponse:
        verified = await self._app.verify_session(request.session_token)
        return identity_pb2.VerifySessionResponse(
            user=_user(verified.user),
            expires_at=_seconds(verified.expires_at),
            session_id=verified.session_id,
        )

    async def Logout(
        self, request: identity_pb2.LogoutRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.LogoutResponse:
        await self._app.logout(request.session_token)
        return identity_pb2.LogoutResponse()

    async def RemoveUserFromTeam(
        self, request: identity_pb2.RemoveUserFromTeamRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.RemoveUserFromTeamResponse:
        await self._app.remove_user_from_team(request.org, request.team, request.user_id)
        return identity_pb2.RemoveUserFromTeamResponse()

    async def ListEvents(
        self, request: identity_pb2.ListEventsRequest, context: grpc.aio.ServicerContext
    ) -> identity_pb2.ListEventsResponse:
        page = await self._app.list_events(
            request.org,
            types=list(request.types),
            actor=request.actor,
            since=request.since,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return identity_pb2.ListEventsResponse(
            events=[_audit_event(event) for event in page.events], next_page_token=page.next_page_token
        )


# ---------------------------------------------------------------------------------------------------------
# Wire conversions: the API's enums are the domain's names with a prefix (ROLE_ORG_OWNER <-> ORG_OWNER)
# ---------------------------------------------------------------------------------------------------------


def _roles_from_wire(values: Iterable[int]) -> list[Role]:
    roles = []
    for value in values:
        if value == types_pb2.ROLE_UNSPECIFIED or value not in types_pb2.Role.values():
            raise InvalidArgument(f"role {value} is not a known role")
        roles.append(Role(types_pb2.Role.Name(value).removeprefix("ROLE_")))
    return roles


def _role_to_wire(role: Role) -> types_pb2.Role:
    return cast(types_pb2.Role, types_pb2.Role.Value(f"ROLE_{role.value}"))


def _capability_from_wire(value: int) -> Capability:
    if value == types_pb2.CAPABILITY_UNSPECIFIED or value not in types_pb2.Capability.values():
        raise InvalidArgument(f"capability {value} is not a known capability")
    return Capability(types_pb2.Capability.Name(value).removeprefix("CAPABILITY_"))


def _capability_to_wire(capability: Capability) -> types_pb2.Capability:
    return cast(types_pb2.Capability, types_pb2.Capability.Value(f"CAPABILITY_{capability.value}"))


def _seconds(moment: datetime) -> int:
    return to_micros(moment) // 1_000_000


def _org(org: OrgView) -> types_pb2.Org:
    return types_pb2.Org(org_id=org.org_id, name=org.name, display_name=org.display_name)


def _user(user: UserView) -> types_pb2.User:
    return types_pb2.User(user_id=user.user_id, email=user.email, display_name=user.display_name)


def _memberships(held: Iterable[Membership]) -> list[types_pb2.Membership]:
    return [
        types_pb2.Membership(
            org=membership.org,
            team=membership.team or "",
            roles=[_role_to_wire(role) for role in Role if role in membership.roles],
        )
        for membership in held
    ]


def _member(member: UserDetails) -> types_pb2.Member:
    return types_pb2.Member(user=_user(member.user), memberships=_memberships(member.memberships))


def _invitation(invitation: InvitationView) -> identity_pb2.Invitation:
    return identity_pb2.Invitation(
        invitation_id=invitation.invitation_id,
        org=invitation.org,
        team=invitation.team or "",
        email=invitation.email,
        display_name=invitation.display_name,
        roles=[_role_to_wire(role) for role in Role if role in invitation.roles],
        invited_by=invitation.invited_by,
        expires_at=_seconds(invitation.expires_at),
        status=invitation.status.value,
    )


def _audit_event(event: AuditEvent) -> identity_pb2.AuditEvent:
    return identity_pb2.AuditEvent(
        event_id=event.event_id,
        type=event.type,
        service=event.service,
        org=event.org,
        actor=event.actor,
        time=to_micros(event.time),
        payload_json=event.payload_json,
        correlation_id=event.correlation_id,
        causation_id=event.causation_id,
    )
