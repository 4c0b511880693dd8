from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PutManifestRequest(_message.Message):
    __slots__ = ("repository", "reference", "media_type", "content", "config")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    repository: str
    reference: str
    media_type: str
    content: bytes
    config: bytes
    def __init__(self, repository: _Optional[str] = ..., reference: _Optional[str] = ..., media_type: _Optional[str] = ..., content: _Optional[bytes] = ..., config: _Optional[bytes] = ...) -> None: ...

class PutManifestResponse(_message.Message):
    __slots__ = ("digest", "subject_digest")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    digest: str
    subject_digest: str
    def __init__(self, digest: _Optional[str] = ..., subject_digest: _Optional[str] = ...) -> None: ...

class GetManifestRequest(_message.Message):
    __slots__ = ("repository", "reference")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    repository: str
    reference: str
    def __init__(self, repository: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class GetManifestResponse(_message.Message):
    __slots__ = ("digest", "media_type", "content")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    digest: str
    media_type: str
    content: bytes
    def __init__(self, digest: _Optional[str] = ..., media_type: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class ListTagsRequest(_message.Message):
    __slots__ = ("repository", "page_size", "last")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    repository: str
    page_size: int
    last: str
    def __init__(self, repository: _Optional[str] = ..., page_size: _Optional[int] = ..., last: _Optional[str] = ...) -> None: ...

class ListTagsResponse(_message.Message):
    __slots__ = ("repository", "tags", "more")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    repository: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    more: bool
    def __init__(self, repository: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., more: _Optional[bool] = ...) -> None: ...

class LinkBlobRequest(_message.Message):
    __slots__ = ("repository", "digest", "size")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    repository: str
    digest: str
    size: int
    def __init__(self, repository: _Optional[str] = ..., digest: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class LinkBlobResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StatBlobRequest(_message.Message):
    __slots__ = ("repository", "digest")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    repository: str
    digest: str
    def __init__(self, repository: _Optional[str] = ..., digest: _Optional[str] = ...) -> None: ...

class StatBlobResponse(_message.Message):
    __slots__ = ("digest", "size")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class UnlinkBlobRequest(_message.Message):
    __slots__ = ("repository", "digest")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    repository: str
    digest: str
    def __init__(self, repository: _Optional[str] = ..., digest: _Optional[str] = ...) -> None: ...

class UnlinkBlobResponse(_message.Message):
    __slots__ = ("digest", "size")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    digest: str
    size: int
    def __init__(self, digest: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class DeleteManifestRequest(_message.Message):
    __slots__ = ("repository", "reference")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    repository: str
    reference: str
    def __init__(self, repository: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class DeleteManifestResponse(_message.Message):
    __slots__ = ("digest", "deleted_tags", "manifest_deleted")
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    DELETED_TAGS_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_DELETED_FIELD_NUMBER: _ClassVar[int]
    digest: str
    deleted_tags: _containers.RepeatedScalarFieldContainer[str]
    manifest_deleted: bool
    def __init__(self, digest: _Optional[str] = ..., deleted_tags: _Optional[_Iterable[str]] = ..., manifest_deleted: _Optional[bool] = ...) -> None: ...

class ListReferrersRequest(_message.Message):
    __slots__ = ("repository", "subject_digest", "artifact_type")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_TYPE_FIELD_NUMBER: _ClassVar[int]
    repository: str
    subject_digest: str
    artifact_type: str
    def __init__(self, repository: _Optional[str] = ..., subject_digest: _Optional[str] = ..., artifact_type: _Optional[str] = ...) -> None: ...

class Descriptor(_message.Message):
    __slots__ = ("media_type", "digest", "size", "artifact_type", "annotations")
    class AnnotationsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    media_type: str
    digest: str
    size: int
    artifact_type: str
    annotations: _containers.ScalarMap[str, str]
    def __init__(self, media_type: _Optional[str] = ..., digest: _Optional[str] = ..., size: _Optional[int] = ..., artifact_type: _Optional[str] = ..., annotations: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListReferrersResponse(_message.Message):
    __slots__ = ("referrers",)
    REFERRERS_FIELD_NUMBER: _ClassVar[int]
    referrers: _containers.RepeatedCompositeFieldContainer[Descriptor]
    def __init__(self, referrers: _Optional[_Iterable[_Union[Descriptor, _Mapping]]] = ...) -> None: ...

class ListRepositoriesRequest(_message.Message):
    __slots__ = ("page_size", "last")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    last: str
    def __init__(self, page_size: _Optional[int] = ..., last: _Optional[str] = ...) -> None: ...

class ListRepositoriesResponse(_message.Message):
    __slots__ = ("repositories", "more")
    REPOSITORIES_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    repositories: _containers.RepeatedScalarFieldContainer[str]
    more: bool
    def __init__(self, repositories: _Optional[_Iterable[str]] = ..., more: _Optional[bool] = ...) -> None: ...
