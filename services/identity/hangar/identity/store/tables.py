"""Identity's read-model tables (created by the Alembic migrations in ../migrations).

No column holds a secret in clear: invitation and session tokens are kept as their SHA-256, passwords as
their argon2id hash.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from hangar.kit.schema import Position

#: The team column of an org-scope membership or invitation ('' rather than NULL: part of a primary key).
ORG_SCOPE = ""

metadata = MetaData()

orgs = Table(
    "orgs",
    metadata,
    Column("org_id", String(36), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("display_name", String(128), nullable=False),
    UniqueConstraint("name", name="uq_orgs_name"),
)

users = Table(
    "users",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("display_name", String(128), nullable=False),
    UniqueConstraint("email", name="uq_users_email"),
)

teams = Table(
    "teams",
    metadata,
    Column("org_id", String(36), primary_key=True),
    Column("name", String(64), primary_key=True),
)

memberships = Table(
    "memberships",
    metadata,
    Column("org_id", String(36), primary_key=True),
    Column("user_id", String(36), primary_key=True),
    Column("team", String(64), primary_key=True),  # ORG_SCOPE for the org itself
    Column("roles", JSON, nullable=False),  # role names in declaration order, never empty
    Index("ix_memberships_user_id", "user_id"),
)

invitations = Table(
    "invitations",
    metadata,
    Column("invitation_id", String(36), primary_key=True),
    Column("org_id", String(36), nullable=False),
    Column("team", String(64), nullable=False),  # ORG_SCOPE for an org-level invitation
    Column("email", String(254), nullable=False),
    Column("display_name", String(128), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("invited_by", String(128), nullable=False),
    Column("token_hash", String(64), nullable=False),  # sha256 hex of the one-time token
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=True),
    Column("accepted_by", String(36), nullable=True),
    UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
    Index("ix_invitations_org_id_email", "org_id", "email"),
)

credentials = Table(
    "credentials",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("password_hash", String(512), nullable=False),  # argon2id, PHC string format
    Column("set_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("session_id", String(36), primary_key=True),
    Column("user_id", String(36), nullable=False),
    Column("token_hash", String(64), nullable=False),  # sha256 hex of the session token
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("token_hash", name="uq_sessions_token_hash"),
    Index("ix_sessions_user_id", "user_id"),
    Index("ix_sessions_expires_at", "expires_at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    # The log's own order: identity's events as appended, other services' as they arrive.
    Column("seq", Position, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("org", String(64), nullable=False),
    Column("type", String(200), nullable=False),  # hangar.identity.v1.UserRemoved
    Column("short_type", String(200), nullable=False),  # UserRemoved
    Column("service", String(32), nullable=False),
    Column("actor", String(200), nullable=False),  # '' for the system
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("payload_json", Text, nullable=False),  # the public fields, protobuf JSON
    Column("correlation_id", String(200), nullable=False),
    Column("causation_id", String(200), nullable=False),
    UniqueConstraint("event_id", name="uq_audit_log_event_id"),
    Index("ix_audit_log_org_seq", "org", "seq"),
)
