"""Orgs, teams, users and roles, and the access decisions over them."""

from __future__ import annotations

from collections.abc import Iterable

from hangar.identity.app.base import (
    AppBase,
    clamp_page_size,
    decode_page_token,
    encode_page_token,
    load_org,
    org_view,
    save,
    validate_scope,
)
from hangar.identity.app.ports import (
    CreatedOrg,
    GrantDecision,
    MemberPage,
    OrgView,
    UserDetails,
    UserView,
    Views,
)
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
from hangar.kit.uow import UnitOfWork, retry_on_conflict


class Directory(AppBase):
    """Commands and queries on orgs, teams, users and roles."""

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
                await save(uow, new_user, org)
                await uow.commit()
                return CreatedOrg(org_id=org.id, owner_user_id=owner.user_id)

        return await retry_on_conflict(attempt)

    async def create_team(self, org: str, team: str) -> None:
        validate_org_name(org)
        validate_team_name(team)

        async def attempt() -> None:
            async with self.uow() as uow:
                aggregate = await load_org(uow, org)
                aggregate.create_team(team)
                await save(uow, aggregate)
                await uow.commit()

        await retry_on_conflict(attempt)

    async def add_user(
        self, org: str, team: str | None, email: str, display_name: str, roles: Iterable[Role]
    ) -> UserView:
        """Give the user of `email` exactly `roles` at the org (`team` None) or one team of it.

        A new email registers a user with `display_name` (ignored for a known email). Roles the user held at
        that scope are replaced; at least one role is required (set_roles with none ends a membership).
        """
        validate_scope(org, team)
        normalised = validate_email(email)
        wanted = frozenset(roles)
        if not wanted:
            raise InvalidArgument("adding a user needs at least one role")

        async def attempt() -> UserView:
            async with self.uow() as uow:
                aggregate = await load_org(uow, org)
                user, new_user = await self._find_or_register(uow, normalised, display_name)
                aggregate.set_roles(user.user_id, team, wanted)
                await save(uow, new_user, aggregate)
                await uow.commit()
            return user

        return await retry_on_conflict(attempt)

    async def set_roles(
        self, org: str, team: str | None, user_id: str, roles: Iterable[Role]
    ) -> tuple[Membership, ...]:
        """Make `roles` the user's roles at the org or one team; none ends that membership.

        Returns the user's memberships in the org afterwards.
        """
        validate_scope(org, team)
        wanted = frozenset(roles)

        async def attempt() -> tuple[Membership, ...]:
            async with self.uow() as uow:
                if await uow.views.user_by_id(user_id) is None:
                    raise NotFound(f"user {user_id} not found")
                aggregate = await load_org(uow, org)
                aggregate.set_roles(user_id, team, wanted)
                await save(uow, aggregate)
                await uow.commit()
            return tuple(aggregate.memberships_of(user_id))

        return await retry_on_conflict(attempt)

    async def remove_user(self, org: str, user_id: str) -> None:
        """End every membership of the user in the org (UserRemoved); the last owner cannot leave."""
        validate_org_name(org)

        async def attempt() -> None:
            async with self.uow() as uow:
                aggregate = await load_org(uow, org)
                aggregate.remove_user(user_id)
                await save(uow, aggregate)
                await uow.commit()

        await retry_on_conflict(attempt)

    async def remove_user_from_team(self, org: str, team: str, user_id: str) -> None:
        """End the user's membership of one team (UserRemovedFromTeam); the org membership stays.

        If that team was the user's last membership in the org, UserRemoved follows (the user left the org).
        """
        validate_org_name(org)
        if not team:
            raise InvalidArgument("name the team to remove the user from (RemoveUser removes from the org)")
        validate_team_name(team)
        if not user_id:
            raise InvalidArgument("user id must not be empty")

        async def attempt() -> None:
            async with self.uow() as uow:
                aggregate = await load_org(uow, org)
                aggregate.remove_from_team(user_id, team)
                await save(uow, aggregate)
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
            return await org_view(uow, name)

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
            view = await org_view(uow, org)
            return await uow.views.teams_of(view.org_id)

    async def list_users(
        self, org: str, team: str | None = None, *, page_size: int = 0, page_token: str = ""
    ) -> MemberPage:
        """One page of the org's members (or one team's), by email, with their memberships in the org."""
        validate_scope(org, team)
        limit = clamp_page_size(page_size)
        after = decode_page_token(page_token)
        async with self.uow(readonly=True) as uow:
            view = await org_view(uow, org)
            if team is not None and team not in await uow.views.teams_of(view.org_id):
                raise NotFound(f"team {org}/{team} not found")
            members = await uow.views.members_of(view.org_id, team, after_email=after, limit=limit + 1)
        page = tuple(members[:limit])
        token = encode_page_token(page[-1].user.email) if len(members) > limit else ""
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
        validate_scope(org, team)
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
        validate_scope(org, team)
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
