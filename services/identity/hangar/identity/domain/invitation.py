"""The Invitation aggregate (stream `invitation-<id>`): someone invited by email to an org or a team.

An invitation names the scope and the roles the invitee will hold there; it is redeemed once, within
INVITATION_LIFETIME, with a one-time token of which only the hash is recorded (`UserInvited.token_hash`,
private). Whether the inviter may grant those roles is the gateway's to decide (CheckGrant) before it calls.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar, Self

from hangar.identity.domain.names import (
    scope_label,
    validate_display_name,
    validate_email,
    validate_team_name,
)
from hangar.identity.domain.org import Org
from hangar.identity.domain.roles import Membership, Role, role_names
from hangar.identity.domain.times import require_aware
from hangar.kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from hangar.kit.events import Aggregate, DomainEvent

INVITATION_LIFETIME = timedelta(days=7)
MAX_INVITED_BY_LENGTH = 128

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"


@dataclasses.dataclass(frozen=True)
class UserInvited(DomainEvent):
    """An invitation was made; `token_hash` (private) is the SHA-256 of its one-time token."""

    invitation_id: str
    org_id: str
    org: str
    team: str | None
    email: str
    display_name: str
    roles: tuple[str, ...]
    invited_by: str
    token_hash: str
    expires_at: datetime


@dataclasses.dataclass(frozen=True)
class InvitationAccepted(DomainEvent):
    """The invitation was redeemed by `user_id` (registered by it if the email was new)."""

    invitation_id: str
    org_id: str
    org: str
    team: str | None
    user_id: str
    email: str


class Invitation(Aggregate):
    """An invitation to one scope with roles, pending until accepted once or expired."""

    stream_prefix: ClassVar[str] = "invitation"

    def __init__(self, id: str) -> None:
        super().__init__(id)
        self.org_id = ""
        self.org = ""
        self.team: str | None = None
        self.email = ""
        self.display_name = ""
        self.roles: frozenset[Role] = frozenset()
        self.invited_by = ""
        self.expires_at: datetime | None = None
        self.accepted_by: str | None = None

    @classmethod
    def invite(
        cls,
        invitation_id: str,
        org: Org,
        team: str | None,
        email: str,
        display_name: str,
        roles: Iterable[Role],
        *,
        invited_by: str,
        token_hash: str,
        now: datetime,
        invitee_user_id: str | None = None,
    ) -> Self:
        """Invite `email` to the org (`team` None) or one of its teams, with `roles`.

        Input is checked first (email, display name, team name, that the roles form a valid membership at
        that scope), then the org's state: the team exists, the invitee (`invitee_user_id`, when the email is
        already known) holds no role at that scope yet (AlreadyExists ALREADY_MEMBER: change the roles of a
        member with SetRoles instead), and an ORG_OWNER invitation fits the limit of owners. An empty display
        name falls back to the part of the email before the '@'.
        """
        if not invitation_id:
            raise InvalidArgument("invitation id must not be empty")
        normalised = validate_email(email)
        name = validate_display_name(display_name) if display_name.strip() else normalised.split("@")[0]
        if team is not None:
            validate_team_name(team)
        wanted = frozenset(roles)
        Membership(org=org.name, team=team, roles=wanted)
        if len(invited_by) > MAX_INVITED_BY_LENGTH:
            raise InvalidArgument(f"invited_by must be at most {MAX_INVITED_BY_LENGTH} characters")
        if not _SHA256_HEX.fullmatch(token_hash):
            raise InvalidArgument("an invitation records the SHA-256 (hex) of its token")
        org.require_team(team)
        if invitee_user_id is not None and org.roles_of(invitee_user_id, team):
            raise AlreadyExists(
                f"{normalised} is already a member of {scope_label(org.name, team)};"
                " change their roles instead of inviting them",
                code="ALREADY_MEMBER",
            )
        if team is None:
            org.check_owner_slot(invitee_user_id or "", wanted)
        invitation = cls(invitation_id)
        invitation.record(
            UserInvited(
                invitation_id=invitation_id,
                org_id=org.id,
                org=org.name,
                team=team,
                email=normalised,
                display_name=name,
                roles=role_names(wanted),
                invited_by=invited_by,
                token_hash=token_hash,
                expires_at=require_aware(now) + INVITATION_LIFETIME,
            )
        )
        return invitation

    @property
    def scope(self) -> str:
        return scope_label(self.org, self.team)

    def status(self, now: datetime) -> InvitationStatus:
        if self.accepted_by is not None:
            return InvitationStatus.ACCEPTED
        if self.expires_at is None or require_aware(now) >= self.expires_at:
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING

    def check_redeemable(self, now: datetime) -> None:
        """Raise FailedPrecondition INVITATION_USED or INVITATION_EXPIRED unless the invitation is pending."""
        status = self.status(now)
        if status is InvitationStatus.ACCEPTED:
            raise FailedPrecondition("this invitation has already been accepted", code="INVITATION_USED")
        if status is InvitationStatus.EXPIRED:
            expired = self.expires_at.isoformat(timespec="seconds") if self.expires_at else "creation"
            raise FailedPrecondition(
                f"this invitation expired at {expired}; ask for a new one", code="INVITATION_EXPIRED"
            )

    def accept(self, user_id: str, now: datetime) -> None:
        """Redeem the invitation for `user_id`: once, before it expires."""
        if not user_id:
            raise InvalidArgument("user id must not be empty")
        self.check_redeemable(now)
        self.record(
            InvitationAccepted(
                invitation_id=self.id,
                org_id=self.org_id,
                org=self.org,
                team=self.team,
                user_id=user_id,
                email=self.email,
            )
        )

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, UserInvited):
            self.org_id = event.org_id
            self.org = event.org
            self.team = event.team
            self.email = event.email
            self.display_name = event.display_name
            self.roles = frozenset(Role(value) for value in event.roles)
            self.invited_by = event.invited_by
            self.expires_at = event.expires_at
        elif isinstance(event, InvitationAccepted):
            self.accepted_by = event.user_id
