"""Settings read once from HANGAR_* environment variables at each process's composition root."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class KitSettings(BaseSettings):
    """What every service process needs; services subclass it to add their own settings."""

    model_config = SettingsConfigDict(env_prefix="HANGAR_", extra="ignore")

    #: sqlite+aiosqlite:///path/to/file.db (embedded) or postgresql+asyncpg://user@host/db (distributed).
    database_url: str = "sqlite+aiosqlite:///./data/service.db"
    #: Apply migrations when the process starts (embedded); distributed mode runs `hangar migrate <service>`.
    migrate_on_start: bool = True
    nats_url: str = "nats://127.0.0.1:4222"
    #: The JetStream stream that carries every domain event.
    nats_stream: str = "HANGAR"
    #: First token of every subject: events go to <prefix>.<service>.<EventName>.
    subject_prefix: str = "hangar"
    #: host:port for the gRPC server; port 0 picks a free one (written to grpc_port_file).
    grpc_listen: str = "127.0.0.1:0"
    grpc_port_file: str = ""
    #: OTLP/gRPC endpoint for traces (e.g. http://127.0.0.1:4317); empty disables the exporter.
    otlp_endpoint: str = ""
    #: A file to append finished spans to as JSON lines (for tests and debugging); empty disables it.
    trace_file: str = ""
    log_level: str = "INFO"
    #: Seconds the outbox relay sleeps when idle before looking again (commits wake it at once).
    outbox_idle_seconds: float = 2.0
