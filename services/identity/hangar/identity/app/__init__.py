"""Identity commands and queries, each one unit of work: orgs, teams, users and roles (`directory`),
invitations, console sessions, and the org audit log.

`App` gathers them over one set of dependencies: the unit-of-work factory and the ports declared in
`ports` (`Views`, `Passwords`, `Notifier`, `Clock`). Commands retry on a lost append race; queries read
projections.
"""

from hangar.identity.app.audit import Audit, from_micros, to_micros
from hangar.identity.app.directory import Directory
from hangar.identity.app.invitations import Invitations
from hangar.identity.app.ports import (
    AcceptedInvitation,
    AuditEvent,
    AuditPage,
    AuditQuery,
    Clock,
    CreatedOrg,
    GrantDecision,
    InvitationView,
    IssuedInvitation,
    MemberPage,
    Notifier,
    OrgView,
    Passwords,
    SessionRecord,
    StartedSession,
    UserDetails,
    UserView,
    VerifiedSession,
    Views,
    system_clock,
)
from hangar.identity.app.sessions import Sessions
from hangar.kit.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE


class App(Directory, Invitations, Sessions, Audit):
    """The identity service's use cases."""


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "AcceptedInvitation",
    "App",
    "AuditEvent",
    "AuditPage",
    "AuditQuery",
    "Clock",
    "CreatedOrg",
    "GrantDecision",
    "InvitationView",
    "IssuedInvitation",
    "MemberPage",
    "Notifier",
    "OrgView",
    "Passwords",
    "SessionRecord",
    "StartedSession",
    "UserDetails",
    "UserView",
    "VerifiedSession",
    "Views",
    "from_micros",
    "system_clock",
    "to_micros",
]
