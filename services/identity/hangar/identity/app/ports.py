"""What the identity app reads and calls: read-model values, and the ports (Protocols) adapters implement.

`Views` is served by `store.SqlViews` on the session of a unit of work; `Passwords` by the argon2id adapter
(`passwords.Argon2Passwords`); `Notifier` by `notifier.LoggingNotifier` unless a deployment plugs in another.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import NamedTuple, Protocol

from hangar.identity.domain import InvitationStatus, Membership, Role

# ---------------------------------------------------------------------------------------------------------
# Read-model values
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


@dataclasses.dataclass(frozen=True)
class InvitationView:
    """An invitation as its inviter and its notifier see it (never its token)."""

    invitation_id: str
    org: str
    #: None for an org-level invitation.
    team: str | None
    email: str
    display_name: str
    roles: frozenset[Role]
    #: The inviting user's id ("" when the system invited).
    invited_by: str
    expires_at: datetime
    status: InvitationStatus


@dataclasses.dataclass(frozen=True)
class IssuedInvitation:
    """An invitation just made and its one-time acceptance token (shown once; never in a repr or a log)."""

    invitation: InvitationView
    token: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class AcceptedInvitation:
    """Who accepted, and the user's memberships in the invitation's org afterwards."""

    user: UserView
    memberships: tuple[Membership, ...]


@dataclasses.dataclass(frozen=True)
class StartedSession:
    """A session just started by a login; its token is shown once (never in a repr or a log)."""

    session_id: str
    expires_at: datetime
    user: UserView
    token: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class SessionRecord:
    """What the read model holds of a session, with its user (one lookup on the hot path)."""

    session_id: str
    user: UserView
    expires_at: datetime
    ended: bool


@dataclasses.dataclass(frozen=True)
class VerifiedSession:
    """Who a live session token belongs to (no token)."""

    session_id: str
    user: UserView
    expires_at: datetime


@dataclasses.dataclass(frozen=True)
class AuditEvent:
    """One entry of an org's audit log: an event of identity (projected) or of another service (consumed)."""

    event_id: str
    #: Stable type name, e.g. hangar.identity.v1.UserRemoved.
    type: str
    #: The service that recorded it (identity, keys...).
    service: str
    org: str
    #: The user who caused it; "" for the system.
    actor: str
    time: datetime
    #: The event's public fields as protobuf JSON (private fields cleared).
    payload_json: str
    correlation_id: str = ""
    causation_id: str = ""

    @property
    def short_type(self) -> str:
        return self.type.rsplit(".", 1)[-1]


@dataclasses.dataclass(frozen=True)
class AuditQuery:
    """A filtered page of one org's audit log, after the entry numbered `after` (0: from the start)."""

    org: str
    #: Stable type names to keep; with `short_types`, empty both for every type.
    types: frozenset[str]
    short_types: frozenset[str]
    actor: str
    since: datetime | None
    after: int
    limit: int


@dataclasses.dataclass(frozen=True)
class AuditPage:
    events: tuple[AuditEvent, ...]
    #: Empty on the last page.
    next_page_token: str


# ---------------------------------------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------------------------------------


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

    async def invitation_by_token_hash(self, token_hash: str) -> str | None:
        """The id of the invitation whose token hashes to `token_hash`, if any."""
        ...

    async def password_hash_of(self, user_id: str) -> str | None:
        """The hash of the user's console password; None when the user has none."""
        ...

    async def session_by_token_hash(self, token_hash: str) -> SessionRecord | None: ...

    async def forget_sessions_expired_before(self, moment: datetime) -> int:
        """Drop the read-model rows of sessions that expired before `moment`; how many were dropped."""
        ...

    async def audit_events(self, query: AuditQuery) -> list[tuple[int, AuditEvent]]:
        """Matching entries of the org's audit log with their sequence numbers, in log order."""
        ...

    async def record_audit(self, event: AuditEvent) -> bool:
        """Add an entry to the audit log; False (and nothing written) if its event id is already there."""
        ...


class Passwords(Protocol):
    """Password hashing (argon2id in production). Slow by design: implementations keep it off the loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches `password_hash`. With None (no such user, or no password), does the
        same work against a dummy hash and answers False, so the answer takes as long either way."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with parameters other than today's (then a login re-hashes)."""
        ...


class Notifier(Protocol):
    """Hands an invitation's one-time token to the invitee (email, chat...). Called after the commit."""

    async def invitation_created(self, invitation: InvitationView, token: str) -> None: ...


class Clock(Protocol):
    """The current time, timezone-aware UTC."""

    def __call__(self) -> datetime: ...


def system_clock() -> datetime:
    return datetime.now(UTC)
