"""The causal context of the work in progress (actor, correlation, causation), carried across edges."""

from __future__ import annotations

import contextvars
import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

ACTOR_HEADER = "x-hangar-actor"
CORRELATION_HEADER = "x-hangar-correlation-id"
CAUSATION_HEADER = "x-hangar-causation-id"


@dataclasses.dataclass(frozen=True)
class CallContext:
    """Who asked (actor), which user-level operation this is part of (correlation), and what caused it."""

    actor: str = ""
    correlation_id: str = ""
    causation_id: str = ""

    def to_headers(self) -> dict[str, str]:
        headers = {CORRELATION_HEADER: self.correlation_id or str(uuid.uuid4())}
        if self.actor:
            headers[ACTOR_HEADER] = self.actor
        if self.causation_id:
            headers[CAUSATION_HEADER] = self.causation_id
        return headers

    @classmethod
    def from_headers(cls, headers: dict[str, str]) -> CallContext:
        return cls(
            actor=headers.get(ACTOR_HEADER, ""),
            correlation_id=headers.get(CORRELATION_HEADER, "") or str(uuid.uuid4()),
            causation_id=headers.get(CAUSATION_HEADER, ""),
        )


_EMPTY = CallContext()  # frozen, so one shared default is safe
_current: contextvars.ContextVar[CallContext] = contextvars.ContextVar("hangar_call_context", default=_EMPTY)


def current() -> CallContext:
    return _current.get()


@contextmanager
def bound(ctx: CallContext) -> Iterator[CallContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
