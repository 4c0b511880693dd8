"""What describes repositories and versions of models, resources and charts, and the `latest` policy.

Repository metadata has common fields (description, labels, overview, publisher, ...) and per-kind ones:
models add application, framework, format and precision; resources add the setup, quick-start and
release-notes documents. A field of another kind is METADATA_INVALID (so is a value over its bound), and so
is a field name an update names that is not a metadata field. Labels are normalised (trimmed, lowercase),
deduplicated and sorted; at most MAX_LABELS, each a short token. Version metadata is bounded the same way.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Final

from hangar.kit.errors import InvalidArgument
from hangar.registry.domain.quoting import quote

ARTIFACT_KINDS: Final = frozenset({"model", "resource", "chart"})
LATEST_AUTO: Final = "auto"
LATEST_MANUAL: Final = "manual"
LATEST_POLICIES: Final = frozenset({LATEST_AUTO, LATEST_MANUAL})

MAX_LABELS: Final = 32
MAX_LABEL_LENGTH: Final = 64
MAX_SHORT_TEXT: Final = 256  # characters: publisher, built_by, display_name, model fields
MAX_DESCRIPTION: Final = 2048  # characters
MAX_DOCUMENT_BYTES: Final = 100_000  # UTF-8 bytes of one markdown document
MAX_ATTRIBUTES: Final = 64
MAX_ATTRIBUTE_KEY: Final = 128
MAX_ATTRIBUTE_VALUE: Final = 1024
MAX_CREATED_BY: Final = 256
MAX_COUNT: Final = 2**63 - 1

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9._:/+-]*[a-z0-9])?")
_ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]*")

COMMON_FIELDS: Final = (
    "description",
    "labels",
    "overview",
    "publisher",
    "built_by",
    "display_name",
)
MODEL_FIELDS: Final = ("application", "framework", "format", "precision")
RESOURCE_FIELDS: Final = ("setup", "quick_start", "release_notes")
DOCUMENT_FIELDS: Final = frozenset({"overview", "setup", "quick_start", "release_notes"})
METADATA_FIELDS: Final = (*COMMON_FIELDS, *MODEL_FIELDS, *RESOURCE_FIELDS)


def metadata_invalid(message: str) -> InvalidArgument:
    return InvalidArgument(message, code="METADATA_INVALID")


def fields_of_kind(kind: str) -> tuple[str, ...]:
    """The metadata fields a repository of `kind` may have."""
    if kind == "model":
        return (*COMMON_FIELDS, *MODEL_FIELDS)
    if kind == "resource":
        return (*COMMON_FIELDS, *RESOURCE_FIELDS)
    return COMMON_FIELDS


def validate_latest_policy(policy: str) -> str:
    """ "" means auto; anything but auto or manual is LATEST_POLICY_INVALID."""
    chosen = policy or LATEST_AUTO
    if chosen not in LATEST_POLICIES:
        raise InvalidArgument(
            f"latest policy {quote(policy)} is not 'auto' or 'manual'", code="LATEST_POLICY_INVALID"
        )
    return chosen


def normalise_label(label: str) -> str:
    """A label as stored and searched: trimmed and lowercase; METADATA_INVALID if it is not a short token."""
    normal = label.strip().lower()
    if not normal or len(normal) > MAX_LABEL_LENGTH or not _LABEL.fullmatch(normal):
        raise metadata_invalid(
            f"label {quote(label)} is invalid: 1 to {MAX_LABEL_LENGTH} lowercase letters, digits and "
            "'.', '_', ':', '/', '+', '-' (starting and ending with a letter or digit)"
        )
    return normal


def normalise_labels(labels: Iterable[str]) -> tuple[str, ...]:
    normal: set[str] = set()
    for count, label in enumerate(labels, start=1):
        if count > MAX_LABELS * 4:
            break  # far too many: refused below without looking at the rest
        normal.add(normalise_label(label))
    if len(normal) > MAX_LABELS:
        raise metadata_invalid(f"a repository has at most {MAX_LABELS} labels")
    return tuple(sorted(normal))


def _text(field: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise metadata_invalid(f"{field} is longer than {limit} characters")
    if any(ord(c) < 0x20 and c not in "\t\n\r" for c in value):
        raise metadata_invalid(f"{field} contains control characters")
    return value


def _line(field: str, value: str, limit: int = MAX_SHORT_TEXT) -> str:
    value = value.strip()
    if "\n" in value or "\r" in value:
        raise metadata_invalid(f"{field} must be one line")
    return _text(field, value, limit)


def _document(field: str, value: str) -> str:
    if len(value.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise metadata_invalid(f"{field} is longer than {MAX_DOCUMENT_BYTES} bytes")
    return _text(field, value, MAX_DOCUMENT_BYTES)


@dataclasses.dataclass(frozen=True)
class RepositoryMetadata:
    """A repository's descriptive metadata; fields of other kinds stay empty."""

    description: str = ""
    labels: tuple[str, ...] = ()
    overview: str = ""
    publisher: str = ""
    built_by: str = ""
    display_name: str = ""
    application: str = ""
    framework: str = ""
    format: str = ""
    precision: str = ""
    setup: str = ""
    quick_start: str = ""
    release_notes: str = ""

    def validated(self, kind: str) -> RepositoryMetadata:
        """This metadata normalised for a repository of `kind`; METADATA_INVALID if a value is not allowed."""
        allowed = set(fields_of_kind(kind))
        values: dict[str, object] = {}
        for field in METADATA_FIELDS:
            value = getattr(self, field)
            if field not in allowed:
                if value:
                    raise metadata_invalid(f"{field} is not a field of a {kind} repository")
                values[field] = value
            elif field == "labels":
                values[field] = normalise_labels(value)
            elif field in DOCUMENT_FIELDS:
                values[field] = _document(field, value)
            elif field == "description":
                values[field] = _text(field, value.strip(), MAX_DESCRIPTION)
            else:
                values[field] = _line(field, value)
        return RepositoryMetadata(**values)  # type: ignore[arg-type]

    def updated(self, changes: RepositoryMetadata, fields: Iterable[str], kind: str) -> RepositoryMetadata:
        """This metadata with the named fields taken from `changes` (validated for `kind`)."""
        named = set(fields)
        unknown = sorted(named - set(METADATA_FIELDS))
        if unknown:
            raise metadata_invalid(
                f"{', '.join(quote(f) for f in unknown[:5])} is not a metadata field "
                f"(fields: {', '.join(METADATA_FIELDS)})"
            )
        foreign = sorted(named - set(fields_of_kind(kind)))
        if foreign:
            raise metadata_invalid(f"{', '.join(foreign)} is not a field of a {kind} repository")
        merged = dataclasses.replace(self, **{field: getattr(changes, field) for field in named})
        return merged.validated(kind)

    def changed_fields(self, other: RepositoryMetadata) -> tuple[str, ...]:
        return tuple(f for f in METADATA_FIELDS if getattr(self, f) != getattr(other, f))


@dataclasses.dataclass(frozen=True, order=True)
class Attribute:
    """One free-form attribute of a version's metadata."""

    key: str
    value: str


@dataclasses.dataclass(frozen=True)
class VersionMetadata:
    """What describes a version. Counts are non-negative; `attributes` are sorted by key, keys unique."""

    description: str = ""
    accuracy: str = ""
    epochs: int = 0
    batch_size: int = 0
    gpu_model: str = ""
    memory_footprint_bytes: int = 0
    attributes: tuple[Attribute, ...] = ()

    @classmethod
    def of(
        cls,
        *,
        description: str = "",
        accuracy: str = "",
        epochs: int = 0,
        batch_size: int = 0,
        gpu_model: str = "",
        memory_footprint_bytes: int = 0,
        attributes: Mapping[str, str] | None = None,
    ) -> VersionMetadata:
        """Validated version metadata (METADATA_INVALID on a bad value)."""
        pairs = dict(attributes or {})
        if len(pairs) > MAX_ATTRIBUTES:
            raise metadata_invalid(f"a version has at most {MAX_ATTRIBUTES} attributes")
        checked: list[Attribute] = []
        for key, value in pairs.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise metadata_invalid("attributes map text keys to text values")
            if len(key) > MAX_ATTRIBUTE_KEY or not _ATTRIBUTE_KEY.fullmatch(key):
                raise metadata_invalid(
                    f"attribute key {quote(key)} is invalid: 1 to {MAX_ATTRIBUTE_KEY} letters, digits and "
                    "'.', '_', ':', '/', '-', starting with a letter or digit"
                )
            checked.append(Attribute(key, _text(f"attribute {key}", value, MAX_ATTRIBUTE_VALUE)))
        for name, count in (
            ("epochs", epochs),
            ("batch_size", batch_size),
            ("memory_footprint_bytes", memory_footprint_bytes),
        ):
            if type(count) is not int or not 0 <= count <= MAX_COUNT:
                raise metadata_invalid(f"{name} must be a non-negative integer, got {count!r}")
        return cls(
            description=_text("description", description.strip(), MAX_DESCRIPTION),
            accuracy=_line("accuracy", accuracy, 64),
            epochs=epochs,
            batch_size=batch_size,
            gpu_model=_line("gpu_model", gpu_model),
            memory_footprint_bytes=memory_footprint_bytes,
            attributes=tuple(sorted(checked)),
        )

    def attribute_map(self) -> dict[str, str]:
        return {a.key: a.value for a in self.attributes}


def validate_created_by(created_by: str) -> str:
    if len(created_by) > MAX_CREATED_BY or any(ord(c) < 0x20 for c in created_by):
        raise InvalidArgument(
            f"created_by must be at most {MAX_CREATED_BY} printable characters", code="METADATA_INVALID"
        )
    return created_by
