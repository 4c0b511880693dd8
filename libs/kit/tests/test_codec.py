"""The event codec maps domain dataclasses onto protobuf messages by field names, both ways."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from hangar.api.keys.v1 import events_pb2, keys_pb2
from hangar.kit.codec import from_proto, to_proto
from hangar.kit.events import DomainEvent


@dataclasses.dataclass(frozen=True)
class Scope:
    actions: tuple[str, ...]
    entity_types: tuple[str, ...]
    team: str = ""
    repository: str = ""


@dataclasses.dataclass(frozen=True)
class Expired(DomainEvent):
    key_id: str
    org: str
    owner_user_id: str
    expired_at: datetime | None


@dataclasses.dataclass(frozen=True)
class WithScopes(DomainEvent):
    key_id: str
    scopes: tuple[Scope, ...]


def test_datetimes_travel_as_microseconds_and_none_as_zero() -> None:
    when = datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC)
    message = to_proto(Expired("k", "acme", "u", when), events_pb2.KeyExpired)
    assert message.expired_at == int(when.timestamp() * 1_000_000)
    assert from_proto(message, Expired) == Expired("k", "acme", "u", when)
    assert from_proto(events_pb2.KeyExpired(key_id="k"), Expired).expired_at is None


def test_nested_value_objects_round_trip_through_nested_messages() -> None:
    event = WithScopes("k", (Scope(("get", "list"), ("model",), team="vision"), Scope(("push",), ())))
    message = to_proto(event, keys_pb2.ApiKey)
    assert [list(s.actions) for s in message.scopes] == [["get", "list"], ["push"]]
    assert from_proto(message, WithScopes) == event
