"""What the internal services answer, as small frozen values the gateway can hold without protobuf."""

from __future__ import annotations

import dataclasses


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
class AccessResult:
    """Which of the asked capabilities (names such as "DOWNLOAD_ARTIFACTS") a user holds on a repository."""

    granted: frozenset[str]
    denial_reason: str = ""


@dataclasses.dataclass(frozen=True)
class IssuedKey:
    """A key just issued. Its secret is shown once: it never appears in a repr, a log or a cache key."""

    key_id: str
    secret: str = dataclasses.field(repr=False)
    prefix: str


@dataclasses.dataclass(frozen=True)
class KeyInfo:
    """An authenticated API key and the principal it acts for (no secret)."""

    key_id: str
    org: str
    #: The owning user; empty for a service key.
    user_id: str
    services: frozenset[str]
    #: Unix seconds; 0 when the key never expires.
    expires_at: int = 0
    prefix: str = ""
    key_type: str = "PERSONAL"


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
class TagPage:
    repository: str
    tags: tuple[str, ...]
    #: True when more tags follow the last one returned.
    more: bool


@dataclasses.dataclass(frozen=True)
class BlobInfo:
    digest: str
    size: int


@dataclasses.dataclass(frozen=True)
class UploadStatus:
    upload_id: str
    owner: str
    committed_size: int
