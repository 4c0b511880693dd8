"""Identity's store: read-model tables, the projectors that keep them (and the org audit log) in step with
events, the views the app reads, the event codec, and the Alembic migrations.

- `tables`: the read models; no secret in clear (tokens as SHA-256, passwords as argon2id hashes).
- `codec`: each domain event with its protobuf message and its private fields.
- `projections`: `project` (read models) and `project_audit` (org-scoped events into `audit_log`).
- `views`: `SqlViews`, implementing `hangar.identity.app.Views`.
"""

from pathlib import Path

from hangar.identity.store.codec import EVENT_TYPES, codec
from hangar.identity.store.projections import AUDITED, PROJECTORS, project, project_audit
from hangar.identity.store.tables import (
    ORG_SCOPE,
    audit_log,
    credentials,
    invitations,
    memberships,
    metadata,
    orgs,
    sessions,
    teams,
    users,
)
from hangar.identity.store.views import SqlViews

MIGRATIONS = Path(__file__).parent.parent / "migrations"

__all__ = [
    "AUDITED",
    "EVENT_TYPES",
    "MIGRATIONS",
    "ORG_SCOPE",
    "PROJECTORS",
    "SqlViews",
    "audit_log",
    "codec",
    "credentials",
    "invitations",
    "memberships",
    "metadata",
    "orgs",
    "project",
    "project_audit",
    "sessions",
    "teams",
    "users",
]
