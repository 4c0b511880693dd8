"""The "semver" order of version names: semver.org precedence (optional leading "v") as a sort key whose
byte order is the listing order."""

from __future__ import annotations

import re

# semver.org's grammar, with an optional leading "v"; "_" stands for "+" (OCI tags have no "+": Helm's way).
_NUMBER = r"0|[1-9][0-9]*"
_IDENTIFIER = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_SEMVER = re.compile(
    rf"v?(?P<major>{_NUMBER})\.(?P<minor>{_NUMBER})\.(?P<patch>{_NUMBER})"
    rf"(?:-(?P<pre>{_IDENTIFIER}(?:\.{_IDENTIFIER})*))?"
    r"(?:[+_](?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)

_INVERT = {chr(c): chr(0x21 + (0x7A - c)) for c in range(0x2D, 0x7B)}


def _descending_number(digits: str) -> str:
    # Longer numbers are larger (no leading zeros): a descending width, then descending digits.
    return f"{999 - len(digits):03d}" + digits.translate(str.maketrans("0123456789", "9876543210"))


def _descending_text(text: str) -> str:
    # Every character inverted; "~" ends it, above every inverted character, so a prefix sorts after.
    return "".join(_INVERT[c] for c in text) + "~"


def is_semver(version: str) -> bool:
    return _SEMVER.fullmatch(version) is not None


def version_sort_key(version: str) -> str:
    """A text whose byte order is the "semver" listing order: valid semver (optional leading v) first, by
    descending precedence (a release before its pre-releases; build metadata ignored), then every other
    name in ascending byte order; equal precedences by name."""
    match = _SEMVER.fullmatch(version)
    if match is None:
        return "1" + version
    key = "0" + "".join(_descending_number(match[part]) for part in ("major", "minor", "patch"))
    pre = match["pre"]
    if pre is None:
        key += "0"
    else:
        key += "1"
        for identifier in pre.split("."):
            # A numeric identifier has lower precedence than an alphanumeric one; fewer identifiers, lower.
            key += (
                "2" + _descending_number(identifier)
                if identifier.isdigit()
                else "1" + _descending_text(identifier)
            )
        key += "3"
    return key + " " + version
