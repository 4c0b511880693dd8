"""The identity gRPC API in process: protobuf in and out, domain errors as status codes with trailers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import cast

import grpc
import pytest

from hangar.api.identity.v1 import identity_pb2 as pb
from hangar.api.identity.v1 import identity_pb2_grpc, types_pb2
from hangar.identity.app import App
from hangar.identity.rpc import SERVICE_NAME, IdentityServicer
from hangar.identity.testing import SettableClock
from hangar.kit import context, grpcio
from hangar.kit.errors import LimitExceeded, NotFound


@pytest.fixture
async def stub(app: App) -> AsyncIterator[identity_pb2_grpc.IdentityServiceStub]:
    server = grpcio.GrpcServer(
        "127.0.0.1:0",
        [(identity_pb2_grpc.add_IdentityServiceServicer_to_server, IdentityServicer(app))],
        [SERVICE_NAME],
    )
    await server.start()
    channel = grpcio.channel(f"127.0.0.1:{server.port}")
    try:
        yield identity_pb2_grpc.IdentityServiceStub(channel)
    finally:
        await channel.close()
        await server.stop(grace=0)


async def rpc_error(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call  # type: ignore[misc]
    return raised.value


def trailers(error: grpc.aio.AioRpcError) -> dict[str, str]:
    return {key: value for key, value in (error.trailing_metadata() or ()) if isinstance(value, str)}


async def create_acme(stub: identity_pb2_grpc.IdentityServiceStub) -> pb.CreateOrgResponse:
    return await stub.CreateOrg(  # type: ignore[no-any-return]
        pb.CreateOrgRequest(
            name="acme", display_name="Acme", owner_email="Ada@Example.com", owner_display_name="Ada"
        )
    )


async def test_create_org_answers_with_the_org_and_its_normalised_owner(
    stub: identity_pb2_grpc.IdentityServiceStub,
) -> None:
    created = await create_acme(stub)

    assert (created.org.name, created.org.display_name) == ("acme", "Acme")
    assert created.owner.email == "ada@example.com"
    fetched = await stub.GetUser(pb.GetUserRequest(email="ada@example.com"))
    assert fetched.user == created.owner
    assert list(fetched.memberships) == [
        types_pb2.Membership(org="acme", team="", roles=[types_pb2.ROLE_ORG_OWNER])
    ]
    assert (await stub.GetOrg(pb.GetOrgRequest(name="acme"))).org == created.org


async def test_check_access_answers_granted_capabilities_and_why_the_rest_were_refused(
    stub: identity_pb2_grpc.IdentityServiceStub,
) -> None:
    await create_acme(stub)
    await stub.CreateTeam(pb.CreateTeamRequest(org="acme", team="vision"))
    bob = await stub.AddUser(
        pb.AddUserRequest(
            org="acme",
            team="vision",
            email="bob@example.com",
            display_name="Bob",
            roles=[types_pb2.ROLE_REGISTRY_READ],
        )
    )

    decision = await stub.CheckAccess(
        pb.CheckAccessRequest(
            user_id=bob.user.user_id,
            repository="acme/vision/x",
            capabilities=[types_pb2.CAPABILITY_PUSH_ARTIFACTS, types_pb2.CAPABILITY_DOWNLOAD_ARTIFACTS],
        )
    )

    assert list(decision.granted) == [types_pb2.CAPABILITY_DOWNLOAD_ARTIFACTS]
    assert decision.denial_reason == "role REGISTRY_READ in team acme/vision does not allow push"


async def test_a_bad_org_name_is_invalid_argument_with_the_error_code_trailer(
    stub: identity_pb2_grpc.IdentityServiceStub,
) -> None:
    error = await rpc_error(
        stub.CreateOrg(
            pb.CreateOrgRequest(name="Bad Name", owner_email="ada@example.com", owner_display_name="Ada")
        )
    )

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert trailers(error)[grpcio.ERROR_CODE_KEY] == "INVALID_ARGUMENT"
    assert "must be lowercase" in (error.details() or "")


async def test_an_unknown_org_is_not_found_and_rebuilds_as_the_same_domain_error(
    stub: identity_pb2_grpc.IdentityServiceStub,
) -> None:
    error = await rpc_error(stub.GetOrg(pb.GetOrgRequest(name="nowhere")))

    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert trailers(error)[grpcio.ERROR_CODE_KEY] == "NOT_FOUND"
    assert isinstance(grpcio.error_from_rpc(error), NotFound)


async def test_a_third_owner_is_resource_exhausted_with_code_limit_exceeded(
    stub: identity_pb2_grpc.IdentityServiceStub,
) -> None:
    def add_owner(email: str) -> object:
        return stub.AddUser(
            pb.AddUserRequest(org="acme", email=email, display_name="X", roles=[types_pb2.ROLE_ORG_OWNER])
        )

    await create_acme(stub)
    await add_owner("bob@example.com")  # type: ignore[misc]

    error = await rpc_error(add_owner("carol@example.com"))

    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert trailers(error)[grpcio.ERROR_CODE_KEY] == "LIMIT_EXCEEDED"
    assert isinstance(grpcio.error_from_rpc(error), LimitExceeded)


async def test_an_unspecified_role_or_capability_is_invalid_argument(
    stub: identity_pb2_grpc.IdentityServiceStub,
) -> None:
    created = await create_acme(stub)

    role = await rpc_error(
        stub.AddUser(
            pb.AddUserRequest(
                org="acme", email="bob@example.com", display_name="Bob", roles=[types_pb2.ROLE_UNSPECIFIED]
            )
        )
    )
    capability = await rpc_error(
        stub.CheckAccess(
            pb.CheckAccessRequest(
                user_id=created.owner.user_id,
                repository="acme/x",
                capabilities=[cast(types_pb2.Capability, 42)],
            )
        )
    )

    assert role.code() == capability.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_removing_the_last_owner_is_failed_precondition(
    stub: identity_pb2_grpc.IdentityServiceStub,
) -> None:
    created = await create_acme(stub)

    error = await rpc_error(stub.RemoveUser(pb.RemoveUserRequest(org="acme", user_id=created.owner.user_id)))

    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert trailers(error)[grpcio.ERROR_CODE_KEY] == "FAILED_PRECONDITION"


async def test_members_are_listed_in_pages_and_roles_set_and_decided_over_the_wire(
    stub: identity_pb2_grpc.IdentityServiceStub,
) -> None:
    created = await create_acme(stub)
    await stub.CreateTeam(pb.CreateTeamRequest(org="acme", team="vision"))
    uma = await stub.AddUser(
        pb.AddUserRequest(
            org="acme", email="uma@example.com", display_name="Uma", roles=[types_pb2.ROLE_USER_ADMIN]
        )
    )

    first = await stub.ListUsers(pb.ListUsersRequest(org="acme", page_size=1))
    second = await stub.ListUsers(pb.ListUsersRequest(org="acme", page_token=first.next_page_token))
    teams = await stub.ListTeams(pb.ListTeamsRequest(org="acme"))
    set_roles = await stub.SetRoles(
        pb.SetRolesRequest(
            org="acme", team="vision", user_id=uma.user.user_id, roles=[types_pb2.ROLE_REGISTRY_READ]
        )
    )
    may_add = await stub.CheckOrgAccess(
        pb.CheckOrgAccessRequest(
            user_id=uma.user.user_id, org="acme", team="vision", capability=types_pb2.CAPABILITY_ADD_USERS
        )
    )
    may_grant = await stub.CheckGrant(
        pb.CheckGrantRequest(
            granter_user_id=uma.user.user_id,
            org="acme",
            user_id=created.owner.user_id,
            roles=[types_pb2.ROLE_REGISTRY_READ],
        )
    )

    assert [m.user.email for m in (*first.members, *second.members)] == [
        "ada@example.com",
        "uma@example.com",
    ]
    assert second.next_page_token == ""
    assert list(teams.teams) == [types_pb2.Team(org="acme", name="vision")]
    assert [(m.team, list(m.roles)) for m in set_roles.memberships] == [
        ("", [types_pb2.ROLE_USER_ADMIN]),
        ("vision", [types_pb2.ROLE_REGISTRY_READ]),
    ]
    assert may_add.allowed and may_add.denial_reason == ""
    assert not may_grant.allowed and "lacks" in may_grant.denial_reason


# ---------------------------------------------------------------------------------------------------------
# Invitations, sessions, teams and the audit log over the wire
# ---------------------------------------------------------------------------------------------------------

PASSWORD = "correct horse battery staple"


def error_code(error: grpc.aio.AioRpcError) -> tuple[grpc.StatusCode, str]:
    return error.code(), trailers(error)[grpcio.ERROR_CODE_KEY]


async def test_invite_accept_login_verify_logout_over_grpc(
    stub: identity_pb2_grpc.IdentityServiceStub, clock: SettableClock
) -> None:
    created = await create_acme(stub)
    await stub.CreateTeam(pb.CreateTeamRequest(org="acme", team="vision"))

    invited = await stub.InviteUser(
        pb.InviteUserRequest(
            org="acme",
            team="vision",
            email="Carol@Example.com",
            display_name="Carol",
            roles=[types_pb2.ROLE_REGISTRY_USER, types_pb2.ROLE_REGISTRY_READ],
            invited_by=created.owner.user_id,
        )
    )
    invitation = invited.invitation
    assert invited.token.startswith("hgi_")
    assert (invitation.org, invitation.team, invitation.email, invitation.status) == (
        "acme",
        "vision",
        "carol@example.com",
        "pending",
    )
    assert list(invitation.roles) == [types_pb2.ROLE_REGISTRY_USER, types_pb2.ROLE_REGISTRY_READ]
    assert invitation.invited_by == created.owner.user_id
    assert invitation.expires_at == int((clock.now + timedelta(days=7)).timestamp())

    accepted = await stub.AcceptInvitation(pb.AcceptInvitationRequest(token=invited.token, password=PASSWORD))
    assert accepted.user.email == "carol@example.com"
    assert list(accepted.memberships) == [
        types_pb2.Membership(
            org="acme", team="vision", roles=[types_pb2.ROLE_REGISTRY_USER, types_pb2.ROLE_REGISTRY_READ]
        )
    ]
    again = await rpc_error(
        stub.AcceptInvitation(pb.AcceptInvitationRequest(token=invited.token, password=PASSWORD))
    )
    assert error_code(again) == (grpc.StatusCode.FAILED_PRECONDITION, "INVITATION_USED")

    login = await stub.Login(pb.LoginRequest(email="carol@example.com", password=PASSWORD))
    assert login.session_token.startswith("hgs_")
    assert login.user == accepted.user
    assert login.expires_at == int((clock.now + timedelta(hours=12)).timestamp())

    verified = await stub.VerifySession(pb.VerifySessionRequest(session_token=login.session_token))
    assert (verified.user, verified.expires_at) == (accepted.user, login.expires_at)
    assert verified.session_id

    await stub.Logout(pb.LogoutRequest(session_token=login.session_token))
    ended = await rpc_error(stub.VerifySession(pb.VerifySessionRequest(session_token=login.session_token)))
    assert error_code(ended) == (grpc.StatusCode.UNAUTHENTICATED, "SESSION_INVALID")


async def test_credential_errors_carry_their_status_and_code(
    stub: identity_pb2_grpc.IdentityServiceStub, clock: SettableClock
) -> None:
    await create_acme(stub)
    invited = await stub.InviteUser(
        pb.InviteUserRequest(org="acme", email="carol@example.com", roles=[types_pb2.ROLE_REGISTRY_READ])
    )

    short = await rpc_error(
        stub.AcceptInvitation(pb.AcceptInvitationRequest(token=invited.token, password="short"))
    )
    unknown = await rpc_error(
        stub.AcceptInvitation(pb.AcceptInvitationRequest(token="hgi_" + "x" * 43, password=PASSWORD))
    )
    wrong = await rpc_error(stub.Login(pb.LoginRequest(email="ada@example.com", password=PASSWORD)))
    nobody = await rpc_error(stub.Login(pb.LoginRequest(email="nobody@example.com", password=PASSWORD)))
    bad_role = await rpc_error(
        stub.InviteUser(
            pb.InviteUserRequest(org="acme", email="dan@example.com", roles=[types_pb2.ROLE_UNSPECIFIED])
        )
    )
    clock.advance(timedelta(days=8))
    expired = await rpc_error(
        stub.AcceptInvitation(pb.AcceptInvitationRequest(token=invited.token, password=PASSWORD))
    )

    assert error_code(short) == (grpc.StatusCode.INVALID_ARGUMENT, "PASSWORD_INVALID")
    assert "12 to 256 characters" in (short.details() or "")
    assert error_code(unknown) == (grpc.StatusCode.NOT_FOUND, "INVITATION_INVALID")
    assert error_code(wrong) == error_code(nobody) == (grpc.StatusCode.UNAUTHENTICATED, "LOGIN_FAILED")
    assert wrong.details() == nobody.details()
    assert error_code(bad_role) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
    assert error_code(expired) == (grpc.StatusCode.FAILED_PRECONDITION, "INVITATION_EXPIRED")


async def test_removal_from_a_team_and_the_audit_log_over_grpc(
    stub: identity_pb2_grpc.IdentityServiceStub,
) -> None:
    created = await create_acme(stub)
    await stub.CreateTeam(pb.CreateTeamRequest(org="acme", team="vision"))
    bob = await stub.AddUser(
        pb.AddUserRequest(
            org="acme",
            team="vision",
            email="bob@example.com",
            display_name="Bob",
            roles=[types_pb2.ROLE_REGISTRY_READ],
        )
    )
    request = pb.RemoveUserFromTeamRequest(org="acme", team="vision", user_id=bob.user.user_id)
    with context.bound(context.CallContext(actor=created.owner.user_id, correlation_id="corr-rm")):
        await stub.RemoveUserFromTeam(request)
    again = await rpc_error(stub.RemoveUserFromTeam(request))
    no_team = await rpc_error(stub.RemoveUserFromTeam(pb.RemoveUserFromTeamRequest(org="acme", user_id="u")))

    assert error_code(again) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
    assert error_code(no_team)[0] == grpc.StatusCode.INVALID_ARGUMENT
    removed = await stub.ListEvents(pb.ListEventsRequest(org="acme", types=["UserRemovedFromTeam"]))
    (event,) = removed.events
    assert (event.type, event.service, event.org) == (
        "hangar.identity.v1.UserRemovedFromTeam",
        "identity",
        "acme",
    )
    assert (event.actor, event.correlation_id) == (created.owner.user_id, "corr-rm")
    assert event.time > 0 and event.event_id
    assert json.loads(event.payload_json)["team"] == "vision"

    first = await stub.ListEvents(pb.ListEventsRequest(org="acme", page_size=2))
    rest = await stub.ListEvents(pb.ListEventsRequest(org="acme", page_token=first.next_page_token))
    assert [e.type.rsplit(".", 1)[-1] for e in (*first.events, *rest.events)] == [
        "OrgCreated",
        "RolesChanged",
        "TeamCreated",
        "RolesChanged",
        "UserRemovedFromTeam",
        "UserRemoved",
    ]
    assert rest.next_page_token == ""
    mine = await stub.ListEvents(
        pb.ListEventsRequest(org="acme", actor=created.owner.user_id, since=event.time)
    )
    assert [e.event_id for e in mine.events] == [event.event_id, rest.events[-1].event_id]
    bad = await rpc_error(stub.ListEvents(pb.ListEventsRequest(org="acme", page_token="nope!")))
    assert error_code(bad) == (grpc.StatusCode.INVALID_ARGUMENT, "PAGE_TOKEN_INVALID")
