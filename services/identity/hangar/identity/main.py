"""The identity process's composition root: settings -> runtime -> App -> gRPC server, consumer, sweep."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hangar.api.identity.v1 import identity_pb2_grpc
from hangar.identity.app import App
from hangar.identity.notifier import LoggingNotifier
from hangar.identity.passwords import Argon2Passwords
from hangar.identity.rpc import SERVICE_NAME, IdentityServicer
from hangar.identity.store import MIGRATIONS, PROJECTORS, SqlViews, codec
from hangar.identity.subscriptions import subscriptions
from hangar.kit.config import KitSettings
from hangar.kit.runtime import ServiceRuntime, configure_logging, run_process

log = logging.getLogger(__name__)


class Settings(KitSettings):
    """Identity's settings: the kit's HANGAR_* variables, with identity's own database by default."""

    database_url: str = "sqlite+aiosqlite:///./data/identity.db"
    #: Seconds between sweeps of long-expired sessions out of the read model.
    session_sweep_seconds: float = 3600.0


async def sweep_sessions(app: App, stop: asyncio.Event, *, every: float) -> None:
    """Until `stop`, drop long-expired sessions from the read model every `every` seconds."""
    while not stop.is_set():
        try:
            dropped = await app.forget_expired_sessions()
            if dropped:
                log.info("forgot %d expired sessions", dropped)
        except Exception:  # a database hiccup: the next sweep tries again
            log.warning("the session sweep failed; will try again", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


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
    app = App(runtime.uow, passwords=Argon2Passwords(), notifier=LoggingNotifier())
    servicer = IdentityServicer(app)

    async def sweep(stop: asyncio.Event) -> None:
        await sweep_sessions(app, stop, every=settings.session_sweep_seconds)

    await runtime.serve(
        [(identity_pb2_grpc.add_IdentityServiceServicer_to_server, servicer)],
        [SERVICE_NAME],
        subscriptions(app),
        background=[sweep],
    )


def main() -> None:
    """`hangar serve identity`."""
    run_process(run(Settings()))


if __name__ == "__main__":
    main()
