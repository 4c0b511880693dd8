from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_ORG_OWNER: _ClassVar[Role]
    ROLE_REGISTRY_ADMIN: _ClassVar[Role]
    ROLE_REGISTRY_USER: _ClassVar[Role]
    ROLE_REGISTRY_READ: _ClassVar[Role]
    ROLE_USER_ADMIN: _ClassVar[Role]
    ROLE_USER_READ: _ClassVar[Role]

class Capability(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CAPABILITY_UNSPECIFIED: _ClassVar[Capability]
    CAPABILITY_VIEW_ARTIFACTS: _ClassVar[Capability]
    CAPABILITY_DOWNLOAD_ARTIFACTS: _ClassVar[Capability]
    CAPABILITY_PUSH_ARTIFACTS: _ClassVar[Capability]
    CAPABILITY_EDIT_ARTIFACTS: _ClassVar[Capability]
    CAPABILITY_DELETE_ARTIFACTS: _ClassVar[Capability]
    CAPABILITY_VIEW_USERS: _ClassVar[Capability]
    CAPABILITY_ADD_USERS: _ClassVar[Capability]
    CAPABILITY_ADD_TEAMS: _ClassVar[Capability]
    CAPABILITY_VIEW_ORG: _ClassVar[Capability]
ROLE_UNSPECIFIED: Role
ROLE_ORG_OWNER: Role
ROLE_REGISTRY_ADMIN: Role
ROLE_REGISTRY_USER: Role
ROLE_REGISTRY_READ: Role
ROLE_USER_ADMIN: Role
ROLE_USER_READ: Role
CAPABILITY_UNSPECIFIED: Capability
CAPABILITY_VIEW_ARTIFACTS: Capability
CAPABILITY_DOWNLOAD_ARTIFACTS: Capability
CAPABILITY_PUSH_ARTIFACTS: Capability
CAPABILITY_EDIT_ARTIFACTS: Capability
CAPABILITY_DELETE_ARTIFACTS: Capability
CAPABILITY_VIEW_USERS: Capability
CAPABILITY_ADD_USERS: Capability
CAPABILITY_ADD_TEAMS: Capability
CAPABILITY_VIEW_ORG: Capability

class Org(_message.Message):
    __slots__ = ("org_id", "name", "display_name")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    name: str
    display_name: str
    def __init__(self, org_id: _Optional[str] = ..., name: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class User(_message.Message):
    __slots__ = ("user_id", "email", "display_name")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    email: str
    display_name: str
    def __init__(self, user_id: _Optional[str] = ..., email: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class Membership(_message.Message):
    __slots__ = ("org", "team", "roles")
    ORG_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    org: str
    team: str
    roles: _containers.RepeatedScalarFieldContainer[Role]
    def __init__(self, org: _Optional[str] = ..., team: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[Role, str]]] = ...) -> None: ...

class Team(_message.Message):
    __slots__ = ("org", "name")
    ORG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    org: str
    name: str
    def __init__(self, org: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ("user", "memberships")
    USER_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    user: User
    memberships: _containers.RepeatedCompositeFieldContainer[Membership]
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., memberships: _Optional[_Iterable[_Union[Membership, _Mapping]]] = ...) -> None: ...
