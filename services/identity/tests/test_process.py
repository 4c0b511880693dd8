"""The identity process end to end: `hangar serve identity`'s entry point migrates, serves and publishes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import nats
import pytest
from nats.js.errors import NotFoundError

from hangar.api.identity.v1 import events_pb2, identity_pb2_grpc
from hangar.api.identity.v1 import identity_pb2 as pb
from hangar.kit import grpcio, testing


@pytest.mark.nats
async def test_the_service_process_serves_grpc_publishes_its_events_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    prefix, stream = testing.unique_name("idtest"), testing.unique_name("IDTEST")
    port_file = tmp_path / "identity.port"
    env = {
        **os.environ,
        "HANGAR_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}",
        "HANGAR_NATS_URL": testing.SHARED_NATS_URL,
        "HANGAR_NATS_STREAM": stream,
        "HANGAR_SUBJECT_PREFIX": prefix,
        "HANGAR_GRPC_PORT_FILE": str(port_file),
        "HANGAR_OUTBOX_IDLE_SECONDS": "0.2",
    }
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "hangar.identity.main", env=env)
    nc = await nats.connect(testing.SHARED_NATS_URL)
    js = nc.jetstream()
    try:
        await testing.eventually(port_file.exists, within=30)
        async with grpcio.channel(f"127.0.0.1:{port_file.read_text()}") as channel:
            stub = identity_pb2_grpc.IdentityServiceStub(channel)
            created = await stub.CreateOrg(
                pb.CreateOrgRequest(name="acme", owner_email="ada@example.com", owner_display_name="Ada")
            )

        async def published() -> object:
            with contextlib.suppress(NotFoundError):
                return await js.get_last_msg(stream, f"{prefix}.identity.RolesChanged")
            return None

        await testing.eventually(published, within=10)
        message = await js.get_last_msg(stream, f"{prefix}.identity.RolesChanged")
        event = events_pb2.RolesChanged.FromString(message.data or b"")
        assert (event.org, event.team, event.user_id) == ("acme", "", created.owner.user_id)
        assert list(event.roles) == ["ORG_OWNER"]
        assert (message.headers or {})["Hangar-Event-Type"] == "hangar.identity.v1.RolesChanged"

        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        with contextlib.suppress(Exception):
            await js.delete_stream(stream)
        await nc.close()
