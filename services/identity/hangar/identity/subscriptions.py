"""Events of other services that identity acts on: every event of keys, and the registry's events about
repositories, manifests, tags and versions, go into their org's audit log (a registry event's org is the
first segment of its repository's name).

Each handler writes the audit entry in the consumer's unit of work, so it commits with the inbox row: a
redelivered event is skipped by the inbox, and the audit log's unique event id guards it once more.
Actor, correlation id and time come from the message's headers (`hangar.kit.eventstore` sets them).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from hangar.api.keys.v1 import events_pb2 as keys_events
from hangar.api.registry.v1 import artifact_events_pb2 as artifact_events
from hangar.api.registry.v1 import events_pb2 as registry_events
from hangar.identity.app import App, AuditEvent
from hangar.identity.payloads import public_json
from hangar.kit.context import ACTOR_HEADER, CORRELATION_HEADER
from hangar.kit.errors import InvalidArgument
from hangar.kit.eventstore import EVENT_TIME_HEADER
from hangar.kit.messaging import PermanentFailure, ReceivedEvent, Subscription
from hangar.kit.uow import UnitOfWork

log = logging.getLogger(__name__)

#: The keys events of the org audit log (each names its org, key and owner).
KEY_EVENTS: tuple[type[Message], ...] = (
    keys_events.KeyIssued,
    keys_events.KeyRevoked,
    keys_events.KeyExpired,
    keys_events.KeyRotated,
    keys_events.KeyActivated,
    keys_events.KeyDeactivated,
    keys_events.KeyRenamed,
    keys_events.KeyServicesUpdated,
    keys_events.KeyScopesUpdated,
    keys_events.KeyDeleted,
)
#: The registry events of the org audit log (each names its repository, `org/name` or `org/team/name`).
#: Blob links and usage counts are left out: they are plumbing, not actions of anyone's.
REGISTRY_EVENTS: tuple[type[Message], ...] = (
    registry_events.RepositoryCreated,
    registry_events.ManifestPushed,
    registry_events.TagMoved,
    registry_events.TagDeleted,
    registry_events.ManifestDeleted,
    registry_events.BlobUnlinked,
    artifact_events.RepositoryKindChanged,
    artifact_events.MetadataUpdated,
    artifact_events.VersionCreated,
    artifact_events.FileUploadStarted,
    artifact_events.FileUploaded,
    artifact_events.FileRemoved,
    artifact_events.VersionCommitted,
    artifact_events.VersionDeleted,
    artifact_events.LatestMoved,
    artifact_events.LatestPolicyChanged,
)
#: Fields the publishers keep private (keys' secret hash; the registry's manifest bytes, index children,
#: inherited file lists and markdown documents): their relays clear them before publishing; cleared here
#: again, whatever comes.
PRIVATE_FIELDS = (
    "secret_hash",
    "content",
    "children",
    "inherited",
    "overview",
    "setup",
    "quick_start",
    "release_notes",
)
_MAX_HEADER_VALUE = 200


def stable_name(message: type[Message]) -> str:
    """hangar.api.keys.v1.KeyRevoked -> hangar.keys.v1.KeyRevoked (the kit's stable type names)."""
    return message.DESCRIPTOR.full_name.replace(".api.", ".", 1)


def _event_time(event: ReceivedEvent) -> datetime:
    raw = event.headers.get(EVENT_TIME_HEADER, "")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        log.warning("event %s has no readable %s header; using the time of arrival", event.event_id, raw)
        return datetime.now(UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _org_of(message: Message) -> str:
    """The org an event belongs to: its `org` field, else the first segment of its `repository`."""
    values = {field.name: value for field, value in message.ListFields()}  # the fields set
    if "org" in message.DESCRIPTOR.fields_by_name:
        return str(values.get("org", ""))
    return str(values.get("repository", "")).split("/", 1)[0]


def audit_entry(event: ReceivedEvent) -> AuditEvent:
    """The audit-log entry of an event another service published."""
    message = event.message
    private = [name for name in PRIVATE_FIELDS if name in message.DESCRIPTOR.fields_by_name]
    parts = event.type.split(".")
    return AuditEvent(
        event_id=event.event_id,
        type=event.type,
        service=parts[1] if len(parts) > 2 else "",
        org=_org_of(message),
        actor=event.headers.get(ACTOR_HEADER, "")[:_MAX_HEADER_VALUE],
        time=_event_time(event),
        payload_json=public_json(message, private),
        correlation_id=event.headers.get(CORRELATION_HEADER, "")[:_MAX_HEADER_VALUE],
        # The header of that name carries this event's own id (for what it causes): the event's own cause
        # is not published, so it stays empty.
        causation_id="",
    )


def subscriptions(app: App) -> list[Subscription]:
    async def into_audit_log(event: ReceivedEvent, uow: UnitOfWork[Any]) -> None:
        try:
            await app.record_foreign_event(uow, audit_entry(event))
        except InvalidArgument as exc:
            reason = f"{event.type} {event.event_id} cannot enter the audit log: {exc}"
            raise PermanentFailure(reason) from exc

    return [
        Subscription(stable_name(message), message, into_audit_log)
        for message in (*KEY_EVENTS, *REGISTRY_EVENTS)
    ]
