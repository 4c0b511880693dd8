"""Helm charts as OCI artifacts, without I/O: read `Chart.yaml` out of a chart archive safely, validate it
as Helm does, and build what `helm push` pushes (the config JSON, the manifest, the tag).

Nothing here is extracted to disk: the archive is read as a stream, only `<chart>/Chart.yaml` is read, every
member name is checked (no absolute paths, no `..`), and every size is bounded (the archive, what it
decompresses to, the number of members, Chart.yaml itself).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import re
import tarfile
import zlib
from collections.abc import Mapping
from typing import Any, Final

import yaml

from hangar.gateway.auth import is_valid_name
from hangar.kit.errors import InvalidArgument

#: Media types of a Helm chart pushed to an OCI registry (helm.sh/helm/v3/pkg/registry).
CONFIG_MEDIA_TYPE: Final = "application/vnd.cncf.helm.config.v1+json"
CHART_LAYER_MEDIA_TYPE: Final = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
PROVENANCE_LAYER_MEDIA_TYPE: Final = "application/vnd.cncf.helm.chart.provenance.v1.prov"
OCI_MANIFEST_MEDIA_TYPE: Final = "application/vnd.oci.image.manifest.v1+json"

MiB: Final = 1024 * 1024
#: The largest chart archive accepted (compressed).
MAX_ARCHIVE_BYTES: Final = 10 * MiB
#: What an archive may decompress to (Helm's own default limit for a whole chart).
MAX_DECOMPRESSED_BYTES: Final = 100 * MiB
MAX_MEMBERS: Final = 10_000
MAX_CHART_YAML_BYTES: Final = 1 * MiB
#: The largest config blob read back (Helm's config is Chart.yaml as JSON: a few KiB).
MAX_CONFIG_BYTES: Final = 1 * MiB

#: SemVer 2.0.0 (semver.org), which Helm requires of a chart's version.
SEMVER: Final = re.compile(
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
#: One component of a repository name (the chart's name becomes the last one).
NAME_COMPONENT: Final = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*")
MAX_TAG_LENGTH: Final = 128

#: chart.Metadata's fields in Go's declaration order (the JSON `helm push` writes keeps it), and their shapes.
_STRING_FIELDS: Final = frozenset(
    {"name", "home", "version", "description", "icon", "apiVersion", "condition", "tags", "appVersion"}
    | {"kubeVersion", "type"}
)
METADATA_FIELDS: Final = (
    "name",
    "home",
    "sources",
    "version",
    "description",
    "keywords",
    "maintainers",
    "icon",
    "apiVersion",
    "condition",
    "tags",
    "appVersion",
    "deprecated",
    "annotations",
    "kubeVersion",
    "dependencies",
    "type",
)
_MAINTAINER_FIELDS: Final = ("name", "email", "url")
_DEPENDENCY_FIELDS: Final = (
    "name",
    "version",
    "repository",
    "condition",
    "tags",
    "enabled",
    "import-values",
    "alias",
)
CHART_TYPES: Final = frozenset({"application", "library"})


def invalid(message: str, code: str = "CHART_INVALID") -> InvalidArgument:
    return InvalidArgument(message, code=code)


def is_semver(version: str) -> bool:
    return SEMVER.fullmatch(version) is not None


def semver_key(version: str) -> tuple[Any, ...]:
    """Sort key of a SemVer 2 version: precedence as semver.org defines it (build metadata ignored)."""
    match = SEMVER.fullmatch(version)
    if match is None:
        return (-1, -1, -1, 0, ())
    pre = match["pre"]
    identifiers: tuple[tuple[int, int, str], ...] = ()
    if pre:
        identifiers = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split("."))
    # a release sorts after every pre-release of the same version
    return (int(match["major"]), int(match["minor"]), int(match["patch"]), 0 if pre else 1, identifiers)


def tag_of(version: str) -> str:
    """The OCI tag `helm push` uses for a chart version: `+` is not allowed in tags, so it becomes `_`."""
    return version.replace("+", "_")


def namespace_of(repository: str) -> str:
    """`org` for `org/name`, `org/team` for `org/team/name`."""
    return repository.rpartition("/")[0]


@dataclasses.dataclass(frozen=True)
class Chart:
    """A chart archive that passed validation, with what `helm push` derives from it."""

    name: str
    version: str
    #: Chart.yaml's fields as chart.Metadata holds them (Helm's JSON names), empty ones left out.
    metadata: Mapping[str, Any]
    archive: bytes = dataclasses.field(repr=False)

    @property
    def config(self) -> bytes:
        """The config blob: Chart.yaml as JSON, as `helm push` writes it (Go's encoding/json of Metadata)."""
        return go_json(self.metadata)

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.archive).hexdigest()

    @property
    def tag(self) -> str:
        return tag_of(self.version)

    def manifest(self, created: str = "") -> bytes:
        """The OCI image manifest `helm push` makes: the config, one chart layer, helm's annotations."""
        config = self.config
        document = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST_MEDIA_TYPE,
            "config": {
                "mediaType": CONFIG_MEDIA_TYPE,
                "digest": "sha256:" + hashlib.sha256(config).hexdigest(),
                "size": len(config),
            },
            "layers": [
                {"mediaType": CHART_LAYER_MEDIA_TYPE, "digest": self.digest, "size": len(self.archive)}
            ],
            "annotations": oci_annotations(self.metadata, created),
        }
        return json.dumps(document, separators=(",", ":")).encode()


def oci_annotations(metadata: Mapping[str, Any], created: str = "") -> dict[str, str]:
    """The manifest annotations `helm push` writes (pkg/registry generateOCIAnnotations): the chart's own
    annotations, then the OCI ones (which win), then title and version (which always win)."""
    annotations = {str(k): str(v) for k, v in dict(metadata.get("annotations") or {}).items()}
    oci: dict[str, str] = {}
    if metadata.get("description"):
        oci["org.opencontainers.image.description"] = str(metadata["description"])
    if metadata.get("home"):
        oci["org.opencontainers.image.url"] = str(metadata["home"])
    if metadata.get("sources"):
        oci["org.opencontainers.image.source"] = str(metadata["sources"][0])
    if created:
        oci["org.opencontainers.image.created"] = created
    authors = []
    for maintainer in metadata.get("maintainers") or ():
        author = str(maintainer.get("name", ""))
        if maintainer.get("email"):
            author = f"{author} ({maintainer['email']})"
        if author:
            authors.append(author)
    if authors:
        oci["org.opencontainers.image.authors"] = ", ".join(authors)
    annotations.update(oci)
    annotations["org.opencontainers.image.title"] = str(metadata.get("name", ""))
    annotations["org.opencontainers.image.version"] = str(metadata.get("version", ""))
    return annotations


def go_json(value: Any) -> bytes:
    """JSON as Go's encoding/json writes it: compact, UTF-8, map keys sorted, `<`, `>`, `&`, U+2028 and
    U+2029 escaped (struct fields keep their declaration order, which `metadata_of` already gives)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


# -- reading an archive -----------------------------------------------------------------------------------


class _Bounded(io.RawIOBase):
    """A gzip stream's decompressed bytes, refusing to produce more than `limit` of them."""

    def __init__(self, stream: gzip.GzipFile, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        data = self._stream.read(min(len(view), self._limit - self.produced + 1))
        self.produced += len(data)
        if self.produced > self._limit:
            raise invalid(f"the chart archive decompresses to more than {self._limit // MiB} MiB")
        view[: len(data)] = data
        return len(data)


def _check_member_name(name: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in parts or "\x00" in name:
        raise invalid(f"the chart archive holds an unsafe path: {name[:200]!r}", code="CHART_PATH_INVALID")


def read_chart_yaml(archive: bytes) -> bytes:
    """The bytes of `<chart>/Chart.yaml` in a gzipped tar chart archive (as `helm package` makes).

    Every member name is checked; nothing but Chart.yaml is read (the rest is streamed past, within the
    decompression bound); the whole gzip stream must be intact (its CRC is checked at its end).
    """
    if len(archive) > MAX_ARCHIVE_BYTES:
        raise invalid(f"the chart archive is larger than {MAX_ARCHIVE_BYTES // MiB} MiB", "CHART_TOO_LARGE")
    if archive[:2] != b"\x1f\x8b":
        raise invalid("the body is not a gzip-compressed chart archive (.tgz)", code="CHART_NOT_GZIP")
    found: bytes | None = None
    found_name = ""
    bounded = _Bounded(gzip.GzipFile(fileobj=io.BytesIO(archive)), MAX_DECOMPRESSED_BYTES)
    reader = io.BufferedReader(bounded, buffer_size=64 * 1024)
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            for count, member in enumerate(tar, start=1):
                if count > MAX_MEMBERS:
                    raise invalid(f"the chart archive holds more than {MAX_MEMBERS} files")
                _check_member_name(member.name)
                if member.issym() or member.islnk():
                    _check_member_name(member.linkname)
                parts = [p for p in member.name.split("/") if p not in ("", ".")]
                if len(parts) != 2 or parts[1] != "Chart.yaml" or not member.isfile():
                    continue
                if found is not None:
                    raise invalid(f"the chart archive holds two charts ({found_name} and {member.name})")
                if member.size > MAX_CHART_YAML_BYTES:
                    raise invalid(f"{member.name} is larger than {MAX_CHART_YAML_BYTES // MiB} MiB")
                extracted = tar.extractfile(member)
                if extracted is None:
                    continue
                found, found_name = extracted.read(MAX_CHART_YAML_BYTES + 1), member.name
        while reader.read(64 * 1024):  # to the end of the gzip stream: its CRC and length are checked there
            pass
    except InvalidArgument:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        message = f"the chart archive is not a valid .tgz: {error}"
        raise invalid(message, code="CHART_ARCHIVE_INVALID") from None
    if found is None:
        raise invalid("the chart archive holds no <chart>/Chart.yaml", code="CHART_YAML_MISSING")
    return found


# -- Chart.yaml -> chart.Metadata -------------------------------------------------------------------------


def _string(value: Any, field: str) -> str:
    if isinstance(value, str):
        return value
    raise invalid(f"Chart.yaml: {field} must be a string")


def _strings(value: Any, field: str) -> list[str]:
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise invalid(f"Chart.yaml: {field} must be a list of strings")
    return [_string(item, f"{field}[]") for item in value]


def _boolean(value: Any, field: str) -> bool:
    # YAML 1.1 booleans as Go's yaml (via sigs.k8s.io/yaml) reads them
    if isinstance(value, str) and value.lower() in ("true", "yes", "on", "y"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "no", "off", "n", ""):
        return False
    raise invalid(f"Chart.yaml: {field} must be true or false")


def _records(value: Any, field: str, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    if value is None or value == "":
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise invalid(f"Chart.yaml: {field} must be a list of mappings")
    records = []
    for item in value:
        record: dict[str, Any] = {}
        for name in fields:
            raw = item.get(name)
            if raw is None or raw == "" or raw == []:
                continue
            if name == "tags":
                record[name] = _strings(raw, f"{field}[].{name}")
            elif name == "enabled":
                if _boolean(raw, f"{field}[].{name}"):
                    record[name] = True
            elif name == "import-values":
                if not isinstance(raw, list):
                    raise invalid(f"Chart.yaml: {field}[].{name} must be a list")
                record[name] = raw
            else:
                record[name] = _string(raw, f"{field}[].{name}")
        records.append(record)
    return records


def metadata_of(chart_yaml: bytes) -> dict[str, Any]:
    """chart.Metadata of a Chart.yaml, validated as `helm package`/`helm push` do, empty fields left out.

    Scalars are read as written (YAML's base schema): `appVersion: 1.10` stays "1.10", not a float.
    """
    if len(chart_yaml) > MAX_CHART_YAML_BYTES:
        raise invalid(f"Chart.yaml is larger than {MAX_CHART_YAML_BYTES // MiB} MiB")
    try:
        # BaseLoader builds only str, list and dict: scalars stay as written, nothing is instantiated
        document = yaml.load(chart_yaml, Loader=yaml.BaseLoader)  # noqa: S506
    except yaml.YAMLError as error:
        message = f"Chart.yaml is not valid YAML: {str(error)[:300]}"
        raise invalid(message, code="CHART_YAML_INVALID") from None
    if not isinstance(document, dict):
        raise invalid("Chart.yaml must be a YAML mapping", code="CHART_YAML_INVALID")
    metadata: dict[str, Any] = {}
    for field in METADATA_FIELDS:
        raw = document.get(field)
        if raw is None or raw == "":
            continue
        if field in _STRING_FIELDS:
            metadata[field] = _string(raw, field)
        elif field in ("sources", "keywords"):
            if values := _strings(raw, field):
                metadata[field] = values
        elif field == "deprecated":
            if _boolean(raw, field):
                metadata[field] = True
        elif field == "annotations":
            if not isinstance(raw, dict):
                raise invalid("Chart.yaml: annotations must be a mapping of strings")
            if raw:
                metadata[field] = {str(k): _string(v, f"annotations.{k}") for k, v in sorted(raw.items())}
        elif field == "maintainers":
            if records := _records(raw, field, _MAINTAINER_FIELDS):
                metadata[field] = records
        elif field == "dependencies" and (records := _records(raw, field, _DEPENDENCY_FIELDS)):
            metadata[field] = records
    validate_metadata(metadata)
    return metadata


def validate_metadata(metadata: Mapping[str, Any]) -> None:
    """Helm's rules (chart.Metadata.Validate), with Hangar's: the name must be a repository name."""
    api_version = metadata.get("apiVersion", "")
    if not api_version:
        raise invalid("Chart.yaml: apiVersion is required (v2, or v1 for Helm 2 charts)")
    if api_version not in ("v1", "v2"):
        raise invalid(f"Chart.yaml: apiVersion {api_version!r} is not v1 or v2")
    name = metadata.get("name", "")
    if not name:
        raise invalid("Chart.yaml: name is required", code="NAME_INVALID")
    if NAME_COMPONENT.fullmatch(name) is None or len(name) > 128:
        raise invalid(
            f"Chart.yaml: name {name[:100]!r} is not a valid repository name: lowercase letters and digits, "
            "joined by '.', '_', '__' or '-'",
            code="NAME_INVALID",
        )
    version = metadata.get("version", "")
    if not version:
        raise invalid("Chart.yaml: version is required", code="VERSION_INVALID")
    if not is_semver(version) or len(tag_of(version)) > MAX_TAG_LENGTH:
        raise invalid(
            f"Chart.yaml: version {version[:100]!r} is not a SemVer 2 version (such as 1.2.3 or 1.0.0-rc.1)",
            code="VERSION_INVALID",
        )
    chart_type = metadata.get("type", "")
    if chart_type and chart_type not in CHART_TYPES:
        raise invalid(f"Chart.yaml: type {chart_type[:50]!r} is not application or library")
    for dependency in metadata.get("dependencies") or ():
        if not dependency.get("name"):
            raise invalid("Chart.yaml: every dependency needs a name")


def load_chart(archive: bytes, namespace: str) -> Chart:
    """A validated chart from its archive, to be stored at `<namespace>/<name>`; InvalidArgument if not."""
    metadata = metadata_of(read_chart_yaml(archive))
    repository = f"{namespace}/{metadata['name']}"
    if not is_valid_name(repository):
        raise invalid(f"{repository[:300]} is not a valid repository name", code="NAME_INVALID")
    return Chart(name=metadata["name"], version=metadata["version"], metadata=metadata, archive=archive)


# -- the index's view of a pushed chart -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ChartManifest:
    """What the index needs of a chart version's manifest: its config and chart layer."""

    config_digest: str
    chart_digest: str
    chart_size: int
    annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)


def parse_chart_manifest(content: bytes) -> ChartManifest | None:
    """The config and chart layer of a Helm chart manifest; None when the manifest is not one."""
    try:
        document = json.loads(content)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    config = document.get("config")
    if not isinstance(config, dict) or config.get("mediaType") != CONFIG_MEDIA_TYPE:
        return None
    layers = [
        layer
        for layer in document.get("layers") or ()
        if isinstance(layer, dict) and layer.get("mediaType") == CHART_LAYER_MEDIA_TYPE
    ]
    if len(layers) != 1:
        return None
    annotations = document.get("annotations")
    return ChartManifest(
        config_digest=str(config.get("digest", "")),
        chart_digest=str(layers[0].get("digest", "")),
        chart_size=int(layers[0].get("size", 0) or 0),
        annotations={str(k): str(v) for k, v in annotations.items()} if isinstance(annotations, dict) else {},
    )


def metadata_from_config(config: bytes) -> dict[str, Any]:
    """chart.Metadata from a pushed config blob (Helm's JSON); only its known fields, with their shapes.

    A config that is not a JSON object gives {} (the index then falls back to the repository's names)."""
    try:
        document = json.loads(config)
    except ValueError:
        return {}
    if not isinstance(document, dict):
        return {}
    metadata: dict[str, Any] = {}
    for field in METADATA_FIELDS:
        value = document.get(field)
        if value is None or value == "" or value == [] or value == {} or value is False:
            continue
        if field in _STRING_FIELDS and not isinstance(value, str):
            continue
        if field in ("sources", "keywords") and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            continue
        if field in ("maintainers", "dependencies") and not (
            isinstance(value, list) and all(isinstance(v, dict) for v in value)
        ):
            continue
        if field == "annotations" and not isinstance(value, dict):
            continue
        if field == "deprecated" and value is not True:
            continue
        metadata[field] = value
    return metadata
