"""Where a /v2/ request goes: its path parsed into a resource, a repository name and a reference.

Repository names contain slashes, so the resource is found from the end of the path. Every name and
reference is checked against the spec's grammar here, so bad input is a 400/404 and never reaches a service.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Final

from hangar.gateway.auth import is_valid_name
from hangar.gateway.oci.errors import OciError

BASE: Final = "base"
BLOB: Final = "blob"
UPLOADS: Final = "uploads"
UPLOAD: Final = "upload"
MANIFEST: Final = "manifest"
TAGS: Final = "tags"
REFERRERS: Final = "referrers"
CATALOG: Final = "catalog"

# Tried in order; each must match the whole path after /v2/.
_PATTERNS: Final = (
    (UPLOADS, re.compile(r"(?P<name>.+)/blobs/uploads/?")),
    (UPLOAD, re.compile(r"(?P<name>.+)/blobs/uploads/(?P<reference>[^/]+)")),
    (BLOB, re.compile(r"(?P<name>.+)/blobs/(?P<reference>[^/]+)")),
    (MANIFEST, re.compile(r"(?P<name>.+)/manifests/(?P<reference>[^/]+)")),
    (TAGS, re.compile(r"(?P<name>.+)/tags/list")),
    (REFERRERS, re.compile(r"(?P<name>.+)/referrers/(?P<reference>[^/]+)")),
)

TAG_PATTERN: Final = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
#: Digest algorithms Hangar stores, with the length of their lowercase hex encoding.
DIGEST_HEX_LENGTHS: Final = {"sha256": 64, "sha512": 128}
_DIGEST_GRAMMAR: Final = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
_LOWER_HEX: Final = re.compile(r"[0-9a-f]+")
_UPLOAD_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,128}")
_SHOWN: Final = 80


@dataclasses.dataclass(frozen=True)
class Target:
    """What a /v2/ path addresses: `resource` (one of the constants above), the repository, a reference."""

    resource: str
    name: str = ""
    reference: str = ""


def _show(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[: _SHOWN - 3] + "...")


def check_name(name: str) -> str:
    if not is_valid_name(name):
        raise OciError(
            "NAME_INVALID",
            f"invalid repository name {_show(name)}: lowercase path components of letters and digits, "
            "separated by '/', each joined by '.', '_', '__' or '-', at most 255 characters",
            detail={"name": name[:_SHOWN]},
        )
    return name


def check_digest(digest: str) -> str:
    """A digest Hangar can store (`sha256:<64 hex>` or `sha512:<128 hex>`); else DIGEST_INVALID."""
    if _DIGEST_GRAMMAR.fullmatch(digest) is None:
        raise OciError("DIGEST_INVALID", f"{_show(digest)} is not a digest (<algorithm>:<encoded>)")
    algorithm, _, encoded = digest.partition(":")
    length = DIGEST_HEX_LENGTHS.get(algorithm)
    if length is None:
        raise OciError(
            "DIGEST_INVALID", f"digest algorithm {_show(algorithm)} is not supported (use sha256 or sha512)"
        )
    if len(encoded) != length or _LOWER_HEX.fullmatch(encoded) is None:
        raise OciError("DIGEST_INVALID", f"a {algorithm} digest is {length} lowercase hex characters")
    return digest


def check_reference(reference: str) -> str:
    """A manifest reference: a digest when it holds ':', else a tag."""
    if ":" in reference:
        return check_digest(reference)
    if TAG_PATTERN.fullmatch(reference) is None:
        raise OciError(
            "TAG_INVALID",
            f"invalid tag {_show(reference)}: up to 128 letters, digits, '_', '.' and '-', not starting "
            "with '.' or '-'",
        )
    return reference


def parse_path(path: str) -> Target:
    """The target of a request path (`/v2/...`); OciError NAME_INVALID, DIGEST_INVALID... when malformed."""
    if path in ("/v2", "/v2/"):
        return Target(BASE)
    if path == "/v2/_catalog":
        return Target(CATALOG)
    if not path.startswith("/v2/"):
        raise OciError("UNSUPPORTED", "not an OCI distribution endpoint", status=404)
    rest = path[len("/v2/") :]
    for resource, pattern in _PATTERNS:
        match = pattern.fullmatch(rest)
        if match is None:
            continue
        name = check_name(match["name"])
        reference = match.groupdict().get("reference") or ""
        if resource in (BLOB, REFERRERS):
            check_digest(reference)
        elif resource == MANIFEST:
            check_reference(reference)
        elif resource == UPLOAD and _UPLOAD_ID.fullmatch(reference) is None:
            raise OciError("BLOB_UPLOAD_UNKNOWN", f"upload {_show(reference)} is unknown")
        return Target(resource, name, reference)
    raise OciError("UNSUPPORTED", "not an OCI distribution endpoint", status=404)
