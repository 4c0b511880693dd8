from hangar.api.keys.v1 import keys_pb2 as _keys_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class KeyIssued(_message.Message):
    __slots__ = ("key_id", "org", "owner_user_id", "name", "prefix", "services", "expires_at", "key_type", "secret_hash", "created_at", "scopes", "created_by")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    KEY_TYPE_FIELD_NUMBER: _ClassVar[int]
    SECRET_HASH_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    org: str
    owner_user_id: str
    name: str
    prefix: str
    services: _containers.RepeatedScalarFieldContainer[str]
    expires_at: int
    key_type: str
    secret_hash: str
    created_at: int
    scopes: _containers.RepeatedCompositeFieldContainer[_keys_pb2.KeyScope]
    created_by: str
    def __init__(self, key_id: _Optional[str] = ..., org: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., name: _Optional[str] = ..., prefix: _Optional[str] = ..., services: _Optional[_Iterable[str]] = ..., expires_at: _Optional[int] = ..., key_type: _Optional[str] = ..., secret_hash: _Optional[str] = ..., created_at: _Optional[int] = ..., scopes: _Optional[_Iterable[_Union[_keys_pb2.KeyScope, _Mapping]]] = ..., created_by: _Optional[str] = ...) -> None: ...

class KeyRevoked(_message.Message):
    __slots__ = ("key_id", "org", "owner_user_id", "reason")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    org: str
    owner_user_id: str
    reason: str
    def __init__(self, key_id: _Optional[str] = ..., org: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class KeyExpired(_message.Message):
    __slots__ = ("key_id", "org", "owner_user_id", "expired_at")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_AT_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    org: str
    owner_user_id: str
    expired_at: int
    def __init__(self, key_id: _Optional[str] = ..., org: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., expired_at: _Optional[int] = ...) -> None: ...

class KeyRotated(_message.Message):
    __slots__ = ("key_id", "org", "owner_user_id", "prefix", "secret_hash")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    SECRET_HASH_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    org: str
    owner_user_id: str
    prefix: str
    secret_hash: str
    def __init__(self, key_id: _Optional[str] = ..., org: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., prefix: _Optional[str] = ..., secret_hash: _Optional[str] = ...) -> None: ...

class KeyActivated(_message.Message):
    __slots__ = ("key_id", "org", "owner_user_id")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    org: str
    owner_user_id: str
    def __init__(self, key_id: _Optional[str] = ..., org: _Optional[str] = ..., owner_user_id: _Optional[str] = ...) -> None: ...

class KeyDeactivated(_message.Message):
    __slots__ = ("key_id", "org", "owner_user_id")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    org: str
    owner_user_id: str
    def __init__(self, key_id: _Optional[str] = ..., org: _Optional[str] = ..., owner_user_id: _Optional[str] = ...) -> None: ...

class KeyRenamed(_message.Message):
    __slots__ = ("key_id", "org", "owner_user_id", "name")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    org: str
    owner_user_id: str
    name: str
    def __init__(self, key_id: _Optional[str] = ..., org: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class KeyServicesUpdated(_message.Message):
    __slots__ = ("key_id", "org", "owner_user_id", "services")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    org: str
    owner_user_id: str
    services: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, key_id: _Optional[str] = ..., org: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., services: _Optional[_Iterable[str]] = ...) -> None: ...

class KeyScopesUpdated(_message.Message):
    __slots__ = ("key_id", "org", "owner_user_id", "scopes")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    org: str
    owner_user_id: str
    scopes: _containers.RepeatedCompositeFieldContainer[_keys_pb2.KeyScope]
    def __init__(self, key_id: _Optional[str] = ..., org: _Optional[str] = ..., owner_user_id: _Optional[str] = ..., scopes: _Optional[_Iterable[_Union[_keys_pb2.KeyScope, _Mapping]]] = ...) -> None: ...

class KeyDeleted(_message.Message):
    __slots__ = ("key_id", "org", "owner_user_id")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_FIELD_NUMBER: _ClassVar[int]
    OWNER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    org: str
    owner_user_id: str
    def __init__(self, key_id: _Optional[str] = ..., org: _Optional[str] = ..., owner_user_id: _Optional[str] = ...) -> None: ...
