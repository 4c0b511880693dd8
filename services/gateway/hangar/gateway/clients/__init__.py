"""Typed async clients of the internal services (identity, keys, registry, blobstore) over gRPC.

Callers never touch stubs or protobuf: methods take and return plain values and small frozen dataclasses,
and raise `hangar.kit.errors.DomainError` (rebuilt with `error_from_rpc`) when a service refuses. The
Protocols in `ports` are what the edge depends on; `fakes` implements them in memory for tests.
"""

from hangar.gateway.clients.blobstore import BlobstoreClient
from hangar.gateway.clients.identity import IdentityClient
from hangar.gateway.clients.keys import KeysClient
from hangar.gateway.clients.model import (
    AccessResult,
    AuditEvent,
    BlobInfo,
    BlobLocation,
    BlobUrl,
    CreatedOrg,
    Invitation,
    IssuedInvitation,
    IssuedKey,
    KeyInfo,
    KeyScope,
    Member,
    Membership,
    Org,
    Page,
    Permission,
    PutManifestResult,
    Referrer,
    RepositoryPage,
    Session,
    StoredManifest,
    TagPage,
    Team,
    UploadStatus,
    User,
    VerifiedSession,
    WrittenHash,
)
from hangar.gateway.clients.ports import BlobstorePort, IdentityPort, KeysPort, RegistryPort
from hangar.gateway.clients.registry import RegistryClient
from hangar.gateway.clients.services import Services

__all__ = [
    "AccessResult",
    "AuditEvent",
    "BlobInfo",
    "BlobLocation",
    "BlobUrl",
    "BlobstoreClient",
    "BlobstorePort",
    "CreatedOrg",
    "IdentityClient",
    "IdentityPort",
    "Invitation",
    "IssuedInvitation",
    "IssuedKey",
    "KeyInfo",
    "KeyScope",
    "KeysClient",
    "KeysPort",
    "Member",
    "Membership",
    "Org",
    "Page",
    "Permission",
    "PutManifestResult",
    "Referrer",
    "RegistryClient",
    "RegistryPort",
    "RepositoryPage",
    "Services",
    "Session",
    "StoredManifest",
    "TagPage",
    "Team",
    "UploadStatus",
    "User",
    "VerifiedSession",
    "WrittenHash",
]
