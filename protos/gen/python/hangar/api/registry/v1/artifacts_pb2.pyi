from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RepositoryMetadata(_message.Message):
    __slots__ = ("description", "labels", "overview", "publisher", "built_by", "display_name", "application", "framework", "format", "precision", "setup", "quick_start", "release_notes")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    OVERVIEW_FIELD_NUMBER: _ClassVar[int]
    PUBLISHER_FIELD_NUMBER: _ClassVar[int]
    BUILT_BY_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    SETUP_FIELD_NUMBER: _ClassVar[int]
    QUICK_START_FIELD_NUMBER: _ClassVar[int]
    RELEASE_NOTES_FIELD_NUMBER: _ClassVar[int]
    description: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    overview: str
    publisher: str
    built_by: str
    display_name: str
    application: str
    framework: str
    format: str
    precision: str
    setup: str
    quick_start: str
    release_notes: str
    def __init__(self, description: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., overview: _Optional[str] = ..., publisher: _Optional[str] = ..., built_by: _Optional[str] = ..., display_name: _Optional[str] = ..., application: _Optional[str] = ..., framework: _Optional[str] = ..., format: _Optional[str] = ..., precision: _Optional[str] = ..., setup: _Optional[str] = ..., quick_start: _Optional[str] = ..., release_notes: _Optional[str] = ...) -> None: ...

class Repository(_message.Message):
    __slots__ = ("name", "kind", "metadata", "latest_version", "latest_policy", "version_count", "size", "created_at_ms", "updated_at_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    LATEST_VERSION_FIELD_NUMBER: _ClassVar[int]
    LATEST_POLICY_FIELD_NUMBER: _ClassVar[int]
    VERSION_COUNT_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: str
    metadata: RepositoryMetadata
    latest_version: str
    latest_policy: str
    version_count: int
    size: int
    created_at_ms: int
    updated_at_ms: int
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[RepositoryMetadata, _Mapping]] = ..., latest_version: _Optional[str] = ..., latest_policy: _Optional[str] = ..., version_count: _Optional[int] = ..., size: _Optional[int] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class CreateRepositoryRequest(_message.Message):
    __slots__ = ("name", "kind", "metadata", "latest_policy")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    LATEST_POLICY_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: str
    metadata: RepositoryMetadata
    latest_policy: str
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[str] = ..., metadata: _Optional[_Union[RepositoryMetadata, _Mapping]] = ..., latest_policy: _Optional[str] = ...) -> None: ...

class CreateRepositoryResponse(_message.Message):
    __slots__ = ("repository",)
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    repository: Repository
    def __init__(self, repository: _Optional[_Union[Repository, _Mapping]] = ...) -> None: ...

class UpdateRepositoryRequest(_message.Message):
    __slots__ = ("name", "metadata", "fields")
    NAME_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    metadata: RepositoryMetadata
    fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., metadata: _Optional[_Union[RepositoryMetadata, _Mapping]] = ..., fields: _Optional[_Iterable[str]] = ...) -> None: ...

class UpdateRepositoryResponse(_message.Message):
    __slots__ = ("repository",)
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    repository: Repository
    def __init__(self, repository: _Optional[_Union[Repository, _Mapping]] = ...) -> None: ...

class GetRepositoryRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetRepositoryResponse(_message.Message):
    __slots__ = ("repository",)
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    repository: Repository
    def __init__(self, repository: _Optional[_Union[Repository, _Mapping]] = ...) -> None: ...

class SearchRepositoriesRequest(_message.Message):
    __slots__ = ("namespaces", "all_namespaces", "kind", "name_pattern", "labels", "page_size", "page_token")
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    ALL_NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_PATTERN_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    namespaces: _containers.RepeatedScalarFieldContainer[str]
    all_namespaces: bool
    kind: str
    name_pattern: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    page_size: int
    page_token: str
    def __init__(self, namespaces: _Optional[_Iterable[str]] = ..., all_namespaces: _Optional[bool] = ..., kind: _Optional[str] = ..., name_pattern: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class SearchRepositoriesResponse(_message.Message):
    __slots__ = ("repositories", "next_page_token")
    REPOSITORIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    repositories: _containers.RepeatedCompositeFieldContainer[Repository]
    next_page_token: str
    def __init__(self, repositories: _Optional[_Iterable[_Union[Repository, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class VersionMetadata(_message.Message):
    __slots__ = ("description", "accuracy", "epochs", "batch_size", "gpu_model", "memory_footprint_bytes", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
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
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, description: _Optional[str] = ..., accuracy: _Optional[str] = ..., epochs: _Optional[int] = ..., batch_size: _Optional[int] = ..., gpu_model: _Optional[str] = ..., memory_footprint_bytes: _Optional[int] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class VersionFile(_message.Message):
    __slots__ = ("path", "status", "digest", "size", "upload_id", "updated_at_ms")
    PATH_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    path: str
    status: str
    digest: str
    size: int
    upload_id: str
    updated_at_ms: int
    def __init__(self, path: _Optional[str] = ..., status: _Optional[str] = ..., digest: _Optional[str] = ..., size: _Optional[int] = ..., upload_id: _Optional[str] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class Version(_message.Message):
    __slots__ = ("repository", "version", "status", "metadata", "files", "manifest_digest", "base_version", "size", "created_at_ms", "committed_at_ms", "created_by")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_DIGEST_FIELD_NUMBER: _ClassVar[int]
    BASE_VERSION_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    status: str
    metadata: VersionMetadata
    files: _containers.RepeatedCompositeFieldContainer[VersionFile]
    manifest_digest: str
    base_version: str
    size: int
    created_at_ms: int
    committed_at_ms: int
    created_by: str
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ..., status: _Optional[str] = ..., metadata: _Optional[_Union[VersionMetadata, _Mapping]] = ..., files: _Optional[_Iterable[_Union[VersionFile, _Mapping]]] = ..., manifest_digest: _Optional[str] = ..., base_version: _Optional[str] = ..., size: _Optional[int] = ..., created_at_ms: _Optional[int] = ..., committed_at_ms: _Optional[int] = ..., created_by: _Optional[str] = ...) -> None: ...

class CreateVersionRequest(_message.Message):
    __slots__ = ("repository", "version", "metadata", "base_version", "create_kind", "created_by")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    BASE_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_KIND_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    metadata: VersionMetadata
    base_version: str
    create_kind: str
    created_by: str
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ..., metadata: _Optional[_Union[VersionMetadata, _Mapping]] = ..., base_version: _Optional[str] = ..., create_kind: _Optional[str] = ..., created_by: _Optional[str] = ...) -> None: ...

class CreateVersionResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: Version
    def __init__(self, version: _Optional[_Union[Version, _Mapping]] = ...) -> None: ...

class GetVersionRequest(_message.Message):
    __slots__ = ("repository", "version")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class GetVersionResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: Version
    def __init__(self, version: _Optional[_Union[Version, _Mapping]] = ...) -> None: ...

class ListVersionsRequest(_message.Message):
    __slots__ = ("repository", "order", "page_size", "page_token", "include_pending")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_PENDING_FIELD_NUMBER: _ClassVar[int]
    repository: str
    order: str
    page_size: int
    page_token: str
    include_pending: bool
    def __init__(self, repository: _Optional[str] = ..., order: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., include_pending: _Optional[bool] = ...) -> None: ...

class ListVersionsResponse(_message.Message):
    __slots__ = ("versions", "next_page_token")
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[Version]
    next_page_token: str
    def __init__(self, versions: _Optional[_Iterable[_Union[Version, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class BeginFileRequest(_message.Message):
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

class BeginFileResponse(_message.Message):
    __slots__ = ("file", "started")
    FILE_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    file: VersionFile
    started: bool
    def __init__(self, file: _Optional[_Union[VersionFile, _Mapping]] = ..., started: _Optional[bool] = ...) -> None: ...

class CompleteFileRequest(_message.Message):
    __slots__ = ("repository", "version", "path", "upload_id", "digest", "size")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    path: str
    upload_id: str
    digest: str
    size: int
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ..., path: _Optional[str] = ..., upload_id: _Optional[str] = ..., digest: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class CompleteFileResponse(_message.Message):
    __slots__ = ("file",)
    FILE_FIELD_NUMBER: _ClassVar[int]
    file: VersionFile
    def __init__(self, file: _Optional[_Union[VersionFile, _Mapping]] = ...) -> None: ...

class RemoveFileRequest(_message.Message):
    __slots__ = ("repository", "version", "path")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    path: str
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class RemoveFileResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetVersionConfigRequest(_message.Message):
    __slots__ = ("repository", "version")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class GetVersionConfigResponse(_message.Message):
    __slots__ = ("media_type", "content", "digest")
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    media_type: str
    content: bytes
    digest: str
    def __init__(self, media_type: _Optional[str] = ..., content: _Optional[bytes] = ..., digest: _Optional[str] = ...) -> None: ...

class CommitVersionRequest(_message.Message):
    __slots__ = ("repository", "version", "config_digest")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CONFIG_DIGEST_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    config_digest: str
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ..., config_digest: _Optional[str] = ...) -> None: ...

class CommitVersionResponse(_message.Message):
    __slots__ = ("version", "manifest")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    version: Version
    manifest: bytes
    def __init__(self, version: _Optional[_Union[Version, _Mapping]] = ..., manifest: _Optional[bytes] = ...) -> None: ...

class DeleteVersionRequest(_message.Message):
    __slots__ = ("repository", "version")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class DeleteVersionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetLatestRequest(_message.Message):
    __slots__ = ("repository", "version", "auto")
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    AUTO_FIELD_NUMBER: _ClassVar[int]
    repository: str
    version: str
    auto: bool
    def __init__(self, repository: _Optional[str] = ..., version: _Optional[str] = ..., auto: _Optional[bool] = ...) -> None: ...

class SetLatestResponse(_message.Message):
    __slots__ = ("repository",)
    REPOSITORY_FIELD_NUMBER: _ClassVar[int]
    repository: Repository
    def __init__(self, repository: _Optional[_Union[Repository, _Mapping]] = ...) -> None: ...
