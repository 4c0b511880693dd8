"""One call that wires a service process the same way everywhere: logging, tracing, database,
migrations, NATS, outbox relay, consumers, gRPC server, signals and graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import uvloop
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from hangar.kit import logs, messaging, migrations, tracing
from hangar.kit.codec import EventCodec
from hangar.kit.config import KitSettings
from hangar.kit.db import Database
from hangar.kit.eventstore import OutboxMessage, Projector
from hangar.kit.grpcio import GrpcServer
from hangar.kit.uow import UnitOfWorkFactory, ViewsFactory

log = logging.getLogger(__name__)


configure_logging = logs.configure_logging


def run_process(main: Coroutine[Any, Any, None]) -> None:
    """Run a service process's main coroutine to the end on uvloop: libuv's event loop, whose own overhead
    is a fraction of asyncio's pure-Python loop (a fifth of a busy service's CPU went to the loop)."""
    uvloop.run(main)


class ServiceRuntime:
    """The infrastructure of one service process. `start()`, then `serve(...)` until SIGTERM/SIGINT."""

    def __init__(
        self,
        name: str,
        settings: KitSettings,
        codec: EventCodec,
        *,
        migrations_dir: Path,
        projectors: Sequence[Projector] = (),
        views: ViewsFactory | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.codec = codec
        self.migrations_dir = migrations_dir
        self.projectors = projectors
        self.db = Database(settings.database_url)
        self.nc: NATS | None = None
        self.js: JetStreamContext | None = None
        self.relay: messaging.OutboxRelay | None = None
        self.uow: UnitOfWorkFactory[Any] = UnitOfWorkFactory(
            self.db,
            codec,
            subject_prefix=settings.subject_prefix,
            projectors=projectors,
            on_commit=self._committed,
            views=views,
        )
        self._stop = asyncio.Event()

    def _committed(self, written: Sequence[OutboxMessage]) -> None:
        # Before start() there is no relay: what commits then stays pending and its first scan finds it.
        if self.relay is not None:
            self.relay.committed(written)

    async def start(self) -> None:
        tracing.setup_tracing(
            f"hangar-{self.name}",
            otlp_endpoint=self.settings.otlp_endpoint,
            trace_file=self.settings.trace_file,
        )
        if self.settings.migrate_on_start:
            await migrations.upgrade(self.settings.database_url, self.migrations_dir)
        self.nc = await messaging.connect(self.settings.nats_url, f"hangar-{self.name}")
        self.js = self.nc.jetstream()
        await messaging.ensure_stream(self.js, self.settings.nats_stream, self.settings.subject_prefix)
        self.relay = messaging.OutboxRelay(self.db, self.js, idle=self.settings.outbox_idle_seconds)

    def consumer(self, subscriptions: Sequence[messaging.Subscription]) -> messaging.EventConsumer:
        assert self.js is not None, "start() first"
        return messaging.EventConsumer(
            self.js,
            self.uow,
            name=f"{self.settings.subject_prefix.replace('.', '_')}_{self.name}",
            stream=self.settings.nats_stream,
            subject_prefix=self.settings.subject_prefix,
            subscriptions=subscriptions,
        )

    def request_stop(self) -> None:
        self._stop.set()

    async def serve(
        self,
        registrations: Sequence[tuple[Callable[[Any, Any], None], Any]],
        service_names: Sequence[str],
        subscriptions: Sequence[messaging.Subscription] = (),
        background: Sequence[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = (),
    ) -> None:
        """Serve until SIGTERM/SIGINT. `background` jobs (e.g. a periodic sweep) get an event set at stop."""
        assert self.relay is not None, "start() first"
        server = GrpcServer(self.settings.grpc_listen, registrations, service_names)
        await server.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        tasks = [asyncio.create_task(self.relay.run(), name=f"{self.name}-outbox")]
        consumer = self.consumer(subscriptions) if subscriptions else None
        if consumer is not None:
            tasks.append(asyncio.create_task(consumer.run(), name=f"{self.name}-consumer"))
        for number, job in enumerate(background):
            tasks.append(asyncio.create_task(job(self._stop), name=f"{self.name}-background-{number}"))
        if self.settings.grpc_port_file:
            port_file = Path(self.settings.grpc_port_file)
            port_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = port_file.with_suffix(".tmp")
            tmp.write_text(str(server.port))
            tmp.replace(port_file)
        log.info("%s serving gRPC on port %d", self.name, server.port)
        stopper = asyncio.create_task(self._stop.wait())
        done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopper and task.exception() is not None:
                log.error("%s failed", task.get_name(), exc_info=task.exception())
        log.info("%s stopping", self.name)
        await server.stop()
        if consumer is not None:
            consumer.stop()
        self.relay.stop()
        await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()
        stopper.cancel()
        await self.close()

    async def close(self) -> None:
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await self.nc.drain()
        await self.db.dispose()
        from opentelemetry import trace

        provider = trace.get_tracer_provider()
        shutdown = getattr(provider, "shutdown", None)
        if shutdown is not None:
            shutdown()
