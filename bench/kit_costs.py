"""CPU costs of two pieces of plumbing every service pays per request (docs/decisions/0029):

- outbox: one single-event commit and its publish to JetStream, with the relay running as a service runs it
  (rows handed over at commit) against the same commit followed by a scan of the outbox table (what the
  relay did per commit before the hand-over);
- gRPC: client CPU per unary call through `hangar.kit.grpcio.channel` (the call context added to every
  call) against a plain grpc.aio channel, to a health server in another process.

    .venv/bin/python bench/kit_costs.py                      # NATS on 127.0.0.1:4222
    .venv/bin/python bench/kit_costs.py --nats nats://127.0.0.1:4222 --events 300 --calls 2000

Needs a NATS server with JetStream; makes and deletes a stream of its own. CPU is this process's
(time.process_time), so the figures move far less with a noisy machine than wall time does.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import grpc
import nats
import uvloop
from grpc_health.v1 import health_pb2, health_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "libs" / "kit" / "tests"))

from kit_events import TagMoved, make_codec

from hangar.kit import messaging, migrations, testing
from hangar.kit.db import Database
from hangar.kit.grpcio import CHANNEL_OPTIONS, channel
from hangar.kit.uow import UnitOfWorkFactory

HEALTH_SERVER = """
import asyncio, grpc, uvloop
from grpc_health.v1 import health_pb2_grpc
from grpc_health.v1.health import aio
async def main():
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(aio.HealthServicer(), server)
    print(server.add_insecure_port("127.0.0.1:0"), flush=True)
    await server.start()
    await server.wait_for_termination()
uvloop.run(main())
"""


async def outbox_costs(nats_url: str, events: int) -> dict[str, float]:
    """CPU ms per single-event commit and its publish: handed over, and scanned."""
    results: dict[str, float] = {}
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    stream, prefix = testing.unique_name("KITBENCH"), testing.unique_name("kitbench")
    await messaging.ensure_stream(js, stream, prefix)
    try:
        with tempfile.TemporaryDirectory(prefix="kit-costs-") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'kit.db'}"
            await migrations.upgrade(url, None)
            db = Database(url)
            published = 0
            try:
                for mode in ("scan", "hand-over", "scan", "hand-over"):
                    relay = messaging.OutboxRelay(db, js)
                    handing = mode == "hand-over"
                    uow = UnitOfWorkFactory(
                        db,
                        make_codec(),
                        subject_prefix=prefix,
                        on_commit=relay.committed if handing else None,
                    )
                    task = asyncio.create_task(relay.run()) if handing else None
                    await asyncio.sleep(0.1)  # its start-up scan
                    started = time.process_time()
                    for number in range(events):
                        async with uow() as unit:
                            stream_id = f"{mode}-{published + number}"
                            await unit.events.append(stream_id, 0, [TagMoved("a/b", str(number), "sha256:x")])
                            await unit.commit()
                        if handing:
                            await asyncio.sleep(0)  # the relay's turn, as between requests
                        else:
                            await relay.publish_pending()
                    published += events
                    while (await js.stream_info(stream)).state.messages < published:
                        await asyncio.sleep(0.005)
                    spent = (time.process_time() - started) / events * 1000
                    if task is not None:
                        relay.stop()
                        await task
                    results[mode] = min(results.get(mode, spent), spent)
            finally:
                await db.dispose()
    finally:
        await js.delete_stream(stream)
        await nc.close()
    return results


async def grpc_costs(calls: int) -> dict[str, float]:
    """Client CPU ms per health-check call through channel() and through a plain channel."""
    server = subprocess.Popen(
        [sys.executable, "-c", HEALTH_SERVER], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
    )
    try:
        assert server.stdout is not None
        address = f"127.0.0.1:{int(server.stdout.readline())}"
        results: dict[str, float] = {}
        channels: dict[str, Any] = {
            "channel()": channel(address),
            "plain": grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS),
        }
        for _ in range(2):
            for name, chan in channels.items():
                stub = health_pb2_grpc.HealthStub(chan)
                request = health_pb2.HealthCheckRequest()
                for _ in range(min(calls, 300)):  # warm up
                    await stub.Check(request)
                started = time.process_time()
                for _ in range(calls):
                    await stub.Check(request)
                spent = (time.process_time() - started) / calls * 1000
                results[name] = min(results.get(name, spent), spent)
        for chan in channels.values():
            await chan.close()
        return results
    finally:
        server.kill()
        server.wait(timeout=10)


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    if not 10 <= args.events <= 5000 or not 100 <= args.calls <= 20000:
        parser.error("--events 10..5000, --calls 100..20000")
    if not args.nats.startswith(("nats://127.0.0.1:", "nats://localhost:")):
        parser.error("--nats must be a loopback address")
    outbox = await outbox_costs(args.nats, args.events)
    calls = await grpc_costs(args.calls)
    print("CPU ms (best of 2 rounds)")
    print(
        f"outbox, commit + publish per event: scan {outbox['scan']:.3f}, hand-over {outbox['hand-over']:.3f}"
    )
    print(
        f"gRPC client per unary call: channel() {calls['channel()']:.3f}, plain channel {calls['plain']:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(uvloop.run(main()))
