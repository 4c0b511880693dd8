"""The keys process as deployed: configured by HANGAR_* variables, serves, publishes, sweeps expired keys in
the background, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import pytest

from hangar.api.keys.v1 import events_pb2, keys_pb2, keys_pb2_grpc
from hangar.keys.app import App
from hangar.keys.store import MIGRATIONS, PROJECTORS, SqlViews, codec
from hangar.kit import migrations, testing
from hangar.kit.db import Database
from hangar.kit.grpcio import channel
from hangar.kit.uow import UnitOfWorkFactory

pytestmark = pytest.mark.nats


async def test_the_keys_process_serves_and_publishes_without_the_secret_hash(tmp_path: Path) -> None:
    stream, prefix = testing.unique_name("KEYSMAIN"), testing.unique_name("keysmain")
    port_file = tmp_path / "keys.port"
    env = {
        **os.environ,
        "HANGAR_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}",
        "HANGAR_NATS_URL": testing.SHARED_NATS_URL,
        "HANGAR_NATS_STREAM": stream,
        "HANGAR_SUBJECT_PREFIX": prefix,
        "HANGAR_GRPC_LISTEN": "127.0.0.1:0",
        "HANGAR_GRPC_PORT_FILE": str(port_file),
        "HANGAR_TRACE_FILE": str(tmp_path / "traces.jsonl"),
    }
    log_file = tmp_path / "keys.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", "from hangar.keys.main import main; main()"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    nc = await nats.connect(testing.SHARED_NATS_URL)
    try:
        await testing.eventually(port_file.exists, within=30)
        async with channel(f"127.0.0.1:{port_file.read_text()}") as ch:
            stub = keys_pb2_grpc.KeysServiceStub(ch)
            issued = await stub.IssuePersonalKey(
                keys_pb2.IssuePersonalKeyRequest(org="acme", user_id="u-1", name="ci", services=["registry"])
            )
            authenticated = await stub.Authenticate(keys_pb2.AuthenticateRequest(secret=issued.secret))
            assert authenticated.key.key_id == issued.key.key_id

        js = nc.jetstream()

        async def published() -> bool:
            with contextlib.suppress(Exception):
                return bool((await js.stream_info(stream)).state.messages >= 1)
            return False

        await testing.eventually(published, within=10)
        message = await js.get_msg(stream, seq=1)
        assert message.subject == f"{prefix}.keys.KeyIssued"
        assert message.headers is not None
        assert message.headers["Hangar-Event-Type"] == "hangar.keys.v1.KeyIssued"
        event = events_pb2.KeyIssued.FromString(message.data)
        assert (event.key_id, event.prefix, event.key_type) == (
            issued.key.key_id,
            issued.key.prefix,
            "personal",
        )
        assert event.secret_hash == ""
        assert issued.secret.encode() not in message.data

        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 20) == 0
        logs = log_file.read_text()
        assert "keys serving gRPC" in logs
        assert issued.secret not in logs
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        with contextlib.suppress(Exception):
            await nc.jetstream().delete_stream(stream)
        await nc.close()


async def test_the_keys_process_sweeps_expired_keys_in_the_background(tmp_path: Path) -> None:
    """A key that expired while nobody presented it gets its KeyExpired from the process's sweep job."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
    stream, prefix = testing.unique_name("KEYSSWEEP"), testing.unique_name("keyssweep")
    # A key issued two hours ago for one hour, by an earlier run of the service (same subject prefix).
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    await migrations.upgrade(database_url, MIGRATIONS)
    db = Database(database_url)
    try:
        uow = UnitOfWorkFactory(db, codec(), subject_prefix=prefix, projectors=PROJECTORS, views=SqlViews)
        expired, _ = await App(uow, lambda: two_hours_ago).issue_personal_key(
            "acme", "u-1", "ci", ["registry"], 3600
        )
    finally:
        await db.dispose()

    port_file = tmp_path / "keys.port"
    env = {
        **os.environ,
        "HANGAR_DATABASE_URL": database_url,
        "HANGAR_NATS_URL": testing.SHARED_NATS_URL,
        "HANGAR_NATS_STREAM": stream,
        "HANGAR_SUBJECT_PREFIX": prefix,
        "HANGAR_GRPC_LISTEN": "127.0.0.1:0",
        "HANGAR_GRPC_PORT_FILE": str(port_file),
        "HANGAR_KEYS_EXPIRY_SWEEP_SECONDS": "0.2",
    }
    log_file = tmp_path / "keys.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", "from hangar.keys.main import main; main()"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    nc = await nats.connect(testing.SHARED_NATS_URL)
    try:
        await testing.eventually(port_file.exists, within=30)
        js = nc.jetstream()

        async def published() -> bool:
            with contextlib.suppress(Exception):
                return bool((await js.stream_info(stream)).state.messages >= 2)
            return False

        await testing.eventually(published, within=15)
        subjects = [(await js.get_msg(stream, seq=seq)).subject for seq in (1, 2)]
        assert subjects == [f"{prefix}.keys.KeyIssued", f"{prefix}.keys.KeyExpired"]
        event = events_pb2.KeyExpired.FromString((await js.get_msg(stream, seq=2)).data)
        assert (event.key_id, event.org, event.owner_user_id) == (expired.key_id, "acme", "u-1")
        assert expired.expires_at is not None
        assert event.expired_at == int(expired.expires_at.timestamp() * 1_000_000)

        await asyncio.sleep(0.6)  # a few more passes record nothing more
        assert (await js.stream_info(stream)).state.messages == 2
        process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(process.wait, 20) == 0
        assert "recorded the expiry of 1 key(s)" in log_file.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        with contextlib.suppress(Exception):
            await nc.jetstream().delete_stream(stream)
        await nc.close()
