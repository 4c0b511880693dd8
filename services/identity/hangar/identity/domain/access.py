"""Access decisions: repository paths and their scopes, what a holder of memberships may do, who may grant."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from hangar.identity.domain.names import scope_label, validate_org_name, validate_team_name
from hangar.identity.domain.roles import (
    USER_ADMIN_TEAM_REACH,
    Capability,
    Membership,
    Role,
    capabilities_of,
    role_names,
    roles_at,
)
from hangar.kit.errors import InvalidArgument, PermissionDenied

MAX_REPOSITORY_PATH_LENGTH = 255

# OCI distribution-spec path component (lowercase alphanumerics joined by '.', '_', '__' or runs of '-').
_REPOSITORY_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*")


@dataclasses.dataclass(frozen=True)
class RepositoryPath:
    """A repository address: `org/name` (org scope) or `org/team/name` (team scope)."""

    org: str
    team: str | None
    name: str

    def __post_init__(self) -> None:
        validate_org_name(self.org)
        if self.team is not None:
            validate_team_name(self.team)
        if not _REPOSITORY_COMPONENT.fullmatch(self.name):
            raise InvalidArgument(
                f"repository name {self.name!r} may only hold lowercase letters and digits,"
                " joined by '.', '_', '__' or '-'"
            )
        if len(str(self)) > MAX_REPOSITORY_PATH_LENGTH:
            raise InvalidArgument(f"repository path must be at most {MAX_REPOSITORY_PATH_LENGTH} characters")

    @classmethod
    def parse(cls, path: str) -> RepositoryPath:
        parts = path.split("/")
        if len(parts) == 2:
            return cls(org=parts[0], team=None, name=parts[1])
        if len(parts) == 3:
            return cls(org=parts[0], team=parts[1], name=parts[2])
        raise InvalidArgument(f"repository {path!r} must be 'org/name' or 'org/team/name'")

    @property
    def scope(self) -> tuple[str, str | None]:
        """(org, team) - team is None for the org's own repositories."""
        return self.org, self.team

    def __str__(self) -> str:
        return f"{self.org}/{self.name}" if self.team is None else f"{self.org}/{self.team}/{self.name}"


def repository_scope(path: str) -> tuple[str, str | None]:
    """(org, team|None) of a repository path; raises InvalidArgument if the path is malformed."""
    return RepositoryPath.parse(path).scope


@dataclasses.dataclass(frozen=True)
class AccessDecision:
    """The wanted capabilities that were granted, and one sentence saying why the rest were not."""

    granted: frozenset[Capability]
    denial_reason: str = ""

    @property
    def denied(self) -> bool:
        """True if at least one wanted capability was refused."""
        return bool(self.denial_reason)

    def allows(self, capability: Capability) -> bool:
        return capability in self.granted


@dataclasses.dataclass(frozen=True)
class _Holding:
    """Roles that apply at the scope being decided, where they come from, and what they allow there."""

    roles: frozenset[Role]
    scope: str
    allows: frozenset[Capability]


def _join_or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _decide(wanted: frozenset[Capability], holdings: list[_Holding], scope: str) -> AccessDecision:
    holdings = [holding for holding in holdings if holding.roles]
    allowed = frozenset(capability for holding in holdings for capability in holding.allows)
    missing = [capability for capability in Capability if capability in wanted and capability not in allowed]
    if not missing:
        return AccessDecision(granted=wanted)
    if not holdings:
        # Says nothing of what exists inside the scope: the same sentence for every repository in it.
        return AccessDecision(granted=wanted & allowed, denial_reason=f"no role in {scope}")
    held = " and ".join(
        f"{'role' if len(h.roles) == 1 else 'roles'} {', '.join(role_names(h.roles))} in {h.scope}"
        for h in holdings
    )
    verb = "does" if len(holdings) == 1 and len(holdings[0].roles) == 1 else "do"
    actions = _join_or([capability.action for capability in missing])
    return AccessDecision(granted=wanted & allowed, denial_reason=f"{held} {verb} not allow {actions}")


def decide(
    memberships: Iterable[Membership], repository: str, wanted: Iterable[Capability]
) -> AccessDecision:
    """Which of `wanted` the holder of `memberships` may do on `repository`.

    An org-scope role covers the org's own repositories (`org/name`) and no team's; a team-scope role covers
    that team's repositories (`org/team/name`); ORG_OWNER covers every repository of its org. The decision
    never depends on whether the repository exists, so neither can its reason.
    """
    path = RepositoryPath.parse(repository)
    memberships = list(memberships)
    wanted_set = frozenset(wanted)
    if Role.ORG_OWNER in roles_at(memberships, path.org, None):
        return AccessDecision(granted=wanted_set)
    scope = scope_label(path.org, path.team)
    roles = roles_at(memberships, path.org, path.team)
    return _decide(wanted_set, [_Holding(roles, scope, capabilities_of(roles))], scope)


def decide_org(
    memberships: Iterable[Membership], org: str, team: str | None, capability: Capability
) -> AccessDecision:
    """Whether the holder of `memberships` may use a management capability on the org or one team of it.

    Org-scope roles decide for the org; a team is decided by the roles held in it, plus an org-scope
    USER_ADMIN, which manages the users of every team (but sees none of their content). Teams are created in
    the org, so ADD_TEAMS is always decided at org scope, whatever `team` is given.
    """
    memberships = list(memberships)
    wanted = frozenset({capability})
    org_roles = roles_at(memberships, org, None)
    if Role.ORG_OWNER in org_roles:
        return AccessDecision(granted=wanted)
    if team is None or capability is Capability.ADD_TEAMS:
        scope = scope_label(org, None)
        return _decide(wanted, [_Holding(org_roles, scope, capabilities_of(org_roles))], scope)
    scope = scope_label(org, team)
    team_roles = roles_at(memberships, org, team)
    holdings = [_Holding(team_roles, scope, capabilities_of(team_roles))]
    if Role.USER_ADMIN in org_roles:
        reach = _Holding(frozenset({Role.USER_ADMIN}), scope_label(org, None), USER_ADMIN_TEAM_REACH)
        holdings.append(reach)
    return _decide(wanted, holdings, scope)


def check_grant(
    granter_memberships: Iterable[Membership],
    org: str,
    team: str | None,
    roles: Iterable[Role],
    *,
    current_roles: Iterable[Role] = (),
) -> None:
    """Raise PermissionDenied unless the granter may set `roles` (replacing `current_roles`) at the scope.

    ORG_OWNER may grant anything. A USER_ADMIN - at that scope, or at org scope when the scope is a team -
    may grant, and revoke, only roles it holds itself at that scope or at org scope. Anyone else is refused.
    The limit of owners per org is the Org aggregate's to enforce (it knows the owners).
    """
    granter_memberships = list(granter_memberships)
    held_at_org = roles_at(granter_memberships, org, None)
    if Role.ORG_OWNER in held_at_org:
        return
    scope = scope_label(org, team)
    held = held_at_org | roles_at(granter_memberships, org, team)
    if Role.USER_ADMIN not in held:
        raise PermissionDenied(f"only ORG_OWNER or USER_ADMIN may grant roles in {scope}")
    changed = frozenset(roles) ^ frozenset(current_roles)
    lacking = changed - held
    if lacking:
        raise PermissionDenied(
            f"USER_ADMIN may only grant or revoke roles it holds itself; in {scope} it lacks"
            f" {', '.join(role_names(lacking))}"
        )
