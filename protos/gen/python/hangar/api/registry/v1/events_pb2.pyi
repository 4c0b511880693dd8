from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class RepositoryCreated(_message.Message):
    __slots__ = ("repository", "kind")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    repository: str
    kind: str
    def __init__(self, repository: _Optional[str] = ..., kind: _Optional[str] = ...) -> None: ...

class BlobLinked(_message.Message):
    __slots__ = ("repository", "digest", "size")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    repository: str
    digest: str
    size: int
    def __init__(self, repository: _Optional[str] = ..., digest: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class ManifestPushed(_message.Message):
    __slots__ = ("repository", "digest", "media_type", "size", "subject_digest", "artifact_type", "children", "content")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    repository: str
    digest: str
    media_type: str
    size: int
    subject_digest: str
    artifact_type: str
    children: _containers.RepeatedScalarFieldContainer[str]
    content: bytes
    def __init__(self, repository: _Optional[str] = ..., digest: _Optional[str] = ..., media_type: _Optional[str] = ..., size: _Optional[int] = ..., subject_digest: _Optional[str] = ..., artifact_type: _Optional[str] = ..., children: _Optional[_Iterable[str]] = ..., content: _Optional[bytes] = ...) -> None: ...

class TagMoved(_message.Message):
    __slots__ = ("repository", "tag", "digest", "previous_digest")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_DIGEST_FIELD_NUMBER: _ClassVar[int]
    repository: str
    tag: str
    digest: str
    previous_digest: str
    def __init__(self, repository: _Optional[str] = ..., tag: _Optional[str] = ..., digest: _Optional[str] = ..., previous_digest: _Optional[str] = ...) -> None: ...

class ManifestDeleted(_message.Message):
    __slots__ = ("repository", "digest")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    repository: str
    digest: str
    def __init__(self, repository: _Optional[str] = ..., digest: _Optional[str] = ...) -> None: ...

class TagDeleted(_message.Message):
    __slots__ = ("repository", "tag", "digest")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    repository: str
    tag: str
    digest: str
    def __init__(self, repository: _Optional[str] = ..., tag: _Optional[str] = ..., digest: _Optional[str] = ...) -> None: ...

class BlobUnlinked(_message.Message):
    __slots__ = ("repository", "digest", "size")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    repository: str
    digest: str
    size: int
    def __init__(self, repository: _Optional[str] = ..., digest: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class BlobReferenced(_message.Message):
    __slots__ = ("digest", "repositories", "generation")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    REPOSITORIES_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    digest: str
    repositories: int
    generation: int
    def __init__(self, digest: _Optional[str] = ..., repositories: _Optional[int] = ..., generation: _Optional[int] = ...) -> None: ...

class BlobDereferenced(_message.Message):
    __slots__ = ("digest", "repositories", "generation")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    REPOSITORIES_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    digest: str
    repositories: int
    generation: int
    def __init__(self, digest: _Optional[str] = ..., repositories: _Optional[int] = ..., generation: _Optional[int] = ...) -> None: ...

class BlobOrphaned(_message.Message):
    __slots__ = ("digest", "generation")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    digest: str
    generation: int
    def __init__(self, digest: _Optional[str] = ..., generation: _Optional[int] = ...) -> None: ...
