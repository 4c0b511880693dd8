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
