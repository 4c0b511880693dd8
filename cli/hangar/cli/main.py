"""Entry point of the `hangar` command."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from pathlib import Path

SERVICES = ("identity", "keys", "registry", "blobstore", "gateway")
STATEFUL = ("identity", "keys", "registry", "blobstore")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="hangar", description="Hangar: a private registry for AI artifacts."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser(
        "up", help="run the whole system on embedded defaults (SQLite, local blobs, NATS)"
    )
    up.add_argument("--data-dir", type=Path, default=Path("./data"), help="where all state lives (./data)")
    up.add_argument("--port", type=int, default=5000, help="the gateway's HTTP port (5000)")
    up.add_argument("--host", default="127.0.0.1", help="the gateway's listen address (127.0.0.1)")
    up.add_argument(
        "--trace-dir", type=Path, default=None, help="write every process's spans here as JSON lines"
    )

    serve = commands.add_parser("serve", help="run one service, configured by HANGAR_* environment variables")
    serve.add_argument("service", choices=SERVICES)

    migrate = commands.add_parser(
        "migrate", help="bring a service's database (HANGAR_DATABASE_URL) up to date"
    )
    migrate.add_argument("service", choices=STATEFUL)

    args = parser.parse_args(argv)
    if args.command == "up":
        from hangar.cli.embedded import Embedded

        sys.exit(Embedded(args.data_dir, host=args.host, port=args.port, trace_dir=args.trace_dir).run())
    if args.command == "serve":
        importlib.import_module(f"hangar.{args.service}.main").main()
        return
    if args.command == "migrate":
        from hangar.kit import migrations
        from hangar.kit.config import KitSettings

        store = importlib.import_module(f"hangar.{args.service}.store")
        asyncio.run(migrations.upgrade(KitSettings().database_url, store.MIGRATIONS))
        print(f"{args.service}: database is up to date")
