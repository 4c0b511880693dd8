"""The keys application: issue, authenticate, revoke and list API keys over the unit of work.

Commands load the `ApiKey` aggregate from its event stream, decide in the domain, append and commit in one
unit of work, retried on a lost race (`retry_on_conflict`). Queries, and `authenticate` on the hot path, read
the read model (`Views`) only. A secret is returned once by `issue_personal_key` and is never logged or
stored: only its prefix (lookup, display) and its hash are.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from hangar.keys.domain import ApiKey, KeySecret, KeyView, check_personal_key_limit
from hangar.kit.errors import InvalidArgument, NotFound, Unauthenticated
from hangar.kit.uow import UnitOfWork, UnitOfWorkFactory, retry_on_conflict

log = logging.getLogger(__name__)

#: The last use of a key is written to the read model at most once per this interval, per key: a busy key
#: costs one small UPDATE a minute, not one per request; `last_used_at` is therefore exact to about a minute.
LAST_USED_INTERVAL = timedelta(seconds=60)

# Compared against when a prefix is unknown, so that miss costs the same hash work as a hit.
_NO_SUCH_KEY_HASH = "0" * 64


class Clock(Protocol):
    """The current time, timezone-aware UTC."""

    def __call__(self) -> datetime: ...


def system_clock() -> datetime:
    return datetime.now(UTC)


class Views(Protocol):
    """The read model of keys (implemented in `store.SqlViews`, on the session of a unit of work)."""

    async def key_by_prefix(self, prefix: str) -> KeyView | None: ...

    async def key_by_id(self, key_id: str) -> KeyView | None: ...

    async def keys_of_user(self, user_id: str) -> list[KeyView]:
        """Every key the user owns, in every org, oldest first."""
        ...

    async def count_live_personal_keys(self, user_id: str, now: datetime) -> int:
        """Personal keys of the user that hold a slot (active or inactive) and are not past their expiry."""
        ...

    async def live_user_keys_in_org(self, org: str, user_id: str) -> list[KeyView]:
        """Personal and legacy keys of the user in the org that are neither revoked nor recorded expired."""
        ...

    async def lock_owner(self, user_id: str) -> None:
        """Serialize, until the transaction ends, the commands that count and add keys of this owner."""
        ...

    async def record_use(self, key_id: str, at: datetime, *, unless_since: datetime) -> bool:
        """Set the key's last-used time to `at` unless it was already recorded at or after `unless_since`.

        The one write to the read model that no event makes: uses are not events. True if it wrote.
        """
        ...


KeysUnitOfWork = UnitOfWork[Views]


def _key_id() -> str:
    return str(uuid.uuid4())


class App:
    """Commands and queries of the keys service."""

    def __init__(
        self,
        uow: UnitOfWorkFactory[Views],
        clock: Clock = system_clock,
        *,
        last_used_interval: timedelta = LAST_USED_INTERVAL,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.last_used_interval = last_used_interval

    # -- commands ----------------------------------------------------------------------------------------

    async def issue_personal_key(
        self,
        org: str,
        user_id: str,
        name: str,
        services: Sequence[str],
        expires_in_seconds: int | None,
    ) -> tuple[KeyView, str]:
        """A new personal key of `user_id` in `org` and its secret (to show once). None or 0: never expires.

        Refused with LimitExceeded(PERSONAL_KEY_LIMIT) when the user already holds 8 live personal keys.
        """
        if expires_in_seconds is not None and expires_in_seconds < 0:
            raise InvalidArgument("a key's lifetime cannot be negative", code="KEY_EXPIRY_INVALID")
        try:
            expires_in = timedelta(seconds=expires_in_seconds) if expires_in_seconds else None
        except OverflowError:
            raise InvalidArgument(
                "the key's lifetime is beyond the calendar; choose no expiry instead",
                code="KEY_EXPIRY_INVALID",
            ) from None

        async def command() -> tuple[KeyView, str]:
            async with self.uow() as uow:
                now = self.clock()
                await uow.views.lock_owner(user_id)
                check_personal_key_limit(await uow.views.count_live_personal_keys(user_id, now))
                key, secret = ApiKey.issue_personal(
                    _key_id(), org, user_id, name, services, now=now, expires_in=expires_in
                )
                # Prefixes are unique (the read model's index); a collision is rare: draw again.
                while await uow.views.key_by_prefix(key.view.prefix) is not None:
                    key, secret = ApiKey.issue_personal(
                        key.id, org, user_id, name, services, now=now, expires_in=expires_in
                    )
                await uow.events.append(key.stream_id, key.loaded_version, key.collect())
                await uow.commit()
                return key.view, secret

        # A concurrent issue drawing the same prefix surfaces as a conflict from the projection: draw again.
        return await retry_on_conflict(command)

    async def revoke_key(self, key_id: str, reason: str) -> KeyView:
        """Revoke a key for good; revoking a revoked key changes nothing. NotFound(KEY_NOT_FOUND)."""

        async def command() -> KeyView:
            async with self.uow() as uow:
                key = await self._load(uow, key_id)
                key.revoke(reason)
                await uow.events.append(key.stream_id, key.loaded_version, key.collect())
                await uow.commit()
                return key.view

        return await retry_on_conflict(command)

    async def revoke_user_keys(self, org: str, user_id: str, reason: str) -> list[str]:
        """Revoke the personal and legacy keys of a user in an org; returns the ids of the keys revoked."""

        async def command() -> list[str]:
            async with self.uow() as uow:
                revoked = await self.revoke_user_keys_in(uow, org, user_id, reason)
                await uow.commit()
                return revoked

        return await retry_on_conflict(command)

    async def revoke_user_keys_in(
        self, uow: KeysUnitOfWork, org: str, user_id: str, reason: str
    ) -> list[str]:
        """`revoke_user_keys` inside a unit of work the caller commits (a consumer's, with its inbox row).

        Service keys belong to the org and are left alone; keys of the user in other orgs too.
        """
        revoked: list[str] = []
        for view in await uow.views.live_user_keys_in_org(org, user_id):
            key = await self._load(uow, view.key_id)
            key.revoke(reason)
            if key.pending:
                await uow.events.append(key.stream_id, key.loaded_version, key.collect())
                revoked.append(key.id)
        return revoked

    # -- the hot path ------------------------------------------------------------------------------------

    async def authenticate(self, secret: str) -> KeyView:
        """The key of `secret` if it may be used now; Unauthenticated otherwise, with the reason as code.

        KEY_MALFORMED (not a Hangar key), KEY_INVALID (unknown prefix or wrong secret), and only for the
        holder of the right secret: KEY_REVOKED, KEY_EXPIRED, KEY_INACTIVE. A read-only lookup by prefix
        and a constant-time hash comparison; writes happen only to record an expiry no event has recorded
        yet (once per key) and the last use (at most once per `last_used_interval` per key).
        """
        prefix = KeySecret.prefix_of(secret)
        async with self.uow(readonly=True) as uow:
            view = await uow.views.key_by_prefix(prefix)
        if view is None:
            KeySecret.verify(secret, _NO_SUCH_KEY_HASH)
            raise Unauthenticated("the API key is not valid", code="KEY_INVALID")
        now = self.clock()
        try:
            view.check_usable(secret, now)
        except Unauthenticated as refusal:
            if refusal.code == "KEY_EXPIRED" and view.status.holds_slot:
                await self._record_expiry(view.key_id)
            raise
        if await self._record_use(view, now):
            view = dataclasses.replace(view, last_used_at=now)
        return view

    async def _record_expiry(self, key_id: str) -> None:
        async def command() -> None:
            async with self.uow() as uow:
                key = await self._load(uow, key_id)
                key.expire(self.clock())
                await uow.events.append(key.stream_id, key.loaded_version, key.collect())
                await uow.commit()

        try:
            await retry_on_conflict(command)
        except Exception:  # the refusal stands either way; the next use tries again
            log.warning("could not record the expiry of key %s", key_id, exc_info=True)

    async def _record_use(self, view: KeyView, now: datetime) -> bool:
        since = now - self.last_used_interval
        if view.last_used_at is not None and view.last_used_at > since:
            return False
        try:
            async with self.uow() as uow:
                wrote = await uow.views.record_use(view.key_id, now, unless_since=since)
                await uow.commit()
                return wrote
        except Exception:  # a missed last-used stamp must not refuse a good key
            log.warning("could not record the last use of key %s", view.key_id, exc_info=True)
            return False

    # -- queries -----------------------------------------------------------------------------------------

    async def get_key(self, key_id: str) -> KeyView:
        async with self.uow(readonly=True) as uow:
            view = await uow.views.key_by_id(key_id)
        if view is None:
            raise NotFound(f"API key {key_id[:64]} does not exist", code="KEY_NOT_FOUND")
        return self._as_of(view, self.clock())

    async def list_keys(self, user_id: str) -> list[KeyView]:
        """Every key of the user (all orgs, revoked and expired included), oldest first; no secrets."""
        async with self.uow(readonly=True) as uow:
            views = await uow.views.keys_of_user(user_id)
        now = self.clock()
        return [self._as_of(view, now) for view in views]

    # -- helpers -----------------------------------------------------------------------------------------

    @staticmethod
    def _as_of(view: KeyView, now: datetime) -> KeyView:
        """The view with an expiry that no event has recorded yet already shown as such."""
        status = view.status_at(now)
        return view if status is view.status else dataclasses.replace(view, status=status)

    @staticmethod
    async def _load(uow: KeysUnitOfWork, key_id: str) -> ApiKey:
        stored = await uow.events.load(ApiKey.stream_for(key_id))
        key = ApiKey.rehydrate(key_id, (s.event for s in stored))
        key.view  # noqa: B018 - raises NotFound(KEY_NOT_FOUND) for a key never issued
        return key
