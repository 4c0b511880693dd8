"""Service-key scopes: actions x entity types, within the org, one of its teams or one repository.

Every refusal here is InvalidArgument with code SCOPE_INVALID, and a message that names the scope (by its
position, from 1) and what is wrong with it, so the caller can fix the one field at fault.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from enum import StrEnum
from typing import NoReturn, TypeVar

from hangar.kit.errors import InvalidArgument


class ScopeAction(StrEnum):
    """What a service key may do with artifacts. `list` is granted explicitly (NGC's keys cannot list)."""

    GET = "get"
    LIST = "list"
    PUSH = "push"
    DELETE = "delete"


class EntityType(StrEnum):
    """The kinds of repository a scope may be narrowed to; a scope naming none covers them all."""

    CONTAINER = "container"
    MODEL = "model"
    RESOURCE = "resource"
    CHART = "chart"


MAX_SCOPES_PER_KEY = 64
MAX_REPOSITORY_PATH_LENGTH = 255

# Org and team names (DESIGN §1): lowercase alphanumerics joined by single '.', '_' or '-', 2-64 characters.
_TEAM_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
# The last component of a repository path (OCI distribution-spec): joined by '.', '_', '__' or runs of '-'.
_REPOSITORY_NAME = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*")


@dataclasses.dataclass(frozen=True)
class KeyScope:
    """One grant of a service key, as stored and published (field names of the KeyScope message).

    `actions` and `entity_types` are canonical once validated (known, deduplicated, in declaration order);
    `entity_types` empty means every entity type. `team` is a bare team name of the key's org (empty: the
    whole org); `repository` is `org/name` or `org/team/name` in the key's org (empty: every repository in
    the scope).
    """

    actions: tuple[str, ...]
    entity_types: tuple[str, ...] = ()
    team: str = ""
    repository: str = ""


def _quote(value: str) -> str:
    return repr(value[:80] + ("..." if len(value) > 80 else ""))


def _refuse(position: int, reason: str) -> NoReturn:
    raise InvalidArgument(f"scope {position} is invalid: {reason}", code="SCOPE_INVALID")


_E = TypeVar("_E", bound=StrEnum)


def _canonical(values: Iterable[str], vocabulary: type[_E], what: str, position: int) -> tuple[str, ...]:
    if isinstance(values, str):
        _refuse(position, f"{what}s must be a list, not one string")
    chosen: set[_E] = set()
    for value in values:
        try:
            chosen.add(vocabulary(value))
        except ValueError:
            allowed = ", ".join(vocabulary)
            _refuse(position, f"unknown {what} {_quote(value)}; choose from {allowed}")
    return tuple(member.value for member in vocabulary if member in chosen)


def _team_name(org: str, team: str, position: int) -> str:
    # `acme/vision` is accepted for `vision` in org acme; the stored form is the bare name.
    if "/" in team:
        team_org, _, bare = team.partition("/")
        if team_org != org:
            _refuse(position, f"team {_quote(team)} is not in org {org}")
        team = bare
    if not 2 <= len(team) <= 64 or _TEAM_NAME.fullmatch(team) is None:
        _refuse(
            position,
            f"team {_quote(team)} is not a team name (2-64 lowercase letters and digits, joined by single "
            "'.', '_' or '-')",
        )
    return team


def _repository_path(org: str, team: str, repository: str, position: int) -> str:
    if len(repository) > MAX_REPOSITORY_PATH_LENGTH:
        _refuse(position, f"repository paths are at most {MAX_REPOSITORY_PATH_LENGTH} characters")
    parts = repository.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        _refuse(position, f"repository {_quote(repository)} must be {org}/<name> or {org}/<team>/<name>")
    if parts[0] != org:
        _refuse(position, f"repository {_quote(repository)} is not in org {org}")
    if len(parts) == 3:
        _team_name(org, parts[1], position)
        if team and parts[1] != team:
            _refuse(position, f"repository {_quote(repository)} is not in team {org}/{team}")
    elif team:
        _refuse(position, f"repository {_quote(repository)} is not in team {org}/{team}")
    if _REPOSITORY_NAME.fullmatch(parts[-1]) is None:
        _refuse(
            position,
            f"repository name {_quote(parts[-1])} must be lowercase letters and digits, joined by '.', "
            "'_', '__' or dashes",
        )
    return repository


def validate_scope(org: str, scope: KeyScope, position: int = 1) -> KeyScope:
    """`scope` in canonical form if it is valid for a service key of `org`; SCOPE_INVALID otherwise."""
    if not isinstance(scope, KeyScope):
        _refuse(position, "not a scope")
    actions = _canonical(scope.actions, ScopeAction, "action", position)
    if not actions:
        _refuse(position, f"it grants no action; choose from {', '.join(ScopeAction)}")
    entity_types = _canonical(scope.entity_types, EntityType, "entity type", position)
    team = _team_name(org, scope.team, position) if scope.team else ""
    repository = _repository_path(org, team, scope.repository, position) if scope.repository else ""
    return KeyScope(actions=actions, entity_types=entity_types, team=team, repository=repository)


def validate_scopes(org: str, scopes: Iterable[KeyScope]) -> tuple[KeyScope, ...]:
    """The scopes of a service key of `org`, each canonical, duplicates dropped, in the order given.

    A service key needs at least one scope (without one it could do nothing) and at most 64.
    """
    if isinstance(scopes, (str, KeyScope)):
        raise InvalidArgument("scopes must be a list of scopes", code="SCOPE_INVALID")
    chosen: list[KeyScope] = []
    for position, scope in enumerate(scopes, start=1):
        if position > MAX_SCOPES_PER_KEY:
            raise InvalidArgument(
                f"a service key may have at most {MAX_SCOPES_PER_KEY} scopes", code="SCOPE_INVALID"
            )
        canonical = validate_scope(org, scope, position)
        if canonical not in chosen:
            chosen.append(canonical)
    if not chosen:
        raise InvalidArgument(
            "a service key needs at least one scope (actions x entity types)", code="SCOPE_INVALID"
        )
    return tuple(chosen)
