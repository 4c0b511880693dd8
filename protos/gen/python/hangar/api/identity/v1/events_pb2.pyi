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
