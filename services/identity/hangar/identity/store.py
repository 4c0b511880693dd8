"""Identity read models: tables, the projector that keeps them in step with events, views and the codec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    MetaData,
    Row,
    String,
    Table,
    UniqueConstraint,
    and_,
    delete,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hangar.api.identity.v1 import events_pb2
from hangar.identity.app import OrgView, UserDetails, UserView
from hangar.identity.domain import (
    Membership,
    OrgCreated,
    Role,
    RolesChanged,
    TeamCreated,
    UserRegistered,
    UserRemoved,
)
from hangar.kit.codec import EventCodec
from hangar.kit.errors import ConcurrencyConflict
from hangar.kit.eventstore import Projector, StoredEvent

MIGRATIONS = Path(__file__).parent / "migrations"

#: The team column of an org-scope membership ('' rather than NULL, so it can be part of the primary key).
ORG_SCOPE = ""

metadata = MetaData()

orgs = Table(
    "orgs",
    metadata,
    Column("org_id", String(36), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("display_name", String(128), nullable=False),
    UniqueConstraint("name", name="uq_orgs_name"),
)

users = Table(
    "users",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("display_name", String(128), nullable=False),
    UniqueConstraint("email", name="uq_users_email"),
)

teams = Table(
    "teams",
    metadata,
    Column("org_id", String(36), primary_key=True),
    Column("name", String(64), primary_key=True),
)

memberships = Table(
    "memberships",
    metadata,
    Column("org_id", String(36), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("team", String(64), primary_key=True),  # ORG_SCOPE for the org itself
    Column("roles", JSON, nullable=False),  # role names in declaration order, never empty
    Index("ix_memberships_user_id", "user_id"),
)


def codec() -> EventCodec:
    """Identity's event types: each domain event with its message in events.proto (no private fields)."""
    registry = EventCodec("identity")
    registry.register(OrgCreated, events_pb2.OrgCreated)
    registry.register(UserRegistered, events_pb2.UserRegistered)
    registry.register(TeamCreated, events_pb2.TeamCreated)
    registry.register(RolesChanged, events_pb2.RolesChanged)
    registry.register(UserRemoved, events_pb2.UserRemoved)
    return registry


# ---------------------------------------------------------------------------------------------------------
# Projections
# ---------------------------------------------------------------------------------------------------------


async def _insert_unique(session: AsyncSession, table: Table, what: str, **values: object) -> None:
    """Insert a row whose uniqueness the app checked first; a duplicate means a concurrent writer won.

    Raising ConcurrencyConflict makes the command retry, see the winner's row, and decide again (reuse the
    user, or refuse the org name) instead of failing with a database error.
    """
    try:
        await session.execute(insert(table).values(**values))
    except IntegrityError as exc:
        raise ConcurrencyConflict(f"{what} was created concurrently") from exc


async def project(session: AsyncSession, stored: StoredEvent) -> None:
    """Keep orgs, users, teams and memberships in step with one identity event."""
    event = stored.event
    if isinstance(event, OrgCreated):
        await _insert_unique(
            session,
            orgs,
            f"org {event.name}",
            org_id=event.org_id,
            name=event.name,
            display_name=event.display_name,
        )
    elif isinstance(event, UserRegistered):
        await _insert_unique(
            session,
            users,
            f"user {event.email}",
            user_id=event.user_id,
            email=event.email,
            display_name=event.display_name,
        )
    elif isinstance(event, TeamCreated):
        await _insert_unique(session, teams, f"team {event.team}", org_id=event.org_id, name=event.team)
    elif isinstance(event, RolesChanged):
        team = event.team or ORG_SCOPE
        await session.execute(
            delete(memberships).where(
                memberships.c.org_id == event.org_id,
                memberships.c.user_id == event.user_id,
                memberships.c.team == team,
            )
        )
        if event.roles:
            await session.execute(
                insert(memberships).values(
                    org_id=event.org_id, user_id=event.user_id, team=team, roles=list(event.roles)
                )
            )
    elif isinstance(event, UserRemoved):
        await session.execute(
            delete(memberships).where(
                memberships.c.org_id == event.org_id, memberships.c.user_id == event.user_id
            )
        )


PROJECTORS: tuple[Projector, ...] = (project,)


# ---------------------------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------------------------


def _membership(org: str, team: str, roles: list[str]) -> Membership:
    return Membership(org=org, team=team or None, roles=frozenset(Role(role) for role in roles))


def _in_order(held: list[Membership]) -> list[Membership]:
    """By org, org scope first, then teams by name (sorted here: database collations differ)."""
    return sorted(held, key=lambda m: (m.org, m.team is not None, m.team or ""))


def _user(row: Row[Any]) -> UserView:
    return UserView(user_id=row.user_id, email=row.email, display_name=row.display_name)


class SqlViews:
    """The identity read models on one session (implements `hangar.identity.app.Views`)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def org_by_name(self, name: str) -> OrgView | None:
        row = (await self._session.execute(select(orgs).where(orgs.c.name == name))).first()
        return None if row is None else OrgView(row.org_id, row.name, row.display_name)

    async def user_by_id(self, user_id: str) -> UserView | None:
        row = (await self._session.execute(select(users).where(users.c.user_id == user_id))).first()
        return None if row is None else _user(row)

    async def user_by_email(self, email: str) -> UserView | None:
        row = (await self._session.execute(select(users).where(users.c.email == email))).first()
        return None if row is None else _user(row)

    async def memberships_of(self, user_id: str, org: str | None = None) -> list[Membership]:
        query = (
            select(orgs.c.name, memberships.c.team, memberships.c.roles)
            .join(orgs, orgs.c.org_id == memberships.c.org_id)
            .where(memberships.c.user_id == user_id)
        )
        if org is not None:
            query = query.where(orgs.c.name == org)
        rows = (await self._session.execute(query)).all()
        return _in_order([_membership(row.name, row.team, row.roles) for row in rows])

    async def teams_of(self, org_id: str) -> list[str]:
        query = select(teams.c.name).where(teams.c.org_id == org_id).order_by(teams.c.name)
        return list((await self._session.execute(query)).scalars())

    async def members_of(
        self, org_id: str, team: str | None, *, after_email: str, limit: int
    ) -> list[UserDetails]:
        scope = [memberships.c.org_id == org_id]
        if team is not None:
            scope.append(memberships.c.team == team)
        page = (
            select(users)
            .where(
                users.c.email > after_email,
                users.c.user_id.in_(select(memberships.c.user_id).where(and_(*scope))),
            )
            .order_by(users.c.email)
            .limit(limit)
        )
        people = [_user(row) for row in (await self._session.execute(page)).all()]
        if not people:
            return []
        held = (
            select(memberships.c.user_id, orgs.c.name, memberships.c.team, memberships.c.roles)
            .join(orgs, orgs.c.org_id == memberships.c.org_id)
            .where(
                memberships.c.org_id == org_id,
                memberships.c.user_id.in_([person.user_id for person in people]),
            )
        )
        by_user: dict[str, list[Membership]] = {person.user_id: [] for person in people}
        for row in (await self._session.execute(held)).all():
            by_user[row.user_id].append(_membership(row.name, row.team, row.roles))
        return [UserDetails(person, tuple(_in_order(by_user[person.user_id]))) for person in people]
