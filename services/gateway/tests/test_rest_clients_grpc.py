"""The clients' methods behind the REST API, against in-process servers: what goes on the wire and what comes
back as values (roles and capabilities by name, scopes, optional fields, pages, secrets)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hangar.api.identity.v1 import identity_pb2, identity_pb2_grpc, types_pb2
from hangar.api.keys.v1 import keys_pb2, keys_pb2_grpc
from hangar.gateway.clients import IdentityClient, KeysClient, KeyScope
from hangar.kit.errors import InvalidArgument, LimitExceeded
from hangar.kit.grpcio import GrpcServer, channel

API_KEY = keys_pb2.ApiKey(
    key_id="k1",
    type=keys_pb2.KEY_TYPE_SERVICE,
    org="demo",
    name="ci",
    prefix="hgr_svc00001",
    services=["registry"],
    status=keys_pb2.KEY_STATUS_INACTIVE,
    created_at=100,
    expires_at=200,
    last_used_at=150,
    scopes=[keys_pb2.KeyScope(actions=["get", "list"], entity_types=["container"], team="vision")],
    created_by="u1",
)


class Keys(keys_pb2_grpc.KeysServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.requests: list[Any] = []

    async def IssueServiceKey(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        return keys_pb2.IssueServiceKeyResponse(key=API_KEY, secret="hgr_svc00001_secret")

    async def IssuePersonalKey(self, request: Any, context: Any) -> Any:
        raise LimitExceeded("a user holds at most 8 personal keys", code="PERSONAL_KEY_LIMIT")

    async def UpdateKey(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        return keys_pb2.UpdateKeyResponse(key=API_KEY)

    async def ListOrgKeys(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        return keys_pb2.ListOrgKeysResponse(keys=[API_KEY], next_page_token="next")

    async def RotateKey(self, request: Any, context: Any) -> Any:
        return keys_pb2.RotateKeyResponse(key=API_KEY, secret="hgr_svc00001_rotated")


MEMBERSHIPS = [
    types_pb2.Membership(org="demo", roles=[types_pb2.ROLE_REGISTRY_USER, types_pb2.ROLE_USER_ADMIN]),
    types_pb2.Membership(org="demo", team="vision", roles=[types_pb2.ROLE_REGISTRY_READ]),
]
USER = types_pb2.User(user_id="u2", email="bob@example.com", display_name="Bob")


class Identity(identity_pb2_grpc.IdentityServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.requests: list[Any] = []

    async def ListUsers(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        member = types_pb2.Member(user=USER, memberships=MEMBERSHIPS)
        return identity_pb2.ListUsersResponse(members=[member], next_page_token="more")

    async def CheckGrant(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        return identity_pb2.CheckGrantResponse(allowed=False, denial_reason="lacks REGISTRY_ADMIN")

    async def CheckOrgAccess(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        return identity_pb2.CheckOrgAccessResponse(allowed=True)

    async def InviteUser(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        invitation = identity_pb2.Invitation(
            invitation_id="i1",
            org=request.org,
            email=request.email,
            roles=request.roles,
            invited_by=request.invited_by,
            expires_at=999,
            status="pending",
        )
        return identity_pb2.InviteUserResponse(invitation=invitation, token="hgi_once")

    async def Login(self, request: Any, context: Any) -> Any:
        return identity_pb2.LoginResponse(session_token="hgs_secret", expires_at=500, user=USER)

    async def VerifySession(self, request: Any, context: Any) -> Any:
        return identity_pb2.VerifySessionResponse(user=USER, expires_at=500, session_id="s1")

    async def GetUser(self, request: Any, context: Any) -> Any:
        return identity_pb2.GetUserResponse(user=USER, memberships=MEMBERSHIPS)

    async def ListEvents(self, request: Any, context: Any) -> Any:
        self.requests.append(request)
        event = identity_pb2.AuditEvent(
            event_id="e1",
            type="hangar.identity.v1.UserRemoved",
            org="demo",
            actor="u1",
            time=7,
            payload_json="{}",
        )
        return identity_pb2.ListEventsResponse(events=[event], next_page_token="")


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, Any]]:
    keys, identity = Keys(), Identity()
    server = GrpcServer(
        "127.0.0.1:0",
        [
            (keys_pb2_grpc.add_KeysServiceServicer_to_server, keys),
            (identity_pb2_grpc.add_IdentityServiceServicer_to_server, identity),
        ],
        [],
    )
    await server.start()
    async with channel(f"127.0.0.1:{server.port}") as ch:
        yield {"keys": keys, "identity": identity, "channel": ch}
    await server.stop(0)


async def test_a_service_key_is_issued_with_its_scopes_and_comes_back_whole(servers: dict[str, Any]) -> None:
    issued = await KeysClient(servers["channel"]).issue_service_key(
        "demo",
        "ci",
        ["registry"],
        [KeyScope(frozenset({"list", "get"}), frozenset({"container"}), team="vision")],
        expires_in_seconds=3600,
        created_by="u1",
    )
    sent = servers["keys"].requests[0]
    assert list(sent.scopes[0].actions) == ["get", "list"] and sent.scopes[0].team == "vision"
    assert (sent.expires_in_seconds, sent.created_by) == (3600, "u1")
    key = issued.key
    assert (issued.key_id, issued.prefix, issued.secret) == ("k1", "hgr_svc00001", "hgr_svc00001_secret")
    assert "secret" not in repr(issued)
    assert (key.key_type, key.status, key.name, key.user_id) == ("SERVICE", "INACTIVE", "ci", "")
    assert (key.created_at, key.expires_at, key.last_used_at, key.created_by) == (100, 200, 150, "u1")
    assert key.scopes == (KeyScope(frozenset({"get", "list"}), frozenset({"container"}), "vision", ""),)


async def test_an_update_sends_only_what_changes(servers: dict[str, Any]) -> None:
    client = KeysClient(servers["channel"])
    await client.update_key("k1", name="renamed")
    await client.update_key("k1", services=["admin"], scopes=[])
    renamed, replaced = servers["keys"].requests
    assert renamed.HasField("name") and not renamed.update_services and not renamed.update_scopes
    assert not replaced.HasField("name") and replaced.update_services and replaced.update_scopes
    assert list(replaced.services) == ["admin"] and list(replaced.scopes) == []


async def test_org_keys_come_in_pages(servers: dict[str, Any]) -> None:
    page = await KeysClient(servers["channel"]).list_org_keys(
        "demo", page_size=5, page_token="t", user_id="u1", include_dead=True
    )
    sent = servers["keys"].requests[0]
    assert (sent.org, sent.page_size, sent.page_token, sent.user_id, sent.include_dead) == (
        "demo",
        5,
        "t",
        "u1",
        True,
    )
    assert [key.key_id for key in page.items] == ["k1"] and page.next_page_token == "next"


async def test_a_rotation_answers_the_new_secret(servers: dict[str, Any]) -> None:
    rotated = await KeysClient(servers["channel"]).rotate_key("k1")
    assert rotated.secret == "hgr_svc00001_rotated"


async def test_a_limit_is_a_limit_exceeded_with_its_code(servers: dict[str, Any]) -> None:
    with pytest.raises(LimitExceeded) as refused:
        await KeysClient(servers["channel"]).issue_personal_key("demo", "u1", "ninth", ["registry"])
    assert refused.value.code == "PERSONAL_KEY_LIMIT"


async def test_members_come_with_roles_by_name(servers: dict[str, Any]) -> None:
    page = await IdentityClient(servers["channel"]).list_users("demo", "vision", page_size=10)
    member = page.items[0]
    assert member.user.email == "bob@example.com" and page.next_page_token == "more"
    assert [(m.team, m.roles) for m in member.memberships] == [
        ("", ("REGISTRY_USER", "USER_ADMIN")),
        ("vision", ("REGISTRY_READ",)),
    ]
    assert servers["identity"].requests[0].team == "vision"


async def test_a_grant_is_checked_by_user_id_or_by_email(servers: dict[str, Any]) -> None:
    client = IdentityClient(servers["channel"])
    denied = await client.check_grant("u1", "demo", ["REGISTRY_ADMIN"], user_id="u2")
    await client.check_grant("u1", "demo", ["REGISTRY_READ"], team="vision", email="new@example.com")
    by_id, by_email = servers["identity"].requests
    assert by_id.WhichOneof("target") == "user_id" and list(by_id.roles) == [types_pb2.ROLE_REGISTRY_ADMIN]
    assert by_email.WhichOneof("target") == "email" and by_email.team == "vision"
    assert (denied.allowed, denied.denial_reason) == (False, "lacks REGISTRY_ADMIN")


async def test_org_access_is_asked_by_capability_name(servers: dict[str, Any]) -> None:
    allowed = await IdentityClient(servers["channel"]).check_org_access("u1", "demo", "ADD_USERS", "vision")
    sent = servers["identity"].requests[0]
    assert (sent.capability, sent.team, allowed.allowed) == (types_pb2.CAPABILITY_ADD_USERS, "vision", True)


async def test_an_unknown_role_is_refused_before_any_call(servers: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        await IdentityClient(servers["channel"]).set_roles("demo", "u2", ["SUPERUSER"])


async def test_an_invitation_comes_back_with_its_token_kept_out_of_reprs(servers: dict[str, Any]) -> None:
    issued = await IdentityClient(servers["channel"]).invite_user(
        "demo", "new@example.com", "New", ["REGISTRY_USER"], invited_by="u1"
    )
    assert issued.token == "hgi_once" and "hgi_once" not in repr(issued)
    assert issued.invitation.roles == ("REGISTRY_USER",) and issued.invitation.invited_by == "u1"


async def test_sessions_and_members(servers: dict[str, Any]) -> None:
    client = IdentityClient(servers["channel"])
    session = await client.login("bob@example.com", "pw")
    assert session.token == "hgs_secret" and "hgs_secret" not in repr(session)
    verified = await client.verify_session("hgs_secret")
    assert (verified.session_id, verified.user.user_id, verified.expires_at) == ("s1", "u2", 500)
    member = await client.get_member("u2")
    assert len(member.memberships) == 2


async def test_the_audit_log_is_asked_with_its_filters(servers: dict[str, Any]) -> None:
    page = await IdentityClient(servers["channel"]).list_events(
        "demo", types=["UserRemoved"], actor="u1", since=5, page_size=3
    )
    sent = servers["identity"].requests[0]
    assert (list(sent.types), sent.actor, sent.since, sent.page_size) == (["UserRemoved"], "u1", 5, 3)
    assert page.items[0].type == "hangar.identity.v1.UserRemoved" and page.next_page_token == ""
