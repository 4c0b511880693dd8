"""The registry's events and aggregates: the Repository (kind, manifests, tags) and each BlobLink.

Deleting follows the distribution-spec: by digest, a manifest goes with every tag pointing at it; by tag, only
the tag goes. A manifest an index of the same repository lists cannot go before that index
(MANIFEST_REFERENCED): pulling the index would fail on a child that is no longer there.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Collection, Iterable, Mapping
from typing import ClassVar, Final, Self

from hangar.kit.errors import FailedPrecondition, InvalidArgument, NotFound
from hangar.kit.events import Aggregate, DomainEvent
from hangar.registry.domain.digests import Digest
from hangar.registry.domain.manifests import MAX_CONTENT_SIZE, ParsedManifest, invalid_manifest
from hangar.registry.domain.names import validate_repository_name, validate_tag
from hangar.registry.domain.quoting import quote

REPOSITORY_KINDS: Final = frozenset({"container", "model", "resource", "chart"})
_SHOWN_MISSING: Final = 3
# Error details travel in gRPC trailers, which peers cap at 8 KiB: list only the first missing digests.
_MAX_DETAIL_CHARS: Final = 2048


@dataclasses.dataclass(frozen=True)
class RepositoryCreated(DomainEvent):
    repository: str
    kind: str


@dataclasses.dataclass(frozen=True)
class BlobLinked(DomainEvent):
    repository: str
    digest: str
    size: int


@dataclasses.dataclass(frozen=True)
class BlobUnlinked(DomainEvent):
    """A repository no longer holds a blob (deleted by a registry admin; no manifest of it named the blob)."""

    repository: str
    digest: str
    size: int


@dataclasses.dataclass(frozen=True)
class ManifestPushed(DomainEvent):
    """A manifest became part of a repository. It carries everything the read model needs to serve it.

    `children` are the manifests an index lists; `content` is the exact bytes (kept out of `repr`).
    """

    repository: str
    digest: str
    media_type: str
    size: int
    subject_digest: str  # "" when the manifest has no subject
    artifact_type: str  # "" when it has none (an index without artifactType)
    children: tuple[str, ...]
    content: bytes = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class TagMoved(DomainEvent):
    repository: str
    tag: str
    digest: str
    previous_digest: str  # "" when the tag is new


@dataclasses.dataclass(frozen=True)
class ManifestDeleted(DomainEvent):
    """A manifest left a repository; the blobs it names stay linked (garbage collection decides on them)."""

    repository: str
    digest: str


@dataclasses.dataclass(frozen=True)
class TagDeleted(DomainEvent):
    repository: str
    tag: str
    digest: str  # the manifest the tag pointed at


def _checked_blob(digest: Digest | str, size: int) -> str:
    key = str(digest if isinstance(digest, Digest) else Digest.parse(digest))
    if type(size) is not int or not 0 <= size <= MAX_CONTENT_SIZE:
        raise InvalidArgument(f"blob size must be a non-negative integer, got {size!r}", code="SIZE_INVALID")
    return key


def _relinked(digest: str, linked: int, size: int) -> InvalidArgument:
    return InvalidArgument(f"blob {digest} is linked with size {linked}, not {size}", code="SIZE_INVALID")


def _first_of(digests: list[str], limit: int) -> str:
    """The leading digests, space-separated, in at most `limit` characters."""
    shown: list[str] = []
    used = -1
    for digest in digests:
        used += len(digest) + 1
        if used > limit:
            break
        shown.append(digest)
    return " ".join(shown)


def _known_size(known: Collection[str], digest: str) -> int | None:
    return known.get(digest) if isinstance(known, Mapping) else None


def _listed(digests: list[str]) -> str:
    hidden = len(digests) - _SHOWN_MISSING
    return ", ".join(digests[:_SHOWN_MISSING]) + (f" and {hidden} more" if hidden > 0 else "")


def _manifest_unknown(reference: str, repository: str) -> NotFound:
    return NotFound(f"manifest {quote(reference)} is not in {quote(repository)}", code="MANIFEST_UNKNOWN")


class Repository(Aggregate):
    """A repository `org/name` or `org/team/name` of one kind: its tags, manifests and linked blobs.

    Commands take the sets of known blobs and manifests from the caller (projections scale where the
    aggregate's own state need not); the aggregate's state also counts as known. Passed as mappings of
    digest to size, they also have the sizes of the manifest's descriptors checked.
    """

    stream_prefix: ClassVar[str] = "repo"

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.kind = ""
        self.tags: dict[str, str] = {}
        self.manifests: set[str] = set()
        # index digest -> the manifests it lists (only indexes with children)
        self.children: dict[str, tuple[str, ...]] = {}
        self.blobs: dict[str, int] = {}

    @property
    def name(self) -> str:
        return self.id

    @property
    def exists(self) -> bool:
        return bool(self.kind)

    @classmethod
    def create(cls, name: str, kind: str = "container") -> Self:
        validate_repository_name(name)
        if kind not in REPOSITORY_KINDS:
            raise InvalidArgument(
                f"repository kind {quote(kind)} is not one of {', '.join(sorted(REPOSITORY_KINDS))}",
                code="KIND_INVALID",
            )
        repository = cls(name)
        repository.record(RepositoryCreated(repository=name, kind=kind))
        return repository

    @classmethod
    def restore(
        cls,
        name: str,
        version: int,
        *,
        kind: str,
        tags: Mapping[str, str] | None = None,
        manifests: Iterable[str] = (),
    ) -> Self:
        """The repository at stream `version`, from a snapshot of the state one command needs.

        The snapshot comes from read models written in the same transaction as the events, so it is as
        current as the stream; `tags` and `manifests` need hold only what the command touches (the tag it
        moves, the manifest it pushes). Appending at `version` fails if the stream moved on meanwhile.
        """
        repository = cls(name)
        repository.kind = kind
        repository.tags = dict(tags or {})
        repository.manifests = set(manifests)
        repository.version = version
        return repository

    def link_blob(self, digest: Digest | str, size: int) -> None:
        """Make a stored blob part of this repository, in this repository's own stream.

        The service links blobs through `BlobLink` streams instead (see BlobLink); this keeps a repository
        rebuilt from one stream whole.
        """
        self._require_exists()
        key = _checked_blob(digest, size)
        linked = self.blobs.get(key)
        if linked == size:
            return
        if linked is not None:
            raise _relinked(key, linked, size)
        self.record(BlobLinked(repository=self.id, digest=key, size=size))

    def push_manifest(
        self,
        parsed: ParsedManifest,
        tag: str | None,
        known_blobs: Collection[str],
        known_manifests: Collection[str],
    ) -> None:
        """Store a manifest (and point `tag` at it) once everything it references is in the repository."""
        self._require_exists()
        if tag is not None:
            validate_tag(tag)
        missing = [str(d) for d in parsed.blobs if str(d) not in known_blobs and str(d) not in self.blobs]
        missing += [
            str(d) for d in parsed.children if str(d) not in known_manifests and str(d) not in self.manifests
        ]
        if missing:
            raise FailedPrecondition(
                f"the manifest references content not in {self.id}: {_listed(missing)}",
                code="MANIFEST_BLOB_UNKNOWN",
                detail=_first_of(missing, _MAX_DETAIL_CHARS),
            )
        for reference in parsed.references:
            key = str(reference.digest)
            linked = self.blobs.get(key)
            if linked is None:
                linked = _known_size(known_blobs, key)
            if linked is None:
                linked = _known_size(known_manifests, key)
            if linked is not None and linked != reference.size:
                raise invalid_manifest(
                    f"the manifest gives {reference.digest} a size of {reference.size}; "
                    f"the repository's content has {linked}"
                )
        digest = str(parsed.digest)
        if digest not in self.manifests:
            self.record(
                ManifestPushed(
                    repository=self.id,
                    digest=digest,
                    media_type=parsed.media_type,
                    size=parsed.size,
                    subject_digest=str(parsed.subject) if parsed.subject else "",
                    artifact_type=parsed.artifact_type or "",
                    children=tuple(str(child) for child in parsed.children),
                    content=parsed.content,
                )
            )
        if tag is not None:
            previous = self.tags.get(tag, "")
            if previous != digest:
                self.record(TagMoved(repository=self.id, tag=tag, digest=digest, previous_digest=previous))

    def delete_manifest(self, digest: Digest | str, referenced_by: Collection[str] = ()) -> None:
        """Delete a manifest and every tag pointing at it (in lexical order, before the manifest itself).

        `referenced_by` holds the indexes of this repository that list the manifest (from the caller's read
        model; the aggregate's own indexes count too): while there is one, the delete is MANIFEST_REFERENCED,
        naming it. A manifest not in the repository is MANIFEST_UNKNOWN.
        """
        self._require_exists()
        key = str(digest if isinstance(digest, Digest) else Digest.parse(digest))
        if key not in self.manifests:
            raise _manifest_unknown(key, self.id)
        parents = set(referenced_by) | {index for index, listed in self.children.items() if key in listed}
        parents.discard(key)
        if parents:
            ordered = sorted(parents)
            raise FailedPrecondition(
                f"manifest {key} is listed by index {_listed(ordered)} in {quote(self.id)}; "
                "delete the index first",
                code="MANIFEST_REFERENCED",
                detail=_first_of(ordered, _MAX_DETAIL_CHARS),
            )
        for tag in sorted(tag for tag, target in self.tags.items() if target == key):
            self.record(TagDeleted(repository=self.id, tag=tag, digest=key))
        self.record(ManifestDeleted(repository=self.id, digest=key))

    def delete_tag(self, tag: str) -> None:
        """Delete one tag; the manifest it points at stays (by digest, and under its other tags)."""
        self._require_exists()
        validate_tag(tag)
        digest = self.tags.get(tag)
        if digest is None:
            raise _manifest_unknown(tag, self.id)
        self.record(TagDeleted(repository=self.id, tag=tag, digest=digest))

    def _require_exists(self) -> None:
        if not self.exists:
            raise NotFound(f"repository {quote(self.id)} does not exist", code="NAME_UNKNOWN")

    def apply(self, event: DomainEvent) -> None:
        match event:
            case RepositoryCreated(kind=kind):
                self.kind = kind
            case BlobLinked(digest=digest, size=size):
                self.blobs[digest] = size
            case BlobUnlinked(digest=digest):
                self.blobs.pop(digest, None)
            case ManifestPushed(digest=digest, children=children):
                self.manifests.add(digest)
                if children:
                    self.children[digest] = children
            case TagMoved(tag=tag, digest=digest):
                self.tags[tag] = digest
            case ManifestDeleted(digest=digest):
                self.manifests.discard(digest)
                self.children.pop(digest, None)
            case TagDeleted(tag=tag):
                self.tags.pop(tag, None)
            case _:
                pass  # an event type from a newer version: nothing this version keeps state for


class BlobLink(Aggregate):
    """That one repository holds one blob, of one size: a stream per (repository, digest).

    Links live outside the Repository stream so that the layers of an image, uploaded in parallel, never
    race for one stream version. Linking again with the same size records nothing; two racing links of one
    blob meet on this stream's version, and the loser finds the winner's link when it retries.
    """

    stream_prefix: ClassVar[str] = "bloblink"

    def __init__(self, id: str) -> None:
        super().__init__(id)
        self.size: int | None = None

    @staticmethod
    def id_for(repository: str, digest: Digest | str) -> str:
        # A 255-character name and a sha512 digest overflow a stream id; their hash is short and unique.
        return hashlib.sha256(f"{repository}@{digest}".encode()).hexdigest()

    @property
    def linked(self) -> bool:
        return self.size is not None

    def link(self, repository: str, digest: Digest | str, size: int) -> None:
        key = _checked_blob(digest, size)
        if self.id != self.id_for(repository, key):
            raise ValueError(f"link {self.id} is not the link of {key} in {repository}")
        if self.size == size:
            return
        if self.size is not None:
            raise _relinked(key, self.size, size)
        self.record(BlobLinked(repository=repository, digest=key, size=size))

    def unlink(self, repository: str, digest: Digest | str, used_by: Collection[str] = ()) -> None:
        """Remove the blob from the repository (blob DELETE); it may be linked again later.

        `used_by` holds the manifests of the repository whose config or layers name the blob (from the
        caller's read model): while there is one, the unlink is BLOB_REFERENCED, naming them (delete those
        manifests first). A blob the repository does not hold is BLOB_UNKNOWN.
        """
        key = str(digest if isinstance(digest, Digest) else Digest.parse(digest))
        if self.id != self.id_for(repository, key):
            raise ValueError(f"link {self.id} is not the link of {key} in {repository}")
        if self.size is None:
            raise NotFound(f"blob {key} is not in {quote(repository)}", code="BLOB_UNKNOWN")
        users = sorted(set(used_by))
        if users:
            raise FailedPrecondition(
                f"blob {key} is used by manifest {_listed(users)} in {quote(repository)}; "
                "delete the manifest first",
                code="BLOB_REFERENCED",
                detail=_first_of(users, _MAX_DETAIL_CHARS),
            )
        self.record(BlobUnlinked(repository=repository, digest=key, size=self.size))

    def apply(self, event: DomainEvent) -> None:
        match event:
            case BlobLinked(size=size):
                self.size = size
            case BlobUnlinked():
                self.size = None
            case _:
                pass
