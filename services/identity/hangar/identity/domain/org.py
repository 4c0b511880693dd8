"""The Org aggregate (stream `org-<id>`): its name, its teams and who holds which roles where."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import ClassVar, Self

from hangar.identity.domain.names import (
    scope_label,
    validate_display_name,
    validate_org_name,
    validate_team_name,
)
from hangar.identity.domain.roles import Membership, Role, role_names
from hangar.kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, LimitExceeded, NotFound
from hangar.kit.events import Aggregate, DomainEvent

MAX_OWNERS_PER_ORG = 2


@dataclasses.dataclass(frozen=True)
class OrgCreated(DomainEvent):
    org_id: str
    name: str
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


@dataclasses.dataclass(frozen=True)
class UserRemovedFromTeam(DomainEvent):
    """The user's membership of one team has ended; memberships elsewhere in the org stay."""

    org_id: str
    org: str
    team: str
    user_id: str


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
        self.require_team(team)
        new = frozenset(roles)
        current = self.roles_of(user_id, team)
        if new:
            Membership(org=self.name, team=team, roles=new)
        elif not current:
            raise NotFound(f"user {user_id} has no role in {scope_label(self.name, team)}")
        if new == current:
            return
        if team is None:
            self._check_owners(user_id, stays_owner=Role.ORG_OWNER in new)
        self.record(
            RolesChanged(org_id=self.id, org=self.name, team=team, user_id=user_id, roles=role_names(new))
        )

    def remove_user(self, user_id: str) -> None:
        """End every membership of the user in this org."""
        if user_id not in self.memberships:
            raise NotFound(f"user {user_id} is not a member of org {self.name}")
        self._check_owners(user_id, stays_owner=False)
        self.record(UserRemoved(org_id=self.id, org=self.name, user_id=user_id))

    def remove_from_team(self, user_id: str, team: str) -> None:
        """End the user's membership of one team (UserRemovedFromTeam); other memberships stay.

        When that team was the user's last membership in the org, the user has left the org: UserRemoved
        follows, so that what hangs on org membership (the user's keys in the org) ends as well. ORG_OWNER is
        held at org scope only, so leaving a team never touches the owners.
        """
        validate_team_name(team)
        self.require_team(team)
        if not self.roles_of(user_id, team):
            raise NotFound(f"user {user_id} has no role in {scope_label(self.name, team)}")
        self.record(UserRemovedFromTeam(org_id=self.id, org=self.name, team=team, user_id=user_id))
        if user_id not in self.memberships:
            self.record(UserRemoved(org_id=self.id, org=self.name, user_id=user_id))

    def require_team(self, team: str | None) -> None:
        """Raise NotFound unless `team` is None (the org itself) or one of the org's teams."""
        if team is not None and team not in self.teams:
            raise NotFound(f"team {self.name}/{team} not found")

    def check_owner_slot(self, user_id: str, roles: Iterable[Role]) -> None:
        """Raise LimitExceeded if giving `roles` at org scope to the user would exceed the owners allowed."""
        if Role.ORG_OWNER in frozenset(roles):
            self._check_owners(user_id, stays_owner=True)

    def _check_owners(self, user_id: str, *, stays_owner: bool) -> None:
        owners = self.owners()
        if stays_owner and user_id not in owners and len(owners) >= MAX_OWNERS_PER_ORG:
            raise LimitExceeded(f"org {self.name} already has {MAX_OWNERS_PER_ORG} owners, the most allowed")
        if not stays_owner and owners == {user_id}:
            # Only the installation's system administrator could recover an org left without an owner.
            raise FailedPrecondition(f"user {user_id} is the last ORG_OWNER of org {self.name}")

    def roles_of(self, user_id: str, team: str | None) -> frozenset[Role]:
        """The user's roles at exactly one scope; empty when the user holds none there."""
        return self.memberships.get(user_id, {}).get(team, frozenset())

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
        elif isinstance(event, UserRemovedFromTeam):
            scopes = self.memberships.get(event.user_id, {})
            scopes.pop(event.team, None)
            if not scopes:
                self.memberships.pop(event.user_id, None)
        elif isinstance(event, UserRemoved):
            self.memberships.pop(event.user_id, None)
        # Any other event is unknown to this version (a newer replica wrote it): it changes nothing here.
