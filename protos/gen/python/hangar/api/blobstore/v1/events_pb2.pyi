from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class UploadStarted(_message.Message):
    __slots__ = ("upload_id", "owner")
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    owner: str
    def __init__(self, upload_id: _Optional[str] = ..., owner: _Optional[str] = ...) -> None: ...

class BlobStored(_message.Message):
    __slots__ = ("digest", "size", "upload_id", "new_content")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_CONTENT_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    upload_id: str
    new_content: bool
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ..., upload_id: _Optional[str] = ..., new_content: _Optional[bool] = ...) -> None: ...

class UploadCancelled(_message.Message):
    __slots__ = ("upload_id", "reason")
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    reason: str
    def __init__(self, upload_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class BlobCondemned(_message.Message):
    __slots__ = ("digest", "generation", "condemned_at")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    CONDEMNED_AT_FIELD_NUMBER: _ClassVar[int]
    digest: str
    generation: int
    condemned_at: int
    def __init__(self, digest: _Optional[str] = ..., generation: _Optional[int] = ..., condemned_at: _Optional[int] = ...) -> None: ...

class BlobSpared(_message.Message):
    __slots__ = ("digest", "generation", "reason")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    digest: str
    generation: int
    reason: str
    def __init__(self, digest: _Optional[str] = ..., generation: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class BlobDeleted(_message.Message):
    __slots__ = ("digest", "size")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...
