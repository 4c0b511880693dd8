from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MetadataUpdated(_message.Message):
    __slots__ = ("repository", "fields", "description", "labels", "publisher", "built_by", "display_name", "application", "framework", "format", "precision", "overview", "setup", "quick_start", "release_notes")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    PUBLISHER_FIELD_NUMBER: _ClassVar[int]
    BUILT_BY_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    OVERVIEW_FIELD_NUMBER: _ClassVar[int]
    SETUP_FIELD_NUMBER: _ClassVar[int]
    QUICK_START_FIELD_NUMBER: _ClassVar[int]
    RELEASE_NOTES_FIELD_NUMBER: _ClassVar[int]
    repository: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    description: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    publisher: str
    built_by: str
    display_name: str
    application: str
    framework: str
    format: str
    precision: str
    overview: str
    setup: str
    quick_start: str
    release_notes: str
    def __init__(self, repository: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., publisher: _Optional[str] = ..., built_by: _Optional[str] = ..., display_name: _Optional[str] = ..., application: _Optional[str] = ..., framework: _Optional[str] = ..., format: _Optional[str] = ..., precision: _Optional[str] = ..., overview: _Optional[str] = ..., setup: _Optional[str] = ..., quick_start: _Optional[str] = ..., release_notes: _Optional[str] = ...) -> None: ...

class VersionAttribute(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class VersionDetails(_message.Message):
    __slots__ = ("description", "accuracy", "epochs", "batch_size", "gpu_model", "memory_footprint_bytes", "attributes")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    GPU_MODEL_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FOOTPRINT_BYTES_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    description: str
    accuracy: str
    epochs: int
    batch_size: int
    gpu_model: str
    memory_footprint_bytes: int
    attributes: _containers.RepeatedCompositeFieldContainer[VersionAttribute]
    def __init__(self, description: _Optional[str] = ..., accuracy: _Optional[str] = ..., epochs: _Optional[int] = ..., batch_size: _Optional[int] = ..., gpu_model: _Optional[str] = ..., memory_footprint_bytes: _Optional[int] = ..., attributes: _Optional[_Iterable[_Union[VersionAttribute, _Mapping]]] = ...) -> None: ...

class VersionFileRef(_message.Message):
    __slots__ = ("path", "digest", "size")
    PATH_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    path: str
    digest: str
    size: int
    def __init__(self, path: _Optional[str] = ..., digest: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class VersionCreated(_message.Message):
    __slots__ = ("repository", "version", "kind", "metadata", "base_version", "created_by", "inherited")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    BASE_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    INHERITED_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    kind: str
    metadata: VersionDetails
    base_version: str
    created_by: str
    inherited: _containers.RepeatedCompositeFieldContainer[VersionFileRef]
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[VersionDetails, _Mapping]] = ..., base_version: _Optional[str] = ..., created_by: _Optional[str] = ..., inherited: _Optional[_Iterable[_Union[VersionFileRef, _Mapping]]] = ...) -> None: ...

class FileUploadStarted(_message.Message):
    __slots__ = ("repository", "version", "path", "upload_id", "size")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    path: str
    upload_id: str
    size: int
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ..., path: _Optional[str] = ..., upload_id: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class FileUploaded(_message.Message):
    __slots__ = ("repository", "version", "path", "digest", "size")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    path: str
    digest: str
    size: int
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ..., path: _Optional[str] = ..., digest: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class FileRemoved(_message.Message):
    __slots__ = ("repository", "version", "path")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    path: str
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class VersionCommitted(_message.Message):
    __slots__ = ("repository", "version", "manifest_digest", "config_digest", "size", "file_count")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_DIGEST_FIELD_NUMBER: _ClassVar[int]
    CONFIG_DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    FILE_COUNT_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    manifest_digest: str
    config_digest: str
    size: int
    file_count: int
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ..., manifest_digest: _Optional[str] = ..., config_digest: _Optional[str] = ..., size: _Optional[int] = ..., file_count: _Optional[int] = ...) -> None: ...

class VersionDeleted(_message.Message):
    __slots__ = ("repository", "version", "manifest_digest")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_DIGEST_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    manifest_digest: str
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ..., manifest_digest: _Optional[str] = ...) -> None: ...

class LatestMoved(_message.Message):
    __slots__ = ("repository", "version", "previous_version")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VERSION_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    previous_version: str
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ..., previous_version: _Optional[str] = ...) -> None: ...

class LatestPolicyChanged(_message.Message):
    __slots__ = ("repository", "policy")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    repository: str
    policy: str
    def __init__(self, repository: _Optional[str] = ..., policy: _Optional[str] = ...) -> None: ...

class RepositoryKindChanged(_message.Message):
    __slots__ = ("repository", "kind", "previous_kind")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_KIND_FIELD_NUMBER: _ClassVar[int]
    repository: str
    kind: str
    previous_kind: str
    def __init__(self, repository: _Optional[str] = ..., kind: _Optional[str] = ..., previous_kind: _Optional[str] = ...) -> None: ...
