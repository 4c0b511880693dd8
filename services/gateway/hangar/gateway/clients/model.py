"""What the internal services answer, as small frozen values the gateway can hold without protobuf."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Org:
    org_id: str
    name: str
    display_name: str


@dataclasses.dataclass(frozen=True)
class CreatedOrg:
    """An org just created, with its first owner."""

    org_id: str
    org: str
    owner_user_id: str


@dataclasses.dataclass(frozen=True)
class User:
    user_id: str
    email: str
    display_name: str


@dataclasses.dataclass(frozen=True)
class Team:
    org: str
    name: str


@dataclasses.dataclass(frozen=True)
class Membership:
    """The roles (names such as "REGISTRY_USER") a user holds at an org (`team` empty) or one team of it."""

    org: str
    team: str
    roles: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Member:
    """A user with memberships: all of them (`get_member`), or those in one org (`list_users`)."""

    user: User
    memberships: tuple[Membership, ...]


@dataclasses.dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing; `next_page_token` is empty on the last page."""

    items: tuple[T, ...]
    next_page_token: str = ""


@dataclasses.dataclass(frozen=True)
class Permission:
    """Identity's answer to "may this user do that": allowed, or one sentence saying why not."""

    allowed: bool
    denial_reason: str = ""


@dataclasses.dataclass(frozen=True)
class Invitation:
    invitation_id: str
    org: str
    #: Empty for an org-level invitation.
    team: str
    email: str
    display_name: str
    roles: tuple[str, ...]
    invited_by: str
    #: Unix seconds.
    expires_at: int
    #: pending, accepted or expired.
    status: str


@dataclasses.dataclass(frozen=True)
class IssuedInvitation:
    """An invitation just made, with its one-time acceptance token (never in a repr, a log or a cache)."""

    invitation: Invitation
    token: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class Session:
    """A session just started by a login; its token is shown once."""

    token: str = dataclasses.field(repr=False)
    #: Unix seconds.
    expires_at: int
    user: User


@dataclasses.dataclass(frozen=True)
class VerifiedSession:
    """Who a session token belongs to (no token)."""

    session_id: str
    user: User
    #: Unix seconds.
    expires_at: int


@dataclasses.dataclass(frozen=True)
class AuditEvent:
    event_id: str
    #: Stable type name, e.g. hangar.identity.v1.UserRemoved.
    type: str
    #: The service that recorded it.
    service: str
    org: str
    #: The user who caused it; empty for the system.
    actor: str
    #: Unix microseconds.
    time: int
    #: The event's public fields as JSON.
    payload_json: str
    correlation_id: str = ""
    causation_id: str = ""


@dataclasses.dataclass(frozen=True)
class AccessResult:
    """Which of the asked capabilities (names such as "DOWNLOAD_ARTIFACTS") a user holds on a repository."""

    granted: frozenset[str]
    denial_reason: str = ""


@dataclasses.dataclass(frozen=True)
class KeyScope:
    """One grant of a service key: actions (get, list, push, delete) x entity types (container, model,
    resource, chart; empty means all), within the org, or narrowed to one team or one repository."""

    actions: frozenset[str]
    entity_types: frozenset[str] = frozenset()
    #: Narrows the scope to one team's repositories (org/team/*); empty for the whole org.
    team: str = ""
    #: Narrows the scope to one repository (org/name or org/team/name); empty for all in the scope.
    repository: str = ""


@dataclasses.dataclass(frozen=True)
class KeyInfo:
    """An API key's metadata (an authenticated key, or one listed): never its secret."""

    key_id: str
    org: str
    #: The owning user; empty for a service key.
    user_id: str
    services: frozenset[str]
    #: Unix seconds; 0 when the key never expires.
    expires_at: int = 0
    prefix: str = ""
    #: PERSONAL, SERVICE or LEGACY.
    key_type: str = "PERSONAL"
    #: Service keys only: what the key may do, each scope granting on its own.
    scopes: tuple[KeyScope, ...] = ()
    name: str = ""
    #: ACTIVE, INACTIVE, REVOKED or EXPIRED.
    status: str = "ACTIVE"
    #: Unix seconds; 0 when unknown / never.
    created_at: int = 0
    last_used_at: int = 0
    #: The user who issued the key (for service keys: the admin who created it).
    created_by: str = ""


@dataclasses.dataclass(frozen=True)
class IssuedKey:
    """A key just issued or rotated. Its secret is shown once: never in a repr, a log or a cache key."""

    key: KeyInfo
    secret: str = dataclasses.field(repr=False)

    @property
    def key_id(self) -> str:
        return self.key.key_id

    @property
    def prefix(self) -> str:
        return self.key.prefix


@dataclasses.dataclass(frozen=True)
class StoredManifest:
    digest: str
    media_type: str
    content: bytes = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class PutManifestResult:
    digest: str
    #: The digest of the manifest's subject, when it has one; else empty.
    subject_digest: str = ""


@dataclasses.dataclass(frozen=True)
class DeletedManifest:
    """What a manifest delete removed: by digest the manifest and its tags; by tag that tag alone."""

    #: The manifest deleted, or the one the deleted tag pointed at.
    digest: str
    #: The tags deleted, in lexical order.
    tags: tuple[str, ...]
    manifest_deleted: bool


@dataclasses.dataclass(frozen=True)
class TagPage:
    repository: str
    tags: tuple[str, ...]
    #: True when more tags follow the last one returned.
    more: bool


@dataclasses.dataclass(frozen=True)
class Referrer:
    """A manifest whose subject is a given digest: a descriptor of the referrers index."""

    media_type: str
    digest: str
    size: int
    #: The manifest's artifactType, else its config's media type; "" when it has neither.
    artifact_type: str = ""
    annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class RepositoryPage:
    repositories: tuple[str, ...]
    #: True when more names follow the last one returned.
    more: bool


@dataclasses.dataclass(frozen=True)
class BlobInfo:
    digest: str
    size: int
    #: Where a just-committed blob's file lies in the blob directory shared with a filesystem blobstore
    #: ('/'-separated), when the commit said (`commit_upload`); never part of equality.
    path: str | None = dataclasses.field(default=None, compare=False)


@dataclasses.dataclass(frozen=True)
class BlobUrl:
    """A presigned URL from which a client may GET a blob straight from storage, for `expires_in` seconds
    from when the blobstore signed it. A bearer capability: kept out of reprs, never logged."""

    digest: str
    url: str = dataclasses.field(repr=False)
    expires_in: int


@dataclasses.dataclass(frozen=True)
class BlobLocation:
    """Where a stored blob's file lies, relative to the blob directory the blobstore shares (`path`, '/'-
    separated; None when its backend has no files), and its size."""

    digest: str
    path: str | None
    size: int


@dataclasses.dataclass(frozen=True)
class WrittenHash:
    """The sha256 (hex) of an upload's first `size` bytes, all written by this process into the shared
    upload file and hashed as they were written (the blobstore's `WrittenHash`)."""

    size: int
    sha256: str


@dataclasses.dataclass(frozen=True)
class UploadStatus:
    upload_id: str
    owner: str
    committed_size: int
    #: The upload's data file relative to the blob directory shared with a filesystem blobstore
    #: ('/'-separated; None when its backend has no files).
    path: str | None = None
