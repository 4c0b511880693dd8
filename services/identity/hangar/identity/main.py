"""The identity process's composition root: settings -> runtime -> App -> gRPC server."""

from __future__ import annotations

import asyncio

from hangar.api.identity.v1 import identity_pb2_grpc
from hangar.identity.app import App
from hangar.identity.rpc import SERVICE_NAME, IdentityServicer
from hangar.identity.store import MIGRATIONS, PROJECTORS, SqlViews, codec
from hangar.identity.subscriptions import subscriptions
from hangar.kit.config import KitSettings
from hangar.kit.runtime import ServiceRuntime, configure_logging


class Settings(KitSettings):
    """Identity's settings: the kit's HANGAR_* variables, with identity's own database by default."""

    database_url: str = "sqlite+aiosqlite:///./data/identity.db"


async def run(settings: Settings) -> None:
    """Start identity and serve until SIGTERM or SIGINT."""
    configure_logging(settings.log_level, "identity")
    runtime = ServiceRuntime(
        "identity", settings, codec(), migrations_dir=MIGRATIONS, projectors=PROJECTORS, views=SqlViews
    )
    try:
        await runtime.start()
    except BaseException:
        await runtime.close()
        raise
    app = App(runtime.uow)
    servicer = IdentityServicer(app)
    await runtime.serve(
        [(identity_pb2_grpc.add_IdentityServiceServicer_to_server, servicer)],
        [SERVICE_NAME],
        subscriptions(app),
    )


def main() -> None:
    """`hangar serve identity`."""
    asyncio.run(run(Settings()))


if __name__ == "__main__":
    main()
