"""Identity domain: names, roles and capabilities, access decisions, and the Org and User aggregates."""

from __future__ import annotations

import dataclasses
import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import ClassVar, Self

from hangar.kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    PermissionDenied,
)
from hangar.kit.events import Aggregate, DomainEvent

MAX_OWNERS_PER_ORG = 2
MAX_DISPLAY_NAME_LENGTH = 128
MAX_REPOSITORY_PATH_LENGTH = 255

# ---------------------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------------------

_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
# OCI distribution-spec path component (lowercase alphanumerics joined by '.', '_', '__' or runs of '-').
_REPOSITORY_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*")
_EMAIL_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _validate_name(kind: str, name: str) -> str:
    if not 2 <= len(name) <= 64:
        raise InvalidArgument(f"{kind} name {name!r} must be 2-64 characters long, not {len(name)}")
    if any(char.isupper() for char in name):
        raise InvalidArgument(f"{kind} name {name!r} must be lowercase")
    if not _NAME.fullmatch(name):
        raise InvalidArgument(
            f"{kind} name {name!r} may only hold lowercase letters and digits,"
            " joined by single '.', '_' or '-'"
        )
    return name


def validate_org_name(name: str) -> str:
    """Return `name` if it is a valid org name (`[a-z0-9]+([._-][a-z0-9]+)*`, 2-64 chars), else raise."""
    return _validate_name("org", name)


def validate_team_name(name: str) -> str:
    """Return `name` if it is a valid team name (same rule as org names), else raise InvalidArgument."""
    return _validate_name("team", name)


def validate_email(email: str) -> str:
    """Return the email trimmed and lowercased if it looks like a deliverable address, else raise.

    A sane check, not RFC 5322: one '@', a dot-atom local part, and a domain of DNS labels. Single-label
    domains are accepted because self-hosted installations live on internal networks.
    """
    normalised = email.strip().lower()
    local, at, domain = normalised.rpartition("@")
    if not at or not local or not domain:
        raise InvalidArgument(f"email {email!r} must look like name@example.com")
    if len(normalised) > 254 or len(local) > 64:
        raise InvalidArgument(f"email {email!r} is too long")
    if not _EMAIL_LOCAL.fullmatch(local):
        raise InvalidArgument(f"email {email!r} has an invalid part before the '@'")
    if not all(_DOMAIN_LABEL.fullmatch(label) for label in domain.split(".")):
        raise InvalidArgument(f"email {email!r} has an invalid domain")
    return normalised


def validate_display_name(display_name: str) -> str:
    """Return the display name trimmed if it is 1-128 printable characters, else raise InvalidArgument."""
    trimmed = display_name.strip()
    if not trimmed:
        raise InvalidArgument("display name must not be empty")
    if len(trimmed) > MAX_DISPLAY_NAME_LENGTH:
        raise InvalidArgument(f"display name must be at most {MAX_DISPLAY_NAME_LENGTH} characters")
    if any(unicodedata.category(char) == "Cc" for char in trimmed):
        raise InvalidArgument("display name must not contain control characters")
    return trimmed


def _scope_label(org: str, team: str | None) -> str:
    return f"org {org}" if team is None else f"team {org}/{team}"


# ---------------------------------------------------------------------------------------------------------
# Roles and capabilities
# ---------------------------------------------------------------------------------------------------------


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
_USER_ADMIN_TEAM_REACH = frozenset({_C.VIEW_USERS, _C.ADD_USERS, _C.VIEW_ORG})
# A membership must include one of these (ORG_OWNER at org scope stands on its own).
_MEMBERSHIP_ANCHORS = frozenset({Role.REGISTRY_READ, Role.REGISTRY_USER, Role.USER_ADMIN})


def capabilities_of(roles: Iterable[Role]) -> frozenset[Capability]:
    """The union of what `roles` allow, per the capability matrix."""
    allowed: frozenset[Capability] = frozenset()
    for role in roles:
        allowed |= CAPABILITIES[role]
    return allowed


def _role_names(roles: Iterable[Role]) -> tuple[str, ...]:
    """Role values in declaration order: the one canonical spelling of a role set."""
    held = frozenset(roles)
    return tuple(role.value for role in Role if role in held)


# ---------------------------------------------------------------------------------------------------------
# Memberships and repository paths
# ---------------------------------------------------------------------------------------------------------


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
            held = ", ".join(_role_names(self.roles))
            raise InvalidArgument(
                f"a membership in {self.scope} must include REGISTRY_READ, REGISTRY_USER or USER_ADMIN"
                f" (got {held})"
            )

    @property
    def scope(self) -> str:
        """The scope in words: "org acme" or "team acme/vision"."""
        return _scope_label(self.org, self.team)


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


# ---------------------------------------------------------------------------------------------------------
# Access decisions
# ---------------------------------------------------------------------------------------------------------


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
        f"{'role' if len(h.roles) == 1 else 'roles'} {', '.join(_role_names(h.roles))} in {h.scope}"
        for h in holdings
    )
    verb = "does" if len(holdings) == 1 and len(holdings[0].roles) == 1 else "do"
    actions = _join_or([capability.action for capability in missing])
    return AccessDecision(granted=wanted & allowed, denial_reason=f"{held} {verb} not allow {actions}")


def _roles_at(memberships: Iterable[Membership], org: str, team: str | None) -> frozenset[Role]:
    roles: frozenset[Role] = frozenset()
    for membership in memberships:
        if membership.org == org and membership.team == team:
            roles |= membership.roles
    return roles


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
    if Role.ORG_OWNER in _roles_at(memberships, path.org, None):
        return AccessDecision(granted=wanted_set)
    scope = _scope_label(path.org, path.team)
    roles = _roles_at(memberships, path.org, path.team)
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
    org_roles = _roles_at(memberships, org, None)
    if Role.ORG_OWNER in org_roles:
        return AccessDecision(granted=wanted)
    if team is None or capability is Capability.ADD_TEAMS:
        scope = _scope_label(org, None)
        return _decide(wanted, [_Holding(org_roles, scope, capabilities_of(org_roles))], scope)
    scope = _scope_label(org, team)
    team_roles = _roles_at(memberships, org, team)
    holdings = [_Holding(team_roles, scope, capabilities_of(team_roles))]
    if Role.USER_ADMIN in org_roles:
        reach = _Holding(frozenset({Role.USER_ADMIN}), _scope_label(org, None), _USER_ADMIN_TEAM_REACH)
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
    held_at_org = _roles_at(granter_memberships, org, None)
    if Role.ORG_OWNER in held_at_org:
        return
    scope = _scope_label(org, team)
    held = held_at_org | _roles_at(granter_memberships, org, team)
    if Role.USER_ADMIN not in held:
        raise PermissionDenied(f"only ORG_OWNER or USER_ADMIN may grant roles in {scope}")
    changed = frozenset(roles) ^ frozenset(current_roles)
    lacking = changed - held
    if lacking:
        raise PermissionDenied(
            f"USER_ADMIN may only grant or revoke roles it holds itself; in {scope} it lacks"
            f" {', '.join(_role_names(lacking))}"
        )


# ---------------------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class OrgCreated(DomainEvent):
    org_id: str
    name: str
    display_name: str


@dataclasses.dataclass(frozen=True)
class UserRegistered(DomainEvent):
    user_id: str
    email: str
    display_name: str


@dataclasses.dataclass(frozen=True)
class TeamCreated(DomainEvent):
    org_id: str
    team: str


@dataclasses.dataclass(frozen=True)
class RolesChanged(DomainEvent):
    """The user's roles at one scope are now `roles` (role values in declaration order); () ends it."""

    org_id: str
    org: str
    team: str | None
    user_id: str
    roles: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class UserRemoved(DomainEvent):
    """The user left the org: every membership in it, at org and team scope, has ended."""

    org_id: str
    org: str
    user_id: str


# ---------------------------------------------------------------------------------------------------------
# Aggregates
# ---------------------------------------------------------------------------------------------------------


class Org(Aggregate):
    """An org: its name, its teams and who holds which roles where."""

    stream_prefix: ClassVar[str] = "org"

    def __init__(self, id: str) -> None:
        super().__init__(id)
        self.name = ""
        self.display_name = ""
        self.teams: set[str] = set()
        self.memberships: dict[str, dict[str | None, frozenset[Role]]] = {}

    @classmethod
    def create(cls, org_id: str, name: str, display_name: str) -> Self:
        """A new org; an empty display name falls back to the name."""
        if not org_id:
            raise InvalidArgument("org id must not be empty")
        validate_org_name(name)
        event = OrgCreated(org_id=org_id, name=name, display_name=validate_display_name(display_name or name))
        org = cls(org_id)
        org.record(event)
        return org

    def create_team(self, team: str) -> None:
        validate_team_name(team)
        if team in self.teams:
            raise AlreadyExists(f"team {self.name}/{team} already exists")
        self.record(TeamCreated(org_id=self.id, team=team))

    def set_roles(self, user_id: str, team: str | None, roles: Iterable[Role]) -> None:
        """Make `roles` the user's roles at the org (`team` None) or at one team; none ends that membership.

        Setting the roles the user already holds records nothing.
        """
        if not user_id:
            raise InvalidArgument("user id must not be empty")
        if team is not None and team not in self.teams:
            raise NotFound(f"team {self.name}/{team} not found")
        new = frozenset(roles)
        current = self.memberships.get(user_id, {}).get(team, frozenset())
        if new:
            Membership(org=self.name, team=team, roles=new)
        elif not current:
            raise NotFound(f"user {user_id} has no role in {_scope_label(self.name, team)}")
        if new == current:
            return
        if team is None:
            self._check_owners(user_id, stays_owner=Role.ORG_OWNER in new)
        self.record(
            RolesChanged(org_id=self.id, org=self.name, team=team, user_id=user_id, roles=_role_names(new))
        )

    def remove_user(self, user_id: str) -> None:
        """End every membership of the user in this org."""
        if user_id not in self.memberships:
            raise NotFound(f"user {user_id} is not a member of org {self.name}")
        self._check_owners(user_id, stays_owner=False)
        self.record(UserRemoved(org_id=self.id, org=self.name, user_id=user_id))

    def _check_owners(self, user_id: str, *, stays_owner: bool) -> None:
        owners = self.owners()
        if stays_owner and user_id not in owners and len(owners) >= MAX_OWNERS_PER_ORG:
            raise LimitExceeded(f"org {self.name} already has {MAX_OWNERS_PER_ORG} owners, the most allowed")
        if not stays_owner and owners == {user_id}:
            # Only the installation's system administrator could recover an org left without an owner.
            raise FailedPrecondition(f"user {user_id} is the last ORG_OWNER of org {self.name}")

    def memberships_of(self, user_id: str) -> list[Membership]:
        """The user's memberships in this org: org scope first, then teams by name."""
        scopes = self.memberships.get(user_id, {})
        order = sorted(scopes, key=lambda team: (team is not None, team or ""))
        return [Membership(org=self.name, team=team, roles=scopes[team]) for team in order]

    def owners(self) -> set[str]:
        return {
            user_id
            for user_id, scopes in self.memberships.items()
            if Role.ORG_OWNER in scopes.get(None, frozenset())
        }

    def members(self) -> set[str]:
        """Users holding a role anywhere in the org."""
        return set(self.memberships)

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, OrgCreated):
            self.name = event.name
            self.display_name = event.display_name
        elif isinstance(event, TeamCreated):
            self.teams.add(event.team)
        elif isinstance(event, RolesChanged):
            scopes = self.memberships.setdefault(event.user_id, {})
            if event.roles:
                scopes[event.team] = frozenset(Role(value) for value in event.roles)
            else:
                scopes.pop(event.team, None)
            if not scopes:
                del self.memberships[event.user_id]
        elif isinstance(event, UserRemoved):
            self.memberships.pop(event.user_id, None)
        # Any other event is unknown to this version (a newer replica wrote it): it changes nothing here.


class User(Aggregate):
    """A person who can sign in: identified by id, reached by email."""

    stream_prefix: ClassVar[str] = "user"

    def __init__(self, id: str) -> None:
        super().__init__(id)
        self.email = ""
        self.display_name = ""

    @classmethod
    def register(cls, user_id: str, email: str, display_name: str) -> Self:
        if not user_id:
            raise InvalidArgument("user id must not be empty")
        event = UserRegistered(
            user_id=user_id, email=validate_email(email), display_name=validate_display_name(display_name)
        )
        user = cls(user_id)
        user.record(event)
        return user

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, UserRegistered):
            self.email = event.email
            self.display_name = event.display_name
