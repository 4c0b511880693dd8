from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StartUploadRequest(_message.Message):
    __slots__ = ("owner", "count")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    owner: str
    count: int
    def __init__(self, owner: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class StartUploadResponse(_message.Message):
    __slots__ = ("upload_id", "path", "more")
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    path: str
    more: _containers.RepeatedCompositeFieldContainer[OpenedUpload]
    def __init__(self, upload_id: _Optional[str] = ..., path: _Optional[str] = ..., more: _Optional[_Iterable[_Union[OpenedUpload, _Mapping]]] = ...) -> None: ...

class OpenedUpload(_message.Message):
    __slots__ = ("upload_id", "path")
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    path: str
    def __init__(self, upload_id: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class WriteRequest(_message.Message):
    __slots__ = ("upload_id", "write_offset", "data", "owner", "append")
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    WRITE_OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    APPEND_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    write_offset: int
    data: bytes
    owner: str
    append: bool
    def __init__(self, upload_id: _Optional[str] = ..., write_offset: _Optional[int] = ..., data: _Optional[bytes] = ..., owner: _Optional[str] = ..., append: _Optional[bool] = ...) -> None: ...

class WriteResponse(_message.Message):
    __slots__ = ("committed_size",)
    COMMITTED_SIZE_FIELD_NUMBER: _ClassVar[int]
    committed_size: int
    def __init__(self, committed_size: _Optional[int] = ...) -> None: ...

class QueryWriteStatusRequest(_message.Message):
    __slots__ = ("upload_id", "owner")
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    owner: str
    def __init__(self, upload_id: _Optional[str] = ..., owner: _Optional[str] = ...) -> None: ...

class QueryWriteStatusResponse(_message.Message):
    __slots__ = ("upload_id", "owner", "committed_size", "path")
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_SIZE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    owner: str
    committed_size: int
    path: str
    def __init__(self, upload_id: _Optional[str] = ..., owner: _Optional[str] = ..., committed_size: _Optional[int] = ..., path: _Optional[str] = ...) -> None: ...

class CommitUploadRequest(_message.Message):
    __slots__ = ("upload_id", "digest", "owner", "written_hash")
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    WRITTEN_HASH_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    digest: str
    owner: str
    written_hash: WrittenHash
    def __init__(self, upload_id: _Optional[str] = ..., digest: _Optional[str] = ..., owner: _Optional[str] = ..., written_hash: _Optional[_Union[WrittenHash, _Mapping]] = ...) -> None: ...

class WrittenHash(_message.Message):
    __slots__ = ("size", "sha256")
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    size: int
    sha256: str
    def __init__(self, size: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class CommitUploadResponse(_message.Message):
    __slots__ = ("digest", "size", "path")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    path: str
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ..., path: _Optional[str] = ...) -> None: ...

class CancelUploadRequest(_message.Message):
    __slots__ = ("upload_id", "owner")
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    owner: str
    def __init__(self, upload_id: _Optional[str] = ..., owner: _Optional[str] = ...) -> None: ...

class CancelUploadResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReadRequest(_message.Message):
    __slots__ = ("digest", "read_offset", "read_limit")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    READ_OFFSET_FIELD_NUMBER: _ClassVar[int]
    READ_LIMIT_FIELD_NUMBER: _ClassVar[int]
    digest: str
    read_offset: int
    read_limit: int
    def __init__(self, digest: _Optional[str] = ..., read_offset: _Optional[int] = ..., read_limit: _Optional[int] = ...) -> None: ...

class ReadResponse(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...

class StatBlobRequest(_message.Message):
    __slots__ = ("digest",)
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    digest: str
    def __init__(self, digest: _Optional[str] = ...) -> None: ...

class StatBlobResponse(_message.Message):
    __slots__ = ("digest", "size")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class PresignBlobRequest(_message.Message):
    __slots__ = ("digest",)
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    digest: str
    def __init__(self, digest: _Optional[str] = ...) -> None: ...

class PresignBlobResponse(_message.Message):
    __slots__ = ("digest", "url", "expires_in_seconds", "unavailable")
    class Unavailable(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        UNAVAILABLE_UNSPECIFIED: _ClassVar[PresignBlobResponse.Unavailable]
        UNAVAILABLE_DISABLED: _ClassVar[PresignBlobResponse.Unavailable]
        UNAVAILABLE_BACKEND: _ClassVar[PresignBlobResponse.Unavailable]
    UNAVAILABLE_UNSPECIFIED: PresignBlobResponse.Unavailable
    UNAVAILABLE_DISABLED: PresignBlobResponse.Unavailable
    UNAVAILABLE_BACKEND: PresignBlobResponse.Unavailable
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_FIELD_NUMBER: _ClassVar[int]
    digest: str
    url: str
    expires_in_seconds: int
    unavailable: PresignBlobResponse.Unavailable
    def __init__(self, digest: _Optional[str] = ..., url: _Optional[str] = ..., expires_in_seconds: _Optional[int] = ..., unavailable: _Optional[_Union[PresignBlobResponse.Unavailable, str]] = ...) -> None: ...

class LocateBlobRequest(_message.Message):
    __slots__ = ("digest",)
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    digest: str
    def __init__(self, digest: _Optional[str] = ...) -> None: ...

class LocateBlobResponse(_message.Message):
    __slots__ = ("digest", "path", "size")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    digest: str
    path: str
    size: int
    def __init__(self, digest: _Optional[str] = ..., path: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...
