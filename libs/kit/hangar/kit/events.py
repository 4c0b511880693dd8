"""Domain events and event-sourced aggregates: pure base classes, no I/O."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, ClassVar, Self


@dataclasses.dataclass(frozen=True)
class DomainEvent:
    """Something that happened. Subclasses are frozen dataclasses named in the past tense."""


class Aggregate:
    """An event-sourced aggregate: state is the fold of its events; commands record new ones.

    Subclasses implement `apply(event)` (state change, never fails) and command methods that check the
    rules and call `record(event)`.
    """

    stream_prefix: ClassVar[str] = "aggregate"

    def __init__(self, id: str) -> None:
        self.id = id
        self.version = 0
        self.pending: list[DomainEvent] = []

    @property
    def stream_id(self) -> str:
        return f"{self.stream_prefix}-{self.id}"

    @classmethod
    def stream_for(cls, id: str) -> str:
        return f"{cls.stream_prefix}-{id}"

    def apply(self, event: DomainEvent) -> None:  # pragma: no cover - each aggregate overrides
        raise NotImplementedError

    def record(self, event: DomainEvent) -> None:
        self.apply(event)
        self.version += 1
        self.pending.append(event)

    def collect(self) -> list[DomainEvent]:
        """Hand over the events recorded since load, for the event store to append."""
        events, self.pending = self.pending, []
        return events

    @property
    def loaded_version(self) -> int:
        """The stream version this instance was loaded at (the expected version of its next append)."""
        return self.version - len(self.pending)

    @classmethod
    def rehydrate(cls, id: str, events: Iterable[DomainEvent], **kwargs: Any) -> Self:
        aggregate = cls(id, **kwargs)
        for event in events:
            aggregate.apply(event)
            aggregate.version += 1
        return aggregate
