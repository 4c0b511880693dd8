"""Token scopes (`repository:<name>:<actions>`) and how OCI actions map onto identity's capabilities."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Final

from hangar.kit.errors import InvalidArgument

REPOSITORY: Final = "repository"
PULL: Final = "pull"
PUSH: Final = "push"
DELETE: Final = "delete"
#: Hangar's own action: list a repository's tags (DESIGN §1 "view (list, info) artifacts", which USER_ADMIN
#: holds without download, and a service key's `list` scope). Asking for `pull` asks for `list` as well, so
#: clients that only know the standard actions still list.
LIST: Final = "list"
ALL_ACTIONS: Final = "*"
ACTIONS: Final = frozenset({PULL, PUSH, DELETE, LIST})

#: One OCI action needs one capability of the matrix (DESIGN §1).
CAPABILITY_BY_ACTION: Final[dict[str, str]] = {
    PULL: "DOWNLOAD_ARTIFACTS",
    PUSH: "PUSH_ARTIFACTS",
    DELETE: "DELETE_ARTIFACTS",
    LIST: "VIEW_ARTIFACTS",
}


#: A granted action that does for another too: who may download may view (every role with DOWNLOAD has VIEW).
SATISFIED_BY: Final[dict[str, frozenset[str]]] = {LIST: frozenset({LIST, PULL})}


def holds(granted: Iterable[str], action: str) -> bool:
    """Whether `granted` actions allow `action` (`pull` allows `list`)."""
    return bool(set(granted) & SATISFIED_BY.get(action, frozenset({action})))


def without_redundant(granted: Iterable[str]) -> frozenset[str]:
    """The granted actions less those another granted action already allows (`list` beside `pull`)."""
    held = frozenset(granted)
    return frozenset(a for a in held if not (SATISFIED_BY.get(a, frozenset({a})) - {a}) & held)


def with_implied(actions: Iterable[str]) -> frozenset[str]:
    """The actions asked plus those they imply (`pull` implies `list`)."""
    named = expand_actions(actions)
    return named | {LIST} if PULL in named else named


#: The OCI repository name grammar (distribution-spec v1.1), at most 255 characters.
NAME_PATTERN: Final = re.compile(
    r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*"
)
MAX_NAME_LENGTH: Final = 255
_RESOURCE_TYPE = re.compile(r"[a-z0-9]+(?:\([a-z0-9]+\))?")
_ACTION = re.compile(r"[a-z*]+")
MAX_SCOPE_LENGTH: Final = 1024


def is_valid_name(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH and NAME_PATTERN.fullmatch(name) is not None


@dataclasses.dataclass(frozen=True)
class Scope:
    """Access asked for one resource: `repository:demo/hello:pull,push`. `actions` never holds `*`."""

    type: str
    name: str
    actions: frozenset[str]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(sorted(self.actions))}"


def expand_actions(actions: Iterable[str]) -> frozenset[str]:
    """The known actions named; `*` stands for all of them, unknown names are dropped."""
    named = set(actions)
    if ALL_ACTIONS in named:
        return ACTIONS
    return frozenset(named & ACTIONS)


def capabilities_for(actions: Iterable[str]) -> frozenset[str]:
    return frozenset(CAPABILITY_BY_ACTION[action] for action in expand_actions(actions))


def actions_granted(actions: Iterable[str], capabilities: Iterable[str]) -> frozenset[str]:
    """The actions among `actions` whose capability is in `capabilities`."""
    held = set(capabilities)
    return frozenset(action for action in expand_actions(actions) if CAPABILITY_BY_ACTION[action] in held)


def parse_scope(text: str) -> Scope:
    """Parse one `type:name:actions` scope (the name may hold ':' as a registry host port does).

    A repository scope must name a valid OCI repository; its unknown actions are dropped.
    """
    if len(text) > MAX_SCOPE_LENGTH:
        raise InvalidArgument("scope is too long", code="SCOPE_INVALID")
    resource_type, sep1, rest = text.partition(":")
    name, sep2, action_list = rest.rpartition(":")
    if not (sep1 and sep2 and name) or _RESOURCE_TYPE.fullmatch(resource_type) is None:
        raise InvalidArgument(
            f"scope {text[:80]!r} is not of the form <type>:<name>:<actions>", code="SCOPE_INVALID"
        )
    actions = [a for a in action_list.split(",") if a]
    if any(_ACTION.fullmatch(action) is None for action in actions):
        raise InvalidArgument(f"scope {text[:80]!r} has malformed actions", code="SCOPE_INVALID")
    if resource_type.split("(")[0] == REPOSITORY:
        if not is_valid_name(name):
            raise InvalidArgument(
                f"scope {text[:80]!r} does not name a valid repository", code="SCOPE_INVALID"
            )
        return Scope(REPOSITORY, name, expand_actions(actions))
    return Scope(resource_type, name, frozenset(a for a in actions if a != ALL_ACTIONS))


def parse_scopes(values: Iterable[str]) -> list[Scope]:
    """Every scope in the given `scope` parameters (each may list several, space separated).

    Scopes on the same repository are merged, so a client asking `pull` then `push` gets one entry.
    """
    merged: dict[tuple[str, str], set[str]] = {}
    for value in values:
        for text in value.split():
            scope = parse_scope(text)
            merged.setdefault((scope.type, scope.name), set()).update(scope.actions)
    return [Scope(kind, name, frozenset(actions)) for (kind, name), actions in merged.items()]
