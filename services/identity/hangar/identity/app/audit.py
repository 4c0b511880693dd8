"""The org audit log: identity's own org-scoped events (projected as they are appended) and other services'
events (consumed from NATS), listed oldest first with filters and opaque page tokens.

Entries are numbered in the order the log recorded them: identity's in the transaction that appended them,
other services' when they arrive (normally milliseconds after they happened; `time` is when they happened).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from hangar.identity.app.base import (
    AppBase,
    clamp_page_size,
    decode_page_token,
    encode_page_token,
    org_view,
)
from hangar.identity.app.ports import AuditEvent, AuditPage, AuditQuery, Views
from hangar.identity.domain import validate_org_name
from hangar.kit.errors import InvalidArgument
from hangar.kit.uow import UnitOfWork

MAX_TYPE_FILTERS = 50
MAX_TYPE_NAME_LENGTH = 200
MAX_ACTOR_LENGTH = 200
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# 9999-12-31T23:59:59.999999Z: the last moment a datetime can hold.
_MAX_MICROS = (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)
_TYPE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")
_CURSOR = re.compile(r"after:([0-9]{1,19})")


def to_micros(moment: datetime) -> int:
    """Unix microseconds of a timezone-aware time, exactly (no float on the way)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def from_micros(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def _type_filters(types: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """Split the asked types into stable names (with dots) and short names (UserRemoved), checked."""
    names = [name.strip() for name in types]
    if len(names) > MAX_TYPE_FILTERS:
        raise InvalidArgument(f"filter on at most {MAX_TYPE_FILTERS} event types", code="EVENT_TYPE_INVALID")
    for name in names:
        if len(name) > MAX_TYPE_NAME_LENGTH or not _TYPE_NAME.fullmatch(name):
            raise InvalidArgument(
                f"event type {name[:80]!r} is not a type name"
                " (like hangar.identity.v1.UserRemoved or UserRemoved)",
                code="EVENT_TYPE_INVALID",
            )
    return frozenset(n for n in names if "." in n), frozenset(n for n in names if "." not in n)


def _decode_cursor(page_token: str) -> int:
    if not page_token:
        return 0
    try:
        match = _CURSOR.fullmatch(decode_page_token(page_token))
    except InvalidArgument:
        match = None
    if match is None:
        raise InvalidArgument("page token is not one this service handed out", code="PAGE_TOKEN_INVALID")
    return int(match.group(1))


class Audit(AppBase):
    async def list_events(
        self,
        org: str,
        *,
        types: Iterable[str] = (),
        actor: str = "",
        since: int = 0,
        page_size: int = 0,
        page_token: str = "",
    ) -> AuditPage:
        """One page of the org's audit log, oldest first. Read-only.

        `types` keeps only events of these stable names or short names; `actor` only those the user caused;
        `since` (unix microseconds) only those at or after that time. `page_size` 0 means 100, anything
        above 1000 means 1000; a negative size (PAGE_SIZE_INVALID), a page token this service did not hand
        out (PAGE_TOKEN_INVALID), a malformed type (EVENT_TYPE_INVALID) or a negative `since` are
        InvalidArgument. A page token is a position in the log: it stays valid as the log grows.
        """
        validate_org_name(org)
        full, short = _type_filters(types)
        if len(actor) > MAX_ACTOR_LENGTH:
            raise InvalidArgument(f"actor must be at most {MAX_ACTOR_LENGTH} characters")
        if not 0 <= since <= _MAX_MICROS:
            raise InvalidArgument("since must be unix microseconds, 0 or more", code="SINCE_INVALID")
        limit = clamp_page_size(page_size)
        after = _decode_cursor(page_token)
        query = AuditQuery(
            org=org,
            types=full,
            short_types=short,
            actor=actor,
            since=from_micros(since) if since else None,
            after=after,
            limit=limit + 1,
        )
        async with self.uow(readonly=True) as uow:
            await org_view(uow, org)
            rows = await uow.views.audit_events(query)
        page = rows[:limit]
        token = encode_page_token(f"after:{page[-1][0]}") if len(rows) > limit else ""
        return AuditPage(tuple(event for _, event in page), token)

    async def record_foreign_event(self, uow: UnitOfWork[Views], event: AuditEvent) -> bool:
        """Add another service's event to its org's audit log, in the consumer's unit of work (so it commits
        with the inbox row). False if the log already holds that event. InvalidArgument if it names no org."""
        validate_org_name(event.org)
        if not event.event_id or not event.type:
            raise InvalidArgument("an audit entry needs an event id and a type")
        return await uow.views.record_audit(event)
