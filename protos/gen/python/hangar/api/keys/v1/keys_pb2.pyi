from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class KeyType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KEY_TYPE_UNSPECIFIED: _ClassVar[KeyType]
    KEY_TYPE_PERSONAL: _ClassVar[KeyType]
    KEY_TYPE_SERVICE: _ClassVar[KeyType]
    KEY_TYPE_LEGACY: _ClassVar[KeyType]

class KeyStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KEY_STATUS_UNSPECIFIED: _ClassVar[KeyStatus]
    KEY_STATUS_ACTIVE: _ClassVar[KeyStatus]
    KEY_STATUS_INACTIVE: _ClassVar[KeyStatus]
    KEY_STATUS_REVOKED: _ClassVar[KeyStatus]
    KEY_STATUS_EXPIRED: _ClassVar[KeyStatus]
KEY_TYPE_UNSPECIFIED: KeyType
KEY_TYPE_PERSONAL: KeyType
KEY_TYPE_SERVICE: KeyType
KEY_TYPE_LEGACY: KeyType
KEY_STATUS_UNSPECIFIED: KeyStatus
KEY_STATUS_ACTIVE: KeyStatus
KEY_STATUS_INACTIVE: KeyStatus
KEY_STATUS_REVOKED: KeyStatus
KEY_STATUS_EXPIRED: KeyStatus

class KeyScope(_message.Message):
    __slots__ = ("actions", "entity_types", "team", "repository")
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    ENTITY_TYPES_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    actions: _containers.RepeatedScalarFieldContainer[str]
    entity_types: _containers.RepeatedScalarFieldContainer[str]
    team: str
    repository: str
    def __init__(self, actions: _Optional[_Iterable[str]] = ..., entity_types: _Optional[_Iterable[str]] = ..., team: _Optional[str] = ..., repository: _Optional[str] = ...) -> None: ...

class ApiKey(_message.Message):
    __slots__ = ("key_id", "type", "org", "owner_user_id", "name", "prefix", "services", "status", "created_at", "expires_at", "last_used_at", "scopes", "created_by")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    type: KeyType
    org: str
    owner_user_id: str
    name: str
    prefix: str
    services: _containers.RepeatedScalarFieldContainer[str]
    status: KeyStatus
    created_at: int
    expires_at: int
    last_used_at: int
    scopes: _containers.RepeatedCompositeFieldContainer[KeyScope]
    created_by: str
    def __init__(self, key_id: _Optional[str] = ..., type: _Optional[_Union[KeyType, str]] = ..., org: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., name: _Optional[str] = ..., prefix: _Optional[str] = ..., services: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[KeyStatus, str]] = ..., created_at: _Optional[int] = ..., expires_at: _Optional[int] = ..., last_used_at: _Optional[int] = ..., scopes: _Optional[_Iterable[_Union[KeyScope, _Mapping]]] = ..., created_by: _Optional[str] = ...) -> None: ...

class IssuePersonalKeyRequest(_message.Message):
    __slots__ = ("org", "user_id", "name", "services", "expires_in_seconds")
    ORG_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    org: str
    user_id: str
    name: str
    services: _containers.RepeatedScalarFieldContainer[str]
    expires_in_seconds: int
    def __init__(self, org: _Optional[str] = ..., user_id: _Optional[str] = ..., name: _Optional[str] = ..., services: _Optional[_Iterable[str]] = ..., expires_in_seconds: _Optional[int] = ...) -> None: ...

class IssuePersonalKeyResponse(_message.Message):
    __slots__ = ("key", "secret")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    key: ApiKey
    secret: str
    def __init__(self, key: _Optional[_Union[ApiKey, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class AuthenticateRequest(_message.Message):
    __slots__ = ("secret",)
    SECRET_FIELD_NUMBER: _ClassVar[int]
    secret: str
    def __init__(self, secret: _Optional[str] = ...) -> None: ...

class AuthenticateResponse(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: ApiKey
    def __init__(self, key: _Optional[_Union[ApiKey, _Mapping]] = ...) -> None: ...

class RevokeKeyRequest(_message.Message):
    __slots__ = ("key_id", "reason")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    reason: str
    def __init__(self, key_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RevokeKeyResponse(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: ApiKey
    def __init__(self, key: _Optional[_Union[ApiKey, _Mapping]] = ...) -> None: ...

class ListKeysRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ListKeysResponse(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[ApiKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[ApiKey, _Mapping]]] = ...) -> None: ...

class GetKeyRequest(_message.Message):
    __slots__ = ("key_id",)
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    def __init__(self, key_id: _Optional[str] = ...) -> None: ...

class GetKeyResponse(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: ApiKey
    def __init__(self, key: _Optional[_Union[ApiKey, _Mapping]] = ...) -> None: ...

class IssueServiceKeyRequest(_message.Message):
    __slots__ = ("org", "name", "services", "scopes", "expires_in_seconds", "created_by")
    ORG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    org: str
    name: str
    services: _containers.RepeatedScalarFieldContainer[str]
    scopes: _containers.RepeatedCompositeFieldContainer[KeyScope]
    expires_in_seconds: int
    created_by: str
    def __init__(self, org: _Optional[str] = ..., name: _Optional[str] = ..., services: _Optional[_Iterable[str]] = ..., scopes: _Optional[_Iterable[_Union[KeyScope, _Mapping]]] = ..., expires_in_seconds: _Optional[int] = ..., created_by: _Optional[str] = ...) -> None: ...

class IssueServiceKeyResponse(_message.Message):
    __slots__ = ("key", "secret")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    key: ApiKey
    secret: str
    def __init__(self, key: _Optional[_Union[ApiKey, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class IssueLegacyKeyRequest(_message.Message):
    __slots__ = ("org", "user_id")
    ORG_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    org: str
    user_id: str
    def __init__(self, org: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class IssueLegacyKeyResponse(_message.Message):
    __slots__ = ("key", "secret")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    key: ApiKey
    secret: str
    def __init__(self, key: _Optional[_Union[ApiKey, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class RotateKeyRequest(_message.Message):
    __slots__ = ("key_id",)
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    def __init__(self, key_id: _Optional[str] = ...) -> None: ...

class RotateKeyResponse(_message.Message):
    __slots__ = ("key", "secret")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    key: ApiKey
    secret: str
    def __init__(self, key: _Optional[_Union[ApiKey, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class SetKeyActiveRequest(_message.Message):
    __slots__ = ("key_id", "active")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    active: bool
    def __init__(self, key_id: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class SetKeyActiveResponse(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: ApiKey
    def __init__(self, key: _Optional[_Union[ApiKey, _Mapping]] = ...) -> None: ...

class UpdateKeyRequest(_message.Message):
    __slots__ = ("key_id", "name", "services", "update_services", "scopes", "update_scopes")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    UPDATE_SERVICES_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    UPDATE_SCOPES_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    name: str
    services: _containers.RepeatedScalarFieldContainer[str]
    update_services: bool
    scopes: _containers.RepeatedCompositeFieldContainer[KeyScope]
    update_scopes: bool
    def __init__(self, key_id: _Optional[str] = ..., name: _Optional[str] = ..., services: _Optional[_Iterable[str]] = ..., update_services: _Optional[bool] = ..., scopes: _Optional[_Iterable[_Union[KeyScope, _Mapping]]] = ..., update_scopes: _Optional[bool] = ...) -> None: ...

class UpdateKeyResponse(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: ApiKey
    def __init__(self, key: _Optional[_Union[ApiKey, _Mapping]] = ...) -> None: ...

class DeleteKeyRequest(_message.Message):
    __slots__ = ("key_id",)
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    def __init__(self, key_id: _Optional[str] = ...) -> None: ...

class DeleteKeyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListOrgKeysRequest(_message.Message):
    __slots__ = ("org", "page_size", "page_token", "user_id", "include_dead")
    ORG_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DEAD_FIELD_NUMBER: _ClassVar[int]
    org: str
    page_size: int
    page_token: str
    user_id: str
    include_dead: bool
    def __init__(self, org: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., user_id: _Optional[str] = ..., include_dead: _Optional[bool] = ...) -> None: ...

class ListOrgKeysResponse(_message.Message):
    __slots__ = ("keys", "next_page_token")
    KEYS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[ApiKey]
    next_page_token: str
    def __init__(self, keys: _Optional[_Iterable[_Union[ApiKey, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
