"""Identity's event types: each domain event with its message in events.proto, and its private fields."""

from __future__ import annotations

from google.protobuf.message import Message

from hangar.api.identity.v1 import events_pb2
from hangar.identity.domain import (
    InvitationAccepted,
    OrgCreated,
    PasswordSet,
    RolesChanged,
    SessionEnded,
    SessionStarted,
    TeamCreated,
    UserInvited,
    UserRegistered,
    UserRemoved,
    UserRemovedFromTeam,
)
from hangar.kit.codec import EventCodec
from hangar.kit.events import DomainEvent

#: (domain event, message, private fields): private fields stay in the event store, never published.
EVENT_TYPES: tuple[tuple[type[DomainEvent], type[Message], tuple[str, ...]], ...] = (
    (OrgCreated, events_pb2.OrgCreated, ()),
    (UserRegistered, events_pb2.UserRegistered, ()),
    (TeamCreated, events_pb2.TeamCreated, ()),
    (RolesChanged, events_pb2.RolesChanged, ()),
    (UserRemoved, events_pb2.UserRemoved, ()),
    (UserInvited, events_pb2.UserInvited, ("token_hash",)),
    (InvitationAccepted, events_pb2.InvitationAccepted, ()),
    (PasswordSet, events_pb2.PasswordSet, ("password_hash",)),
    (SessionStarted, events_pb2.SessionStarted, ("token_hash",)),
    (SessionEnded, events_pb2.SessionEnded, ()),
    (UserRemovedFromTeam, events_pb2.UserRemovedFromTeam, ()),
)


def codec() -> EventCodec:
    """Identity's event codec: token and password hashes are registered private."""
    registry = EventCodec("identity")
    for domain, message, private in EVENT_TYPES:
        registry.register(domain, message, private=private)
    return registry
