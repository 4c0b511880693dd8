"""Projections: keep the read models, and the org audit log, in step with identity's events.

Both run inside the appending transaction (`hangar.kit.eventstore`), so neither can drift from the events.
"""

from __future__ import annotations

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from hangar.identity.domain import (
    InvitationAccepted,
    OrgCreated,
    PasswordSet,
    RolesChanged,
    SessionEnded,
    SessionStarted,
    TeamCreated,
    UserInvited,
    UserRegistered,
    UserRemoved,
    UserRemovedFromTeam,
)
from hangar.identity.payloads import public_json
from hangar.identity.store.codec import EVENT_TYPES
from hangar.identity.store.tables import (
    ORG_SCOPE,
    audit_log,
    credentials,
    invitations,
    memberships,
    orgs,
    sessions,
    teams,
    users,
)
from hangar.kit.codec import to_proto
from hangar.kit.errors import ConcurrencyConflict
from hangar.kit.events import DomainEvent
from hangar.kit.eventstore import Projector, StoredEvent

#: Identity's events that belong to one org's audit log (a user's registration, password and sessions are
#: the person's, not any org's).
AUDITED: tuple[type[DomainEvent], ...] = (
    OrgCreated,
    TeamCreated,
    RolesChanged,
    UserRemoved,
    UserRemovedFromTeam,
    UserInvited,
    InvitationAccepted,
)
_MESSAGES = {domain: (message, private) for domain, message, private in EVENT_TYPES}


async def _insert_unique(session: AsyncConnection, table: Table, what: str, **values: object) -> None:
    """Insert a row whose uniqueness the app checked first; a duplicate means a concurrent writer won.

    Raising ConcurrencyConflict makes the command retry, see the winner's row, and decide again (reuse the
    user, or refuse the org name) instead of failing with a database error.
    """
    try:
        await session.execute(insert(table).values(**values))
    except IntegrityError as exc:
        raise ConcurrencyConflict(f"{what} was created concurrently") from exc


async def project(session: AsyncConnection, stored: StoredEvent) -> None:
    """Keep orgs, users, teams, memberships, invitations, credentials and sessions in step with one event."""
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
    elif isinstance(event, UserRemovedFromTeam):
        await session.execute(
            delete(memberships).where(
                memberships.c.org_id == event.org_id,
                memberships.c.user_id == event.user_id,
                memberships.c.team == event.team,
            )
        )
    elif isinstance(event, UserRemoved):
        await session.execute(
            delete(memberships).where(
                memberships.c.org_id == event.org_id, memberships.c.user_id == event.user_id
            )
        )
    else:
        await _project_credentials(session, stored)


async def _project_credentials(session: AsyncConnection, stored: StoredEvent) -> None:
    """Invitations, passwords and sessions."""
    event = stored.event
    if isinstance(event, UserInvited):
        await _insert_unique(
            session,
            invitations,
            f"invitation {event.invitation_id}",
            invitation_id=event.invitation_id,
            org_id=event.org_id,
            team=event.team or ORG_SCOPE,
            email=event.email,
            display_name=event.display_name,
            roles=list(event.roles),
            invited_by=event.invited_by,
            token_hash=event.token_hash,
            created_at=stored.recorded_at,
            expires_at=event.expires_at,
        )
    elif isinstance(event, InvitationAccepted):
        await session.execute(
            update(invitations)
            .where(invitations.c.invitation_id == event.invitation_id)
            .values(accepted_at=stored.recorded_at, accepted_by=event.user_id)
        )
    elif isinstance(event, PasswordSet):
        await session.execute(delete(credentials).where(credentials.c.user_id == event.user_id))
        await session.execute(
            insert(credentials).values(
                user_id=event.user_id, password_hash=event.password_hash, set_at=stored.recorded_at
            )
        )
    elif isinstance(event, SessionStarted):
        await _insert_unique(
            session,
            sessions,
            f"session {event.session_id}",
            session_id=event.session_id,
            user_id=event.user_id,
            token_hash=event.token_hash,
            started_at=stored.recorded_at,
            expires_at=event.expires_at,
        )
    elif isinstance(event, SessionEnded):
        await session.execute(
            update(sessions)
            .where(sessions.c.session_id == event.session_id)
            .values(ended_at=stored.recorded_at)
        )


async def project_audit(session: AsyncConnection, stored: StoredEvent) -> None:
    """Add an org-scoped identity event to its org's audit log: public fields only, with the metadata the
    event store recorded (actor, correlation and causation ids, time)."""
    event = stored.event
    if not isinstance(event, AUDITED):
        return
    message, private = _MESSAGES[type(event)]
    meta = stored.meta
    await session.execute(
        insert(audit_log).values(
            event_id=stored.event_id,
            org=await _org_of(session, event),
            type=stored.type,
            short_type=stored.type.rsplit(".", 1)[-1],
            service="identity",
            actor=(meta.get("actor") or "")[:200],
            occurred_at=stored.recorded_at,
            payload_json=public_json(to_proto(event, message), private),
            correlation_id=(meta.get("correlation_id") or "")[:200],
            causation_id=(meta.get("causation_id") or "")[:200],
        )
    )


async def _org_of(session: AsyncConnection, event: DomainEvent) -> str:
    if isinstance(event, OrgCreated):
        return event.name
    if isinstance(event, TeamCreated):
        # The org's row was projected when it was created, in this transaction or an earlier one.
        name = (await session.execute(select(orgs.c.name).where(orgs.c.org_id == event.org_id))).scalar()
        return str(name or "")
    org = getattr(event, "org", "")
    return str(org)


PROJECTORS: tuple[Projector, ...] = (project, project_audit)
