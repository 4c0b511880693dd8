"""Identity commands and queries: orgs, teams, users, roles and access decisions, each one unit of work."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import uuid
from collections.abc import Callable, Iterable
from typing import NamedTuple, Protocol

from hangar.identity.domain import (
    AccessDecision,
    Capability,
    Membership,
    Org,
    RepositoryPath,
    Role,
    User,
    check_grant,
    decide,
    decide_org,
    validate_email,
    validate_org_name,
    validate_team_name,
)
from hangar.kit.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from hangar.kit.events import Aggregate
from hangar.kit.uow import UnitOfWork, UnitOfWorkFactory, retry_on_conflict

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

# ---------------------------------------------------------------------------------------------------------
# What the app reads: read models, and the port that serves them
# ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class OrgView:
    org_id: str
    name: str
    display_name: str


@dataclasses.dataclass(frozen=True)
class UserView:
    user_id: str
    email: str
    display_name: str


@dataclasses.dataclass(frozen=True)
class UserDetails:
    """A user and memberships: every one of them (get_user), or those in one org (list_users)."""

    user: UserView
    memberships: tuple[Membership, ...]


@dataclasses.dataclass(frozen=True)
class MemberPage:
    members: tuple[UserDetails, ...]
    #: Empty on the last page.
    next_page_token: str


@dataclasses.dataclass(frozen=True)
class GrantDecision:
    """Whether a principal may set roles; when not, one sentence saying why."""

    allowed: bool
    denial_reason: str = ""


class CreatedOrg(NamedTuple):
    org_id: str
    owner_user_id: str


class Views(Protocol):
    """The identity read models, on the transaction of the unit of work."""

    async def org_by_name(self, name: str) -> OrgView | None: ...

    async def user_by_id(self, user_id: str) -> UserView | None: ...

    async def user_by_email(self, email: str) -> UserView | None: ...

    async def memberships_of(self, user_id: str, org: str | None = None) -> list[Membership]:
        """The user's memberships (in one org if `org` is given): by org, org scope first, teams by name."""
        ...

    async def teams_of(self, org_id: str) -> list[str]:
        """The org's team names, sorted."""
        ...

    async def members_of(
        self, org_id: str, team: str | None, *, after_email: str, limit: int
    ) -> list[UserDetails]:
        """Members of the org (of one team, if given) with their memberships in the org, by email."""
        ...


# ---------------------------------------------------------------------------------------------------------
# The application
# ---------------------------------------------------------------------------------------------------------


def _new_id() -> str:
    return str(uuid.uuid4())


class App:
    """The identity service's use cases. Commands retry on a lost append race; queries read projections."""

    def __init__(self, uow: UnitOfWorkFactory[Views], *, new_id: Callable[[], str] = _new_id) -> None:
        self.uow = uow
        self._new_id = new_id

    # -- commands ------------------------------------------------------------------------------------------

    async def create_org(
        self, name: str, display_name: str, owner_email: str, owner_display_name: str
    ) -> CreatedOrg:
        """Create an org and make `owner_email` its ORG_OWNER, registering that user if the email is new.

        The owner's display name is used only for a new user. An empty org display name becomes the name.
        """
        validate_org_name(name)
        email = validate_email(owner_email)

        async def attempt() -> CreatedOrg:
            async with self.uow() as uow:
                if await uow.views.org_by_name(name) is not None:
                    raise AlreadyExists(f"org {name} already exists")
                owner, new_user = await self._find_or_register(uow, email, owner_display_name)
                org = Org.create(self._new_id(), name, display_name)
                org.set_roles(owner.user_id, None, {Role.ORG_OWNER})
                await _save(uow, new_user, org)
                await uow.commit()
                return CreatedOrg(org_id=org.id, owner_user_id=owner.user_id)

        return await retry_on_conflict(attempt)

    async def create_team(self, org: str, team: str) -> None:
        validate_org_name(org)
        validate_team_name(team)

        async def attempt() -> None:
            async with self.uow() as uow:
                aggregate = await _load_org(uow, org)
                aggregate.create_team(team)
                await _save(uow, aggregate)
                await uow.commit()

        await retry_on_conflict(attempt)

    async def add_user(
        self, org: str, team: str | None, email: str, display_name: str, roles: Iterable[Role]
    ) -> UserView:
        """Give the user of `email` exactly `roles` at the org (`team` None) or one team of it.

        A new email registers a user with `display_name` (ignored for a known email). Roles the user held at
        that scope are replaced; at least one role is required (set_roles with none ends a membership).
        """
        _validate_scope(org, team)
        normalised = validate_email(email)
        wanted = frozenset(roles)
        if not wanted:
            raise InvalidArgument("adding a user needs at least one role")

        async def attempt() -> UserView:
            async with self.uow() as uow:
                aggregate = await _load_org(uow, org)
                user, new_user = await self._find_or_register(uow, normalised, display_name)
                aggregate.set_roles(user.user_id, team, wanted)
                await _save(uow, new_user, aggregate)
                await uow.commit()
            return user

        return await retry_on_conflict(attempt)

    async def set_roles(
        self, org: str, team: str | None, user_id: str, roles: Iterable[Role]
    ) -> tuple[Membership, ...]:
        """Make `roles` the user's roles at the org or one team; none ends that membership.

        Returns the user's memberships in the org afterwards.
        """
        _validate_scope(org, team)
        wanted = frozenset(roles)

        async def attempt() -> tuple[Membership, ...]:
            async with self.uow() as uow:
                if await uow.views.user_by_id(user_id) is None:
                    raise NotFound(f"user {user_id} not found")
                aggregate = await _load_org(uow, org)
                aggregate.set_roles(user_id, team, wanted)
                await _save(uow, aggregate)
                await uow.commit()
            return tuple(aggregate.memberships_of(user_id))

        return await retry_on_conflict(attempt)

    async def remove_user(self, org: str, user_id: str) -> None:
        """End every membership of the user in the org (UserRemoved); the last owner cannot leave."""
        validate_org_name(org)

        async def attempt() -> None:
            async with self.uow() as uow:
                aggregate = await _load_org(uow, org)
                aggregate.remove_user(user_id)
                await _save(uow, aggregate)
                await uow.commit()

        await retry_on_conflict(attempt)

    async def _find_or_register(
        self, uow: UnitOfWork[Views], email: str, display_name: str
    ) -> tuple[UserView, User | None]:
        """The user with `email`, and the new User aggregate if it had to be registered."""
        known = await uow.views.user_by_email(email)
        if known is not None:
            return known, None
        user = User.register(self._new_id(), email, display_name)
        return UserView(user.id, user.email, user.display_name), user

    # -- queries -------------------------------------------------------------------------------------------

    async def get_org(self, name: str) -> OrgView:
        validate_org_name(name)
        async with self.uow(readonly=True) as uow:
            return await _org_view(uow, name)

    async def get_user(self, *, user_id: str | None = None, email: str | None = None) -> UserDetails:
        """A user by id or by email (exactly one), with every membership the user holds."""
        if (user_id is None) == (email is None):
            raise InvalidArgument("look a user up by user id or by email, exactly one")
        async with self.uow(readonly=True) as uow:
            if user_id is not None:
                user = await uow.views.user_by_id(user_id)
                missing = f"user {user_id} not found"
            else:
                assert email is not None
                user = await uow.views.user_by_email(validate_email(email))
                missing = f"no user has email {email}"
            if user is None:
                raise NotFound(missing)
            memberships = await uow.views.memberships_of(user.user_id)
        return UserDetails(user, tuple(memberships))

    async def list_teams(self, org: str) -> list[str]:
        validate_org_name(org)
        async with self.uow(readonly=True) as uow:
            view = await _org_view(uow, org)
            return await uow.views.teams_of(view.org_id)

    async def list_users(
        self, org: str, team: str | None = None, *, page_size: int = 0, page_token: str = ""
    ) -> MemberPage:
        """One page of the org's members (or one team's), by email, with their memberships in the org."""
        _validate_scope(org, team)
        if page_size < 0:
            raise InvalidArgument("page size must not be negative")
        limit = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        after = _decode_page_token(page_token)
        async with self.uow(readonly=True) as uow:
            view = await _org_view(uow, org)
            if team is not None and team not in await uow.views.teams_of(view.org_id):
                raise NotFound(f"team {org}/{team} not found")
            members = await uow.views.members_of(view.org_id, team, after_email=after, limit=limit + 1)
        page = tuple(members[:limit])
        token = _encode_page_token(page[-1].user.email) if len(members) > limit else ""
        return MemberPage(page, token)

    async def check_access(
        self, user_id: str, repository: str, capabilities: Iterable[Capability]
    ) -> AccessDecision:
        """Which of `capabilities` the user holds on `repository` (which need not exist), and why not."""
        path = RepositoryPath.parse(repository)
        wanted = frozenset(capabilities)
        if not wanted:
            raise InvalidArgument("ask for at least one capability")
        async with self.uow(readonly=True) as uow:
            memberships = await uow.views.memberships_of(user_id, path.org)
        return decide(memberships, repository, wanted)

    async def check_org_access(
        self, user_id: str, org: str, team: str | None, capability: Capability
    ) -> AccessDecision:
        """Whether the user may use a management capability on the org or one team of it."""
        _validate_scope(org, team)
        async with self.uow(readonly=True) as uow:
            memberships = await uow.views.memberships_of(user_id, org)
        return decide_org(memberships, org, team, capability)

    async def check_grant(
        self,
        granter_user_id: str,
        org: str,
        team: str | None,
        roles: Iterable[Role],
        *,
        user_id: str | None = None,
        email: str | None = None,
    ) -> GrantDecision:
        """Whether the granter may make `roles` the roles of a user (by id or email) at the scope.

        Only the granter's permission is decided here; whether the roles form a valid membership, and the
        limit of owners, are checked when the roles are set.
        """
        _validate_scope(org, team)
        if (user_id is None) == (email is None):
            raise InvalidArgument("name the user whose roles change by user id or by email, exactly one")
        async with self.uow(readonly=True) as uow:
            granter = await uow.views.memberships_of(granter_user_id, org)
            if email is not None:
                known = await uow.views.user_by_email(validate_email(email))
                user_id = known.user_id if known is not None else None
            current = await uow.views.memberships_of(user_id, org) if user_id else []
        held = frozenset(r for m in current if m.team == team for r in m.roles)
        try:
            check_grant(granter, org, team, roles, current_roles=held)
        except PermissionDenied as denied:
            return GrantDecision(allowed=False, denial_reason=denied.message)
        return GrantDecision(allowed=True)


# ---------------------------------------------------------------------------------------------------------
# Unit-of-work steps shared by the commands
# ---------------------------------------------------------------------------------------------------------


def _validate_scope(org: str, team: str | None) -> None:
    validate_org_name(org)
    if team is not None:
        validate_team_name(team)


async def _org_view(uow: UnitOfWork[Views], name: str) -> OrgView:
    view = await uow.views.org_by_name(name)
    if view is None:
        raise NotFound(f"org {name} not found")
    return view


async def _load_org(uow: UnitOfWork[Views], name: str) -> Org:
    view = await _org_view(uow, name)
    stored = await uow.events.load(Org.stream_for(view.org_id))
    return Org.rehydrate(view.org_id, (s.event for s in stored))


async def _save(uow: UnitOfWork[Views], *aggregates: Aggregate | None) -> None:
    """Append what each aggregate recorded, expecting the version it was loaded at."""
    for aggregate in aggregates:
        if aggregate is None:
            continue
        expected = aggregate.loaded_version
        events = aggregate.collect()
        if events:
            await uow.events.append(aggregate.stream_id, expected, events)


def _encode_page_token(last_email: str) -> str:
    return base64.urlsafe_b64encode(last_email.encode()).decode().rstrip("=")


def _decode_page_token(token: str) -> str:
    if not token:
        return ""
    try:
        return base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidArgument("page token is not one this service handed out") from None
