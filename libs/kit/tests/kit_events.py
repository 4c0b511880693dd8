"""Test events for the kit's contracts, mapped onto real registry event messages."""

from __future__ import annotations

import dataclasses

from hangar.api.registry.v1 import events_pb2
from hangar.kit.codec import EventCodec
from hangar.kit.events import DomainEvent


@dataclasses.dataclass(frozen=True)
class TagMoved(DomainEvent):
    repository: str
    tag: str
    digest: str
    previous_digest: str | None = None


@dataclasses.dataclass(frozen=True)
class BlobLinked(DomainEvent):
    repository: str
    digest: str
    size: int


def make_codec() -> EventCodec:
    codec = EventCodec("registry")
    codec.register(TagMoved, events_pb2.TagMoved)
    codec.register(BlobLinked, events_pb2.BlobLinked, private=["size"])
    return codec
