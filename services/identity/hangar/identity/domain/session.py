"""Console and REST sessions (stream `session-<id>`): started by a login, valid SESSION_LIFETIME at most.

A session is named by a one-time `hgs_...` token of which only the hash is recorded (private). Verifying a
session (`check_session`) is a pure rule over what the read model holds, so the hot path replays nothing.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import ClassVar, Self

from hangar.identity.domain.times import require_aware
from hangar.kit.errors import InvalidArgument, Unauthenticated
from hangar.kit.events import Aggregate, DomainEvent

SESSION_LIFETIME = timedelta(hours=12)


@dataclasses.dataclass(frozen=True)
class SessionStarted(DomainEvent):
    """A user logged in; `token_hash` (private) is the SHA-256 of the session token."""

    session_id: str
    user_id: str
    token_hash: str
    expires_at: datetime


@dataclasses.dataclass(frozen=True)
class SessionEnded(DomainEvent):
    """The user logged out: the session's token is dead from now on."""

    session_id: str
    user_id: str


def check_session(*, expires_at: datetime, ended: bool, now: datetime) -> None:
    """Raise Unauthenticated SESSION_INVALID (ended) or SESSION_EXPIRED unless the session is live."""
    if ended:
        raise Unauthenticated("the session has ended; log in again", code="SESSION_INVALID")
    if require_aware(now) >= expires_at:
        raise Unauthenticated(
            f"the session expired at {expires_at.isoformat(timespec='seconds')}; log in again",
            code="SESSION_EXPIRED",
        )


class Session(Aggregate):
    """One login of one user."""

    stream_prefix: ClassVar[str] = "session"

    def __init__(self, id: str) -> None:
        super().__init__(id)
        self.user_id = ""
        self.expires_at: datetime | None = None
        self.ended = False

    @classmethod
    def start(cls, session_id: str, user_id: str, token_hash: str, now: datetime) -> Self:
        if not session_id or not user_id:
            raise InvalidArgument("a session needs an id and a user")
        if not token_hash:
            raise InvalidArgument("a session records the hash of its token")
        session = cls(session_id)
        session.record(
            SessionStarted(
                session_id=session_id,
                user_id=user_id,
                token_hash=token_hash,
                expires_at=require_aware(now) + SESSION_LIFETIME,
            )
        )
        return session

    def end(self) -> None:
        """Log out. Ending an ended session records nothing (logging out twice is not an error)."""
        if not self.ended:
            self.record(SessionEnded(session_id=self.id, user_id=self.user_id))

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, SessionStarted):
            self.user_id = event.user_id
            self.expires_at = event.expires_at
        elif isinstance(event, SessionEnded):
            self.ended = True
