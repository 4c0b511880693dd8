"""The keys process: settings -> runtime (database, migrations, NATS, outbox) -> App -> gRPC and consumer.

Environment (see `hangar.kit.config.KitSettings`): HANGAR_DATABASE_URL, HANGAR_NATS_URL, HANGAR_NATS_STREAM,
HANGAR_SUBJECT_PREFIX, HANGAR_GRPC_LISTEN, HANGAR_GRPC_PORT_FILE, HANGAR_TRACE_FILE, HANGAR_OTLP_ENDPOINT,
HANGAR_LOG_LEVEL, HANGAR_MIGRATE_ON_START; and the keys' own: HANGAR_KEYS_LAST_USED_INTERVAL_SECONDS (default
60), HANGAR_KEYS_EXPIRY_SWEEP_SECONDS (default 30: how often the background sweep records `KeyExpired` for
keys past their expiry) and HANGAR_KEYS_EXPIRY_SWEEP_BATCH (default 100 keys per pass, one transaction).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import Field

from hangar.keys.app import EXPIRY_SWEEP_BATCH, App, system_clock
from hangar.keys.rpc import SERVICE_NAME, registrations
from hangar.keys.store import MIGRATIONS, PROJECTORS, SqlViews, codec
from hangar.keys.subscriptions import subscriptions
from hangar.kit.config import KitSettings
from hangar.kit.runtime import ServiceRuntime, configure_logging, run_process


class Settings(KitSettings):
    database_url: str = "sqlite+aiosqlite:///./data/keys.db"
    #: How often, at most, a key's last-used time is written (per key).
    keys_last_used_interval_seconds: float = 60.0
    #: How often the background sweep looks for keys past their expiry that no event has recorded yet.
    keys_expiry_sweep_seconds: float = Field(default=30.0, gt=0)
    #: How many expiries one pass records at most (one transaction); a full pass is followed at once.
    keys_expiry_sweep_batch: int = Field(default=EXPIRY_SWEEP_BATCH, ge=1)


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

    async def sweep(stop: asyncio.Event) -> None:
        await app.run_expiry_sweep(
            stop, interval=settings.keys_expiry_sweep_seconds, batch=settings.keys_expiry_sweep_batch
        )

    await runtime.serve(registrations(app), [SERVICE_NAME], subscriptions(app), background=[sweep])


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, "keys")
    run_process(run(settings))


if __name__ == "__main__":
    main()
