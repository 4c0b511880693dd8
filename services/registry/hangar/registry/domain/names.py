"""Repository names, tags, manifest references and pages of tags (the distribution-spec's rules)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Final, NoReturn

from hangar.kit.errors import InvalidArgument
from hangar.registry.domain.digests import Digest
from hangar.registry.domain.quoting import quote

MAX_REPOSITORY_NAME_LENGTH: Final = 255
MAX_TAG_LENGTH: Final = 128
MAX_TAG_PAGE_SIZE: Final = 10_000

_NAME_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")


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
            f"tag {quote(tag)} is longer than {MAX_TAG_LENGTH} characters", code="TAG_INVALID"
        )
    if not _TAG.fullmatch(tag):
        raise InvalidArgument(
            f"tag {quote(tag)} is invalid: it must start with a letter, digit or '_' and contain only "
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
        raise InvalidArgument(f"repository name {quote(name)} is invalid: {reason}", code="NAME_INVALID")

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
            f"path component {quote(component)} must be lowercase letters and digits, "
            "separated by '.', '_', '__' or dashes"
        )
    if len(components) not in (2, 3):
        refuse("a repository is named org/name or org/team/name")
    return name


def validate_page_size(n: int | None) -> int | None:
    """Return `n` if it is a valid tag page size (None: no limit), else raise PAGINATION_NUMBER_INVALID."""
    if n is not None and not 0 <= n <= MAX_TAG_PAGE_SIZE:
        raise InvalidArgument(
            f"n must be between 0 and {MAX_TAG_PAGE_SIZE}, got {n}", code="PAGINATION_NUMBER_INVALID"
        )
    return n


def paginate_tags(tags: Iterable[str], n: int | None, last: str | None) -> tuple[list[str], bool]:
    """One page of tags in lexical order after `last`, at most `n`; `more` says whether a next page exists.

    `n=0` gives an empty page with no next page (a `Link` to the same page would loop a client forever).
    """
    validate_page_size(n)
    remaining = sorted(tag for tag in set(tags) if last is None or tag > last)
    if n is None:
        return remaining, False
    if n == 0:
        return [], False
    return remaining[:n], len(remaining) > n
