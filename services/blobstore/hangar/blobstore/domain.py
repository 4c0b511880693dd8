"""The blobstore's rules: digests, upload ids, byte ranges and the upload session aggregate (pure, no I/O)."""

from __future__ import annotations

import dataclasses
import enum
import re
from datetime import datetime, timedelta
from typing import ClassVar, Final

from hangar.kit.digests import Digest as Digest  # re-exported: the blobstore speaks of digests
from hangar.kit.errors import FailedPrecondition, InvalidArgument, NotFound, OutOfRange
from hangar.kit.events import Aggregate, DomainEvent

_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


def check_upload_id(upload_id: str) -> str:
    """An upload id is 32 lowercase hex characters (a uuid4 hex): safe as a storage key or a file name."""
    if _UPLOAD_ID.fullmatch(upload_id) is None:
        raise InvalidArgument(
            f"{upload_id!r} is not an upload id (32 lowercase hex characters)", code="BLOB_UPLOAD_INVALID"
        )
    return upload_id


def check_offset(offset: int, current_size: int) -> None:
    """Uploads are append-only (ByteStream): a write must start exactly at the bytes received so far."""
    if offset != current_size:
        raise OutOfRange(
            f"write at offset {offset} refused: the upload holds {current_size} bytes, expected offset "
            f"{current_size}",
            code="RANGE_INVALID",
        )


def resolve_range(size: int, offset: int = 0, length: int | None = None) -> tuple[int, int]:
    """The `[start, end)` bytes of a blob of `size` bytes that a read of `offset`/`length` covers.

    `length=None` reads to the end. The range must lie within the blob; an empty range at the very end is
    allowed, so a zero-byte blob can be read.
    """
    if offset < 0 or offset > size:
        raise OutOfRange(f"offset {offset} is outside a blob of {size} bytes", code="RANGE_INVALID")
    if length is None:
        return offset, size
    if length < 0 or offset + length > size:
        raise OutOfRange(
            f"range of {length} bytes at offset {offset} does not fit a blob of {size} bytes",
            code="RANGE_INVALID",
        )
    return offset, offset + length


@dataclasses.dataclass(frozen=True)
class WrittenHash:
    """What a writer sharing the blob directory says of an upload: it wrote the first `size` bytes of the
    upload's file itself, from the first, and they hash to `digest` (sha256, the one streaming algorithm).

    It is trusted as far as the writer is trusted with the directory itself (it could write any bytes
    there), and only when the upload holds exactly `size` bytes: then no other writer added any.
    """

    size: int
    digest: Digest

    def __post_init__(self) -> None:
        if self.size < 0:
            raise InvalidArgument(f"a written hash cannot cover {self.size} bytes", code="SIZE_INVALID")
        if self.digest.algorithm != "sha256":
            raise InvalidArgument(
                f"a written hash is sha256, not {self.digest.algorithm}", code="DIGEST_INVALID"
            )

    @classmethod
    def parse(cls, size: int, sha256_hex: str) -> WrittenHash:
        return cls(size, Digest("sha256", sha256_hex))


def verify_digest(expected: Digest, actual: Digest) -> None:
    """The bytes received must hash to the digest the client promised."""
    if expected != actual:
        raise InvalidArgument(
            f"digest mismatch: the upload was committed as {expected} but its content is {actual}",
            code="DIGEST_INVALID",
        )


MIN_REDIRECT_EXPIRY_SECONDS: Final = 60
MAX_REDIRECT_EXPIRY_SECONDS: Final = 7 * 24 * 3600  # SigV4's limit on a presigned URL
DEFAULT_REDIRECT_EXPIRY_SECONDS: Final = 20 * 60  # the reference registry's


def check_redirect_expiry(seconds: int) -> int:
    """A presigned URL lives long enough to start a download, and no longer than S3 allows.

    It is a bearer capability that outlives a revoked key until it expires, so the expiry bounds that window.
    """
    if not MIN_REDIRECT_EXPIRY_SECONDS <= seconds <= MAX_REDIRECT_EXPIRY_SECONDS:
        raise InvalidArgument(
            f"a presigned URL's expiry must be {MIN_REDIRECT_EXPIRY_SECONDS} to "
            f"{MAX_REDIRECT_EXPIRY_SECONDS} seconds, not {seconds}"
        )
    return seconds


class NoDirectUrl(enum.Enum):
    """Why a stored blob has no presigned URL to redirect a reader to."""

    DISABLED = "disabled"  # redirects are turned off
    BACKEND = "backend"  # the backend has no URLs to give (the filesystem)


DIGEST_MISMATCH: Final = "digest mismatch"
"""Why an upload whose content did not hash to the digest it was committed with was cancelled."""

CANCELLED_BY_CLIENT: Final = "cancelled by client"


class UploadState(enum.Enum):
    OPEN = "open"
    COMMITTED = "committed"
    CANCELLED = "cancelled"


def unknown_upload(upload_id: str) -> NotFound:
    return NotFound(f"upload {upload_id} does not exist", code="BLOB_UPLOAD_UNKNOWN")


def check_access(upload_id: str, owner: str | None, expected_owner: str | None) -> None:
    """A caller naming the repository it works in sees only that repository's uploads.

    `owner` is the upload's (None when there is no such upload); `expected_owner` the caller's (None when it
    names none). An upload of another repository is unknown to the caller, exactly like a missing one, so a
    caller cannot probe other repositories' upload ids.
    """
    if owner is None or (expected_owner is not None and owner != expected_owner):
        raise unknown_upload(upload_id)


def require_open(upload_id: str, state: UploadState | None, action: str) -> None:
    """Only an open upload accepts writes, a commit or a cancel."""
    if state is not UploadState.OPEN:
        shown = "unknown" if state is None else state.value
        raise FailedPrecondition(
            f"cannot {action} upload {upload_id}: it is {shown}, not open", code="BLOB_UPLOAD_UNKNOWN"
        )


@dataclasses.dataclass(frozen=True)
class UploadStarted(DomainEvent):
    upload_id: str
    owner: str


@dataclasses.dataclass(frozen=True)
class BlobStored(DomainEvent):
    """The upload was verified and its content is stored under `digest` (canonical `<alg>:<hex>` text).

    `new_content` is False when identical content was already stored (the upload was deduplicated).
    """

    upload_id: str
    digest: str
    size: int
    new_content: bool


@dataclasses.dataclass(frozen=True)
class UploadCancelled(DomainEvent):
    upload_id: str
    reason: str


class UploadSession(Aggregate):
    """A resumable upload into one repository (`owner`): open until it is committed or cancelled.

    The bytes themselves live in a `BlobBackend`; this aggregate keeps the rules and the history.
    """

    stream_prefix: ClassVar[str] = "upload"

    def __init__(self, id: str) -> None:
        super().__init__(id)
        self.owner = ""
        self.state: UploadState | None = None
        self.digest: Digest | None = None
        self.size: int | None = None

    @classmethod
    def start(cls, upload_id: str, owner: str) -> UploadSession:
        check_upload_id(upload_id)
        if not owner.strip():
            raise InvalidArgument("an upload belongs to a repository; owner is empty", code="NAME_INVALID")
        session = cls(upload_id)
        session.record(UploadStarted(upload_id=upload_id, owner=owner))
        return session

    @property
    def is_open(self) -> bool:
        return self.state is UploadState.OPEN

    def check_access(self, expected_owner: str | None) -> None:
        """NotFound (BLOB_UPLOAD_UNKNOWN) unless the upload exists and, if one is named, has this owner."""
        check_access(self.id, None if self.state is None else self.owner, expected_owner)

    def committed_as(self, digest: Digest) -> int | None:
        """The blob's size if this upload was already committed as `digest` (a retried commit), else None."""
        if self.state is UploadState.COMMITTED and self.digest == digest:
            return self.size
        return None

    def check_write(self, offset: int, current_size: int) -> None:
        """May bytes be appended at `offset` to an upload that holds `current_size` bytes?"""
        self._require_open("write to")
        check_offset(offset, current_size)

    def commit(self, expected_digest: Digest, actual_digest: Digest, size: int, new_content: bool) -> None:
        """Close the upload as a stored blob once its content is known to hash to `expected_digest`.

        On a mismatch this raises and records nothing: the caller cancels the session and discards the bytes.
        """
        self._require_open("commit")
        if size < 0:
            raise InvalidArgument(f"a blob cannot be {size} bytes long", code="SIZE_INVALID")
        verify_digest(expected_digest, actual_digest)
        self.record(
            BlobStored(upload_id=self.id, digest=str(expected_digest), size=size, new_content=new_content)
        )

    def cancel(self, reason: str) -> None:
        self._require_open("cancel")
        self.record(UploadCancelled(upload_id=self.id, reason=reason))

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, UploadStarted):
            self.owner = event.owner
            self.state = UploadState.OPEN
        elif isinstance(event, BlobStored):
            self.state = UploadState.COMMITTED
            self.digest = Digest.parse(event.digest)
            self.size = event.size
        elif isinstance(event, UploadCancelled):
            self.state = UploadState.CANCELLED
        else:  # pragma: no cover - a new event type without a fold is a programming error
            raise TypeError(f"UploadSession cannot apply {type(event).__name__}")

    def _require_open(self, action: str) -> None:
        require_open(self.id, self.state, action)


# -- garbage collection (docs/decisions/0017) -----------------------------------------------------------

SPARED_LINKED: Final = "linked"
SPARED_UPLOADED: Final = "uploaded"


@dataclasses.dataclass(frozen=True)
class BlobCondemned(DomainEvent):
    """No repository links the blob (the registry's report of `generation`); its bytes go once the grace
    period from `condemned_at` has passed, unless it is linked or uploaded again meanwhile."""

    digest: str
    generation: int
    condemned_at: datetime


@dataclasses.dataclass(frozen=True)
class BlobSpared(DomainEvent):
    """The blob is linked again (a newer `generation`), or was uploaded again while condemned."""

    digest: str
    generation: int
    reason: str


@dataclasses.dataclass(frozen=True)
class BlobDeleted(DomainEvent):
    """Garbage collection deleted the blob's bytes (`size` when known, else 0)."""

    digest: str
    size: int


class BlobCollection(Aggregate):
    """The garbage collection of one digest: a stream `blobgc-<digest>`.

    The registry numbers the changes to a digest's usage (`generation`); its reports may arrive out of order
    (a redelivered message), so a report no newer than the last one applied is ignored. Condemned blobs are
    deleted only after the grace period, and only if nothing spared them meanwhile.
    """

    stream_prefix: ClassVar[str] = "blobgc"

    def __init__(self, id: str) -> None:
        super().__init__(id)
        self.generation = 0
        self.condemned_at: datetime | None = None

    @property
    def digest(self) -> str:
        return self.id

    @property
    def condemned(self) -> bool:
        return self.condemned_at is not None

    def orphaned(self, generation: int, now: datetime) -> None:
        """The registry reports that no repository links the digest (as of `generation`)."""
        if generation > self.generation:
            self.record(BlobCondemned(digest=self.digest, generation=generation, condemned_at=now))

    def referenced(self, generation: int) -> None:
        """The registry reports that a repository links the digest again (as of `generation`).

        Recorded even when the blob is not condemned: the generation must be remembered, so that an older
        orphan report delivered late cannot condemn a blob in use.
        """
        if generation > self.generation:
            self.record(BlobSpared(digest=self.digest, generation=generation, reason=SPARED_LINKED))

    def uploaded(self) -> None:
        """The blob's content is being stored again: a condemned blob is spared."""
        if self.condemned:
            self.record(BlobSpared(digest=self.digest, generation=self.generation, reason=SPARED_UPLOADED))

    def collectable(self, now: datetime, grace: timedelta) -> bool:
        return self.condemned_at is not None and now - self.condemned_at >= grace

    def delete(self, now: datetime, grace: timedelta, size: int) -> bool:
        """Record the deletion of a condemned blob whose grace period has passed; False (nothing recorded)
        when it is not condemned or its grace period still runs."""
        if not self.collectable(now, grace):
            return False
        self.record(BlobDeleted(digest=self.digest, size=max(size, 0)))
        return True

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, BlobCondemned):
            self.generation = event.generation
            self.condemned_at = event.condemned_at
        elif isinstance(event, BlobSpared):
            self.generation = max(self.generation, event.generation)
            self.condemned_at = None
        elif isinstance(event, BlobDeleted):
            self.condemned_at = None
        else:  # pragma: no cover - a new event type without a fold is a programming error
            raise TypeError(f"BlobCollection cannot apply {type(event).__name__}")
