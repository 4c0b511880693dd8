"""NATS subject and header names shared by publishers and subscribers, with no heavy imports.

Processes that only listen (the gateway) import this instead of `messaging`/`eventstore`, which pull in
SQLAlchemy: tens of MiB of resident memory in a process that never opens a database.
"""

from __future__ import annotations

EVENT_TYPE_HEADER = "Hangar-Event-Type"
EVENT_ID_HEADER = "Hangar-Event-Id"
EVENT_TIME_HEADER = "Hangar-Event-Time"


def subject_for(subject_prefix: str, event_type: str) -> str:
    """hangar.identity.v1.UserRemoved -> <prefix>.identity.UserRemoved."""
    parts = event_type.split(".")
    return f"{subject_prefix}.{parts[1]}.{parts[-1]}"
