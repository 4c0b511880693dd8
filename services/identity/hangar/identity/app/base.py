"""What every part of the identity app shares: its dependencies, and the unit-of-work steps of commands."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from hangar.identity.app.ports import Clock, Notifier, OrgView, Passwords, Views, system_clock
from hangar.identity.domain import Invitation, Org, Session, User, validate_org_name, validate_team_name
from hangar.kit import paging
from hangar.kit.errors import InvalidArgument, NotFound
from hangar.kit.events import Aggregate
from hangar.kit.paging import page_limit
from hangar.kit.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("hangar.identity.app")


def new_id() -> str:
    return str(uuid.uuid4())


class AppBase:
    """The identity app's dependencies; the use cases are mixed in from `directory`, `invitations`,
    `sessions` and `audit` (see `hangar.identity.app.App`)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory[Views],
        *,
        passwords: Passwords,
        notifier: Notifier,
        clock: Clock = system_clock,
        new_id: Callable[[], str] = new_id,
    ) -> None:
        self.uow = uow
        self._passwords = passwords
        self._notifier = notifier
        self._clock = clock
        self._new_id = new_id


# ---------------------------------------------------------------------------------------------------------
# Unit-of-work steps shared by the commands
# ---------------------------------------------------------------------------------------------------------


def validate_scope(org: str, team: str | None) -> None:
    validate_org_name(org)
    if team is not None:
        validate_team_name(team)


async def org_view(uow: UnitOfWork[Views], name: str) -> OrgView:
    view = await uow.views.org_by_name(name)
    if view is None:
        raise NotFound(f"org {name} not found")
    return view


async def load_org(uow: UnitOfWork[Views], name: str) -> Org:
    view = await org_view(uow, name)
    stored = await uow.events.load(Org.stream_for(view.org_id))
    return Org.rehydrate(view.org_id, (s.event for s in stored))


async def load_user(uow: UnitOfWork[Views], user_id: str) -> User:
    stored = await uow.events.load(User.stream_for(user_id))
    if not stored:
        raise NotFound(f"user {user_id} not found")
    return User.rehydrate(user_id, (s.event for s in stored))


async def load_invitation(uow: UnitOfWork[Views], invitation_id: str) -> Invitation:
    stored = await uow.events.load(Invitation.stream_for(invitation_id))
    if not stored:
        raise NotFound(f"invitation {invitation_id} not found")
    return Invitation.rehydrate(invitation_id, (s.event for s in stored))


async def load_session(uow: UnitOfWork[Views], session_id: str) -> Session:
    stored = await uow.events.load(Session.stream_for(session_id))
    if not stored:
        raise NotFound(f"session {session_id} not found")
    return Session.rehydrate(session_id, (s.event for s in stored))


async def save(uow: UnitOfWork[Views], *aggregates: Aggregate | None) -> None:
    """Append what each aggregate recorded, expecting the version it was loaded at."""
    for aggregate in aggregates:
        if aggregate is None:
            continue
        expected = aggregate.loaded_version
        events = aggregate.collect()
        if events:
            await uow.events.append(aggregate.stream_id, expected, events)


def clamp_page_size(requested: int) -> int:
    """A listing's page size (the kit's rule: 0 means the default, above the maximum means the maximum)."""
    return page_limit(requested)


def encode_page_token(cursor: str) -> str:
    return paging.encode_page_token({"after": cursor})


def decode_page_token(token: str) -> str:
    cursor = paging.decode_page_token(token)
    after = "" if cursor is None else cursor.get("after")
    if not isinstance(after, str):
        raise InvalidArgument("the page token is not one this listing handed out", code="PAGE_TOKEN_INVALID")
    return after
