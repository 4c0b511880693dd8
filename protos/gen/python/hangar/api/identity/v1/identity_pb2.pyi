from hangar.api.identity.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateOrgRequest(_message.Message):
    __slots__ = ("name", "display_name", "owner_email", "owner_display_name")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    OWNER_EMAIL_FIELD_NUMBER: _ClassVar[int]
    OWNER_DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    owner_email: str
    owner_display_name: str
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., owner_email: _Optional[str] = ..., owner_display_name: _Optional[str] = ...) -> None: ...

class CreateOrgResponse(_message.Message):
    __slots__ = ("org", "owner")
    ORG_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    org: _types_pb2.Org
    owner: _types_pb2.User
    def __init__(self, org: _Optional[_Union[_types_pb2.Org, _Mapping]] = ..., owner: _Optional[_Union[_types_pb2.User, _Mapping]] = ...) -> None: ...

class GetOrgRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetOrgResponse(_message.Message):
    __slots__ = ("org",)
    ORG_FIELD_NUMBER: _ClassVar[int]
    org: _types_pb2.Org
    def __init__(self, org: _Optional[_Union[_types_pb2.Org, _Mapping]] = ...) -> None: ...

class GetUserRequest(_message.Message):
    __slots__ = ("user_id", "email")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    email: str
    def __init__(self, user_id: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class GetUserResponse(_message.Message):
    __slots__ = ("user", "memberships")
    USER_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    user: _types_pb2.User
    memberships: _containers.RepeatedCompositeFieldContainer[_types_pb2.Membership]
    def __init__(self, user: _Optional[_Union[_types_pb2.User, _Mapping]] = ..., memberships: _Optional[_Iterable[_Union[_types_pb2.Membership, _Mapping]]] = ...) -> None: ...

class AddUserRequest(_message.Message):
    __slots__ = ("org", "team", "email", "display_name", "roles")
    ORG_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    org: str
    team: str
    email: str
    display_name: str
    roles: _containers.RepeatedScalarFieldContainer[_types_pb2.Role]
    def __init__(self, org: _Optional[str] = ..., team: _Optional[str] = ..., email: _Optional[str] = ..., display_name: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[_types_pb2.Role, str]]] = ...) -> None: ...

class AddUserResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: _types_pb2.User
    def __init__(self, user: _Optional[_Union[_types_pb2.User, _Mapping]] = ...) -> None: ...

class RemoveUserRequest(_message.Message):
    __slots__ = ("org", "user_id")
    ORG_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    org: str
    user_id: str
    def __init__(self, org: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class RemoveUserResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CheckAccessRequest(_message.Message):
    __slots__ = ("user_id", "repository", "capabilities")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    repository: str
    capabilities: _containers.RepeatedScalarFieldContainer[_types_pb2.Capability]
    def __init__(self, user_id: _Optional[str] = ..., repository: _Optional[str] = ..., capabilities: _Optional[_Iterable[_Union[_types_pb2.Capability, str]]] = ...) -> None: ...

class CheckAccessResponse(_message.Message):
    __slots__ = ("granted", "denial_reason")
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    DENIAL_REASON_FIELD_NUMBER: _ClassVar[int]
    granted: _containers.RepeatedScalarFieldContainer[_types_pb2.Capability]
    denial_reason: str
    def __init__(self, granted: _Optional[_Iterable[_Union[_types_pb2.Capability, str]]] = ..., denial_reason: _Optional[str] = ...) -> None: ...

class CreateTeamRequest(_message.Message):
    __slots__ = ("org", "team")
    ORG_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    org: str
    team: str
    def __init__(self, org: _Optional[str] = ..., team: _Optional[str] = ...) -> None: ...

class CreateTeamResponse(_message.Message):
    __slots__ = ("team",)
    TEAM_FIELD_NUMBER: _ClassVar[int]
    team: _types_pb2.Team
    def __init__(self, team: _Optional[_Union[_types_pb2.Team, _Mapping]] = ...) -> None: ...

class ListTeamsRequest(_message.Message):
    __slots__ = ("org",)
    ORG_FIELD_NUMBER: _ClassVar[int]
    org: str
    def __init__(self, org: _Optional[str] = ...) -> None: ...

class ListTeamsResponse(_message.Message):
    __slots__ = ("teams",)
    TEAMS_FIELD_NUMBER: _ClassVar[int]
    teams: _containers.RepeatedCompositeFieldContainer[_types_pb2.Team]
    def __init__(self, teams: _Optional[_Iterable[_Union[_types_pb2.Team, _Mapping]]] = ...) -> None: ...

class ListUsersRequest(_message.Message):
    __slots__ = ("org", "team", "page_size", "page_token")
    ORG_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    org: str
    team: str
    page_size: int
    page_token: str
    def __init__(self, org: _Optional[str] = ..., team: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListUsersResponse(_message.Message):
    __slots__ = ("members", "next_page_token")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[_types_pb2.Member]
    next_page_token: str
    def __init__(self, members: _Optional[_Iterable[_Union[_types_pb2.Member, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SetRolesRequest(_message.Message):
    __slots__ = ("org", "team", "user_id", "roles")
    ORG_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    org: str
    team: str
    user_id: str
    roles: _containers.RepeatedScalarFieldContainer[_types_pb2.Role]
    def __init__(self, org: _Optional[str] = ..., team: _Optional[str] = ..., user_id: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[_types_pb2.Role, str]]] = ...) -> None: ...

class SetRolesResponse(_message.Message):
    __slots__ = ("memberships",)
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    memberships: _containers.RepeatedCompositeFieldContainer[_types_pb2.Membership]
    def __init__(self, memberships: _Optional[_Iterable[_Union[_types_pb2.Membership, _Mapping]]] = ...) -> None: ...

class CheckOrgAccessRequest(_message.Message):
    __slots__ = ("user_id", "org", "team", "capability")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    org: str
    team: str
    capability: _types_pb2.Capability
    def __init__(self, user_id: _Optional[str] = ..., org: _Optional[str] = ..., team: _Optional[str] = ..., capability: _Optional[_Union[_types_pb2.Capability, str]] = ...) -> None: ...

class CheckOrgAccessResponse(_message.Message):
    __slots__ = ("allowed", "denial_reason")
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    DENIAL_REASON_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    denial_reason: str
    def __init__(self, allowed: _Optional[bool] = ..., denial_reason: _Optional[str] = ...) -> None: ...

class CheckGrantRequest(_message.Message):
    __slots__ = ("granter_user_id", "org", "team", "user_id", "email", "roles")
    GRANTER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    granter_user_id: str
    org: str
    team: str
    user_id: str
    email: str
    roles: _containers.RepeatedScalarFieldContainer[_types_pb2.Role]
    def __init__(self, granter_user_id: _Optional[str] = ..., org: _Optional[str] = ..., team: _Optional[str] = ..., user_id: _Optional[str] = ..., email: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[_types_pb2.Role, str]]] = ...) -> None: ...

class CheckGrantResponse(_message.Message):
    __slots__ = ("allowed", "denial_reason")
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    DENIAL_REASON_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    denial_reason: str
    def __init__(self, allowed: _Optional[bool] = ..., denial_reason: _Optional[str] = ...) -> None: ...

class Invitation(_message.Message):
    __slots__ = ("invitation_id", "org", "team", "email", "display_name", "roles", "invited_by", "expires_at", "status")
    INVITATION_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    INVITED_BY_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    invitation_id: str
    org: str
    team: str
    email: str
    display_name: str
    roles: _containers.RepeatedScalarFieldContainer[_types_pb2.Role]
    invited_by: str
    expires_at: int
    status: str
    def __init__(self, invitation_id: _Optional[str] = ..., org: _Optional[str] = ..., team: _Optional[str] = ..., email: _Optional[str] = ..., display_name: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[_types_pb2.Role, str]]] = ..., invited_by: _Optional[str] = ..., expires_at: _Optional[int] = ..., status: _Optional[str] = ...) -> None: ...

class InviteUserRequest(_message.Message):
    __slots__ = ("org", "team", "email", "display_name", "roles", "invited_by")
    ORG_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    INVITED_BY_FIELD_NUMBER: _ClassVar[int]
    org: str
    team: str
    email: str
    display_name: str
    roles: _containers.RepeatedScalarFieldContainer[_types_pb2.Role]
    invited_by: str
    def __init__(self, org: _Optional[str] = ..., team: _Optional[str] = ..., email: _Optional[str] = ..., display_name: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[_types_pb2.Role, str]]] = ..., invited_by: _Optional[str] = ...) -> None: ...

class InviteUserResponse(_message.Message):
    __slots__ = ("invitation", "token")
    INVITATION_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    invitation: Invitation
    token: str
    def __init__(self, invitation: _Optional[_Union[Invitation, _Mapping]] = ..., token: _Optional[str] = ...) -> None: ...

class AcceptInvitationRequest(_message.Message):
    __slots__ = ("token", "password", "display_name")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    token: str
    password: str
    display_name: str
    def __init__(self, token: _Optional[str] = ..., password: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class AcceptInvitationResponse(_message.Message):
    __slots__ = ("user", "memberships")
    USER_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    user: _types_pb2.User
    memberships: _containers.RepeatedCompositeFieldContainer[_types_pb2.Membership]
    def __init__(self, user: _Optional[_Union[_types_pb2.User, _Mapping]] = ..., memberships: _Optional[_Iterable[_Union[_types_pb2.Membership, _Mapping]]] = ...) -> None: ...

class LoginRequest(_message.Message):
    __slots__ = ("email", "password")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    email: str
    password: str
    def __init__(self, email: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class LoginResponse(_message.Message):
    __slots__ = ("session_token", "expires_at", "user")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    expires_at: int
    user: _types_pb2.User
    def __init__(self, session_token: _Optional[str] = ..., expires_at: _Optional[int] = ..., user: _Optional[_Union[_types_pb2.User, _Mapping]] = ...) -> None: ...

class VerifySessionRequest(_message.Message):
    __slots__ = ("session_token",)
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    def __init__(self, session_token: _Optional[str] = ...) -> None: ...

class VerifySessionResponse(_message.Message):
    __slots__ = ("user", "expires_at", "session_id")
    USER_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    user: _types_pb2.User
    expires_at: int
    session_id: str
    def __init__(self, user: _Optional[_Union[_types_pb2.User, _Mapping]] = ..., expires_at: _Optional[int] = ..., session_id: _Optional[str] = ...) -> None: ...

class LogoutRequest(_message.Message):
    __slots__ = ("session_token",)
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    def __init__(self, session_token: _Optional[str] = ...) -> None: ...

class LogoutResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RemoveUserFromTeamRequest(_message.Message):
    __slots__ = ("org", "team", "user_id")
    ORG_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    org: str
    team: str
    user_id: str
    def __init__(self, org: _Optional[str] = ..., team: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class RemoveUserFromTeamResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AuditEvent(_message.Message):
    __slots__ = ("event_id", "type", "service", "org", "actor", "time", "payload_json", "correlation_id", "causation_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    CAUSATION_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: str
    service: str
    org: str
    actor: str
    time: int
    payload_json: str
    correlation_id: str
    causation_id: str
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[str] = ..., service: _Optional[str] = ..., org: _Optional[str] = ..., actor: _Optional[str] = ..., time: _Optional[int] = ..., payload_json: _Optional[str] = ..., correlation_id: _Optional[str] = ..., causation_id: _Optional[str] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("org", "types", "actor", "since", "page_size", "page_token")
    ORG_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    org: str
    types: _containers.RepeatedScalarFieldContainer[str]
    actor: str
    since: int
    page_size: int
    page_token: str
    def __init__(self, org: _Optional[str] = ..., types: _Optional[_Iterable[str]] = ..., actor: _Optional[str] = ..., since: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[AuditEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[AuditEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
