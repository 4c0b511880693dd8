"""Stable names and protobuf payloads for domain events, in both directions.

A domain event (a frozen dataclass) maps to the protobuf message of the same field names in the service's
events.proto. Conversion follows the dataclass's type hints: datetime <-> unix microseconds (0 = None),
tuple <-> repeated, enum <-> its value, `str | None` <-> "" = None, a nested frozen dataclass <-> a nested
message of the same field names. Fields listed as `private` are kept in the
event store and cleared from what the outbox publishes.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message

from hangar.kit.events import DomainEvent


@dataclasses.dataclass(frozen=True)
class EventType:
    name: str
    domain: type[DomainEvent]
    proto: type[Message]
    private: frozenset[str]

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]


class UnknownEventType(LookupError):
    pass


class EventCodec:
    """The registry of one service's event types: stable name <-> domain class <-> protobuf message."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._by_name: dict[str, EventType] = {}
        self._by_class: dict[type[DomainEvent], EventType] = {}

    def register(
        self, domain: type[DomainEvent], proto: type[Message], *, private: Iterable[str] = ()
    ) -> None:
        name = proto.DESCRIPTOR.full_name.replace(".api.", ".", 1)  # hangar.identity.v1.UserRemoved
        missing = {f.name for f in dataclasses.fields(domain)} - set(proto.DESCRIPTOR.fields_by_name)
        if missing:
            raise TypeError(
                f"{proto.DESCRIPTOR.full_name} lacks fields {sorted(missing)} of {domain.__name__}"
            )
        entry = EventType(name, domain, proto, frozenset(private))
        self._by_name[name] = entry
        self._by_class[domain] = entry

    def type_of(self, event: DomainEvent) -> EventType:
        try:
            return self._by_class[type(event)]
        except KeyError:
            raise UnknownEventType(
                f"{type(event).__name__} is not registered with the {self.service} codec"
            ) from None

    def encode(self, event: DomainEvent) -> tuple[EventType, bytes]:
        entry = self.type_of(event)
        return entry, to_proto(event, entry.proto).SerializeToString()

    def public_payload(self, event: DomainEvent) -> bytes:
        return self.encode_both(event)[2]

    def encode_both(self, event: DomainEvent) -> tuple[EventType, bytes, bytes]:
        """The event's type, its stored payload and its public payload (private fields cleared; the same
        bytes when it has none), converted once."""
        entry = self.type_of(event)
        message = to_proto(event, entry.proto)
        stored = message.SerializeToString()
        if not entry.private:
            return entry, stored, stored
        for name in entry.private:
            message.ClearField(name)
        return entry, stored, message.SerializeToString()

    def decode(self, name: str, payload: bytes) -> DomainEvent:
        try:
            entry = self._by_name[name]
        except KeyError:
            raise UnknownEventType(name) from None
        message = entry.proto()
        message.ParseFromString(payload)
        return from_proto(message, entry.domain)


_FIELD_HINTS: dict[type, tuple[tuple[str, Any], ...]] = {}


def _field_hints(cls: type) -> tuple[tuple[str, Any], ...]:
    """A dataclass's fields, each with its resolved type hint (resolving them is slow; classes are few)."""
    known = _FIELD_HINTS.get(cls)
    if known is None:
        hints = typing.get_type_hints(cls)
        known = _FIELD_HINTS[cls] = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))
    return known


def to_proto(event: DomainEvent, proto: type[Message]) -> Message:
    values: dict[str, Any] = {}
    for name, hint in _field_hints(type(event)):
        value = getattr(event, name)
        if value is None:
            continue
        values[name] = _to_wire(value, hint)
    return proto(**values)


def from_proto(message: Message, domain: type[DomainEvent]) -> DomainEvent:
    values = {name: _from_wire(getattr(message, name), hint) for name, hint in _field_hints(domain)}
    return domain(**values)


def _to_wire(value: Any, hint: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            name: _to_wire(getattr(value, name), inner)
            for name, inner in _field_hints(type(value))
            if getattr(value, name) is not None
        }
    if isinstance(value, datetime):
        return int(value.timestamp() * 1_000_000)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list, frozenset, set)):
        inner = _inner(hint)
        return [_to_wire(v, inner) for v in value]
    return value


def _from_wire(value: Any, hint: Any) -> Any:
    optional, base = _unwrap_optional(hint)
    origin = typing.get_origin(base)
    if base is datetime:
        return None if optional and not value else datetime.fromtimestamp(value / 1_000_000, tz=UTC)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return None if optional and not value else base(value)
    if origin in (tuple, list, frozenset, set):
        inner = _inner(base)
        return origin(_from_wire(v, inner) for v in value)
    if dataclasses.is_dataclass(base) and isinstance(base, type):
        return base(**{name: _from_wire(getattr(value, name), inner) for name, inner in _field_hints(base)})
    if optional and (value == "" or value == 0):
        return None
    return value


def _unwrap_optional(hint: Any) -> tuple[bool, Any]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return True, args[0]
    return False, hint


def _inner(hint: Any) -> Any:
    args = typing.get_args(_unwrap_optional(hint)[1])
    return args[0] if args else Any
