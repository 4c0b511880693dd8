"""The registry process: settings -> runtime (database, migrations, NATS, outbox) -> App -> gRPC.

Environment (see `hangar.kit.config.KitSettings`): HANGAR_DATABASE_URL, HANGAR_NATS_URL, HANGAR_NATS_STREAM,
HANGAR_SUBJECT_PREFIX, HANGAR_GRPC_LISTEN, HANGAR_GRPC_PORT_FILE, HANGAR_TRACE_FILE, HANGAR_OTLP_ENDPOINT,
HANGAR_LOG_LEVEL, HANGAR_MIGRATE_ON_START.
"""

from __future__ import annotations

from hangar.kit.config import KitSettings
from hangar.kit.runtime import ServiceRuntime, configure_logging, run_process
from hangar.registry.app import App
from hangar.registry.artifacts import ArtifactApp
from hangar.registry.artifacts_rpc import ARTIFACT_SERVICE_NAME, artifact_registrations
from hangar.registry.rpc import SERVICE_NAME, registrations
from hangar.registry.store import MIGRATIONS, PROJECTORS, SqlViews, codec
from hangar.registry.subscriptions import subscriptions


class Settings(KitSettings):
    database_url: str = "sqlite+aiosqlite:///./data/registry.db"


async def run(settings: Settings) -> None:
    runtime = ServiceRuntime(
        "registry", settings, codec(), migrations_dir=MIGRATIONS, projectors=PROJECTORS, views=SqlViews
    )
    try:
        await runtime.start()
    except BaseException:
        await runtime.close()
        raise
    app = App(runtime.uow)
    artifacts = ArtifactApp(runtime.uow, app.link_blob)
    await runtime.serve(
        [*registrations(app), *artifact_registrations(artifacts)],
        [SERVICE_NAME, ARTIFACT_SERVICE_NAME],
        subscriptions(app),
    )


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, "registry")
    run_process(run(settings))


if __name__ == "__main__":
    main()
