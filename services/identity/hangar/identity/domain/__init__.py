"""Identity domain: names, roles and capabilities, access decisions, and the aggregates; pure, no I/O.

- `names`: org/team names, emails, display names.
- `roles`: roles, the capability matrix, memberships.
- `access`: repository paths, access decisions, who may grant which roles.
- `org`: the Org aggregate (teams, memberships, owners).
- `user`: the User aggregate and the password policy (PASSWORD_INVALID).
- `invitation`: the Invitation aggregate (INVITATION_USED, INVITATION_EXPIRED, ALREADY_MEMBER).
- `session`: the Session aggregate and the session check (SESSION_INVALID, SESSION_EXPIRED).
- `tokens`: one-time `hgi_`/`hgs_` tokens, their hashes and their redacted form.

Time is always passed in, timezone-aware; the domain reads no clock and hashes no password.
"""

from hangar.identity.domain.access import (
    MAX_REPOSITORY_PATH_LENGTH,
    AccessDecision,
    RepositoryPath,
    check_grant,
    decide,
    decide_org,
    repository_scope,
)
from hangar.identity.domain.invitation import (
    INVITATION_LIFETIME,
    Invitation,
    InvitationAccepted,
    InvitationStatus,
    UserInvited,
)
from hangar.identity.domain.names import (
    MAX_DISPLAY_NAME_LENGTH,
    scope_label,
    validate_display_name,
    validate_email,
    validate_org_name,
    validate_team_name,
)
from hangar.identity.domain.org import (
    MAX_OWNERS_PER_ORG,
    Org,
    OrgCreated,
    RolesChanged,
    TeamCreated,
    UserRemoved,
    UserRemovedFromTeam,
)
from hangar.identity.domain.roles import (
    CAPABILITIES,
    Capability,
    Membership,
    Role,
    capabilities_of,
    role_names,
)
from hangar.identity.domain.session import (
    SESSION_LIFETIME,
    Session,
    SessionEnded,
    SessionStarted,
    check_session,
)
from hangar.identity.domain.tokens import (
    INVITATION_SCHEME,
    SESSION_SCHEME,
    IssuedToken,
    has_shape,
    issue_token,
    redact,
    token_hash,
)
from hangar.identity.domain.user import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    PasswordSet,
    User,
    UserRegistered,
    validate_password,
)

__all__ = [
    "CAPABILITIES",
    "INVITATION_LIFETIME",
    "INVITATION_SCHEME",
    "MAX_DISPLAY_NAME_LENGTH",
    "MAX_OWNERS_PER_ORG",
    "MAX_PASSWORD_LENGTH",
    "MAX_REPOSITORY_PATH_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "SESSION_LIFETIME",
    "SESSION_SCHEME",
    "AccessDecision",
    "Capability",
    "Invitation",
    "InvitationAccepted",
    "InvitationStatus",
    "IssuedToken",
    "Membership",
    "Org",
    "OrgCreated",
    "PasswordSet",
    "RepositoryPath",
    "Role",
    "RolesChanged",
    "Session",
    "SessionEnded",
    "SessionStarted",
    "TeamCreated",
    "User",
    "UserInvited",
    "UserRegistered",
    "UserRemoved",
    "UserRemovedFromTeam",
    "capabilities_of",
    "check_grant",
    "check_session",
    "decide",
    "decide_org",
    "has_shape",
    "issue_token",
    "redact",
    "repository_scope",
    "role_names",
    "scope_label",
    "token_hash",
    "validate_display_name",
    "validate_email",
    "validate_org_name",
    "validate_password",
    "validate_team_name",
]
