"""The in-memory identity service: users, orgs, teams, roles, sessions, invitations, audit events."""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from hangar.gateway.clients.fakes._common import _offset_page
from hangar.gateway.clients.model import (
    AccessResult,
    AuditEvent,
    CreatedOrg,
    Invitation,
    IssuedInvitation,
    Member,
    Membership,
    Org,
    Page,
    Permission,
    Session,
    Team,
    User,
    VerifiedSession,
)
from hangar.kit import context
from hangar.kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    Unauthenticated,
)

#: The capability matrix of DESIGN §1, as the fake identity decides it (identity's own tests own the rules).
CAPABILITIES: Final[Mapping[str, frozenset[str]]] = {
    "ORG_OWNER": frozenset(
        {
            "VIEW_ARTIFACTS",
            "DOWNLOAD_ARTIFACTS",
            "PUSH_ARTIFACTS",
            "EDIT_ARTIFACTS",
            "DELETE_ARTIFACTS",
            "VIEW_USERS",
            "ADD_USERS",
            "ADD_TEAMS",
            "VIEW_ORG",
        }
    ),
    "REGISTRY_ADMIN": frozenset(
        {
            "VIEW_ARTIFACTS",
            "DOWNLOAD_ARTIFACTS",
            "PUSH_ARTIFACTS",
            "EDIT_ARTIFACTS",
            "DELETE_ARTIFACTS",
            "VIEW_USERS",
            "VIEW_ORG",
        }
    ),
    "REGISTRY_USER": frozenset(
        {"VIEW_ARTIFACTS", "DOWNLOAD_ARTIFACTS", "PUSH_ARTIFACTS", "EDIT_ARTIFACTS", "VIEW_ORG"}
    ),
    "REGISTRY_READ": frozenset({"VIEW_ARTIFACTS", "DOWNLOAD_ARTIFACTS", "VIEW_ORG"}),
    "USER_ADMIN": frozenset({"VIEW_ARTIFACTS", "VIEW_USERS", "ADD_USERS", "ADD_TEAMS", "VIEW_ORG"}),
    "USER_READ": frozenset({"VIEW_ORG"}),
}
#: What an org-scope USER_ADMIN may do in every team of the org.
_USER_ADMIN_TEAM_REACH: Final = frozenset({"VIEW_USERS", "ADD_USERS", "VIEW_ORG"})
_MEMBERSHIP_ANCHORS: Final = frozenset({"REGISTRY_READ", "REGISTRY_USER", "USER_ADMIN"})
_ROLE_ORDER: Final = tuple(CAPABILITIES)
SESSION_SECONDS: Final = 12 * 3600
INVITATION_SECONDS: Final = 7 * 24 * 3600


def _capabilities(roles: Iterable[str]) -> frozenset[str]:
    return frozenset().union(*(CAPABILITIES[role] for role in roles))


def _ordered(roles: Iterable[str]) -> tuple[str, ...]:
    held = frozenset(roles)
    return tuple(role for role in _ROLE_ORDER if role in held)


class FakeIdentity:
    """Orgs, teams, memberships, invitations, sessions and the audit log, in memory."""

    def __init__(self) -> None:
        self.orgs: dict[str, Org] = {}
        self.teams: dict[str, set[str]] = {}
        self.users: dict[str, User] = {}
        #: (org, team or "", user id) -> roles held there
        self.roles: dict[tuple[str, str, str], frozenset[str]] = {}
        self.passwords: dict[str, str] = {}
        self.invitations: dict[str, Invitation] = {}
        self.sessions: dict[str, VerifiedSession] = {}
        self.events: list[AuditEvent] = []
        self.grants: dict[tuple[str, str], set[str]] = {}
        self.check_access_calls = 0
        self.check_org_access_calls = 0
        self.healthy = True
        #: True: check_access also grants what the user's roles allow (identity's rule: an org role covers
        #: org/name, a team role org/team/name, ORG_OWNER everything in the org); else only `grant`s count.
        self.decide_by_roles = False

    # -- test setup ----------------------------------------------------------------------------------------

    def grant(self, user_id: str, repository: str, *capabilities: str) -> None:
        self.grants.setdefault((user_id, repository), set()).update(capabilities)

    def member(
        self, org: str, user_id: str, *roles: str, team: str = "", email: str = "", password: str = ""
    ) -> User:
        """Make `user_id` (registered if new) hold `roles` at the org or one team, creating both if new."""
        if org not in self.orgs:
            self.orgs[org] = Org(org_id=f"org-{org}", name=org, display_name=org.title())
            self.teams[org] = set()
        if team:
            self.teams[org].add(team)
        user = self.users.get(user_id) or User(user_id, email or f"{user_id}@example.com", user_id)
        self.users[user_id] = user
        if password:
            self.passwords[user_id] = password
        self.roles[(org, team, user_id)] = frozenset(roles)
        return user

    def roles_of(self, org: str, user_id: str, team: str = "") -> frozenset[str]:
        return self.roles.get((org, team, user_id), frozenset())

    def _record(self, type_: str, org: str, **payload: object) -> None:
        self.events.append(
            AuditEvent(
                event_id=uuid.uuid4().hex,
                type=f"hangar.identity.v1.{type_}",
                service="identity",
                org=org,
                actor=context.current().actor,
                time=int(time.time() * 1_000_000),
                payload_json=json.dumps(payload),
                correlation_id=context.current().correlation_id,
            )
        )

    # -- orgs and users ------------------------------------------------------------------------------------

    async def create_org(
        self, name: str, display_name: str, owner_email: str, owner_display_name: str
    ) -> CreatedOrg:
        if name in self.orgs:
            raise AlreadyExists(f"org {name} already exists", code="ORG_EXISTS")
        org = Org(org_id=uuid.uuid4().hex, name=name, display_name=display_name)
        self.orgs[name] = org
        self.teams[name] = set()
        owner = await self.add_user(name, owner_email, owner_display_name, ["ORG_OWNER"])
        return CreatedOrg(org_id=org.org_id, org=name, owner_user_id=owner.user_id)

    async def get_org(self, name: str) -> Org:
        if name not in self.orgs:
            raise NotFound(f"org {name} not found", code="ORG_NOT_FOUND")
        return self.orgs[name]

    async def get_user(self, user_id: str) -> User:
        if user_id not in self.users:
            raise NotFound(f"user {user_id} not found", code="USER_NOT_FOUND")
        return self.users[user_id]

    async def get_member(self, user_id: str) -> Member:
        user = await self.get_user(user_id)
        return Member(user, self._memberships(user_id))

    async def get_user_by_email(self, email: str) -> User:
        for user in self.users.values():
            if user.email == email:
                return user
        raise NotFound(f"no user has email {email}", code="USER_NOT_FOUND")

    def _memberships(self, user_id: str, org: str | None = None) -> tuple[Membership, ...]:
        held = [
            Membership(o, t, _ordered(roles))
            for (o, t, u), roles in self.roles.items()
            if u == user_id and roles and (org is None or o == org)
        ]
        return tuple(sorted(held, key=lambda m: (m.org, m.team)))

    def _register(self, email: str, display_name: str) -> User:
        for user in self.users.values():
            if user.email == email:
                return user
        user = User(user_id=uuid.uuid4().hex, email=email, display_name=display_name)
        self.users[user.user_id] = user
        return user

    async def add_user(
        self, org: str, email: str, display_name: str, roles: Sequence[str], team: str = ""
    ) -> User:
        await self.get_org(org)
        user = self._register(email, display_name)
        self._set(org, team, user.user_id, roles)
        return user

    def _set(self, org: str, team: str, user_id: str, roles: Iterable[str]) -> None:
        wanted = frozenset(roles)
        if team and team not in self.teams.get(org, set()):
            raise NotFound(f"team {org}/{team} not found", code="TEAM_NOT_FOUND")
        if wanted and not wanted & _MEMBERSHIP_ANCHORS and wanted != {"ORG_OWNER"}:
            raise InvalidArgument(
                "a membership must include REGISTRY_READ, REGISTRY_USER or USER_ADMIN",
                code="MEMBERSHIP_INVALID",
            )
        if team and "ORG_OWNER" in wanted:
            raise InvalidArgument("ORG_OWNER is granted at org scope only", code="MEMBERSHIP_INVALID")
        owners = {u for (o, t, u), r in self.roles.items() if o == org and not t and "ORG_OWNER" in r}
        if "ORG_OWNER" in wanted and len(owners | {user_id}) > 2:
            raise LimitExceeded(f"org {org} already has 2 owners", code="OWNER_LIMIT")
        if not wanted:
            self.roles.pop((org, team, user_id), None)
        else:
            self.roles[(org, team, user_id)] = wanted
        self._record("RolesChanged", org, team=team, user_id=user_id, roles=list(_ordered(wanted)))

    async def remove_user(self, org: str, user_id: str) -> None:
        await self.get_org(org)
        if not self._memberships(user_id, org):
            raise NotFound(f"user {user_id} is not a member of {org}", code="USER_NOT_FOUND")
        owners = {u for (o, t, u), r in self.roles.items() if o == org and not t and "ORG_OWNER" in r}
        if owners == {user_id}:
            raise FailedPrecondition(f"the last owner cannot leave {org}", code="LAST_OWNER")
        for scope in [k for k in self.roles if k[0] == org and k[2] == user_id]:
            del self.roles[scope]
        self._record("UserRemoved", org, user_id=user_id)

    # -- teams and members ---------------------------------------------------------------------------------

    async def create_team(self, org: str, team: str) -> Team:
        await self.get_org(org)
        if team in self.teams[org]:
            raise AlreadyExists(f"team {org}/{team} already exists", code="TEAM_EXISTS")
        self.teams[org].add(team)
        self._record("TeamCreated", org, team=team)
        return Team(org, team)

    async def list_teams(self, org: str) -> tuple[Team, ...]:
        await self.get_org(org)
        return tuple(Team(org, name) for name in sorted(self.teams[org]))

    async def list_users(
        self, org: str, team: str = "", *, page_size: int = 0, page_token: str = ""
    ) -> Page[Member]:
        await self.get_org(org)
        if team and team not in self.teams[org]:
            raise NotFound(f"team {org}/{team} not found", code="TEAM_NOT_FOUND")
        ids = {u for (o, t, u), r in self.roles.items() if o == org and r and (not team or t == team)}
        members = sorted(
            (Member(self.users[u], self._memberships(u, org)) for u in ids), key=lambda m: m.user.email
        )
        return _offset_page(members, page_size, page_token)

    async def set_roles(
        self, org: str, user_id: str, roles: Sequence[str], team: str = ""
    ) -> tuple[Membership, ...]:
        await self.get_org(org)
        await self.get_user(user_id)
        self._set(org, team, user_id, roles)
        return self._memberships(user_id, org)

    async def remove_user_from_team(self, org: str, team: str, user_id: str) -> None:
        await self.get_org(org)
        if (org, team, user_id) not in self.roles:
            raise NotFound(f"user {user_id} is not a member of {org}/{team}", code="MEMBERSHIP_NOT_FOUND")
        self._set(org, team, user_id, ())

    # -- decisions -----------------------------------------------------------------------------------------

    async def check_access(self, user_id: str, repository: str, capabilities: Iterable[str]) -> AccessResult:
        self.check_access_calls += 1
        asked = frozenset(capabilities)
        held = set(self.grants.get((user_id, repository), set()))
        if self.decide_by_roles:
            parts = repository.split("/")
            org, team = parts[0], (parts[1] if len(parts) == 3 else "")
            owner = "ORG_OWNER" in self.roles_of(org, user_id)
            held |= _capabilities(CAPABILITIES) if owner else _capabilities(self.roles_of(org, user_id, team))
        granted = asked & held
        reason = "" if granted == asked else f"you have no role that allows this on {repository}"
        return AccessResult(granted=frozenset(granted), denial_reason=reason)

    async def check_org_access(self, user_id: str, org: str, capability: str, team: str = "") -> Permission:
        self.check_org_access_calls += 1
        org_roles = self.roles_of(org, user_id)
        if "ORG_OWNER" in org_roles:
            return Permission(True)
        if not team or capability == "ADD_TEAMS":
            allowed, scope = capability in _capabilities(org_roles), org
        else:
            reach = _USER_ADMIN_TEAM_REACH if "USER_ADMIN" in org_roles else frozenset()
            allowed = capability in _capabilities(self.roles_of(org, user_id, team)) | reach
            scope = f"{org}/{team}"
        reason = (
            "" if allowed else f"your roles in {scope} do not allow {capability.lower().replace('_', ' ')}"
        )
        return Permission(allowed, reason)

    async def check_grant(
        self,
        granter_user_id: str,
        org: str,
        roles: Sequence[str],
        *,
        team: str = "",
        user_id: str = "",
        email: str = "",
    ) -> Permission:
        held_at_org = self.roles_of(org, granter_user_id)
        if "ORG_OWNER" in held_at_org:
            return Permission(True)
        scope = f"{org}/{team}" if team else org
        held = held_at_org | self.roles_of(org, granter_user_id, team)
        if "USER_ADMIN" not in held:
            return Permission(False, f"only ORG_OWNER or USER_ADMIN may grant roles in {scope}")
        if not user_id and email:
            user_id = next((u.user_id for u in self.users.values() if u.email == email), "")
        lacking = (frozenset(roles) ^ self.roles_of(org, user_id, team)) - held
        if lacking:
            return Permission(
                False,
                f"USER_ADMIN may only grant or revoke roles it holds itself; in {scope} it lacks"
                f" {', '.join(_ordered(lacking))}",
            )
        return Permission(True)

    # -- invitations and sessions --------------------------------------------------------------------------

    async def invite_user(
        self,
        org: str,
        email: str,
        display_name: str,
        roles: Sequence[str],
        *,
        invited_by: str,
        team: str = "",
    ) -> IssuedInvitation:
        await self.get_org(org)
        if team and team not in self.teams[org]:
            raise NotFound(f"team {org}/{team} not found", code="TEAM_NOT_FOUND")
        if "@" not in email:
            raise InvalidArgument(f"{email[:64]!r} is not an email address", code="EMAIL_INVALID")
        if not roles:
            raise InvalidArgument("an invitation needs at least one role", code="ROLES_EMPTY")
        token = "hgi_" + secrets.token_urlsafe(24)
        invitation = Invitation(
            invitation_id=uuid.uuid4().hex,
            org=org,
            team=team,
            email=email,
            display_name=display_name,
            roles=_ordered(roles),
            invited_by=invited_by,
            expires_at=int(time.time()) + INVITATION_SECONDS,
            status="pending",
        )
        self.invitations[token] = invitation
        self._record("UserInvited", org, email=email, team=team, roles=list(invitation.roles))
        return IssuedInvitation(invitation, token)

    async def accept_invitation(self, token: str, password: str, display_name: str = "") -> Member:
        # As the real service: 12..256 characters; unknown -> NOT_FOUND; used -> FAILED_PRECONDITION.
        if not 12 <= len(password) <= 256:
            raise InvalidArgument("a password has 12 to 256 characters", code="PASSWORD_INVALID")
        invitation = self.invitations.get(token)
        if invitation is None:
            raise NotFound("the invitation is unknown", code="INVITATION_INVALID")
        if invitation.status != "pending":
            raise FailedPrecondition("the invitation was already used", code="INVITATION_USED")
        user = self._register(invitation.email, display_name or invitation.display_name)
        self.passwords[user.user_id] = password
        self._set(invitation.org, invitation.team, user.user_id, invitation.roles)
        self.invitations[token] = dataclasses.replace(invitation, status="accepted")
        self._record("InvitationAccepted", invitation.org, user_id=user.user_id)
        return Member(user, self._memberships(user.user_id))

    async def login(self, email: str, password: str) -> Session:
        user = next((u for u in self.users.values() if u.email == email), None)
        if user is None or not password or self.passwords.get(user.user_id) != password:
            raise Unauthenticated("wrong email or password", code="LOGIN_FAILED")
        token = "hgs_" + secrets.token_urlsafe(24)
        expires_at = int(time.time()) + SESSION_SECONDS
        self.sessions[token] = VerifiedSession(uuid.uuid4().hex, user, expires_at)
        return Session(token=token, expires_at=expires_at, user=user)

    async def verify_session(self, token: str) -> VerifiedSession:
        session = self.sessions.get(token)
        if session is None:
            raise Unauthenticated("the session is not valid; log in again", code="SESSION_INVALID")
        if session.expires_at <= time.time():
            raise Unauthenticated("the session has expired; log in again", code="SESSION_EXPIRED")
        return session

    async def logout(self, token: str) -> None:
        if self.sessions.pop(token, None) is None:
            raise Unauthenticated("the session is not valid", code="SESSION_INVALID")

    async def list_events(
        self,
        org: str,
        *,
        types: Sequence[str] = (),
        actor: str = "",
        since: int = 0,
        page_size: int = 0,
        page_token: str = "",
    ) -> Page[AuditEvent]:
        await self.get_org(org)
        wanted = {t.rsplit(".", 1)[-1] for t in types}
        events = [
            e
            for e in self.events
            if e.org == org
            and (not wanted or e.type.rsplit(".", 1)[-1] in wanted)
            and (not actor or e.actor == actor)
            and e.time >= since
        ]
        return _offset_page(events, page_size, page_token)

    async def serving(self) -> bool:
        return self.healthy


#: What a key may include.
