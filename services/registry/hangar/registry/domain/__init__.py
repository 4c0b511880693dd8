"""Registry domain: digests, names, tags, manifests and the Repository aggregate; pure, no I/O.

Error codes raised here are the OCI ones where the spec has one (DIGEST_INVALID, NAME_INVALID, TAG_INVALID,
MANIFEST_INVALID, MANIFEST_BLOB_UNKNOWN, MANIFEST_UNKNOWN, NAME_UNKNOWN, PAGINATION_NUMBER_INVALID), so the
edge can pass them through. A manifest over MAX_MANIFEST_BYTES raises ManifestTooLarge with code
SIZE_INVALID, distinct from MANIFEST_INVALID so that the gateway can answer it with 413 Payload Too Large on
the manifest route; a blob linked with an impossible size, or a size other than its earlier link's, is
SIZE_INVALID too. Deleting a manifest that an index of its repository still lists is MANIFEST_REFERENCED
(FailedPrecondition; the spec has no code for it: the gateway answers 409 with DENIED); deleting a blob
that a manifest of its repository names is BLOB_REFERENCED, likewise.
"""

from hangar.registry.domain.digests import Digest
from hangar.registry.domain.manifests import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    IMAGE_MANIFEST_TYPES,
    INDEX_TYPES,
    MANIFEST_MEDIA_TYPES,
    MAX_CONTENT_SIZE,
    MAX_MANIFEST_BYTES,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    ManifestTooLarge,
    ParsedManifest,
    invalid_manifest,
    manifest_blob_digests,
    parse_manifest,
    stored_annotations,
)
from hangar.registry.domain.names import (
    MAX_REPOSITORY_NAME_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAG_PAGE_SIZE,
    Tag,
    paginate_tags,
    parse_reference,
    validate_page_size,
    validate_repository_name,
    validate_tag,
)
from hangar.registry.domain.repository import (
    REPOSITORY_KINDS,
    BlobLink,
    BlobLinked,
    BlobUnlinked,
    ManifestDeleted,
    ManifestPushed,
    Repository,
    RepositoryCreated,
    TagDeleted,
    TagMoved,
)
from hangar.registry.domain.usage import BlobDereferenced, BlobOrphaned, BlobReferenced, BlobUsage

__all__ = [
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "IMAGE_MANIFEST_TYPES",
    "INDEX_TYPES",
    "MANIFEST_MEDIA_TYPES",
    "MAX_CONTENT_SIZE",
    "MAX_MANIFEST_BYTES",
    "MAX_REPOSITORY_NAME_LENGTH",
    "MAX_TAG_LENGTH",
    "MAX_TAG_PAGE_SIZE",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "REPOSITORY_KINDS",
    "BlobDereferenced",
    "BlobLink",
    "BlobLinked",
    "BlobOrphaned",
    "BlobReferenced",
    "BlobUnlinked",
    "BlobUsage",
    "Descriptor",
    "Digest",
    "ManifestDeleted",
    "ManifestPushed",
    "ManifestTooLarge",
    "ParsedManifest",
    "Repository",
    "RepositoryCreated",
    "Tag",
    "TagDeleted",
    "TagMoved",
    "invalid_manifest",
    "manifest_blob_digests",
    "paginate_tags",
    "parse_manifest",
    "parse_reference",
    "stored_annotations",
    "validate_page_size",
    "validate_repository_name",
    "validate_tag",
]
