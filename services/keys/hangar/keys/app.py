"""The keys application: issue, authenticate, change, revoke, delete, expire and list API keys.

Commands load the `ApiKey` aggregate from its event stream, decide in the domain, append and commit in one
unit of work, retried on a lost race (`retry_on_conflict`). Queries, and `authenticate` on the hot path, read
the read model (`Views`) only. A secret is returned once (by the issue commands and `rotate_key`) and is
never logged or stored: only its prefix (lookup, display) and its hash are.

The gateway authorizes callers before it calls here; this service trusts it and records who issued a service
key (`created_by`), and the caller's actor in every event's metadata.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from hangar.keys.domain import (
    REGENERATED,
    ApiKey,
    GeneratedSecret,
    KeyScope,
    KeySecret,
    KeyView,
    PageCursor,
    check_legacy_key_limit,
    check_personal_key_limit,
    check_service_key_limit,
    lifetime_of,
    listing_query,
    page_limit,
)
from hangar.kit.errors import InvalidArgument, NotFound, Unauthenticated
from hangar.kit.uow import UnitOfWork, UnitOfWorkFactory, retry_on_conflict

log = logging.getLogger(__name__)

#: The last use of a key is written to the read model at most once per this interval, per key: a busy key
#: costs one small UPDATE a minute, not one per request; `last_used_at` is therefore exact to about a minute.
LAST_USED_INTERVAL = timedelta(seconds=60)
#: How many expired keys one pass of the expiry sweep records, in one transaction.
EXPIRY_SWEEP_BATCH = 100

# Compared against when a prefix is unknown, so that miss costs the same hash work as a hit.
_NO_SUCH_KEY_HASH = "0" * 64


class Clock(Protocol):
    """The current time, timezone-aware UTC."""

    def __call__(self) -> datetime: ...


def system_clock() -> datetime:
    return datetime.now(UTC)


class Views(Protocol):
    """The read model of keys (implemented in `store.SqlViews`, on the session of a unit of work).

    "Live" means holding a slot: active or inactive, not deleted (and, where `now` is given, not past its
    expiry). Listings are in creation order (created_at, then key_id).
    """

    async def key_by_prefix(self, prefix: str) -> KeyView | None: ...

    async def key_by_id(self, key_id: str) -> KeyView | None:
        """The key, deleted or not."""
        ...

    async def keys_of_user(self, user_id: str) -> list[KeyView]:
        """Every key the user owns, in every org, oldest first; deleted keys left out."""
        ...

    async def count_live_personal_keys(self, user_id: str, now: datetime) -> int:
        """Personal keys of the user that hold a slot (active or inactive) and are not past their expiry."""
        ...

    async def count_live_service_keys(self, org: str, now: datetime) -> int:
        """Service keys of the org that hold a slot (active or inactive) and are not past their expiry."""
        ...

    async def live_legacy_keys(self, org: str, user_id: str) -> list[KeyView]:
        """The user's legacy keys in the org that are neither revoked nor deleted (one at most)."""
        ...

    async def live_user_keys_in_org(self, org: str, user_id: str) -> list[KeyView]:
        """Personal and legacy keys of the user in the org that are neither revoked nor recorded expired."""
        ...

    async def org_keys(
        self,
        org: str,
        *,
        user_id: str,
        include_dead: bool,
        now: datetime,
        after: PageCursor | None,
        limit: int,
    ) -> list[KeyView]:
        """The org's keys (only `user_id`'s if given; live ones only unless `include_dead`) after `after`."""
        ...

    async def keys_due_for_expiry(self, now: datetime, limit: int) -> list[str]:
        """Ids of keys past their expiry at `now` whose expiry no event has recorded, soonest first."""
        ...

    async def lock_owner(self, user_id: str) -> None:
        """Serialize, until the transaction ends, the commands that count and add keys of this owner."""
        ...

    async def lock_org(self, org: str) -> None:
        """Serialize, until the transaction ends, the commands that count and add service keys of an org."""
        ...

    async def record_use(self, key_id: str, at: datetime, *, unless_since: datetime) -> bool:
        """Set the key's last-used time to `at` unless it was already recorded at or after `unless_since`.

        The one write to the read model that no event makes: uses are not events. True if it wrote.
        """
        ...


KeysUnitOfWork = UnitOfWork[Views]


@dataclasses.dataclass(frozen=True)
class KeyPage:
    """One page of a listing; `next_page_token` is empty on the last page."""

    keys: tuple[KeyView, ...]
    next_page_token: str


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

    # -- issuing -----------------------------------------------------------------------------------------

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
        expires_in = lifetime_of(expires_in_seconds)

        async def command() -> tuple[KeyView, str]:
            async with self.uow() as uow:
                now = self.clock()
                await uow.views.lock_owner(user_id)
                key, secret = ApiKey.issue_personal(
                    _key_id(),
                    org,
                    user_id,
                    name,
                    services,
                    now=now,
                    expires_in=expires_in,
                    secret=await self._fresh_secret(uow),
                )
                check_personal_key_limit(await uow.views.count_live_personal_keys(user_id, now))
                await self._append(uow, key)
                await uow.commit()
                return key.view, secret

        # A concurrent issue drawing the same prefix surfaces as a conflict from the projection: draw again.
        return await retry_on_conflict(command)

    async def issue_service_key(
        self,
        org: str,
        name: str,
        services: Sequence[str],
        scopes: Sequence[KeyScope],
        expires_in_seconds: int | None,
        created_by: str,
    ) -> tuple[KeyView, str]:
        """A new key the org owns, with explicit scopes, and its secret (to show once).

        Independent of any user: `created_by` (the admin issuing it, trusted) is recorded, and the key
        survives that user's removal. Refused with LimitExceeded(SERVICE_KEY_LIMIT) when the org already
        holds 50 live service keys; with InvalidArgument(SCOPE_INVALID) for a bad scope.
        """
        expires_in = lifetime_of(expires_in_seconds)

        async def command() -> tuple[KeyView, str]:
            async with self.uow() as uow:
                now = self.clock()
                await uow.views.lock_org(org)
                key, secret = ApiKey.issue_service(
                    _key_id(),
                    org,
                    name,
                    services,
                    scopes,
                    now=now,
                    expires_in=expires_in,
                    created_by=created_by,
                    secret=await self._fresh_secret(uow),
                )
                check_service_key_limit(await uow.views.count_live_service_keys(org, now))
                await self._append(uow, key)
                await uow.commit()
                return key.view, secret

        return await retry_on_conflict(command)

    async def issue_legacy_key(self, org: str, user_id: str) -> tuple[KeyView, str]:
        """(Re)generate the user's one legacy key in `org` and return it with its secret (to show once).

        In one transaction: the previous legacy key, if any, is revoked (reason "regenerated") and the new
        one issued. A legacy key never expires and carries every service (all of the user's roles).
        """

        async def command() -> tuple[KeyView, str]:
            async with self.uow() as uow:
                now = self.clock()
                await uow.views.lock_owner(user_id)
                key, secret = ApiKey.issue_legacy(
                    _key_id(), org, user_id, now, secret=await self._fresh_secret(uow)
                )
                for previous in await uow.views.live_legacy_keys(org, user_id):
                    old = await self._load(uow, previous.key_id)
                    old.revoke(REGENERATED)
                    await self._append(uow, old)
                check_legacy_key_limit(len(await uow.views.live_legacy_keys(org, user_id)))
                await self._append(uow, key)
                await uow.commit()
                return key.view, secret

        return await retry_on_conflict(command)

    # -- changing ----------------------------------------------------------------------------------------

    async def rotate_key(self, key_id: str) -> tuple[KeyView, str]:
        """A new secret (and prefix) for the key, same id; the old secret fails from the commit on."""

        async def command() -> tuple[KeyView, str]:
            async with self.uow() as uow:
                key = await self._load(uow, key_id)
                secret = key.rotate(self.clock(), secret=await self._fresh_secret(uow))
                await self._append(uow, key)
                view = await self._current(uow, key)
                await uow.commit()
                return view, secret

        return await retry_on_conflict(command)

    async def set_key_active(self, key_id: str, active: bool) -> KeyView:
        """Activate or deactivate a key (an inactive key is refused with KEY_INACTIVE); idempotent."""
        return await self._change(key_id, lambda key, now: key.set_active(active, now))

    async def update_key(
        self,
        key_id: str,
        *,
        name: str | None = None,
        services: Sequence[str] | None = None,
        scopes: Sequence[KeyScope] | None = None,
    ) -> KeyView:
        """Rename a key, replace its services, or (service keys only) its scopes; None leaves one alone.

        All or nothing: one refused change (KEY_TYPE_MISMATCH for scopes of another key type, an invalid
        value) records none of them. Nothing to change returns the key as it is.
        """

        def change(key: ApiKey, now: datetime) -> None:
            if name is not None:
                key.rename(name, now)
            if services is not None:
                key.update_services(services, now)
            if scopes is not None:
                key.update_scopes(scopes, now)

        return await self._change(key_id, change)

    # -- ending ------------------------------------------------------------------------------------------

    async def revoke_key(self, key_id: str, reason: str) -> KeyView:
        """Revoke a key for good; revoking a revoked key changes nothing. NotFound(KEY_NOT_FOUND)."""
        return await self._change(key_id, lambda key, _now: key.revoke(reason))

    async def delete_key(self, key_id: str) -> None:
        """Revoke the key and hide it from listings; afterwards it is not found (KEY_NOT_FOUND)."""
        await self._change(key_id, lambda key, _now: key.delete())

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

        Service keys belong to the org and are left alone, whoever created them; keys of the user in other
        orgs too.
        """
        revoked: list[str] = []
        for view in await uow.views.live_user_keys_in_org(org, user_id):
            key = await self._load(uow, view.key_id)
            key.revoke(reason)
            if key.pending:
                await self._append(uow, key)
                revoked.append(key.id)
        return revoked

    async def expire_due_keys(self, limit: int = EXPIRY_SWEEP_BATCH) -> list[str]:
        """Record `KeyExpired` for at most `limit` keys past their expiry that no event has recorded yet.

        One transaction; returns the ids of the keys whose expiry it recorded (soonest expiry first).
        """

        async def command() -> list[str]:
            async with self.uow() as uow:
                now = self.clock()
                expired: list[str] = []
                for key_id in await uow.views.keys_due_for_expiry(now, limit):
                    key = await self._load(uow, key_id)
                    key.expire(now)
                    if key.pending:
                        await self._append(uow, key)
                        expired.append(key_id)
                await uow.commit()
                return expired

        return await retry_on_conflict(command)

    async def run_expiry_sweep(
        self, stop: asyncio.Event, *, interval: float, batch: int = EXPIRY_SWEEP_BATCH
    ) -> None:
        """Until `stop` is set: every `interval` seconds, record the expiries of keys past theirs.

        A full batch is followed at once by another pass (a backlog drains in bounded transactions); a
        failed pass is logged and tried again at the next interval: the sweep never ends on its own, since
        the runtime stops the service when a background job ends.
        """
        while not stop.is_set():
            try:
                expired = await self.expire_due_keys(batch)
            except Exception:
                log.exception("the key expiry sweep failed; trying again in %.0fs", interval)
                expired = []
            if expired:
                log.info("recorded the expiry of %d key(s)", len(expired))
            if len(expired) >= batch:
                await asyncio.sleep(0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    # -- the hot path ------------------------------------------------------------------------------------

    async def authenticate(self, secret: str) -> KeyView:
        """The key of `secret` if it may be used now; Unauthenticated otherwise, with the reason as code.

        KEY_MALFORMED (not a Hangar key), KEY_INVALID (unknown prefix or wrong secret, including the old
        secret of a rotated key), and only for the holder of the right secret: KEY_REVOKED (deleted keys
        too), KEY_EXPIRED, KEY_INACTIVE. A read-only lookup by prefix and a constant-time hash comparison;
        writes happen only to record an expiry no event has recorded yet (once per key) and the last use
        (at most once per `last_used_interval` per key).
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
                await self._append(uow, key)
                await uow.commit()

        try:
            await retry_on_conflict(command)
        except Exception:  # the refusal stands either way; the next use (or the sweep) tries again
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
        """One key's metadata; NotFound(KEY_NOT_FOUND) for an unknown or deleted key."""
        async with self.uow(readonly=True) as uow:
            view = await uow.views.key_by_id(key_id)
        if view is None or view.deleted:
            raise NotFound(f"API key {key_id[:64]} does not exist", code="KEY_NOT_FOUND")
        return self._as_of(view, self.clock())

    async def list_keys(self, user_id: str) -> list[KeyView]:
        """Every key of the user (all orgs, revoked and expired included, deleted not), oldest first."""
        async with self.uow(readonly=True) as uow:
            views = await uow.views.keys_of_user(user_id)
        now = self.clock()
        return [self._as_of(view, now) for view in views]

    async def list_org_keys(
        self,
        org: str,
        *,
        user_id: str = "",
        include_dead: bool = False,
        page_size: int = 0,
        page_token: str = "",
    ) -> KeyPage:
        """One page of the org's keys (its members' and its service keys), oldest first; metadata only.

        `user_id` keeps one user's keys; live keys only (active or inactive, not past expiry) unless
        `include_dead`, which adds revoked, expired and deleted ones. `page_size` 0 means 100, at most 1000.
        """
        if not org:
            raise InvalidArgument("name the org whose keys to list")
        limit = page_limit(page_size)
        query = listing_query(org, user_id, include_dead)
        after = PageCursor.from_token(page_token, query)
        async with self.uow(readonly=True) as uow:
            now = self.clock()
            views = await uow.views.org_keys(
                org, user_id=user_id, include_dead=include_dead, now=now, after=after, limit=limit + 1
            )
        page = tuple(self._as_of(view, now) for view in views[:limit])
        token = PageCursor(page[-1].created_at, page[-1].key_id).token(query) if len(views) > limit else ""
        return KeyPage(page, token)

    # -- helpers -----------------------------------------------------------------------------------------

    async def _change(self, key_id: str, change: Callable[[ApiKey, datetime], None]) -> KeyView:
        """Load the key, apply `change` at the clock's now, append what it recorded, commit; retried."""

        async def command() -> KeyView:
            async with self.uow() as uow:
                key = await self._load(uow, key_id)
                change(key, self.clock())
                await self._append(uow, key)
                view = await self._current(uow, key)
                await uow.commit()
                return view

        view = await retry_on_conflict(command)
        return self._as_of(view, self.clock())

    @staticmethod
    async def _current(uow: KeysUnitOfWork, key: ApiKey) -> KeyView:
        """The key as the read model now holds it (projected in this transaction), with its last use."""
        return await uow.views.key_by_id(key.id) or key.view

    @staticmethod
    async def _fresh_secret(uow: KeysUnitOfWork) -> GeneratedSecret:
        """A new secret whose prefix no key uses (prefixes are unique: the read model's index)."""
        generated = KeySecret.generate()
        while await uow.views.key_by_prefix(generated.prefix) is not None:
            generated = KeySecret.generate()
        return generated

    @staticmethod
    def _as_of(view: KeyView, now: datetime) -> KeyView:
        """The view with an expiry that no event has recorded yet already shown as such."""
        status = view.status_at(now)
        return view if status is view.status else dataclasses.replace(view, status=status)

    @staticmethod
    async def _append(uow: KeysUnitOfWork, key: ApiKey) -> None:
        expected = key.loaded_version
        events = key.collect()
        if events:
            await uow.events.append(key.stream_id, expected, events)

    @staticmethod
    async def _load(uow: KeysUnitOfWork, key_id: str) -> ApiKey:
        stored = await uow.events.load(ApiKey.stream_for(key_id))
        key = ApiKey.rehydrate(key_id, (s.event for s in stored))
        key.view  # noqa: B018 - raises NotFound(KEY_NOT_FOUND) for a key never issued
        return key
