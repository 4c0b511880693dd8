"""Revocation events: keys and identity events, heard over core NATS, evict caches and refuse tokens.

Every replica subscribes with plain core NATS subscriptions (no consumer, no durable state, every replica
gets every message, lowest latency) to `<prefix>.keys.{KeyRevoked,...}` and `<prefix>.identity.{UserRemoved,
...}`, decodes each message with the publisher's generated class and applies it (`Revocations`):

- a key event forgets the key (`Authenticator.forget_key`): its cached authentication goes, and tokens
  issued for it before now are refused; revoked, expired and deleted keys have every token refused;
- `UserRemoved`, `RolesChanged`, `UserRemovedFromTeam` forget the user (their cached keys and access
  decisions go, their tokens issued before now are refused);
- `SessionEnded` forgets the session.

Missed messages are possible only while disconnected, so (docs/decisions/0008-gateway-revocation.md):
while the connection is down nothing is cached (every key and access lookup goes to the services); on
reconnect every cache is flushed and every token issued before is refused. The first connection replays
the last token lifetime of these events from JetStream, so a replica that starts (or could not reach NATS
at start) does not accept tokens revoked before it was listening; if that replay fails, it refuses every
earlier token instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Final, Literal, Protocol, runtime_checkable

import nats
from google.protobuf.message import DecodeError, Message
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from hangar.api.identity.v1 import events_pb2 as identity_events
from hangar.api.keys.v1 import events_pb2 as keys_events
from hangar.gateway.auth import Authenticator, Authorizer
from hangar.kit.subjects import EVENT_TIME_HEADER, subject_for

log = logging.getLogger(__name__)

#: Keys that are gone for good: every token of theirs is refused, whenever it was issued.
FINAL_KEY_EVENTS: Final = frozenset(
    {"hangar.keys.v1.KeyRevoked", "hangar.keys.v1.KeyExpired", "hangar.keys.v1.KeyDeleted"}
)
#: Keys that changed (new secret, inactive, other scopes or services): tokens issued before are refused.
CHANGED_KEY_EVENTS: Final = frozenset(
    {
        "hangar.keys.v1.KeyRotated",
        "hangar.keys.v1.KeyDeactivated",
        "hangar.keys.v1.KeyScopesUpdated",
        "hangar.keys.v1.KeyServicesUpdated",
    }
)
#: Users whose access shrank or may have: tokens issued to them before are refused.
USER_EVENTS: Final = frozenset(
    {
        "hangar.identity.v1.UserRemoved",
        "hangar.identity.v1.RolesChanged",
        "hangar.identity.v1.UserRemovedFromTeam",
    }
)
SESSION_ENDED: Final = "hangar.identity.v1.SessionEnded"

#: Stable event type name -> the generated message that decodes it.
MESSAGES: Final[dict[str, type[Message]]] = {
    "hangar.keys.v1.KeyRevoked": keys_events.KeyRevoked,
    "hangar.keys.v1.KeyExpired": keys_events.KeyExpired,
    "hangar.keys.v1.KeyDeleted": keys_events.KeyDeleted,
    "hangar.keys.v1.KeyRotated": keys_events.KeyRotated,
    "hangar.keys.v1.KeyDeactivated": keys_events.KeyDeactivated,
    "hangar.keys.v1.KeyScopesUpdated": keys_events.KeyScopesUpdated,
    "hangar.keys.v1.KeyServicesUpdated": keys_events.KeyServicesUpdated,
    "hangar.identity.v1.UserRemoved": identity_events.UserRemoved,
    "hangar.identity.v1.RolesChanged": identity_events.RolesChanged,
    "hangar.identity.v1.UserRemovedFromTeam": identity_events.UserRemovedFromTeam,
    SESSION_ENDED: identity_events.SessionEnded,
}

#: How often the client pings the server, and how many unanswered pings mean the link is dead: a silent
#: network failure is noticed within about PING_INTERVAL * (MAX_OUTSTANDING_PINGS + 1) seconds.
PING_INTERVAL_SECONDS: Final = 2
MAX_OUTSTANDING_PINGS: Final = 2
RECONNECT_WAIT_SECONDS: Final = 0.25
#: A replayed event counts from when JetStream stored it plus this: tokens other replicas issued before they
#: heard it (the revocation bound, DESIGN §4) are refused too.
REPLAY_MARGIN_SECONDS: Final = 1.0
#: Bounds of the catch-up replay; beyond them every earlier token is refused instead.
REPLAY_MAX_MESSAGES: Final = 100_000
REPLAY_MAX_SECONDS: Final = 10.0
REPLAY_BATCH: Final = 256

Status = Literal["connecting", "connected", "disconnected", "stopped"]


class OtherCaches(Protocol):
    """Caches of another part of the gateway that hold keys' or users' answers too (the REST API's)."""

    def forget_user(self, user_id: str) -> None: ...

    def forget_key(self, key_id: str) -> None: ...


@runtime_checkable
class Flushable(Protocol):
    """Other caches that can also be flushed whole (after missed events)."""

    def forget_everything(self) -> None: ...


class Revocations:
    """Applies revocation events to the gateway's caches and token checks (no I/O)."""

    def __init__(
        self, authenticator: Authenticator, authorizer: Authorizer, *, also: Sequence[OtherCaches] = ()
    ) -> None:
        self._authenticator = authenticator
        self._authorizer = authorizer
        self._also = tuple(also)

    def apply(self, event_type: str, payload: bytes, *, at: float | None = None, replay: bool = False) -> str:
        """Decode and apply one event; `at` (unix seconds, default now) is when it takes effect.

        Returns what was forgotten, for the log. An event that cannot be decoded may have named anyone,
        so it forgets everything. A replayed event leaves the other caches alone: they began empty, and
        their forgetting would date the user's or key's not-before now instead of `at`.
        """
        message_type = MESSAGES.get(event_type)
        if message_type is None:
            return f"ignored {event_type}"
        message = message_type()
        try:
            message.ParseFromString(payload)
        except DecodeError:
            self.resynchronize(at=at)
            return f"{event_type} undecodable: forgot everything"
        name = event_type.rsplit(".", 1)[-1]
        if event_type in FINAL_KEY_EVENTS or event_type in CHANGED_KEY_EVENTS:
            key_id = str(getattr(message, "key_id", ""))
            if not key_id:
                return f"ignored {name} without a key id"
            self._authenticator.forget_key(key_id, final=event_type in FINAL_KEY_EVENTS, at=at)
            owner = str(getattr(message, "owner_user_id", ""))
            if owner and not replay:
                # decisions read before the change would date a fresh token before it: ask again
                self._authorizer.forget_user(owner)
            for caches in () if replay else self._also:
                caches.forget_key(key_id)
            return f"{name}: forgot key {key_id}"
        if event_type in USER_EVENTS:
            user_id = str(getattr(message, "user_id", ""))
            if not user_id:
                return f"ignored {name} without a user id"
            self._authenticator.forget_user(user_id, at=at)
            self._authorizer.forget_user(user_id)
            for caches in () if replay else self._also:
                caches.forget_user(user_id)
            return f"{name}: forgot user {user_id}"
        session_id = str(getattr(message, "session_id", ""))
        if not session_id:
            return f"ignored {name} without a session id"
        self._authenticator.forget_session(session_id, at=at)
        return f"{name}: forgot session {session_id}"

    def resynchronize(self, *, at: float | None = None) -> None:
        """Events may have been missed: flush every cache and refuse every token issued until now."""
        self._authenticator.forget_everything(at=at)
        self._authorizer.forget_everything()
        for caches in self._also:
            if isinstance(caches, Flushable):
                caches.forget_everything()

    def set_caching(self, enabled: bool) -> None:
        self._authenticator.set_caching(enabled)
        self._authorizer.set_caching(enabled)


@dataclasses.dataclass(frozen=True)
class EventSettings:
    """Where the events are: the NATS URL, the subjects' prefix and the JetStream stream (for replay)."""

    nats_url: str
    subject_prefix: str = "hangar"
    #: The stream holding every event; empty: found by subject.
    stream: str = ""
    #: How far back the first connection replays: the longest a token lives, plus leeway.
    replay_seconds: float = 310.0
    client_name: str = "hangar-gateway"


Connect = Callable[..., Awaitable[NATS]]


class EventListener:
    """Subscribes to the revocation events and keeps `Revocations` applied; never blocks the gateway's start.

    `status`: `connecting` until the first subscription (and its replay) is in place, then `connected` or
    `disconnected`; `stopped` after `stop()`.
    """

    def __init__(
        self,
        revocations: Revocations,
        settings: EventSettings,
        *,
        connect: Connect = nats.connect,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._revocations = revocations
        self._settings = settings
        self._connect = connect
        self._wall_clock = wall_clock
        self._routes = {subject_for(settings.subject_prefix, t): t for t in MESSAGES}
        self._nc: NATS | None = None
        self._task: asyncio.Task[None] | None = None
        self._started_at = wall_clock()
        self._stopping = False
        self._errors = 0
        self.status: Status = "connecting"
        #: Set once the first subscription and replay are in place.
        self.listening = asyncio.Event()

    @property
    def subjects(self) -> list[str]:
        return sorted(self._routes)

    @property
    def ready(self) -> bool:
        """Whether this gateway has heard revocations since it started (it may be disconnected now)."""
        return self.listening.is_set() and self.status != "stopped"

    async def start(self) -> None:
        """Begin connecting in the background; returns at once, whether NATS is reachable or not.

        Until the first subscription is in place nothing is cached: no revocation could evict it.
        """
        self._started_at = self._wall_clock()
        self._revocations.set_caching(False)
        self._task = asyncio.create_task(self._run(), name="revocation-events")

    async def stop(self) -> None:
        self._stopping = True
        self.status = "stopped"
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await self._nc.close()

    async def _run(self) -> None:
        try:
            nc = await self._connect(
                self._settings.nats_url,
                name=self._settings.client_name,
                max_reconnect_attempts=-1,
                reconnect_time_wait=RECONNECT_WAIT_SECONDS,
                connect_timeout=2,
                ping_interval=PING_INTERVAL_SECONDS,
                max_outstanding_pings=MAX_OUTSTANDING_PINGS,
                error_cb=self._error,
                disconnected_cb=self._disconnected,
                reconnected_cb=self._reconnected,
            )
        except Exception:
            log.exception("revocation events: cannot connect to NATS (check HANGAR_NATS_URL)")
            return
        self._nc = nc
        for subject in self.subjects:
            await nc.subscribe(subject, cb=self._on_message)
        try:
            await nc.flush(timeout=5)
        except Exception:  # lost again already: the client resubscribes, and the replay below fails safe
            log.warning("revocation events: NATS did not confirm the subscriptions", exc_info=True)
        if self.status == "connecting":
            self.status = "connected"
        replayed = await self._replay(nc)
        if self.status == "connected":
            self._revocations.set_caching(True)
        self.listening.set()
        log.info(
            "revocation events: listening on %d subjects under %s.* (%s)",
            len(self._routes),
            self._settings.subject_prefix,
            "replay failed: every earlier token refused" if replayed is None else f"{replayed} replayed",
        )

    async def _on_message(self, msg: Msg) -> None:
        event_type = self._routes.get(msg.subject)
        if event_type is None:
            return
        try:
            outcome = self._revocations.apply(event_type, msg.data, at=self._recorded_at(msg))
        except Exception:  # a bug, not a message: stay safe and keep listening
            log.exception("revocation events: applying %s failed; forgetting everything", event_type)
            self._revocations.resynchronize()
            return
        log.info("revocation events: %s", outcome)

    def _recorded_at(self, msg: Msg) -> float:
        """When the change was committed (the event's own time), never later than now.

        Tokens whose facts were read before that moment are refused; a token minted a moment later from
        fresh facts (say, with a just-rotated secret) stays valid, even if this gateway hears of the event
        after minting it.
        """
        now = self._wall_clock()
        recorded = (msg.headers or {}).get(EVENT_TIME_HEADER, "")
        try:
            return min(datetime.fromisoformat(recorded).timestamp(), now) if recorded else now
        except ValueError:
            return now

    async def _replay(self, nc: NATS) -> int | None:
        """Apply the events of the last token lifetime before this gateway was listening; None if it could
        not, and then every token issued until now is refused instead."""
        since = self._started_at - self._settings.replay_seconds
        deadline = time.monotonic() + REPLAY_MAX_SECONDS
        replayed = 0
        try:
            js = nc.jetstream()
            for service in ("keys", "identity"):
                subject = f"{self._settings.subject_prefix}.{service}.>"
                config = ConsumerConfig(
                    deliver_policy=DeliverPolicy.BY_START_TIME,
                    opt_start_time=datetime.fromtimestamp(since, UTC),
                    ack_policy=AckPolicy.NONE,
                    inactive_threshold=30.0,
                    mem_storage=True,
                )
                sub = await js.pull_subscribe(subject, stream=self._settings.stream or None, config=config)
                try:
                    pending = (await sub.consumer_info()).num_pending or 0
                    while pending > 0:
                        if replayed >= REPLAY_MAX_MESSAGES or time.monotonic() > deadline:
                            raise TimeoutError("the replay exceeded its bounds")
                        for msg in await sub.fetch(batch=min(pending, REPLAY_BATCH), timeout=2):
                            pending = msg.metadata.num_pending
                            event_type = self._routes.get(msg.subject)
                            if event_type is not None:
                                stored = msg.metadata.timestamp.timestamp()
                                at = min(stored + REPLAY_MARGIN_SECONDS, self._wall_clock())
                                self._revocations.apply(event_type, msg.data, at=at, replay=True)
                                replayed += 1
                finally:
                    with contextlib.suppress(Exception):
                        await sub.unsubscribe()
        except Exception:
            log.warning(
                "revocation events: cannot replay recent events from JetStream; refusing every token "
                "issued before now",
                exc_info=True,
            )
            self._revocations.resynchronize()
            return None
        return replayed

    async def _disconnected(self) -> None:
        if self._stopping:
            return
        self.status = "disconnected"
        # Nothing heard from now on: no cached answer may outlive a revocation we cannot hear of.
        self._revocations.set_caching(False)
        log.warning("revocation events: disconnected from NATS; caches off until reconnected")

    async def _reconnected(self) -> None:
        if self._stopping:
            return
        self._revocations.set_caching(True)
        self._revocations.resynchronize()
        self.status = "connected"
        log.warning(
            "revocation events: reconnected to NATS; events may have been missed, so every cache was "
            "flushed and every earlier token is refused"
        )

    async def _error(self, error: Exception) -> None:
        self._errors += 1
        if self._errors in (1, 10) or self._errors % 100 == 0:  # NATS may be down for long: don't flood
            log.warning("revocation events: NATS error (%d so far): %s", self._errors, error)
