"""The four internal services as the gateway sees them: one Protocol each, met by the gRPC clients and fakes.

Every method raises `hangar.kit.errors.DomainError` (rebuilt from the service's status and trailers), never
a gRPC exception; `serving()` answers the service's gRPC health check and never raises.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from typing import Protocol

from hangar.gateway.clients.model import (
    AccessResult,
    AuditEvent,
    BlobInfo,
    BlobLocation,
    BlobUrl,
    CreatedOrg,
    DeletedManifest,
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


class IdentityPort(Protocol):
    async def create_org(
        self, name: str, display_name: str, owner_email: str, owner_display_name: str
    ) -> CreatedOrg: ...

    async def get_org(self, name: str) -> Org: ...

    async def get_user(self, user_id: str) -> User: ...

    async def get_user_by_email(self, email: str) -> User: ...

    async def add_user(
        self, org: str, email: str, display_name: str, roles: Sequence[str], team: str = ""
    ) -> User: ...

    async def remove_user(self, org: str, user_id: str) -> None: ...

    async def check_access(
        self, user_id: str, repository: str, capabilities: Iterable[str]
    ) -> AccessResult: ...

    async def get_member(self, user_id: str) -> Member: ...

    async def create_team(self, org: str, team: str) -> Team: ...

    async def list_teams(self, org: str) -> tuple[Team, ...]: ...

    async def list_users(
        self, org: str, team: str = "", *, page_size: int = 0, page_token: str = ""
    ) -> Page[Member]: ...

    async def set_roles(
        self, org: str, user_id: str, roles: Sequence[str], team: str = ""
    ) -> tuple[Membership, ...]: ...

    async def remove_user_from_team(self, org: str, team: str, user_id: str) -> None: ...

    async def check_org_access(
        self, user_id: str, org: str, capability: str, team: str = ""
    ) -> Permission: ...

    async def check_grant(
        self,
        granter_user_id: str,
        org: str,
        roles: Sequence[str],
        *,
        team: str = "",
        user_id: str = "",
        email: str = "",
    ) -> Permission: ...

    async def invite_user(
        self,
        org: str,
        email: str,
        display_name: str,
        roles: Sequence[str],
        *,
        invited_by: str,
        team: str = "",
    ) -> IssuedInvitation: ...

    async def accept_invitation(self, token: str, password: str, display_name: str = "") -> Member: ...

    async def login(self, email: str, password: str) -> Session: ...

    async def verify_session(self, token: str) -> VerifiedSession: ...

    async def logout(self, token: str) -> None: ...

    async def list_events(
        self,
        org: str,
        *,
        types: Sequence[str] = (),
        actor: str = "",
        since: int = 0,
        page_size: int = 0,
        page_token: str = "",
    ) -> Page[AuditEvent]: ...

    async def serving(self) -> bool: ...


class KeysPort(Protocol):
    async def issue_personal_key(
        self, org: str, user_id: str, name: str, services: Sequence[str], expires_in_seconds: int = 0
    ) -> IssuedKey: ...

    async def issue_service_key(
        self,
        org: str,
        name: str,
        services: Sequence[str],
        scopes: Iterable[KeyScope],
        *,
        expires_in_seconds: int = 0,
        created_by: str = "",
    ) -> IssuedKey: ...

    async def issue_legacy_key(self, org: str, user_id: str) -> IssuedKey: ...

    async def authenticate(self, secret: str) -> KeyInfo: ...

    async def get_key(self, key_id: str) -> KeyInfo: ...

    async def list_keys(self, user_id: str) -> tuple[KeyInfo, ...]: ...

    async def list_org_keys(
        self,
        org: str,
        *,
        page_size: int = 0,
        page_token: str = "",
        user_id: str = "",
        include_dead: bool = False,
    ) -> Page[KeyInfo]: ...

    async def rotate_key(self, key_id: str) -> IssuedKey: ...

    async def set_key_active(self, key_id: str, active: bool) -> KeyInfo: ...

    async def update_key(
        self,
        key_id: str,
        *,
        name: str | None = None,
        services: Sequence[str] | None = None,
        scopes: Iterable[KeyScope] | None = None,
    ) -> KeyInfo: ...

    async def revoke_key(self, key_id: str, reason: str) -> None: ...

    async def delete_key(self, key_id: str) -> None: ...

    async def serving(self) -> bool: ...


class RegistryPort(Protocol):
    async def put_manifest(
        self, repository: str, reference: str, media_type: str, content: bytes, *, config: bytes = b""
    ) -> PutManifestResult: ...

    async def get_manifest(self, repository: str, reference: str) -> StoredManifest: ...

    async def delete_manifest(self, repository: str, reference: str) -> DeletedManifest: ...

    async def list_tags(self, repository: str, page_size: int = 0, last: str = "") -> TagPage: ...

    async def list_referrers(
        self, repository: str, subject_digest: str, artifact_type: str = ""
    ) -> tuple[Referrer, ...]: ...

    async def list_repositories(self, page_size: int = 0, last: str = "") -> RepositoryPage: ...

    async def link_blob(self, repository: str, digest: str, size: int) -> None: ...

    async def stat_blob(self, repository: str, digest: str) -> BlobInfo: ...

    async def unlink_blob(self, repository: str, digest: str) -> BlobInfo:
        """Remove a blob from a repository (blob DELETE); the blob unlinked. BLOB_REFERENCED (detail: the
        manifests naming it) while a manifest of the repository names it; BLOB_UNKNOWN, NAME_UNKNOWN."""
        ...

    async def serving(self) -> bool: ...


class BlobstorePort(Protocol):
    async def start_upload(self, owner: str) -> str: ...

    async def open_upload(self, owner: str) -> UploadStatus:
        """`start_upload`, answering the new upload's status (empty; with its data file, if it has one)."""
        ...

    async def open_uploads(self, owner: str, count: int) -> list[UploadStatus]:
        """`count` uploads opened at once (1 to 16; one call, one transaction), as `open_upload` answers
        each."""
        ...

    async def write(
        self, upload_id: str, offset: int | None, chunks: AsyncIterable[bytes], *, owner: str = ""
    ) -> int:
        """Append at `offset` (None: at the upload's end); the upload's size after."""
        ...

    async def query_write_status(self, upload_id: str, *, owner: str = "") -> UploadStatus: ...

    async def commit_upload(
        self, upload_id: str, digest: str, *, owner: str = "", written: WrittenHash | None = None
    ) -> BlobInfo:
        """Verify and store the upload as the blob `digest`; `written`: what this process hashed of the
        bytes it wrote into the shared upload file (the blobstore then need not read them again)."""
        ...

    async def cancel_upload(self, upload_id: str, *, owner: str = "") -> None: ...

    def read(self, digest: str, offset: int = 0, limit: int = 0) -> AsyncIterator[bytes]: ...

    async def stat_blob(self, digest: str) -> BlobInfo: ...

    async def presign_blob(self, digest: str) -> BlobUrl | None:
        """A presigned URL of a stored blob, or None when the blobstore gives none (filesystem, or redirects
        off). NotFound (BLOB_UNKNOWN) if there is no such blob."""
        ...

    async def locate_blob(self, digest: str) -> BlobLocation:
        """Where a stored blob's file lies relative to the blobstore's blob directory (path None when its
        backend has no files). NotFound (BLOB_UNKNOWN) if there is no such blob."""
        ...

    async def serving(self) -> bool: ...
