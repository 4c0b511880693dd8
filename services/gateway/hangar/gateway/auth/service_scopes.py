"""What a service key's scopes grant on a repository: actions x entity types, within its org, one team or one
repository (DESIGN §1 "API keys").

A service key belongs to an org, not a user, so identity has no roles to consult: its scopes are the whole
answer. An OCI action needs one scope action (`pull` -> `get`, `push` -> `push`, `delete` -> `delete`) on
the repository's entity type. A scope without a team or repository covers every repository of the org,
its teams' included; `team` narrows it to `org/team/*`, `repository` to one repository. Denials say which
of the two was missing (a scope action, or the entity type), and never whether the repository exists.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable
from typing import Final, Protocol

from hangar.gateway.auth.scopes import DELETE, PULL, PUSH, expand_actions

GET: Final = "get"
LIST: Final = "list"
#: The scope action each OCI action needs.
SCOPE_ACTION_BY_OCI_ACTION: Final[dict[str, str]] = {PULL: GET, PUSH: PUSH, DELETE: DELETE, LIST: LIST}

CONTAINER: Final = "container"
MODEL: Final = "model"
RESOURCE: Final = "resource"
CHART: Final = "chart"
ENTITY_TYPES: Final = frozenset({CONTAINER, MODEL, RESOURCE, CHART})
#: Spellings of "every action" / "every entity type" a scope may use besides leaving the list empty.
_EVERY: Final = frozenset({"*", "all"})


class KeyScopeLike(Protocol):
    """One scope of a service key, as keys reports it (`clients.model.KeyScope` meets this)."""

    @property
    def actions(self) -> Collection[str]: ...

    @property
    def entity_types(self) -> Collection[str]: ...

    @property
    def team(self) -> str: ...

    @property
    def repository(self) -> str: ...


class RepositoryKinds(Protocol):
    """The entity type (kind) of a repository, for checking a service key's entity types."""

    async def kind_of(self, repository: str) -> str: ...


class ContainersOnly:
    """Every repository reached through /v2 is a container repository, until registry reports kinds.

    Models and charts pushed over OCI will be told apart by a lookup in registry; it plugs in here
    (`Authorizer(kinds=...)`) without touching the grant rules.
    """

    async def kind_of(self, repository: str) -> str:
        return CONTAINER


@dataclasses.dataclass(frozen=True)
class ScopeGrant:
    """Which asked OCI actions a service key's scopes grant on one repository, and why not the rest."""

    granted: frozenset[str]
    denied: frozenset[str]
    reason: str = ""


def org_of(repository: str) -> str:
    """The org a repository name belongs to: its first component ("" when it has only one)."""
    org, sep, _ = repository.partition("/")
    return org if sep else ""


def covers(scope: KeyScopeLike, org: str, repository: str) -> bool:
    """Whether `scope` (of a key of `org`) reaches `repository`, by its team and repository narrowing."""
    if org_of(repository) != org:
        return False
    if scope.repository and _full_name(org, scope.repository) != repository:
        return False
    if scope.team:
        team = scope.team.removeprefix(f"{org}/")
        if not repository.startswith(f"{org}/{team}/"):
            return False
    return True


def allows_action(scope: KeyScopeLike, action: str) -> bool:
    named = set(scope.actions)
    return action in named or bool(named & _EVERY)


def allows_entity_type(scope: KeyScopeLike, entity_type: str) -> bool:
    named = set(scope.entity_types)
    return not named or entity_type in named or bool(named & _EVERY)


def grant(
    scopes: Iterable[KeyScopeLike],
    *,
    key_org: str,
    key_label: str,
    repository: str,
    kind: str,
    asked: Iterable[str],
) -> ScopeGrant:
    """The OCI actions among `asked` that `scopes` grant on `repository` (of entity type `kind`).

    `key_label` names the key in reasons (its prefix, never its secret).
    """
    wanted = expand_actions(asked)
    if not wanted:
        return ScopeGrant(frozenset(), frozenset())
    if org_of(repository) != key_org:
        return ScopeGrant(
            frozenset(),
            wanted,
            f"API key {key_label} is a service key of org {key_org}; it has no access outside that org",
        )
    reaching = [scope for scope in scopes if covers(scope, key_org, repository)]
    granted: set[str] = set()
    missing: set[str] = set()  # no scope here holds the action
    other_types: set[str] = set()  # the entity types of scopes that hold an action, but not for `kind`
    for action in wanted:
        needed = SCOPE_ACTION_BY_OCI_ACTION[action]
        with_action = [scope for scope in reaching if allows_action(scope, needed)]
        if any(allows_entity_type(scope, kind) for scope in with_action):
            granted.add(action)
        elif with_action:
            other_types.update(t for scope in with_action for t in scope.entity_types)
        else:
            missing.add(needed)
    denied = frozenset(wanted - granted)
    if not denied:
        return ScopeGrant(frozenset(granted), denied)
    if missing:
        reason = (
            f"missing scope: service key {key_label} has no {'/'.join(sorted(missing))} scope "
            f"covering {repository}"
        )
    else:
        needs = "/".join(sorted(SCOPE_ACTION_BY_OCI_ACTION[a] for a in denied))
        reason = (
            f"wrong entity type: service key {key_label} may {needs} only {', '.join(sorted(other_types))} "
            f"repositories here, and {repository} is a {kind} repository"
        )
    return ScopeGrant(frozenset(granted), denied, reason)


def _full_name(org: str, repository: str) -> str:
    """A scope's repository as a full name: keys may store it as `org/...` or relative to the org."""
    return repository if repository.startswith(f"{org}/") else f"{org}/{repository}"
