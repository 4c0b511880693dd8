"""The kit's own tables, present in every service database: event store, outbox and inbox."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

metadata = MetaData()

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
Position = BigInteger().with_variant(Integer(), "sqlite")


def sorted_text(length: int) -> TypeEngine[str]:
    """Text compared and ordered byte by byte on every backend (SQLite's BINARY; PostgreSQL's "C")."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


events = Table(
    "hangar_events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("stream_id", String(300), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(200), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("meta", JSON, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_hangar_events_stream_version"),
)

outbox = Table(
    "hangar_outbox",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("subject", String(300), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    # pending -> published; attempts and last_error tell why a row is stuck.
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Index("ix_hangar_outbox_status_id", "status", "id"),
)

inbox = Table(
    "hangar_inbox",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("type", String(200), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)
