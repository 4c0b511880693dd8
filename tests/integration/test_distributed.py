"""Distributed mode: `hangar migrate` and `hangar serve` per service on PostgreSQL and the machine's NATS,
two stateless gateway replicas; skopeo pushes through one and pulls through the other."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from hangar_harness import (
    Process,
    hangar_command,
    layout_blobs,
    layout_manifest_digest,
    make_oci_layout,
    skopeo,
    skopeo_available,
    stop_processes,
    wait_for_file,
)

from hangar.gateway.clients.identity import IdentityClient
from hangar.gateway.clients.keys import KeysClient
from hangar.kit import testing
from hangar.kit.grpcio import channel

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.nats,
    pytest.mark.skipif(not skopeo_available(), reason="skopeo is installed by `make test`"),
]

SERVICES = ("identity", "keys", "registry", "blobstore")


@contextlib.asynccontextmanager
async def databases() -> AsyncIterator[dict[str, str]]:
    async with contextlib.AsyncExitStack() as stack:
        urls = {
            s: await stack.enter_async_context(testing.postgres_database(f"hangar_it_{s}")) for s in SERVICES
        }
        yield urls


async def test_services_on_postgresql_with_two_gateways_serve_a_push_and_a_pull(tmp_path: Path) -> None:
    stream, prefix = testing.unique_name("HANGARIT"), testing.unique_name("hangarit")
    common = {
        "HANGAR_NATS_URL": testing.SHARED_NATS_URL,
        "HANGAR_NATS_STREAM": stream,
        "HANGAR_SUBJECT_PREFIX": prefix,
        "HANGAR_TRACE_FILE": "",
    }
    processes: list[Process] = []
    async with databases() as urls:
        try:
            # Migrations are a separate step in distributed mode; services then start without migrating.
            for service in SERVICES:
                log = tmp_path / f"migrate-{service}.log"
                migrate = hangar_command(
                    "migrate", service, env={"HANGAR_DATABASE_URL": urls[service]}, log=log
                )
                assert await asyncio.to_thread(migrate.wait, 60) == 0, log.read_text()
            addresses = {}
            for service in SERVICES:
                log, port_file = tmp_path / f"{service}.log", tmp_path / f"{service}.port"
                env = {
                    **common,
                    "HANGAR_DATABASE_URL": urls[service],
                    "HANGAR_MIGRATE_ON_START": "false",
                    "HANGAR_GRPC_LISTEN": "127.0.0.1:0",
                    "HANGAR_GRPC_PORT_FILE": str(port_file),
                    "HANGAR_BLOB_DIR": str(tmp_path / "blobs"),
                }
                proc = hangar_command("serve", service, env=env, log=log)
                processes.append(Process(service, proc, log))
            for p in list(processes):
                port = await asyncio.to_thread(wait_for_file, tmp_path / f"{p.name}.port", p.proc, p.log)
                addresses[p.name] = f"127.0.0.1:{port}"

            async with channel(addresses["identity"]) as ic, channel(addresses["keys"]) as kc:
                created = await IdentityClient(ic).create_org("acme", "Acme", "owner@acme.test", "Owner")
                key = await KeysClient(kc).issue_personal_key(
                    "acme", created.owner_user_id, "ci", ["registry"]
                )

            gateways = []
            for replica in ("a", "b"):
                log, port = tmp_path / f"gateway-{replica}.log", testing.free_port()
                env = {
                    **common,
                    **{f"HANGAR_{s.upper()}_ADDR": a for s, a in addresses.items()},
                    "HANGAR_HTTP_HOST": "127.0.0.1",
                    "HANGAR_HTTP_PORT": str(port),
                    "HANGAR_TOKEN_KEY_FILE": str(tmp_path / "token-signing-key.pem"),  # shared by replicas
                }
                proc = hangar_command("serve", "gateway", env=env, log=log)
                processes.append(Process(f"gateway-{replica}", proc, log))
                await asyncio.to_thread(testing.wait_for_port, port, timeout=30)
                gateways.append(f"127.0.0.1:{port}")

            layout = tmp_path / "src"
            digest = make_oci_layout(layout, "1", [{"a": os.urandom(200_000)}, {"b": b"distributed\n"}])
            creds = f"$oauthtoken:{key.secret}"
            pushed = await asyncio.to_thread(
                skopeo,
                tmp_path,
                "copy",
                "--preserve-digests",
                "--dest-tls-verify=false",
                "--dest-creds",
                creds,
                f"oci:{layout}:1",
                f"docker://{gateways[0]}/acme/model-server:1",
            )
            assert pushed.returncode == 0, pushed.stderr
            pulled = await asyncio.to_thread(
                skopeo,
                tmp_path,
                "copy",
                "--preserve-digests",
                "--src-tls-verify=false",
                "--src-creds",
                creds,
                f"docker://{gateways[1]}/acme/model-server:1",
                f"oci:{tmp_path / 'pulled'}:1",
            )
            assert pulled.returncode == 0, pulled.stderr
            assert layout_manifest_digest(tmp_path / "pulled") == digest
            assert layout_blobs(tmp_path / "pulled") == layout_blobs(layout)

            # The services published their events to this test's stream on the shared NATS.
            nc = await nats.connect(testing.SHARED_NATS_URL)
            try:
                subjects = (
                    await nc.jetstream().stream_info(stream, subjects_filter=">")
                ).state.subjects or {}
            finally:
                await nc.close()
            assert f"{prefix}.identity.OrgCreated" in subjects
            assert f"{prefix}.keys.KeyIssued" in subjects
            assert f"{prefix}.registry.ManifestPushed" in subjects
            assert f"{prefix}.blobstore.BlobStored" in subjects
        finally:
            codes = await asyncio.to_thread(stop_processes, list(reversed(processes)))
            nc = await nats.connect(testing.SHARED_NATS_URL)
            with contextlib.suppress(Exception):
                await nc.jetstream().delete_stream(stream)
            await nc.close()
        assert all(code == 0 for code in codes.values()), codes
