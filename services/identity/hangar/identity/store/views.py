"""The identity read models as the app reads them (implements `hangar.identity.app.Views`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, and_, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hangar.identity.app import AuditEvent, AuditQuery, OrgView, SessionRecord, UserDetails, UserView
from hangar.identity.domain import Membership, Role
from hangar.identity.store.tables import (
    audit_log,
    credentials,
    invitations,
    memberships,
    orgs,
    sessions,
    teams,
    users,
)


def _membership(org: str, team: str, roles: list[str]) -> Membership:
    return Membership(org=org, team=team or None, roles=frozenset(Role(role) for role in roles))


def _in_order(held: list[Membership]) -> list[Membership]:
    """By org, org scope first, then teams by name (sorted here: database collations differ)."""
    return sorted(held, key=lambda m: (m.org, m.team is not None, m.team or ""))


def _user(row: Any) -> UserView:
    return UserView(user_id=row.user_id, email=row.email, display_name=row.display_name)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _audit_event(row: Row[Any]) -> AuditEvent:
    return AuditEvent(
        event_id=row.event_id,
        type=row.type,
        service=row.service,
        org=row.org,
        actor=row.actor,
        time=aware(row.occurred_at),
        payload_json=row.payload_json,
        correlation_id=row.correlation_id,
        causation_id=row.causation_id,
    )


class SqlViews:
    """The identity read models on one session (implements `hangar.identity.app.Views`)."""

    def __init__(self, session: AsyncConnection) -> None:
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

    # -- invitations, passwords, sessions -------------------------------------------------------------------

    async def invitation_by_token_hash(self, token_hash: str) -> str | None:
        query = select(invitations.c.invitation_id).where(invitations.c.token_hash == token_hash)
        return (await self._session.execute(query)).scalar()

    async def password_hash_of(self, user_id: str) -> str | None:
        query = select(credentials.c.password_hash).where(credentials.c.user_id == user_id)
        return (await self._session.execute(query)).scalar()

    async def session_by_token_hash(self, token_hash: str) -> SessionRecord | None:
        query = (
            select(
                sessions.c.session_id,
                sessions.c.expires_at,
                sessions.c.ended_at,
                users.c.user_id,
                users.c.email,
                users.c.display_name,
            )
            .join(users, users.c.user_id == sessions.c.user_id)
            .where(sessions.c.token_hash == token_hash)
        )
        row = (await self._session.execute(query)).first()
        if row is None:
            return None
        return SessionRecord(
            session_id=row.session_id,
            user=_user(row),
            expires_at=aware(row.expires_at),
            ended=row.ended_at is not None,
        )

    async def forget_sessions_expired_before(self, moment: datetime) -> int:
        """Drop the read-model rows of sessions that expired before `moment` (their events stay)."""
        result = await self._session.execute(
            delete(sessions).where(sessions.c.expires_at < moment.astimezone(UTC))
        )
        return int(result.rowcount or 0)

    # -- the audit log --------------------------------------------------------------------------------------

    async def audit_events(self, query: AuditQuery) -> list[tuple[int, AuditEvent]]:
        conditions = [audit_log.c.org == query.org, audit_log.c.seq > query.after]
        if query.types or query.short_types:
            conditions.append(
                or_(audit_log.c.type.in_(query.types), audit_log.c.short_type.in_(query.short_types))
            )
        if query.actor:
            conditions.append(audit_log.c.actor == query.actor)
        if query.since is not None:
            conditions.append(audit_log.c.occurred_at >= query.since.astimezone(UTC))
        rows = await self._session.execute(
            select(audit_log).where(*conditions).order_by(audit_log.c.seq).limit(query.limit)
        )
        return [(row.seq, _audit_event(row)) for row in rows.all()]

    async def record_audit(self, event: AuditEvent) -> bool:
        known = select(audit_log.c.seq).where(audit_log.c.event_id == event.event_id)
        if (await self._session.execute(known)).first() is not None:
            return False
        await self._session.execute(
            insert(audit_log).values(
                event_id=event.event_id,
                org=event.org,
                type=event.type,
                short_type=event.short_type,
                service=event.service,
                actor=event.actor,
                occurred_at=event.time.astimezone(UTC),
                payload_json=event.payload_json,
                correlation_id=event.correlation_id,
                causation_id=event.causation_id,
            )
        )
        return True
