"""What evicts a cached Helm index: the registry's events, heard over core NATS by every replica, and the
changes this replica makes itself, seen as they are answered.

- `IndexEvents` subscribes to the registry's events that can change an index (plain core NATS: no consumer,
  no durable state; every replica gets every message): each event type of the registry's contract but the
  blob bookkeeping (BlobLinked, BlobReferenced...: `IGNORED`), one subject each, so that a push's per-blob
  events are not even delivered. An event naming a repository (ManifestPushed, ManifestDeleted, TagMoved,
  TagDeleted, VersionCommitted, VersionDeleted, RepositoryCreated...) evicts that repository's namespace;
  an event it cannot read evicts every index. After a reconnect every index is evicted (events may have
  been missed); the indexes' TTL bounds what a silently lost message can cost.
- `ChangeWatcher` is an ASGI middleware: a manifest or tag this replica pushed or deleted over /v2, or an
  artifact changed through REST, evicts the namespace as soon as the change succeeded, before any event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Final, Protocol

import nats
from google.protobuf.message import DecodeError, Message
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from hangar.api.registry.v1 import artifact_events_pb2, events_pb2

log = logging.getLogger(__name__)

PING_INTERVAL_SECONDS: Final = 2
MAX_OUTSTANDING_PINGS: Final = 2
RECONNECT_WAIT_SECONDS: Final = 0.25
#: Registry events that change no index.
IGNORED: Final = frozenset(
    {
        "BlobLinked",
        "BlobUnlinked",
        "BlobReferenced",
        "BlobDereferenced",
        "BlobOrphaned",
        "FileUploadStarted",
        "FileUploaded",
        "FileRemoved",
        "VersionCreated",
        "MetadataUpdated",
        "LatestMoved",
        "LatestPolicyChanged",
    }
)
_MUTATING: Final = frozenset({"PUT", "POST", "PATCH", "DELETE"})
_OCI_CHANGE: Final = re.compile(r"/v2/(?P<name>.+)/manifests/[^/]+")
_REST_CHANGE: Final = re.compile(
    r"/api/v1/orgs/(?P<org>[^/]+)(?:/teams/(?P<team>[^/]+))?/(?:charts|containers|models|resources)(?:/.*)?"
)


class Indexes(Protocol):
    def changed(self, repository: str) -> None: ...

    def forget(self, namespace: str) -> None: ...

    def forget_everything(self) -> None: ...


class Evictions:
    """Several caches told of the same changes (the Helm indexes and the gateway's content cache)."""

    def __init__(self, *caches: Indexes) -> None:
        self._caches = caches

    def changed(self, repository: str) -> None:
        for cache in self._caches:
            cache.changed(repository)

    def forget(self, namespace: str) -> None:
        for cache in self._caches:
            cache.forget(namespace)

    def forget_everything(self) -> None:
        for cache in self._caches:
            cache.forget_everything()


def message_type(name: str) -> type[Message] | None:
    """The generated class of registry event `name` (from the registry's or the artifacts' events)."""
    for module in (events_pb2, artifact_events_pb2):
        found = getattr(module, name, None)
        if isinstance(found, type) and issubclass(found, Message):
            return found
    return None


def index_subjects(subject_prefix: str) -> list[str]:
    """The subjects of every registry event type but those in IGNORED (`<prefix>.registry.<Name>`)."""
    names = {
        name
        for module in (events_pb2, artifact_events_pb2)
        for name in module.DESCRIPTOR.message_types_by_name
    }
    return [f"{subject_prefix}.registry.{name}" for name in sorted(names - IGNORED)]


def apply_event(indexes: Indexes, name: str, payload: bytes) -> str:
    """Evict what registry event `name` changed; what was done, for the log."""
    if name in IGNORED:
        return ""
    kind = message_type(name)
    if kind is None:
        indexes.forget_everything()
        return f"unknown event {name}: forgot every index"
    message = kind()
    try:
        message.ParseFromString(payload)
    except DecodeError:
        indexes.forget_everything()
        return f"{name} undecodable: forgot every index"
    repository = str(getattr(message, "repository", ""))
    if not repository:
        return ""
    indexes.changed(repository)
    return f"{name}: forgot the index of {repository.rpartition('/')[0]}"


Connect = Callable[..., Awaitable[NATS]]


class IndexEvents:
    """Keeps the indexes told of registry events; never blocks the gateway's start (connects in the
    background, retrying)."""

    def __init__(
        self, indexes: Indexes, nats_url: str, subject_prefix: str, *, connect: Connect = nats.connect
    ) -> None:
        self._indexes = indexes
        self._url = nats_url
        self._subjects = index_subjects(subject_prefix)
        self._connect = connect
        self._nc: NATS | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="helm-index-events")

    async def stop(self) -> None:
        self._stopping = True
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
                self._url,
                name="hangar-gateway-helm",
                max_reconnect_attempts=-1,
                reconnect_time_wait=RECONNECT_WAIT_SECONDS,
                connect_timeout=2,
                ping_interval=PING_INTERVAL_SECONDS,
                max_outstanding_pings=MAX_OUTSTANDING_PINGS,
                reconnected_cb=self._reconnected,
                error_cb=self._error,
            )
        except Exception:
            log.exception("helm index events: cannot connect to NATS; indexes expire by age only")
            return
        self._nc = nc
        for subject in self._subjects:
            await nc.subscribe(subject, cb=self._on_message)
        with contextlib.suppress(Exception):
            await nc.flush(timeout=5)
        # anything cached before the subscription was in place may have missed a change
        self._indexes.forget_everything()
        self.connected.set()
        log.info("helm index events: listening on %d registry event subjects", len(self._subjects))

    async def _on_message(self, msg: Msg) -> None:
        name = msg.subject.rsplit(".", 1)[-1]
        try:
            outcome = apply_event(self._indexes, name, msg.data)
        except Exception:
            log.exception("helm index events: applying %s failed; forgetting every index", name)
            self._indexes.forget_everything()
            return
        if outcome:
            log.debug("helm index events: %s", outcome)

    async def _reconnected(self) -> None:
        if not self._stopping:
            self._indexes.forget_everything()
            log.info("helm index events: reconnected; every index forgotten (events may have been missed)")

    async def _error(self, error: Exception) -> None:
        log.debug("helm index events: NATS error: %s", error)


class ChangeWatcher:
    """Evicts the index of a namespace as soon as this replica has changed one of its repositories."""

    def __init__(self, app: ASGIApp, indexes: Indexes) -> None:
        self._app = app
        self._indexes = indexes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _MUTATING:
            await self._app(scope, receive, send)
            return
        namespace = changed_namespace(scope["path"])
        if namespace is None:
            await self._app(scope, receive, send)
            return

        async def send_and_watch(message: AsgiMessage) -> None:
            if message["type"] == "http.response.start" and 200 <= int(message["status"]) < 300:
                self._indexes.forget(namespace)
            await send(message)

        await self._app(scope, receive, send_and_watch)


def changed_namespace(path: str) -> str | None:
    """The namespace a mutating request on `path` may change (a /v2 manifest or tag, a REST artifact)."""
    oci = _OCI_CHANGE.fullmatch(path)
    if oci is not None:
        namespace = oci["name"].rpartition("/")[0]
        return namespace or None
    rest = _REST_CHANGE.fullmatch(path)
    if rest is not None:
        return f"{rest['org']}/{rest['team']}" if rest["team"] else rest["org"]
    return None
