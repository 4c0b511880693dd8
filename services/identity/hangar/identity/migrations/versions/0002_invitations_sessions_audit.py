"""Invitations, console passwords, sessions and the org audit log (backfilled from the events so far).

Revision ID: i0002
Revises: i0001
"""

import json

import sqlalchemy as sa
from alembic import op
from google.protobuf import json_format
from google.protobuf.message import Message

from hangar.api.identity.v1 import events_pb2

revision = "i0002"
down_revision = "i0001"
branch_labels = None
depends_on = None

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The org-scoped events a database at i0001 can hold (none has private fields), for the backfill.
_BACKFILLED = {
    "hangar.identity.v1.OrgCreated": events_pb2.OrgCreated,
    "hangar.identity.v1.TeamCreated": events_pb2.TeamCreated,
    "hangar.identity.v1.RolesChanged": events_pb2.RolesChanged,
    "hangar.identity.v1.UserRemoved": events_pb2.UserRemoved,
}
_BATCH = 1000


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("invitation_id", sa.String(36), primary_key=True),
        sa.Column("org_id", sa.String(36), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("invited_by", sa.String(128), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.String(36), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
    )
    op.create_index("ix_invitations_org_id_email", "invitations", ["org_id", "email"])
    op.create_table(
        "credentials",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("password_hash", sa.String(512), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("session_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_sessions_token_hash"),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"])
    op.create_table(
        "audit_log",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("org", sa.String(64), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("short_type", sa.String(200), nullable=False),
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("correlation_id", sa.String(200), nullable=False),
        sa.Column("causation_id", sa.String(200), nullable=False),
        sa.UniqueConstraint("event_id", name="uq_audit_log_event_id"),
    )
    op.create_index("ix_audit_log_org_seq", "audit_log", ["org", "seq"])
    _backfill_audit_log()


def _payload_json(message: Message) -> str:
    fields = json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return json.dumps(fields, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _backfill_audit_log() -> None:
    """Put the org-scoped events recorded before this revision into the audit log, in their order, as the
    projector would have (the projector keeps it from now on)."""
    bind = op.get_bind()
    events = sa.table(
        "hangar_events",
        sa.column("position", sa.Integer),
        sa.column("event_id", sa.String),
        sa.column("type", sa.String),
        sa.column("payload", sa.LargeBinary),
        sa.column("meta", sa.JSON),
        sa.column("recorded_at", sa.DateTime(timezone=True)),
    )
    orgs = sa.table("orgs", sa.column("org_id", sa.String), sa.column("name", sa.String))
    audit = sa.table(
        "audit_log",
        *(
            sa.column(name)
            for name in (
                "event_id",
                "org",
                "type",
                "short_type",
                "service",
                "actor",
                "occurred_at",
                "payload_json",
                "correlation_id",
                "causation_id",
            )
        ),
    )
    org_names = dict(bind.execute(sa.select(orgs.c.org_id, orgs.c.name)).all())
    after = 0
    while True:
        rows = bind.execute(
            sa.select(events)
            .where(events.c.position > after, events.c.type.in_(list(_BACKFILLED)))
            .order_by(events.c.position)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        entries = []
        for row in rows:
            message = _BACKFILLED[row.type].FromString(row.payload)
            if row.type.endswith(".OrgCreated"):
                org = message.name
            elif row.type.endswith(".TeamCreated"):
                org = org_names.get(message.org_id, "")
            else:
                org = message.org
            meta = row.meta or {}
            entries.append(
                {
                    "event_id": row.event_id,
                    "org": org,
                    "type": row.type,
                    "short_type": row.type.rsplit(".", 1)[-1],
                    "service": "identity",
                    "actor": (meta.get("actor") or "")[:200],
                    "occurred_at": row.recorded_at,
                    "payload_json": _payload_json(message),
                    "correlation_id": (meta.get("correlation_id") or "")[:200],
                    "causation_id": (meta.get("causation_id") or "")[:200],
                }
            )
        bind.execute(sa.insert(audit), entries)
        after = rows[-1].position


def downgrade() -> None:
    op.drop_index("ix_audit_log_org_seq", "audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_sessions_expires_at", "sessions")
    op.drop_index("ix_sessions_user_id", "sessions")
    op.drop_table("sessions")
    op.drop_table("credentials")
    op.drop_index("ix_invitations_org_id_email", "invitations")
    op.drop_table("invitations")
