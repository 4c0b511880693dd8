"""The gateway's composition root: settings -> clients -> app -> uvicorn, until SIGTERM/SIGINT.

`hangar serve gateway` calls `main()`. Every setting is an environment variable `HANGAR_<NAME>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import uvicorn
import uvloop
from opentelemetry import trace
from pydantic import Field

from hangar.gateway.app import create_app
from hangar.gateway.auth import load_or_create_signing_key
from hangar.gateway.clients import Services
from hangar.gateway.clients.cached import CachedRegistry
from hangar.gateway.events import EventSettings
from hangar.gateway.rest import RedactTokens
from hangar.kit.config import KitSettings
from hangar.kit.logs import configure_logging
from hangar.kit.tracing import setup_tracing

log = logging.getLogger(__name__)


class Settings(KitSettings):
    """HANGAR_* environment variables of the gateway (plus the kit's: log level, tracing...)."""

    #: host:port of each internal service's gRPC server.
    identity_addr: str = ""
    keys_addr: str = ""
    registry_addr: str = ""
    blobstore_addr: str = ""
    http_host: str = "127.0.0.1"
    #: 0 picks a free port, written to http_port_file.
    http_port: int = Field(default=5000, ge=0, le=65535)
    http_port_file: str = ""
    #: The URL clients reach the gateway at (e.g. https://registry.example.com): the token realm. When
    #: empty, it is derived from each request's scheme and Host header.
    public_url: str = ""
    #: PEM file of the Ed25519 key that signs access tokens; made (mode 0600) when missing. Every replica
    #: must read the same file (a mounted secret in distributed mode).
    token_key_file: str = "./data/token-signing-key.pem"  # noqa: S105 - a path, not a secret
    #: Lifetime of access tokens (the token spec asks for at least 60 s).
    token_ttl_seconds: int = Field(default=300, ge=60, le=3600)
    #: How long an API key's authentication and a user's access decision are reused.
    key_cache_seconds: float = Field(default=10.0, ge=0)
    access_cache_seconds: float = Field(default=5.0, ge=0)
    #: Seconds in-flight requests get to finish on SIGTERM/SIGINT.
    shutdown_grace_seconds: int = Field(default=10, ge=0)
    #: REST (/api/v1): the largest JSON body accepted (larger ones get 413), and how long a session
    #: token's verification is reused.
    rest_max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    session_cache_seconds: float = Field(default=5.0, ge=0)
    #: Listen for revocation events (keys and identity) on HANGAR_NATS_URL under HANGAR_SUBJECT_PREFIX
    #: (kit settings); off only for a gateway with no NATS at all (revocations then wait out the caches).
    revocation_events: bool = True
    #: uvicorn's per-request access log (INFO lines); off by default: it costs several percent of a small
    #: request's CPU, and spans and metrics already record every request.
    access_log: bool = False
    #: How long manifests and blob links read from registry are reused (this replica's own writes evict
    #: them at once; other replicas' writes are seen within this); 0 turns the cache off.
    content_cache_seconds: float = Field(default=1.0, ge=0, le=1.0)
    #: The filesystem blobstore's blob directory (its HANGAR_BLOB_DIR), when this gateway can read it too
    #: (one host, as under `hangar up`; a volume mounted in both pods): blob GETs then read the blob's file
    #: from it instead of streaming it from the blobstore. Empty (the default): always stream.
    shared_blob_dir: str = ""

    def event_settings(self) -> EventSettings | None:
        if not self.revocation_events:
            return None
        return EventSettings(
            nats_url=self.nats_url,
            subject_prefix=self.subject_prefix,
            stream=self.nats_stream,
            replay_seconds=self.token_ttl_seconds + 10.0,
        )

    def missing_addresses(self) -> list[str]:
        names = ("identity_addr", "keys_addr", "registry_addr", "blobstore_addr")
        return [f"HANGAR_{name.upper()}" for name in names if not getattr(self, name)]


class _Server(uvicorn.Server):
    """uvicorn, stopping gracefully on SIGTERM/SIGINT and then returning (it would re-raise the signal,
    killing the process before the composition root closes its channels and flushes its traces)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.listening.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        signals = (signal.SIGTERM, signal.SIGINT)
        for sig in signals:
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: a free one), made before uvicorn so the port is known."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def write_port_file(path: Path, port: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(str(port))
    tmp.replace(path)


async def serve(settings: Settings) -> None:
    missing = settings.missing_addresses()
    if missing:
        raise SystemExit(f"hangar gateway: set {', '.join(missing)} (host:port of each service)")
    setup_tracing("hangar-gateway", otlp_endpoint=settings.otlp_endpoint, trace_file=settings.trace_file)
    signing_key = load_or_create_signing_key(Path(settings.token_key_file))
    services = Services.connect(
        identity=settings.identity_addr,
        keys=settings.keys_addr,
        registry=settings.registry_addr,
        blobstore=settings.blobstore_addr,
    )
    if settings.content_cache_seconds > 0:
        cached = CachedRegistry(services.registry, settings.content_cache_seconds)
        services = dataclasses.replace(services, registry=cached)
    try:
        app = create_app(
            services,
            signing_key,
            public_url=settings.public_url,
            token_ttl_seconds=settings.token_ttl_seconds,
            key_cache_seconds=settings.key_cache_seconds,
            access_cache_seconds=settings.access_cache_seconds,
            events=settings.event_settings(),
            rest_max_body_bytes=settings.rest_max_body_bytes,
            session_cache_seconds=settings.session_cache_seconds,
            shared_blob_dir=Path(settings.shared_blob_dir) if settings.shared_blob_dir else None,
        )
        sock = bind(settings.http_host, settings.http_port)
        port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            app,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            log_level=settings.log_level.lower(),
            server_header=False,
            access_log=settings.access_log,
            timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        )
        # after uvicorn.Config, which configures the access logger: invitation tokens travel in paths
        logging.getLogger("uvicorn.access").addFilter(RedactTokens())
        server = _Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        listening = asyncio.create_task(server.listening.wait())
        await asyncio.wait([serving, listening], return_when=asyncio.FIRST_COMPLETED)
        listening.cancel()
        if server.started:
            if settings.http_port_file:
                write_port_file(Path(settings.http_port_file), port)
            log.info("gateway serving HTTP on %s port %d", settings.http_host, port)
        await serving
    finally:
        await services.close()
        shutdown = getattr(trace.get_tracer_provider(), "shutdown", None)
        if shutdown is not None:
            shutdown()
    log.info("gateway stopped")


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, "gateway")
    uvloop.run(serve(settings))


if __name__ == "__main__":
    main()
