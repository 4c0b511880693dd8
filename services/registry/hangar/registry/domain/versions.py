"""Versions of models, resources and charts: names, file paths and the Version aggregate (its events in
`version_events`, the semver order of names in `semver`).

A version is opened (UPLOAD_PENDING), possibly with a committed base version's files (INHERITED); its files
are uploaded one by one (UPLOADING, then COMPLETE); an inherited file may be replaced or removed. Commit
makes it immutable (UPLOAD_COMPLETE) once every file is complete (else FILES_INCOMPLETE, naming them); any
change after that is VERSION_COMMITTED. A version pushed as an OCI manifest is created committed at once.

Each version has its own stream (`version-<sha256(repository:version)>`), so uploads to different versions
never contend; commands restore the aggregate from the read models (docs/decisions/0004).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import ClassVar, Final, Self

from hangar.kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, LimitExceeded, NotFound
from hangar.kit.events import Aggregate, DomainEvent
from hangar.registry.domain.digests import Digest
from hangar.registry.domain.manifests import MAX_CONTENT_SIZE
from hangar.registry.domain.metadata import ARTIFACT_KINDS, VersionMetadata, validate_created_by
from hangar.registry.domain.names import MAX_TAG_LENGTH
from hangar.registry.domain.quoting import quote
from hangar.registry.domain.semver import is_semver as is_semver
from hangar.registry.domain.semver import version_sort_key as version_sort_key
from hangar.registry.domain.version_events import FileRef as FileRef
from hangar.registry.domain.version_events import FileRemoved as FileRemoved
from hangar.registry.domain.version_events import FileUploaded as FileUploaded
from hangar.registry.domain.version_events import FileUploadStarted as FileUploadStarted
from hangar.registry.domain.version_events import VersionCommitted as VersionCommitted
from hangar.registry.domain.version_events import VersionCreated as VersionCreated
from hangar.registry.domain.version_events import VersionDeleted as VersionDeleted

PENDING: Final = "UPLOAD_PENDING"
COMMITTED: Final = "UPLOAD_COMPLETE"
UPLOADING: Final = "UPLOADING"
COMPLETE: Final = "COMPLETE"
INHERITED: Final = "INHERITED"

LATEST: Final = "latest"
MAX_PATH_BYTES: Final = 1024
MAX_SEGMENT_BYTES: Final = 255
MAX_FILES: Final = 10_000
MAX_UPLOAD_ID: Final = 256
_SHOWN_PATHS: Final = 5
_MAX_DETAIL_CHARS: Final = 2048

_TAG = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")

# -- names and paths ----------------------------------------------------------------------------------------


def validate_version_name(version: str) -> str:
    """A version name is a valid OCI tag other than "latest" (VERSION_INVALID)."""
    if version == LATEST:
        raise InvalidArgument(
            "'latest' is the repository's pointer, not a version name", code="VERSION_INVALID"
        )
    if len(version) > MAX_TAG_LENGTH or not _TAG.fullmatch(version):
        raise InvalidArgument(
            f"version {quote(version)} is invalid: 1 to {MAX_TAG_LENGTH} letters, digits, '_', '.' and '-', "
            "starting with a letter, digit or '_'",
            code="VERSION_INVALID",
        )
    return version


def validate_path(path: str) -> str:
    """A file path: relative POSIX, at most MAX_PATH_BYTES, no empty, '.' or '..' segment, no backslash, no
    control character (PATH_INVALID)."""

    def refuse(reason: str) -> InvalidArgument:
        return InvalidArgument(f"file path {quote(path)} is invalid: {reason}", code="PATH_INVALID")

    if not path:
        raise InvalidArgument("file path is empty", code="PATH_INVALID")
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise refuse(f"it is longer than {MAX_PATH_BYTES} bytes")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in path):
        raise refuse("it contains a control character")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in path):
        raise refuse("it is not valid Unicode text")
    if "\\" in path:
        raise refuse("it contains a backslash (paths use '/')")
    if path.startswith("/"):
        raise refuse("it is absolute (paths are relative to the version)")
    for segment in path.split("/"):
        if not segment:
            raise refuse("it has an empty segment (a doubled or trailing '/')")
        if segment in (".", ".."):
            raise refuse(f"it has a {quote(segment)} segment")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise refuse(f"a segment is longer than {MAX_SEGMENT_BYTES} bytes")
    return path


def _check_upload_id(upload_id: str) -> str:
    if not upload_id or len(upload_id) > MAX_UPLOAD_ID or not upload_id.isprintable():
        raise InvalidArgument(
            f"upload id must be 1 to {MAX_UPLOAD_ID} printable characters", code="UPLOAD_INVALID"
        )
    return upload_id


# -- the aggregate ------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VersionFile:
    """A file of a version as recorded: UPLOADING (with its upload session), COMPLETE or INHERITED."""

    path: str
    status: str
    digest: str = ""
    size: int = 0
    upload_id: str = ""

    @property
    def complete(self) -> bool:
        return self.status != UPLOADING


def _listed(paths: list[str]) -> str:
    hidden = len(paths) - _SHOWN_PATHS
    return ", ".join(quote(p) for p in paths[:_SHOWN_PATHS]) + (f" and {hidden} more" if hidden > 0 else "")


def _detail(paths: list[str]) -> str:
    shown: list[str] = []
    used = 0
    for path in paths:
        used += len(path) + 1
        if used > _MAX_DETAIL_CHARS:
            break
        shown.append(path)
    return "\n".join(shown)


def version_unknown(repository: str, version: str) -> NotFound:
    return NotFound(f"version {quote(version)} is not in {quote(repository)}", code="VERSION_UNKNOWN")


class Version(Aggregate):
    """One version of a repository: status, metadata, base version and files."""

    stream_prefix: ClassVar[str] = "version"

    def __init__(self, id: str, repository: str = "", name: str = "") -> None:
        super().__init__(id)
        self.repository = repository
        self.name = name
        self.kind = ""
        self.status = ""  # "" while it does not exist (never created, or deleted)
        self.metadata = VersionMetadata()
        self.base_version = ""
        self.created_by = ""
        self.files: dict[str, VersionFile] = {}
        self.manifest_digest = ""

    @staticmethod
    def id_for(repository: str, version: str) -> str:
        return hashlib.sha256(f"{repository}:{version}".encode()).hexdigest()

    @classmethod
    def of(cls, repository: str, version: str) -> Self:
        return cls(cls.id_for(repository, version), repository, version)

    @classmethod
    def restore(
        cls,
        repository: str,
        version: str,
        stream_version: int,
        *,
        kind: str = "",
        status: str = "",
        metadata: VersionMetadata | None = None,
        base_version: str = "",
        files: Iterable[VersionFile] = (),
        manifest_digest: str = "",
    ) -> Self:
        """The version at `stream_version`, from the read models (as current as the stream: decision 0004)."""
        aggregate = cls.of(repository, version)
        aggregate.kind = kind
        aggregate.status = status
        aggregate.metadata = metadata or VersionMetadata()
        aggregate.base_version = base_version
        aggregate.files = {f.path: f for f in files}
        aggregate.manifest_digest = manifest_digest
        aggregate.version = stream_version
        return aggregate

    @property
    def exists(self) -> bool:
        return bool(self.status)

    def total_size(self) -> int:
        return sum(f.size for f in self.files.values() if f.complete)

    # -- commands ---------------------------------------------------------------------------------------

    def create(
        self,
        kind: str,
        metadata: VersionMetadata,
        *,
        created_by: str = "",
        base_version: str = "",
        inherited: Iterable[FileRef] = (),
    ) -> None:
        validate_version_name(self.name)
        if kind not in ARTIFACT_KINDS:
            raise FailedPrecondition(
                f"{quote(self.repository)} is a {kind or 'missing'} repository; versions are for models, "
                "resources and charts",
                code="KIND_MISMATCH",
            )
        if self.exists:
            raise AlreadyExists(
                f"version {quote(self.name)} already exists in {quote(self.repository)}",
                code="VERSION_EXISTS",
            )
        files = tuple(sorted(inherited))
        if len(files) > MAX_FILES:
            raise LimitExceeded(f"a version has at most {MAX_FILES} files", code="FILE_LIMIT_EXCEEDED")
        self.record(
            VersionCreated(
                repository=self.repository,
                version=self.name,
                kind=kind,
                metadata=metadata,
                base_version=base_version,
                created_by=validate_created_by(created_by),
                inherited=files,
            )
        )

    def begin_file(self, path: str, upload_id: str, size: int) -> tuple[VersionFile, bool]:
        """Record an upload of `path`; the one already running is returned instead (started False)."""
        self._require_pending()
        validate_path(path)
        _check_upload_id(upload_id)
        if type(size) is not int or not 0 <= size <= MAX_CONTENT_SIZE:
            raise InvalidArgument(
                f"file size must be a non-negative integer, got {size!r}", code="SIZE_INVALID"
            )
        current = self.files.get(path)
        if current is not None and current.status == UPLOADING:
            return current, False
        if current is not None and current.status == COMPLETE:
            raise AlreadyExists(
                f"{quote(path)} is already uploaded in version {quote(self.name)}; remove it first",
                code="FILE_EXISTS",
            )
        if current is None:
            if len(self.files) >= MAX_FILES:
                raise LimitExceeded(f"a version has at most {MAX_FILES} files", code="FILE_LIMIT_EXCEEDED")
            self._check_no_clash(path)
        self.record(
            FileUploadStarted(
                repository=self.repository, version=self.name, path=path, upload_id=upload_id, size=size
            )
        )
        return self.files[path], True

    def complete_file(self, path: str, upload_id: str, digest: Digest | str, size: int) -> VersionFile:
        """Record the blob an upload of `path` produced. Completing it again alike records nothing."""
        self._require_pending()
        validate_path(path)
        key = str(digest if isinstance(digest, Digest) else Digest.parse(digest))
        if type(size) is not int or not 0 <= size <= MAX_CONTENT_SIZE:
            raise InvalidArgument(
                f"file size must be a non-negative integer, got {size!r}", code="SIZE_INVALID"
            )
        current = self.files.get(path)
        if (
            current is not None
            and current.status == COMPLETE
            and (current.digest, current.size) == (key, size)
        ):
            return current
        if current is None or current.status != UPLOADING or current.upload_id != upload_id:
            running = f" (upload {quote(current.upload_id)} is)" if current and current.upload_id else ""
            raise NotFound(
                f"{quote(path)} has no upload {quote(upload_id)} in progress in version {quote(self.name)}"
                + running,
                code="FILE_UNKNOWN",
            )
        if current.size and current.size != size:
            raise InvalidArgument(
                f"{quote(path)} was declared {current.size} bytes, but its blob has {size}",
                code="SIZE_INVALID",
            )
        self.record(
            FileUploaded(repository=self.repository, version=self.name, path=path, digest=key, size=size)
        )
        return self.files[path]

    def remove_file(self, path: str) -> None:
        self._require_pending()
        validate_path(path)
        if path not in self.files:
            raise NotFound(f"{quote(path)} is not in version {quote(self.name)}", code="FILE_UNKNOWN")
        self.record(FileRemoved(repository=self.repository, version=self.name, path=path))

    def complete_files(self) -> list[FileRef]:
        """The files a commit puts in the manifest, by path; FILES_INCOMPLETE while one is uploading."""
        self._require_pending()
        incomplete = sorted(p for p, f in self.files.items() if not f.complete)
        if incomplete:
            raise FailedPrecondition(
                f"version {quote(self.name)} has files not uploaded: {_listed(incomplete)}",
                code="FILES_INCOMPLETE",
                detail=_detail(incomplete),
            )
        if not self.files:
            raise FailedPrecondition(f"version {quote(self.name)} has no files", code="FILES_INCOMPLETE")
        return [FileRef(p, f.digest, f.size) for p, f in sorted(self.files.items())]

    def commit(self, manifest_digest: Digest | str, config_digest: Digest | str) -> None:
        files = self.complete_files()
        self.record(
            VersionCommitted(
                repository=self.repository,
                version=self.name,
                manifest_digest=str(manifest_digest),
                config_digest=str(config_digest),
                size=sum(f.size for f in files),
                file_count=len(files),
            )
        )

    def pushed(
        self,
        kind: str,
        metadata: VersionMetadata,
        files: Iterable[FileRef],
        manifest_digest: Digest | str,
        config_digest: Digest | str,
        *,
        created_by: str = "",
    ) -> None:
        """A version that arrived as an OCI manifest: created, its files uploaded and committed at once."""
        self.create(kind, metadata, created_by=created_by)
        for ref in sorted(files):
            if ref.path in self.files:
                raise InvalidArgument(
                    f"the manifest has two files titled {quote(ref.path)}", code="FILE_EXISTS"
                )
            if len(self.files) >= MAX_FILES:
                raise LimitExceeded(f"a version has at most {MAX_FILES} files", code="FILE_LIMIT_EXCEEDED")
            self._check_no_clash(ref.path)
            self.record(
                FileUploaded(
                    repository=self.repository,
                    version=self.name,
                    path=ref.path,
                    digest=ref.digest,
                    size=ref.size,
                )
            )
        refs = [FileRef(p, f.digest, f.size) for p, f in sorted(self.files.items())]
        self.record(
            VersionCommitted(
                repository=self.repository,
                version=self.name,
                manifest_digest=str(manifest_digest),
                config_digest=str(config_digest),
                size=sum(f.size for f in refs),
                file_count=len(refs),
            )
        )

    def delete(self) -> None:
        if not self.exists:
            raise version_unknown(self.repository, self.name)
        self.record(
            VersionDeleted(
                repository=self.repository, version=self.name, manifest_digest=self.manifest_digest
            )
        )

    def _require_pending(self) -> None:
        if not self.exists:
            raise version_unknown(self.repository, self.name)
        if self.status == COMMITTED:
            raise FailedPrecondition(
                f"version {quote(self.name)} of {quote(self.repository)} is committed and cannot change",
                code="VERSION_COMMITTED",
            )

    def _check_no_clash(self, path: str) -> None:
        """A path cannot be both a file and a directory of the version (no client could write both)."""
        for other in self.files:
            if other.startswith(path + "/") or path.startswith(other + "/"):
                raise InvalidArgument(
                    f"file path {quote(path)} clashes with {quote(other)}: a path cannot be both a file and "
                    "a directory",
                    code="PATH_INVALID",
                )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case VersionCreated() as created:
                self.kind = created.kind
                self.status = PENDING
                self.metadata = created.metadata
                self.base_version = created.base_version
                self.created_by = created.created_by
                self.manifest_digest = ""
                self.files = {
                    f.path: VersionFile(f.path, INHERITED, f.digest, f.size) for f in created.inherited
                }
            case FileUploadStarted(path=path, upload_id=upload_id, size=size):
                self.files[path] = VersionFile(path, UPLOADING, "", size, upload_id)
            case FileUploaded(path=path, digest=digest, size=size):
                self.files[path] = VersionFile(path, COMPLETE, digest, size)
            case FileRemoved(path=path):
                self.files.pop(path, None)
            case VersionCommitted(manifest_digest=digest):
                self.status = COMMITTED
                self.manifest_digest = digest
            case VersionDeleted():
                self.status = ""
                self.files = {}
                self.manifest_digest = ""
            case _:
                pass


def inherited_files(base: Mapping[str, VersionFile]) -> list[FileRef]:
    """The files a version starts with when based on a committed version."""
    return [FileRef(p, f.digest, f.size) for p, f in sorted(base.items()) if f.complete]
