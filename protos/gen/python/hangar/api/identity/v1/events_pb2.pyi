from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class OrgCreated(_message.Message):
    __slots__ = ("org_id", "name", "display_name")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    name: str
    display_name: str
    def __init__(self, org_id: _Optional[str] = ..., name: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class UserRegistered(_message.Message):
    __slots__ = ("user_id", "email", "display_name")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    email: str
    display_name: str
    def __init__(self, user_id: _Optional[str] = ..., email: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class TeamCreated(_message.Message):
    __slots__ = ("org_id", "team")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    team: str
    def __init__(self, org_id: _Optional[str] = ..., team: _Optional[str] = ...) -> None: ...

class RolesChanged(_message.Message):
    __slots__ = ("org_id", "org", "team", "user_id", "roles")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    org: str
    team: str
    user_id: str
    roles: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, org_id: _Optional[str] = ..., org: _Optional[str] = ..., team: _Optional[str] = ..., user_id: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ...) -> None: ...

class UserRemoved(_message.Message):
    __slots__ = ("org_id", "org", "user_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    org: str
    user_id: str
    def __init__(self, org_id: _Optional[str] = ..., org: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class UserInvited(_message.Message):
    __slots__ = ("invitation_id", "org_id", "org", "team", "email", "display_name", "roles", "invited_by", "token_hash", "expires_at")
    INVITATION_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    INVITED_BY_FIELD_NUMBER: _ClassVar[int]
    TOKEN_HASH_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    invitation_id: str
    org_id: str
    org: str
    team: str
    email: str
    display_name: str
    roles: _containers.RepeatedScalarFieldContainer[str]
    invited_by: str
    token_hash: str
    expires_at: int
    def __init__(self, invitation_id: _Optional[str] = ..., org_id: _Optional[str] = ..., org: _Optional[str] = ..., team: _Optional[str] = ..., email: _Optional[str] = ..., display_name: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ..., invited_by: _Optional[str] = ..., token_hash: _Optional[str] = ..., expires_at: _Optional[int] = ...) -> None: ...

class InvitationAccepted(_message.Message):
    __slots__ = ("invitation_id", "org_id", "org", "team", "user_id", "email")
    INVITATION_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    invitation_id: str
    org_id: str
    org: str
    team: str
    user_id: str
    email: str
    def __init__(self, invitation_id: _Optional[str] = ..., org_id: _Optional[str] = ..., org: _Optional[str] = ..., team: _Optional[str] = ..., user_id: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class PasswordSet(_message.Message):
    __slots__ = ("user_id", "password_hash")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_HASH_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    password_hash: str
    def __init__(self, user_id: _Optional[str] = ..., password_hash: _Optional[str] = ...) -> None: ...

class SessionStarted(_message.Message):
    __slots__ = ("session_id", "user_id", "token_hash", "expires_at")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_HASH_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    user_id: str
    token_hash: str
    expires_at: int
    def __init__(self, session_id: _Optional[str] = ..., user_id: _Optional[str] = ..., token_hash: _Optional[str] = ..., expires_at: _Optional[int] = ...) -> None: ...

class SessionEnded(_message.Message):
    __slots__ = ("session_id", "user_id")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    user_id: str
    def __init__(self, session_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class UserRemovedFromTeam(_message.Message):
    __slots__ = ("org_id", "org", "team", "user_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    org: str
    team: str
    user_id: str
    def __init__(self, org_id: _Optional[str] = ..., org: _Optional[str] = ..., team: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...
