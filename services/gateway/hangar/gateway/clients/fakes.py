"""In-memory fakes of the four service ports, beside the ports they fake: for tests that need no process.

They keep the rules the gateway relies on (offsets, digest checks, owners, tag order, error codes) and
nothing more; the services' own tests cover the rest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final, TypeVar

from hangar.gateway.clients.model import (
    AccessResult,
    AuditEvent,
    BlobInfo,
    BlobLocation,
    BlobUrl,
    CreatedOrg,
    DeletedManifest,
    Invitation,
    IssuedInvitation,
    IssuedKey,
    KeyInfo,
    KeyScope,
    Member,
    Membership,
    Org,
    Page,
    Permission,
    PutManifestResult,
    Referrer,
    RepositoryPage,
    Session,
    StoredManifest,
    TagPage,
    Team,
    UploadStatus,
    User,
    VerifiedSession,
)
from hangar.kit import context
from hangar.kit.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    OutOfRange,
    Unauthenticated,
)

T = TypeVar("T")

MAX_MANIFEST_BYTES = 4 * 1024 * 1024


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


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


def _offset_page(items: Sequence[T], page_size: int, page_token: str) -> Page[T]:
    """A page by offset; the token is the decimal offset of the next item."""
    if page_size < 0:
        raise InvalidArgument("page size must not be negative")
    size = min(page_size or 100, 1000)
    if page_token and not page_token.isdigit():
        raise InvalidArgument("page token is not one this service handed out", code="PAGE_TOKEN_INVALID")
    start = int(page_token or 0)
    end = start + size
    return Page(tuple(items[start:end]), str(end) if end < len(items) else "")


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
KEY_SERVICES: Final = frozenset({"registry", "admin"})
SCOPE_ACTIONS: Final = frozenset({"get", "list", "push", "delete"})
ENTITY_TYPES: Final = frozenset({"container", "model", "resource", "chart"})
PERSONAL_KEYS_PER_USER: Final = 8
SERVICE_KEYS_PER_ORG: Final = 50
MIN_KEY_SECONDS: Final = 3600


class FakeKeys:
    """API keys in memory: secrets -> key ids -> metadata, with the limits and states the gateway shows."""

    def __init__(self) -> None:
        self.by_id: dict[str, KeyInfo] = {}
        self.secrets: dict[str, str] = {}
        self.refusals: dict[str, DomainError] = {}
        self.deleted: set[str] = set()
        self.revocations: dict[str, str] = {}
        self.authenticate_calls = 0
        self.healthy = True

    @property
    def keys(self) -> dict[str, KeyInfo]:
        """Live secrets and their keys."""
        return {secret: self.by_id[key_id] for secret, key_id in self.secrets.items()}

    def add(self, secret: str, key: KeyInfo) -> None:
        self.refusals.pop(secret, None)
        self.by_id[key.key_id] = key
        self.secrets[secret] = key.key_id

    def refuse(self, secret: str, error: DomainError) -> None:
        """Make `secret` fail authentication with `error` (a revoked or expired key)."""
        self.secrets.pop(secret, None)
        self.refusals[secret] = error

    def _issue(self, key: KeyInfo) -> IssuedKey:
        secret = f"{key.prefix}_{secrets.token_urlsafe(32)}"
        self.add(secret, key)
        return IssuedKey(key, secret)

    def _live(self, key: KeyInfo) -> bool:
        return key.key_id not in self.deleted and key.status in ("ACTIVE", "INACTIVE")

    def _new(
        self,
        org: str,
        user_id: str,
        name: str,
        services: Sequence[str],
        *,
        expires_in_seconds: int = 0,
        key_type: str = "PERSONAL",
        scopes: tuple[KeyScope, ...] = (),
        created_by: str = "",
    ) -> KeyInfo:
        _check_name(name)
        _check_services(services)
        if expires_in_seconds and expires_in_seconds < MIN_KEY_SECONDS:
            raise InvalidArgument(
                f"a key lives at least {MIN_KEY_SECONDS} seconds", code="KEY_EXPIRY_TOO_SHORT"
            )
        now = int(time.time())
        return KeyInfo(
            key_id=uuid.uuid4().hex,
            org=org,
            user_id=user_id,
            services=frozenset(services),
            expires_at=now + expires_in_seconds if expires_in_seconds else 0,
            prefix="hgr_" + secrets.token_hex(4),
            key_type=key_type,
            scopes=scopes,
            name=name,
            created_at=now,
            created_by=created_by or user_id,
        )

    async def issue_personal_key(
        self, org: str, user_id: str, name: str, services: Sequence[str], expires_in_seconds: int = 0
    ) -> IssuedKey:
        held = [k for k in self.by_id.values() if k.user_id == user_id and k.key_type == "PERSONAL"]
        if sum(self._live(k) for k in held) >= PERSONAL_KEYS_PER_USER:
            raise LimitExceeded(
                f"a user holds at most {PERSONAL_KEYS_PER_USER} personal keys; delete one first",
                code="PERSONAL_KEY_LIMIT",
            )
        return self._issue(self._new(org, user_id, name, services, expires_in_seconds=expires_in_seconds))

    async def issue_service_key(
        self,
        org: str,
        name: str,
        services: Sequence[str],
        scopes: Iterable[KeyScope],
        *,
        expires_in_seconds: int = 0,
        created_by: str = "",
    ) -> IssuedKey:
        scopes = tuple(scopes)
        _check_scopes(scopes)
        held = [k for k in self.by_id.values() if k.org == org and k.key_type == "SERVICE"]
        if sum(self._live(k) for k in held) >= SERVICE_KEYS_PER_ORG:
            raise LimitExceeded(
                f"an org holds at most {SERVICE_KEYS_PER_ORG} service keys", code="SERVICE_KEY_LIMIT"
            )
        key = self._new(
            org,
            "",
            name,
            services,
            expires_in_seconds=expires_in_seconds,
            key_type="SERVICE",
            scopes=scopes,
            created_by=created_by,
        )
        return self._issue(key)

    async def issue_legacy_key(self, org: str, user_id: str) -> IssuedKey:
        for key in list(self.by_id.values()):
            if key.user_id == user_id and key.org == org and key.key_type == "LEGACY" and self._live(key):
                await self.revoke_key(key.key_id, "regenerated")
        return self._issue(self._new(org, user_id, "legacy", sorted(KEY_SERVICES), key_type="LEGACY"))

    async def authenticate(self, secret: str) -> KeyInfo:
        self.authenticate_calls += 1
        if secret in self.refusals:
            raise self.refusals[secret]
        key = self.by_id.get(self.secrets.get(secret, ""))
        if key is None:
            raise Unauthenticated("the API key is not valid", code="KEY_INVALID")
        if key.status == "REVOKED":
            raise Unauthenticated(f"API key {key.prefix} has been revoked", code="KEY_REVOKED")
        if key.status == "INACTIVE":
            raise Unauthenticated(
                f"API key {key.prefix} is inactive; activate it to use it again", code="KEY_INACTIVE"
            )
        return key

    async def get_key(self, key_id: str) -> KeyInfo:
        key = self.by_id.get(key_id)
        if key is None or key_id in self.deleted:
            raise NotFound(f"API key {key_id} does not exist", code="KEY_NOT_FOUND")
        return key

    async def list_keys(self, user_id: str) -> tuple[KeyInfo, ...]:
        mine = [k for k in self.by_id.values() if k.user_id == user_id and k.key_id not in self.deleted]
        return tuple(sorted(mine, key=lambda k: k.created_at))

    async def list_org_keys(
        self,
        org: str,
        *,
        page_size: int = 0,
        page_token: str = "",
        user_id: str = "",
        include_dead: bool = False,
    ) -> Page[KeyInfo]:
        keys = [
            k
            for k in self.by_id.values()
            if k.org == org and (not user_id or k.user_id == user_id) and (include_dead or self._live(k))
        ]
        return _offset_page(sorted(keys, key=lambda k: k.created_at), page_size, page_token)

    async def _changeable(self, key_id: str) -> KeyInfo:
        key = await self.get_key(key_id)
        if key.status == "REVOKED":
            raise FailedPrecondition(f"API key {key.prefix} has been revoked", code="KEY_REVOKED")
        return key

    async def rotate_key(self, key_id: str) -> IssuedKey:
        key = await self._changeable(key_id)
        for secret in [s for s, k in self.secrets.items() if k == key_id]:
            del self.secrets[secret]
        return self._issue(key)

    async def set_key_active(self, key_id: str, active: bool) -> KeyInfo:
        key = await self._changeable(key_id)
        self.by_id[key_id] = dataclasses.replace(key, status="ACTIVE" if active else "INACTIVE")
        return self.by_id[key_id]

    async def update_key(
        self,
        key_id: str,
        *,
        name: str | None = None,
        services: Sequence[str] | None = None,
        scopes: Iterable[KeyScope] | None = None,
    ) -> KeyInfo:
        key = await self._changeable(key_id)
        if name is not None:
            _check_name(name)
            key = dataclasses.replace(key, name=name)
        if services is not None:
            _check_services(services)
            key = dataclasses.replace(key, services=frozenset(services))
        if scopes is not None:
            if key.key_type != "SERVICE":
                raise FailedPrecondition("only service keys have scopes", code="KEY_TYPE_MISMATCH")
            scopes = tuple(scopes)
            _check_scopes(scopes)
            key = dataclasses.replace(key, scopes=scopes)
        self.by_id[key_id] = key
        return key

    async def revoke_key(self, key_id: str, reason: str) -> None:
        key = await self.get_key(key_id)
        self.by_id[key_id] = dataclasses.replace(key, status="REVOKED")
        self.revocations[key_id] = reason

    async def delete_key(self, key_id: str) -> None:
        await self.revoke_key(key_id, "deleted")
        self.deleted.add(key_id)

    async def serving(self) -> bool:
        return self.healthy


def _check_name(name: str) -> None:
    if not 1 <= len(name.strip()) <= 64 or not name.isprintable():
        raise InvalidArgument("a key name must be 1 to 64 printable characters", code="KEY_NAME_INVALID")


def _check_services(services: Sequence[str]) -> None:
    if not services:
        raise InvalidArgument("a key must include at least one service", code="KEY_SERVICES_EMPTY")
    unknown = set(services) - KEY_SERVICES
    if unknown:
        raise InvalidArgument(f"unknown service {sorted(unknown)[0]!r}", code="KEY_SERVICE_UNKNOWN")


def _check_scopes(scopes: Sequence[KeyScope]) -> None:
    if not scopes:
        raise InvalidArgument("a service key needs at least one scope", code="SCOPE_INVALID")
    for scope in scopes:
        if not scope.actions or scope.actions - SCOPE_ACTIONS:
            raise InvalidArgument("scope actions are get, list, push, delete", code="SCOPE_INVALID")
        if scope.entity_types - ENTITY_TYPES:
            raise InvalidArgument(
                "scope entity types are container, model, resource, chart", code="SCOPE_INVALID"
            )


@dataclasses.dataclass
class _Repository:
    manifests: dict[str, StoredManifest] = dataclasses.field(default_factory=dict)
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    blobs: dict[str, int] = dataclasses.field(default_factory=dict)
    #: index digest -> the manifests it lists
    children: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)


class FakeRegistry:
    def __init__(self) -> None:
        self.repositories: dict[str, _Repository] = {}
        #: (repository, tag) -> the config blob a version's manifest was pushed with
        self.configs: dict[tuple[str, str], bytes] = {}
        self.healthy = True

    def _repository(self, name: str) -> _Repository:
        if name not in self.repositories:
            raise NotFound(f"repository {name} does not exist", code="NAME_UNKNOWN")
        return self.repositories[name]

    async def put_manifest(
        self, repository: str, reference: str, media_type: str, content: bytes, *, config: bytes = b""
    ) -> PutManifestResult:
        if config:
            self.configs[(repository, reference)] = config
        if len(content) > MAX_MANIFEST_BYTES:
            raise InvalidArgument("manifest is larger than 4 MiB", code="SIZE_INVALID")
        try:
            document = json.loads(content)
        except ValueError:
            raise InvalidArgument("manifest is not JSON", code="MANIFEST_INVALID") from None
        if not isinstance(document, dict):
            raise InvalidArgument("manifest is not a JSON object", code="MANIFEST_INVALID")
        digest = sha256_digest(content)
        if ":" in reference and reference != digest:
            raise InvalidArgument(f"manifest digest is {digest}, not {reference}", code="DIGEST_INVALID")
        repo = self.repositories.setdefault(repository, _Repository())
        descriptors = [document.get("config") or {}, *(document.get("layers") or [])]
        for descriptor in descriptors:
            if descriptor.get("digest") and descriptor["digest"] not in repo.blobs:
                raise InvalidArgument(f"blob {descriptor['digest']} is unknown", code="MANIFEST_BLOB_UNKNOWN")
        children = tuple(str(child.get("digest", "")) for child in document.get("manifests") or [])
        for child in children:
            if child not in repo.manifests:
                raise FailedPrecondition(f"manifest {child} is unknown", code="MANIFEST_BLOB_UNKNOWN")
        if children:
            repo.children[digest] = children
        repo.manifests[digest] = StoredManifest(digest=digest, media_type=media_type, content=content)
        if ":" not in reference:
            repo.tags[reference] = digest
        subject = document.get("subject") or {}
        return PutManifestResult(digest=digest, subject_digest=str(subject.get("digest", "")))

    async def get_manifest(self, repository: str, reference: str) -> StoredManifest:
        repo = self._repository(repository)
        digest = repo.tags.get(reference, reference)
        if digest not in repo.manifests:
            raise NotFound(f"manifest {reference} is unknown", code="MANIFEST_UNKNOWN")
        return repo.manifests[digest]

    async def delete_manifest(self, repository: str, reference: str) -> DeletedManifest:
        repo = self._repository(repository)
        if ":" not in reference:
            if reference not in repo.tags:
                raise NotFound(f"manifest {reference} is unknown", code="MANIFEST_UNKNOWN")
            return DeletedManifest(repo.tags.pop(reference), (reference,), manifest_deleted=False)
        if reference not in repo.manifests:
            raise NotFound(f"manifest {reference} is unknown", code="MANIFEST_UNKNOWN")
        parents = sorted(index for index, children in repo.children.items() if reference in children)
        if parents:
            raise FailedPrecondition(
                f"manifest {reference} is listed by index {', '.join(parents)} in {repository}; "
                "delete the index first",
                code="MANIFEST_REFERENCED",
                detail=" ".join(parents),
            )
        tags = tuple(sorted(tag for tag, digest in repo.tags.items() if digest == reference))
        for tag in tags:
            del repo.tags[tag]
        del repo.manifests[reference]
        repo.children.pop(reference, None)
        return DeletedManifest(reference, tags, manifest_deleted=True)

    async def list_tags(self, repository: str, page_size: int = 0, last: str = "") -> TagPage:
        repo = self._repository(repository)
        tags = sorted(tag for tag in repo.tags if tag > last)
        if page_size and len(tags) > page_size:
            return TagPage(repository=repository, tags=tuple(tags[:page_size]), more=True)
        return TagPage(repository=repository, tags=tuple(tags), more=False)

    async def list_referrers(
        self, repository: str, subject_digest: str, artifact_type: str = ""
    ) -> tuple[Referrer, ...]:
        repo = self.repositories.get(repository)
        if repo is None:
            return ()
        found = []
        for digest, stored in sorted(repo.manifests.items()):
            document = json.loads(stored.content)
            if (document.get("subject") or {}).get("digest") != subject_digest:
                continue
            kind = str(document.get("artifactType") or (document.get("config") or {}).get("mediaType", ""))
            if artifact_type and kind != artifact_type:
                continue
            annotations = dict(document.get("annotations") or {})
            found.append(Referrer(stored.media_type, digest, len(stored.content), kind, annotations))
        return tuple(found)

    async def list_repositories(self, page_size: int = 0, last: str = "") -> RepositoryPage:
        names = sorted(name for name in self.repositories if name > last)
        if page_size and len(names) > page_size:
            return RepositoryPage(repositories=tuple(names[:page_size]), more=True)
        return RepositoryPage(repositories=tuple(names), more=False)

    async def link_blob(self, repository: str, digest: str, size: int) -> None:
        self.repositories.setdefault(repository, _Repository()).blobs[digest] = size

    async def stat_blob(self, repository: str, digest: str) -> BlobInfo:
        repo = self.repositories.get(repository)
        if repo is None or digest not in repo.blobs:
            raise NotFound(f"blob {digest} is unknown to {repository}", code="BLOB_UNKNOWN")
        return BlobInfo(digest=digest, size=repo.blobs[digest])

    async def unlink_blob(self, repository: str, digest: str) -> BlobInfo:
        repo = self._repository(repository)
        if digest not in repo.blobs:
            raise NotFound(f"blob {digest} is unknown to {repository}", code="BLOB_UNKNOWN")
        users = sorted(
            stored.digest
            for stored in repo.manifests.values()
            if digest in _named_blobs(json.loads(stored.content))
        )
        if users:
            raise FailedPrecondition(
                f"blob {digest} is used by manifest {', '.join(users)} in {repository}; "
                "delete the manifest first",
                code="BLOB_REFERENCED",
                detail=" ".join(users),
            )
        return BlobInfo(digest=digest, size=repo.blobs.pop(digest))

    async def serving(self) -> bool:
        return self.healthy


def _named_blobs(document: object) -> set[str]:
    """The config and layer digests a manifest names (none for an index)."""
    if not isinstance(document, dict):
        return set()
    descriptors = [document.get("config") or {}, *(document.get("layers") or [])]
    return {str(d["digest"]) for d in descriptors if isinstance(d, dict) and d.get("digest")}


@dataclasses.dataclass
class _Upload:
    owner: str
    data: bytearray = dataclasses.field(default_factory=bytearray)
    #: The upload's data file (with `FakeBlobstore.shared_uploads`): the bytes are the file's.
    file: Path | None = None


class FakeBlobstore:
    def __init__(self) -> None:
        self.uploads: dict[str, _Upload] = {}
        self.blobs: dict[str, bytes] = {}
        self.read_chunk = 64 * 1024
        self.healthy = True
        #: Set to hand out presigned URLs under this base (as S3 with HANGAR_S3_REDIRECT would); None: none.
        self.redirect_base: str | None = None
        self.redirect_expiry = 1200
        self.presign_calls = 0
        #: Set to keep every committed blob also as a file under this directory (the filesystem backend's
        #: layout) and tell `locate_blob` callers its path, as a blobstore sharing its blob directory would.
        self.shared_dir: Path | None = None
        #: Paths `locate_blob` answers instead, by digest (e.g. a hostile one).
        self.located_paths: dict[str, str] = {}
        self.locate_calls = 0
        self.read_calls = 0
        #: With `shared_dir`: keep each upload's bytes in `<shared_dir>/uploads/<id>` and tell its path, as
        #: the filesystem backend does for writers sharing its directory.
        self.shared_uploads = False
        self.write_calls = 0

    def _upload(self, upload_id: str, owner: str) -> _Upload:
        upload = self.uploads.get(upload_id)
        if upload is None or (owner and upload.owner != owner):
            raise NotFound(f"upload {upload_id} is unknown", code="BLOB_UPLOAD_UNKNOWN")
        if upload.file is not None:  # what a sharing writer put there
            upload.data = bytearray(upload.file.read_bytes())
        return upload

    def upload_path(self, upload_id: str) -> str | None:
        return f"uploads/{upload_id}" if self.shared_uploads and self.shared_dir is not None else None

    async def start_upload(self, owner: str) -> str:
        upload_id = uuid.uuid4().hex
        upload = self.uploads[upload_id] = _Upload(owner=owner)
        path = self.upload_path(upload_id)
        if path is not None and self.shared_dir is not None:
            upload.file = self.shared_dir / path
            upload.file.parent.mkdir(parents=True, exist_ok=True)
            upload.file.write_bytes(b"")
        return upload_id

    async def open_upload(self, owner: str) -> UploadStatus:
        upload_id = await self.start_upload(owner)
        return UploadStatus(
            upload_id=upload_id, owner=owner, committed_size=0, path=self.upload_path(upload_id)
        )

    async def write(
        self, upload_id: str, offset: int | None, chunks: AsyncIterable[bytes], *, owner: str = ""
    ) -> int:
        upload = self._upload(upload_id, owner)
        if offset is not None and offset != len(upload.data):
            raise OutOfRange(
                f"write at {offset} refused: the upload holds {len(upload.data)} bytes", code="RANGE_INVALID"
            )
        self.write_calls += 1
        async for chunk in chunks:
            upload.data += chunk
        if upload.file is not None:
            upload.file.write_bytes(upload.data)
        return len(upload.data)

    async def query_write_status(self, upload_id: str, *, owner: str = "") -> UploadStatus:
        upload = self._upload(upload_id, owner)
        return UploadStatus(
            upload_id=upload_id,
            owner=upload.owner,
            committed_size=len(upload.data),
            path=self.upload_path(upload_id) if upload.file is not None else None,
        )

    async def commit_upload(self, upload_id: str, digest: str, *, owner: str = "") -> BlobInfo:
        upload = self._upload(upload_id, owner)
        actual = sha256_digest(bytes(upload.data))
        del self.uploads[upload_id]
        if upload.file is not None:
            upload.file.unlink(missing_ok=True)
        if actual != digest:
            raise InvalidArgument(
                f"digest mismatch: content is {actual}, not {digest}", code="DIGEST_INVALID"
            )
        self.blobs[digest] = bytes(upload.data)
        if self.shared_dir is not None:
            path = self.shared_dir / self.blob_path(digest)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(upload.data)
        return BlobInfo(digest=digest, size=len(upload.data))

    @staticmethod
    def blob_path(digest: str) -> str:
        algorithm, _, hex_digest = digest.partition(":")
        return f"blobs/{algorithm}/{hex_digest[:2]}/{hex_digest}"

    async def cancel_upload(self, upload_id: str, *, owner: str = "") -> None:
        upload = self._upload(upload_id, owner)
        del self.uploads[upload_id]
        if upload.file is not None:
            upload.file.unlink(missing_ok=True)

    async def read(self, digest: str, offset: int = 0, limit: int = 0) -> AsyncIterator[bytes]:
        self.read_calls += 1
        if digest not in self.blobs:
            raise NotFound(f"blob {digest} does not exist", code="BLOB_UNKNOWN")
        data = self.blobs[digest]
        end = len(data) if limit == 0 else offset + limit
        if offset > len(data) or end > len(data):
            raise OutOfRange("range outside the blob", code="RANGE_INVALID")
        for start in range(offset, end, self.read_chunk):
            yield data[start : min(start + self.read_chunk, end)]

    async def stat_blob(self, digest: str) -> BlobInfo:
        if digest not in self.blobs:
            raise NotFound(f"blob {digest} does not exist", code="BLOB_UNKNOWN")
        return BlobInfo(digest=digest, size=len(self.blobs[digest]))

    async def presign_blob(self, digest: str) -> BlobUrl | None:
        self.presign_calls += 1
        if digest not in self.blobs:
            raise NotFound(f"blob {digest} does not exist", code="BLOB_UNKNOWN")
        if self.redirect_base is None:
            return None
        signature = secrets.token_hex(16)  # a new URL per call, as a real signer's would differ by time
        query = f"X-Amz-Expires={self.redirect_expiry}&X-Amz-Signature={signature}"
        return BlobUrl(
            digest=digest, url=f"{self.redirect_base}/{digest}?{query}", expires_in=self.redirect_expiry
        )

    async def locate_blob(self, digest: str) -> BlobLocation:
        self.locate_calls += 1
        if digest not in self.blobs:
            raise NotFound(f"blob {digest} does not exist", code="BLOB_UNKNOWN")
        path = self.located_paths.get(digest)
        if path is None and self.shared_dir is not None:
            path = self.blob_path(digest)
        return BlobLocation(digest=digest, path=path, size=len(self.blobs[digest]))

    async def serving(self) -> bool:
        return self.healthy
