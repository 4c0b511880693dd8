"""The keys process: settings -> runtime (database, migrations, NATS, outbox) -> App -> gRPC and consumer.

Environment (see `hangar.kit.config.KitSettings`): HANGAR_DATABASE_URL, HANGAR_NATS_URL, HANGAR_NATS_STREAM,
HANGAR_SUBJECT_PREFIX, HANGAR_GRPC_LISTEN, HANGAR_GRPC_PORT_FILE, HANGAR_TRACE_FILE, HANGAR_OTLP_ENDPOINT,
HANGAR_LOG_LEVEL, HANGAR_MIGRATE_ON_START; and HANGAR_KEYS_LAST_USED_INTERVAL_SECONDS (default 60).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from hangar.keys.app import App, system_clock
from hangar.keys.rpc import SERVICE_NAME, registrations
from hangar.keys.store import MIGRATIONS, PROJECTORS, SqlViews, codec
from hangar.keys.subscriptions import subscriptions
from hangar.kit.config import KitSettings
from hangar.kit.runtime import ServiceRuntime, configure_logging


class Settings(KitSettings):
    database_url: str = "sqlite+aiosqlite:///./data/keys.db"
    #: How often, at most, a key's last-used time is written (per key).
    keys_last_used_interval_seconds: float = 60.0


async def run(settings: Settings) -> None:
    runtime = ServiceRuntime(
        "keys", settings, codec(), migrations_dir=MIGRATIONS, projectors=PROJECTORS, views=SqlViews
    )
    try:
        await runtime.start()
    except BaseException:
        await runtime.close()
        raise
    app = App(
        runtime.uow,
        system_clock,
        last_used_interval=timedelta(seconds=settings.keys_last_used_interval_seconds),
    )
    await runtime.serve(registrations(app), [SERVICE_NAME], subscriptions(app))


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, "keys")
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
