"""Registry domain: digests, names, tags, manifests and the Repository aggregate; pure, no I/O.

Error codes raised here are the OCI ones where the spec has one (DIGEST_INVALID, NAME_INVALID, TAG_INVALID,
MANIFEST_INVALID, MANIFEST_BLOB_UNKNOWN, NAME_UNKNOWN, PAGINATION_NUMBER_INVALID), so the edge can pass them
through. A manifest over MAX_MANIFEST_BYTES raises ManifestTooLarge with code SIZE_INVALID, distinct from
MANIFEST_INVALID so that the gateway can answer it with 413 Payload Too Large on the manifest route.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any, ClassVar, Final, NoReturn, Self

from hangar.kit.errors import FailedPrecondition, InvalidArgument, NotFound
from hangar.kit.events import Aggregate, DomainEvent

OCI_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX: Final = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST: Final = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST: Final = "application/vnd.docker.distribution.manifest.list.v2+json"
IMAGE_MANIFEST_TYPES: Final = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEX_TYPES: Final = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_MEDIA_TYPES: Final = IMAGE_MANIFEST_TYPES | INDEX_TYPES
_DOCKER_TYPES: Final = frozenset({DOCKER_MANIFEST, DOCKER_MANIFEST_LIST})
# Layers a registry does not hold: the client fetches them from the descriptor's `urls`.
_FOREIGN_LAYER_TYPES: Final = frozenset(
    {
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    }
)

MAX_MANIFEST_BYTES: Final = 4 * 1024 * 1024
MAX_REPOSITORY_NAME_LENGTH: Final = 255
MAX_TAG_LENGTH: Final = 128
MAX_TAG_PAGE_SIZE: Final = 10_000
REPOSITORY_KINDS: Final = frozenset({"container", "model", "resource", "chart"})

_DIGEST_HEX_LENGTHS: Final = {"sha256": 64, "sha512": 128}
_LOWER_HEX = re.compile(r"[0-9a-f]+")
_NAME_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
# The image-spec's descriptor schema pattern for media types (RFC 6838 restricted names).
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")
_MAX_INT64: Final = 2**63 - 1
_SCHEMA_VERSION: Final = 2
_SHOWN_CHARS: Final = 80
_SHOWN_MISSING: Final = 3


def _show(value: str) -> str:
    """Quote user input in a message without echoing megabytes of it."""
    return repr(value if len(value) <= _SHOWN_CHARS else value[: _SHOWN_CHARS - 3] + "...")


# --- digests and references -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, order=True)
class Digest:
    """A content address `algorithm:hex`: sha256 (64 lowercase hex) or sha512 (128 lowercase hex)."""

    algorithm: str
    hex: str

    def __post_init__(self) -> None:
        length = _DIGEST_HEX_LENGTHS.get(self.algorithm)
        if length is None:
            raise InvalidArgument(
                f"digest algorithm {_show(self.algorithm)} is not supported (use sha256 or sha512)",
                code="DIGEST_INVALID",
            )
        if len(self.hex) != length or not _LOWER_HEX.fullmatch(self.hex):
            raise InvalidArgument(
                f"a {self.algorithm} digest is {length} lowercase hex characters, got {_show(self.hex)}",
                code="DIGEST_INVALID",
            )

    @classmethod
    def parse(cls, value: str) -> Digest:
        algorithm, colon, encoded = value.partition(":")
        if not colon:
            raise InvalidArgument(
                f"digest {_show(value)} is not of the form algorithm:hex", code="DIGEST_INVALID"
            )
        return cls(algorithm, encoded)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        if algorithm not in _DIGEST_HEX_LENGTHS:
            raise InvalidArgument(
                f"digest algorithm {_show(algorithm)} is not supported (use sha256 or sha512)",
                code="DIGEST_INVALID",
            )
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


@dataclasses.dataclass(frozen=True, order=True)
class Tag:
    """A human-readable manifest reference: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`."""

    name: str

    def __post_init__(self) -> None:
        validate_tag(self.name)

    def __str__(self) -> str:
        return self.name


def validate_tag(tag: str) -> str:
    """Return `tag` if it is a valid OCI tag, else raise InvalidArgument(TAG_INVALID)."""
    if len(tag) > MAX_TAG_LENGTH:
        raise InvalidArgument(
            f"tag {_show(tag)} is longer than {MAX_TAG_LENGTH} characters", code="TAG_INVALID"
        )
    if not _TAG.fullmatch(tag):
        raise InvalidArgument(
            f"tag {_show(tag)} is invalid: it must start with a letter, digit or '_' and contain only "
            "letters, digits, '_', '.' and '-'",
            code="TAG_INVALID",
        )
    return tag


def parse_reference(reference: str) -> Digest | Tag:
    """A manifest reference is a digest when it holds ':' (tags never do), else a tag."""
    if ":" in reference:
        return Digest.parse(reference)
    return Tag(reference)


def validate_repository_name(name: str) -> str:
    """Return `name` if it is an OCI repository name shaped `org/name` or `org/team/name`."""

    def refuse(reason: str) -> NoReturn:
        raise InvalidArgument(f"repository name {_show(name)} is invalid: {reason}", code="NAME_INVALID")

    if not name:
        raise InvalidArgument("repository name is empty", code="NAME_INVALID")
    if len(name) > MAX_REPOSITORY_NAME_LENGTH:
        refuse(f"it is longer than {MAX_REPOSITORY_NAME_LENGTH} characters")
    components = name.split("/")
    if not all(components):
        refuse("it has an empty path component (a leading, trailing or doubled '/')")
    for component in components:
        if _NAME_COMPONENT.fullmatch(component):
            continue
        if _NAME_COMPONENT.fullmatch(component.lower()):
            refuse("repository names are lowercase")
        refuse(
            f"path component {_show(component)} must be lowercase letters and digits, "
            "separated by '.', '_', '__' or dashes"
        )
    if len(components) not in (2, 3):
        refuse("a repository is named org/name or org/team/name")
    return name


def paginate_tags(tags: Iterable[str], n: int | None, last: str | None) -> tuple[list[str], bool]:
    """One page of tags in lexical order after `last`, at most `n`; `more` says whether a next page exists.

    `n=0` gives an empty page with no next page (a `Link` to the same page would loop a client forever).
    """
    if n is not None and not 0 <= n <= MAX_TAG_PAGE_SIZE:
        raise InvalidArgument(
            f"n must be between 0 and {MAX_TAG_PAGE_SIZE}, got {n}", code="PAGINATION_NUMBER_INVALID"
        )
    remaining = sorted(tag for tag in set(tags) if last is None or tag > last)
    if n is None:
        return remaining, False
    if n == 0:
        return [], False
    return remaining[:n], len(remaining) > n


# --- manifests --------------------------------------------------------------------------------------


class ManifestTooLarge(InvalidArgument):
    """A manifest over MAX_MANIFEST_BYTES; the OCI edge answers 413 Payload Too Large."""

    code = "SIZE_INVALID"


@dataclasses.dataclass(frozen=True)
class Descriptor:
    """A typed reference to content (image-spec descriptor)."""

    media_type: str
    digest: Digest
    size: int
    artifact_type: str | None = None
    urls: tuple[str, ...] = ()
    annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ParsedManifest:
    """A validated manifest or index.

    `blobs` are the blobs the repository must hold (config first, then layers; foreign layers, fetched by
    clients from their `urls`, are in `foreign_layers` instead); `children` are the manifests an index
    lists; `references` are the descriptors behind `blobs`/`foreign_layers` or `children`.
    """

    media_type: str
    digest: Digest
    size: int
    blobs: tuple[Digest, ...]
    children: tuple[Digest, ...]
    subject: Digest | None
    artifact_type: str | None
    annotations: Mapping[str, str]
    references: tuple[Descriptor, ...] = ()
    foreign_layers: tuple[Digest, ...] = ()

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


def _invalid(message: str) -> InvalidArgument:
    return InvalidArgument(message, code="MANIFEST_INVALID")


def parse_manifest(
    content: bytes, declared_media_type: str | None, *, expected_digest: Digest | None = None
) -> ParsedManifest:
    """Validate a pushed manifest (exact bytes, as sent) and extract what it references.

    `declared_media_type` is the request's Content-Type; when absent the body's `mediaType` decides, else
    its shape. `expected_digest` is the digest a push by digest named; it must be the digest of `content`.
    """
    if len(content) > MAX_MANIFEST_BYTES:
        raise ManifestTooLarge(
            f"manifest is {len(content)} bytes; the limit is {MAX_MANIFEST_BYTES} bytes (4 MiB)"
        )
    document = _load_object(content)
    version = document.get("schemaVersion")
    if type(version) is not int or version != _SCHEMA_VERSION:
        raise _invalid(f"schemaVersion must be {_SCHEMA_VERSION}, got {json.dumps(version)}")
    media_type = _resolve_media_type(document, declared_media_type)
    annotations = _annotations(document.get("annotations"), "annotations")
    oci = media_type not in _DOCKER_TYPES
    subject = _descriptor(document["subject"], "subject").digest if oci and "subject" in document else None
    artifact_type = (
        _media_type(document["artifactType"], "artifactType") if oci and "artifactType" in document else None
    )
    blobs: dict[Digest, None] = {}
    foreign: dict[Digest, None] = {}
    children: dict[Digest, None] = {}
    references: tuple[Descriptor, ...]
    if media_type in IMAGE_MANIFEST_TYPES:
        if "manifests" in document:
            raise _invalid("an image manifest has no 'manifests' field (that is an index)")
        if "config" not in document:
            raise _invalid("config is required in an image manifest")
        config = _descriptor(document["config"], "config")
        layers = [_descriptor(item, f"layers[{i}]") for i, item in enumerate(_array(document, "layers"))]
        references = (config, *layers)
        blobs[config.digest] = None
        for layer in layers:
            is_foreign = bool(layer.urls) and layer.media_type in _FOREIGN_LAYER_TYPES
            (foreign if is_foreign else blobs)[layer.digest] = None
        artifact_type = artifact_type or config.media_type
    else:
        if "config" in document or "layers" in document:
            raise _invalid("an index has no 'config' or 'layers' field (that is an image manifest)")
        if "manifests" not in document:
            raise _invalid("manifests is required in an index")
        references = tuple(
            _descriptor(item, f"manifests[{i}]") for i, item in enumerate(_array(document, "manifests"))
        )
        children.update((child.digest, None) for child in references)
    digest = Digest.of(content, expected_digest.algorithm if expected_digest else "sha256")
    if expected_digest is not None and digest != expected_digest:
        raise InvalidArgument(
            f"the manifest's digest is {digest}, not {expected_digest} as the request named",
            code="DIGEST_INVALID",
        )
    return ParsedManifest(
        media_type=media_type,
        digest=digest,
        size=len(content),
        blobs=tuple(blobs),
        children=tuple(children),
        subject=subject,
        artifact_type=artifact_type,
        annotations=annotations,
        references=references,
        foreign_layers=tuple(foreign),
    )


def _load_object(content: bytes) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        # Parsers disagree on which duplicate wins; a registry must not see another manifest than clients.
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise _invalid(f"manifest JSON repeats the key {_show(key)}")
            result[key] = value
        return result

    def no_constant(constant: str) -> NoReturn:
        raise _invalid(f"manifest JSON contains {constant}, which JSON does not allow")

    try:
        document = json.loads(
            content.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=no_constant
        )
    except UnicodeDecodeError:
        raise _invalid("manifest is not UTF-8 text") from None
    except RecursionError:
        raise _invalid("manifest JSON is nested too deeply") from None
    except ValueError as error:
        raise _invalid(f"manifest is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise _invalid("manifest must be a JSON object")
    return document


def _resolve_media_type(document: Mapping[str, Any], declared: str | None) -> str:
    declared_type = (declared or "").split(";", 1)[0].strip().lower() or None
    body_type = _string(document["mediaType"], "mediaType") if "mediaType" in document else None
    if declared_type is not None and declared_type not in MANIFEST_MEDIA_TYPES:
        raise _invalid(f"Content-Type {_show(declared_type)} is not a supported manifest media type")
    if declared_type is not None and body_type is not None and body_type != declared_type:
        raise _invalid(
            f"the manifest's mediaType {_show(body_type)} does not match "
            f"its Content-Type {_show(declared_type)}"
        )
    media_type = declared_type or body_type or _media_type_from_shape(document)
    if media_type not in MANIFEST_MEDIA_TYPES:
        raise _invalid(f"manifest media type {_show(media_type)} is not supported")
    if media_type in _DOCKER_TYPES and body_type is None:
        raise _invalid("a Docker schema 2 manifest or manifest list must carry its mediaType field")
    return media_type


def _media_type_from_shape(document: Mapping[str, Any]) -> str:
    if "manifests" in document and "config" not in document:
        return OCI_INDEX
    if "config" in document and "manifests" not in document:
        return OCI_MANIFEST
    raise _invalid("cannot tell an image manifest from an index: set the Content-Type or the mediaType field")


def _array(document: Mapping[str, Any], key: str) -> list[Any]:
    value = document.get(key, [])
    if not isinstance(value, list):
        raise _invalid(f"{key} must be an array")
    return value


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _invalid(f"{where} must be a string")
    return value


def _media_type(value: object, where: str) -> str:
    media_type = _string(value, where)
    if not _MEDIA_TYPE.fullmatch(media_type):
        raise _invalid(f"{where} {_show(media_type)} is not a media type (type/subtype)")
    return media_type


def _annotations(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _invalid(f"{where} must be an object of strings")
    return dict(value)


def _descriptor(value: object, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise _invalid(f"{where} must be a descriptor object")
    for required in ("mediaType", "digest", "size"):
        if required not in value:
            raise _invalid(f"{where}.{required} is required")
    media_type = _media_type(value["mediaType"], f"{where}.mediaType")
    try:
        digest = Digest.parse(_string(value["digest"], f"{where}.digest"))
    except InvalidArgument as error:
        raise _invalid(f"{where}.digest is invalid: {error}") from None
    size = value["size"]
    if type(size) is not int or not 0 <= size <= _MAX_INT64:
        raise _invalid(f"{where}.size must be a non-negative integer, got {json.dumps(size)}")
    urls = value.get("urls", [])
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        raise _invalid(f"{where}.urls must be an array of strings")
    artifact_type = value.get("artifactType")
    if artifact_type is not None:
        artifact_type = _media_type(artifact_type, f"{where}.artifactType")
    if "data" in value:
        _check_embedded_data(value["data"], digest, size, where)
    return Descriptor(
        media_type=media_type,
        digest=digest,
        size=size,
        artifact_type=artifact_type,
        urls=tuple(urls),
        annotations=_annotations(value.get("annotations"), f"{where}.annotations"),
    )


def _check_embedded_data(data: object, digest: Digest, size: int, where: str) -> None:
    try:
        embedded = base64.b64decode(_string(data, f"{where}.data"), validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(f"{where}.data is not base64") from None
    if len(embedded) != size or Digest.of(embedded, digest.algorithm) != digest:
        raise _invalid(f"{where}.data does not match the descriptor's digest and size")


# --- events and the Repository aggregate ------------------------------------------------------------


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
class ManifestPushed(DomainEvent):
    repository: str
    digest: str
    media_type: str
    size: int
    subject_digest: str  # "" when the manifest has no subject


@dataclasses.dataclass(frozen=True)
class TagMoved(DomainEvent):
    repository: str
    tag: str
    digest: str
    previous_digest: str  # "" when the tag is new


class Repository(Aggregate):
    """A repository `org/name` or `org/team/name` of one kind: its tags, manifests and linked blobs.

    Commands take the sets of known blobs and manifests from the caller (projections scale where the
    aggregate's own state need not); the aggregate's state also counts as known.
    """

    stream_prefix: ClassVar[str] = "repo"

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.kind = ""
        self.tags: dict[str, str] = {}
        self.manifests: set[str] = set()
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
                f"repository kind {_show(kind)} is not one of {', '.join(sorted(REPOSITORY_KINDS))}",
                code="KIND_INVALID",
            )
        repository = cls(name)
        repository.record(RepositoryCreated(repository=name, kind=kind))
        return repository

    def link_blob(self, digest: Digest | str, size: int) -> None:
        """Make a stored blob part of this repository (after an upload or a cross-repository mount)."""
        self._require_exists()
        key = str(digest if isinstance(digest, Digest) else Digest.parse(digest))
        if type(size) is not int or not 0 <= size <= _MAX_INT64:
            raise InvalidArgument(
                f"blob size must be a non-negative integer, got {size!r}", code="SIZE_INVALID"
            )
        linked = self.blobs.get(key)
        if linked == size:
            return
        if linked is not None:
            raise InvalidArgument(f"blob {key} is linked with size {linked}, not {size}", code="SIZE_INVALID")
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
            hidden = len(missing) - _SHOWN_MISSING
            shown = ", ".join(missing[:_SHOWN_MISSING]) + (f" and {hidden} more" if hidden > 0 else "")
            raise FailedPrecondition(
                f"the manifest references content not in {self.id}: {shown}",
                code="MANIFEST_BLOB_UNKNOWN",
                detail=" ".join(missing),
            )
        for reference in parsed.references:
            linked = self.blobs.get(str(reference.digest))
            if linked is not None and linked != reference.size:
                raise _invalid(
                    f"the manifest gives {reference.digest} a size of {reference.size}; the blob has {linked}"
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
                )
            )
        if tag is not None:
            previous = self.tags.get(tag, "")
            if previous != digest:
                self.record(TagMoved(repository=self.id, tag=tag, digest=digest, previous_digest=previous))

    def _require_exists(self) -> None:
        if not self.exists:
            raise NotFound(f"repository {_show(self.id)} does not exist", code="NAME_UNKNOWN")

    def apply(self, event: DomainEvent) -> None:
        match event:
            case RepositoryCreated(kind=kind):
                self.kind = kind
            case BlobLinked(digest=digest, size=size):
                self.blobs[digest] = size
            case ManifestPushed(digest=digest):
                self.manifests.add(digest)
            case TagMoved(tag=tag, digest=digest):
                self.tags[tag] = digest
            case _:
                pass  # an event type from a newer version: nothing this version keeps state for
