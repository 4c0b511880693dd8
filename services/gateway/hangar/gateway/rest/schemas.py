"""The REST resources as pydantic models: request bodies (strict, no unknown fields) and responses, and how
the clients' values become responses. The OpenAPI document is generated from these."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hangar.gateway.clients.model import (
    AuditEvent,
    Invitation,
    KeyInfo,
    KeyScope,
    Member,
    Membership,
    Org,
    Team,
    User,
)

#: Org and team names (DESIGN §1).
NAME_PATTERN: Final = r"^[a-z0-9]+([._-][a-z0-9]+)*$"
#: Keys live at least an hour, and at most ten years when they expire at all.
MIN_KEY_SECONDS: Final = 3600
MAX_KEY_SECONDS: Final = 10 * 365 * 24 * 3600

Role = Literal["ORG_OWNER", "REGISTRY_ADMIN", "REGISTRY_USER", "REGISTRY_READ", "USER_ADMIN", "USER_READ"]
Service = Literal["registry", "admin"]
ScopeAction = Literal["get", "list", "push", "delete"]
EntityType = Literal["container", "model", "resource", "chart"]

OrgName = Annotated[str, StringConstraints(min_length=2, max_length=64, pattern=NAME_PATTERN)]
KeyName = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Email = Annotated[str, StringConstraints(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
DisplayName = Annotated[str, StringConstraints(max_length=200)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Lifetime = Annotated[int, Field(ge=MIN_KEY_SECONDS, le=MAX_KEY_SECONDS)]


class Body(BaseModel):
    """A request body: a JSON object of exactly these fields, each of exactly its type."""

    model_config = ConfigDict(extra="forbid", strict=True)


# -- errors ------------------------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable reason, e.g. KEY_EXPIRED, PERSONAL_KEY_LIMIT")
    message: str
    detail: Any = None


class ErrorBody(BaseModel):
    error: ErrorDetail


# -- sessions and invitations ------------------------------------------------------------------------------


class LoginRequest(Body):
    email: Email
    password: Password


class UserOut(BaseModel):
    id: str
    email: str
    display_name: str


class SessionOut(BaseModel):
    session_token: str = Field(description="Shown once; send it as `Authorization: Bearer <token>`")
    expires_at: datetime
    user: UserOut


class AcceptInvitationRequest(Body):
    password: Password
    display_name: DisplayName | None = None


class MembershipOut(BaseModel):
    org: str
    team: str | None = Field(description="null for an org-level membership")
    roles: list[Role]


class MemberOut(BaseModel):
    user: UserOut
    memberships: list[MembershipOut]


# -- orgs and teams ----------------------------------------------------------------------------------------


class OrgOut(BaseModel):
    id: str
    name: str
    display_name: str


class TeamOut(BaseModel):
    org: str
    name: str


class CreateTeamRequest(Body):
    name: OrgName


class InviteRequest(Body):
    email: Email
    display_name: DisplayName = ""
    roles: Annotated[list[Role], Field(min_length=1, max_length=6)]
    team: OrgName | None = Field(default=None, description="Invite to one team of the org; null for the org")


class InvitationOut(BaseModel):
    id: str
    org: str
    team: str | None
    email: str
    display_name: str
    roles: list[Role]
    invited_by: str
    expires_at: datetime | None
    status: str


class IssuedInvitationOut(BaseModel):
    invitation: InvitationOut
    token: str = Field(description="The one-time acceptance token; shown once")


class SetRolesRequest(Body):
    roles: Annotated[list[Role], Field(max_length=6, description="Empty ends the membership at that scope")]
    team: OrgName | None = Field(default=None, description="Set the roles at one team; null for the org")


class AddTeamMemberRequest(Body):
    user_id: Identifier | None = Field(default=None, description="The member to add (or give `email`)")
    email: Email | None = None
    roles: Annotated[list[Role], Field(min_length=1, max_length=6)]


# -- keys --------------------------------------------------------------------------------------------------


class KeyScopeBody(Body):
    actions: Annotated[list[ScopeAction], Field(min_length=1, max_length=4)]
    entity_types: Annotated[list[EntityType], Field(max_length=4, description="Empty means all")] = []
    team: OrgName | None = Field(default=None, description="Narrow the scope to one team's repositories")
    repository: Annotated[str, StringConstraints(min_length=3, max_length=255)] | None = Field(
        default=None, description="Narrow the scope to one repository (org/name or org/team/name)"
    )


class KeyScopeOut(BaseModel):
    actions: list[ScopeAction]
    entity_types: list[EntityType]
    team: str | None
    repository: str | None


class KeyOut(BaseModel):
    id: str
    type: Literal["personal", "service", "legacy"]
    org: str
    owner_user_id: str | None = Field(description="null for a service key")
    name: str
    prefix: str
    services: list[Service]
    status: Literal["active", "inactive", "revoked", "expired"]
    created_at: datetime | None
    expires_at: datetime | None = Field(description="null when the key never expires")
    last_used_at: datetime | None
    created_by: str | None
    scopes: list[KeyScopeOut] = Field(description="Service keys only")


class IssuedKeyOut(BaseModel):
    key: KeyOut
    secret: str = Field(description="The key's secret; shown once, never stored")


class CreatePersonalKeyRequest(Body):
    name: KeyName
    services: Annotated[list[Service], Field(min_length=1, max_length=2)] = ["registry"]
    expires_in_seconds: Lifetime | None = Field(default=None, description="null: the key never expires")
    org: OrgName | None = Field(default=None, description="Defaults to the caller's org")


class UpdateKeyRequest(Body):
    name: KeyName | None = None
    services: Annotated[list[Service], Field(min_length=1, max_length=2)] | None = None
    active: bool | None = None


class LegacyKeyRequest(Body):
    org: OrgName | None = Field(default=None, description="Defaults to the caller's org")


class RevokeKeyRequest(Body):
    reason: Reason


class CreateServiceKeyRequest(Body):
    name: KeyName
    services: Annotated[list[Service], Field(min_length=1, max_length=2)] = ["registry"]
    scopes: Annotated[list[KeyScopeBody], Field(min_length=1, max_length=64)]
    expires_in_seconds: Lifetime | None = Field(default=None, description="null: the key never expires")


class UpdateServiceKeyRequest(UpdateKeyRequest):
    scopes: Annotated[list[KeyScopeBody], Field(min_length=1, max_length=64)] | None = None


# -- audit log ---------------------------------------------------------------------------------------------


class EventOut(BaseModel):
    id: str
    type: str = Field(description="Stable type name, e.g. hangar.identity.v1.UserRemoved")
    service: str
    org: str
    actor: str | None = Field(description="The user who caused it; null for the system")
    time: datetime
    payload: dict[str, Any]
    correlation_id: str | None
    causation_id: str | None


# -- pages -------------------------------------------------------------------------------------------------


class UserPage(BaseModel):
    items: list[MemberOut]
    next_page_token: str | None = Field(description="null on the last page")


class TeamPage(BaseModel):
    items: list[TeamOut]
    next_page_token: str | None


class KeyPage(BaseModel):
    items: list[KeyOut]
    next_page_token: str | None


class EventPage(BaseModel):
    items: list[EventOut]
    next_page_token: str | None


# -- from the clients' values ------------------------------------------------------------------------------


def timestamp(seconds: int) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None


def user_out(user: User) -> UserOut:
    return UserOut(id=user.user_id, email=user.email, display_name=user.display_name)


def membership_out(membership: Membership) -> MembershipOut:
    return MembershipOut(
        org=membership.org,
        team=membership.team or None,
        roles=list(membership.roles),  # type: ignore[arg-type]
    )


def member_out(member: Member, org: str | None = None) -> MemberOut:
    """The member, with their memberships (in `org` only, when given)."""
    memberships = [m for m in member.memberships if org is None or m.org == org]
    return MemberOut(user=user_out(member.user), memberships=[membership_out(m) for m in memberships])


def org_out(org: Org) -> OrgOut:
    return OrgOut(id=org.org_id, name=org.name, display_name=org.display_name)


def team_out(team: Team) -> TeamOut:
    return TeamOut(org=team.org, name=team.name)


def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.invitation_id,
        org=invitation.org,
        team=invitation.team or None,
        email=invitation.email,
        display_name=invitation.display_name,
        roles=list(invitation.roles),  # type: ignore[arg-type]
        invited_by=invitation.invited_by,
        expires_at=timestamp(invitation.expires_at),
        status=invitation.status,
    )


def scope_of(body: KeyScopeBody) -> KeyScope:
    return KeyScope(
        actions=frozenset(body.actions),
        entity_types=frozenset(body.entity_types),
        team=body.team or "",
        repository=body.repository or "",
    )


def scope_out(scope: KeyScope) -> KeyScopeOut:
    return KeyScopeOut(
        actions=sorted(scope.actions),  # type: ignore[arg-type]
        entity_types=sorted(scope.entity_types),  # type: ignore[arg-type]
        team=scope.team or None,
        repository=scope.repository or None,
    )


def key_status(key: KeyInfo, now: float) -> str:
    status = key.status.lower()
    if status in ("active", "inactive") and key.expires_at and now >= key.expires_at:
        return "expired"
    return status if status in ("active", "inactive", "revoked", "expired") else "revoked"


def key_out(key: KeyInfo, now: float) -> KeyOut:
    key_type = key.key_type.lower()
    return KeyOut(
        id=key.key_id,
        type=key_type if key_type in ("personal", "service", "legacy") else "personal",  # type: ignore[arg-type]
        org=key.org,
        owner_user_id=key.user_id or None,
        name=key.name,
        prefix=key.prefix,
        services=[cast(Service, s) for s in sorted(key.services) if s in ("registry", "admin")],
        status=key_status(key, now),  # type: ignore[arg-type]
        created_at=timestamp(key.created_at),
        expires_at=timestamp(key.expires_at),
        last_used_at=timestamp(key.last_used_at),
        created_by=key.created_by or None,
        scopes=[scope_out(scope) for scope in key.scopes],
    )


def event_out(event: AuditEvent) -> EventOut:
    try:
        payload = json.loads(event.payload_json) if event.payload_json else {}
    except ValueError:
        payload = {}
    return EventOut(
        id=event.event_id,
        type=event.type,
        service=event.service,
        org=event.org,
        actor=event.actor or None,
        time=datetime.fromtimestamp(event.time / 1_000_000, UTC),
        payload=payload if isinstance(payload, dict) else {"value": payload},
        correlation_id=event.correlation_id or None,
        causation_id=event.causation_id or None,
    )
