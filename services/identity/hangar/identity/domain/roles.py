"""Roles, the capabilities they allow (DESIGN.md §1's matrix), and memberships: roles held at one scope."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from hangar.identity.domain.names import scope_label, validate_org_name, validate_team_name
from hangar.kit.errors import InvalidArgument


class Role(enum.Enum):
    """A role granted to a user at an org or at one team of it."""

    ORG_OWNER = "ORG_OWNER"
    REGISTRY_ADMIN = "REGISTRY_ADMIN"
    REGISTRY_USER = "REGISTRY_USER"
    REGISTRY_READ = "REGISTRY_READ"
    USER_ADMIN = "USER_ADMIN"
    USER_READ = "USER_READ"


class Capability(enum.Enum):
    """Something a role allows; declaration order is the order denial reasons list them in."""

    VIEW_ARTIFACTS = "VIEW_ARTIFACTS"
    DOWNLOAD_ARTIFACTS = "DOWNLOAD_ARTIFACTS"
    PUSH_ARTIFACTS = "PUSH_ARTIFACTS"
    EDIT_ARTIFACTS = "EDIT_ARTIFACTS"
    DELETE_ARTIFACTS = "DELETE_ARTIFACTS"
    VIEW_USERS = "VIEW_USERS"
    ADD_USERS = "ADD_USERS"
    ADD_TEAMS = "ADD_TEAMS"
    VIEW_ORG = "VIEW_ORG"

    @property
    def action(self) -> str:
        """The capability as a verb phrase, for denial reasons ("does not allow push")."""
        return _ACTIONS[self]


_ACTIONS: Mapping[Capability, str] = MappingProxyType(
    {
        Capability.VIEW_ARTIFACTS: "view artifacts",
        Capability.DOWNLOAD_ARTIFACTS: "download",
        Capability.PUSH_ARTIFACTS: "push",
        Capability.EDIT_ARTIFACTS: "edit artifact information",
        Capability.DELETE_ARTIFACTS: "delete artifacts",
        Capability.VIEW_USERS: "view users",
        Capability.ADD_USERS: "add users",
        Capability.ADD_TEAMS: "add teams",
        Capability.VIEW_ORG: "view org or team details",
    }
)

_C = Capability
CAPABILITIES: Mapping[Role, frozenset[Capability]] = MappingProxyType(
    {
        Role.ORG_OWNER: frozenset(Capability),
        Role.REGISTRY_ADMIN: frozenset(
            {
                _C.VIEW_ARTIFACTS,
                _C.DOWNLOAD_ARTIFACTS,
                _C.PUSH_ARTIFACTS,
                _C.EDIT_ARTIFACTS,
                _C.DELETE_ARTIFACTS,
                _C.VIEW_USERS,
                _C.VIEW_ORG,
            }
        ),
        Role.REGISTRY_USER: frozenset(
            {_C.VIEW_ARTIFACTS, _C.DOWNLOAD_ARTIFACTS, _C.PUSH_ARTIFACTS, _C.EDIT_ARTIFACTS, _C.VIEW_ORG}
        ),
        Role.REGISTRY_READ: frozenset({_C.VIEW_ARTIFACTS, _C.DOWNLOAD_ARTIFACTS, _C.VIEW_ORG}),
        Role.USER_ADMIN: frozenset(
            {_C.VIEW_ARTIFACTS, _C.VIEW_USERS, _C.ADD_USERS, _C.ADD_TEAMS, _C.VIEW_ORG}
        ),
        Role.USER_READ: frozenset({_C.VIEW_ORG}),
    }
)
"""The capability matrix of DESIGN.md §1: everything not listed is denied."""

# What an org-scope USER_ADMIN carries into every team: it manages their users, nothing of their content.
USER_ADMIN_TEAM_REACH = frozenset({_C.VIEW_USERS, _C.ADD_USERS, _C.VIEW_ORG})
# A membership must include one of these (ORG_OWNER at org scope stands on its own).
_MEMBERSHIP_ANCHORS = frozenset({Role.REGISTRY_READ, Role.REGISTRY_USER, Role.USER_ADMIN})


def capabilities_of(roles: Iterable[Role]) -> frozenset[Capability]:
    """The union of what `roles` allow, per the capability matrix."""
    allowed: frozenset[Capability] = frozenset()
    for role in roles:
        allowed |= CAPABILITIES[role]
    return allowed


def role_names(roles: Iterable[Role]) -> tuple[str, ...]:
    """Role values in declaration order: the one canonical spelling of a role set (as events carry it)."""
    held = frozenset(roles)
    return tuple(role.value for role in Role if role in held)


@dataclasses.dataclass(frozen=True)
class Membership:
    """The roles a user holds at one scope: the org (`team` is None) or one team of it."""

    org: str
    team: str | None
    roles: frozenset[Role]

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", frozenset(self.roles))
        validate_org_name(self.org)
        if self.team is not None:
            validate_team_name(self.team)
        if not self.roles:
            raise InvalidArgument(f"a membership in {self.scope} needs at least one role")
        if Role.ORG_OWNER in self.roles:
            if self.team is not None:
                raise InvalidArgument(f"ORG_OWNER is granted at org scope only, not in {self.scope}")
            return
        if not self.roles & _MEMBERSHIP_ANCHORS:
            held = ", ".join(role_names(self.roles))
            raise InvalidArgument(
                f"a membership in {self.scope} must include REGISTRY_READ, REGISTRY_USER or USER_ADMIN"
                f" (got {held})"
            )

    @property
    def scope(self) -> str:
        """The scope in words: "org acme" or "team acme/vision"."""
        return scope_label(self.org, self.team)


def roles_at(memberships: Iterable[Membership], org: str, team: str | None) -> frozenset[Role]:
    """The roles held at exactly one scope (the org itself when `team` is None)."""
    roles: frozenset[Role] = frozenset()
    for membership in memberships:
        if membership.org == org and membership.team == team:
            roles |= membership.roles
    return roles
