"""Embedded mode: nats-server, the four services and the gateway as child processes over one data dir."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from hangar.kit.errors import AlreadyExists
from hangar.kit.natsserver import start_nats_server
from hangar.kit.processes import die_with_parent

SERVICES = ("identity", "keys", "registry", "blobstore")
BOOTSTRAP_ORG = "demo"
BOOTSTRAP_OWNER = "admin@localhost"
STOP_GRACE_SECONDS = 15.0


def storage_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The blobstore's storage settings (HANGAR_STORAGE, HANGAR_S3_*, and its garbage collection's
    HANGAR_GC_*) from `hangar up`'s own environment: where the bytes live and how long an unreferenced blob
    is kept are the operator's choice, unlike every other HANGAR_* setting of the children."""
    return {
        k: v
        for k, v in environ.items()
        if k == "HANGAR_STORAGE" or k.startswith(("HANGAR_S3_", "HANGAR_GC_"))
    }


class StartupFailed(RuntimeError):
    pass


class Embedded:
    """Starts everything, bootstraps an empty data dir, supervises, and stops it all cleanly on a signal."""

    def __init__(self, data_dir: Path, *, host: str, port: int, trace_dir: Path | None = None) -> None:
        self.data = data_dir.resolve()
        self.host = host
        self.port = port
        self.trace_dir = trace_dir.resolve() if trace_dir else None
        self.run_dir = self.data / "run"
        self.log_dir = self.data / "logs"
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []
        self._stopping = False

    # -- lifecycle -------------------------------------------------------------------------------------------
    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        try:
            self._start()
        except (StartupFailed, TimeoutError, RuntimeError) as exc:
            print(f"hangar: failed to start: {exc}", file=sys.stderr, flush=True)
            self._stop_all()
            return 1
        except KeyboardInterrupt:
            self._stop_all()
            return 0
        code = self._supervise()
        self._stop_all()
        print("hangar: stopped", flush=True)
        return code

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self._stopping:  # a second Ctrl-C must not interrupt the orderly stop already under way
            print("hangar: already stopping", flush=True)
            return
        self._stopping = True
        print(f"hangar: {signal.Signals(signum).name} received, stopping", flush=True)
        raise KeyboardInterrupt

    def _supervise(self) -> int:
        try:
            while True:
                for name, proc in self.children.items():
                    if proc.poll() is not None:
                        print(
                            f"hangar: {name} exited with {proc.returncode}; see {self.log_dir / name}.log",
                            file=sys.stderr,
                            flush=True,
                        )
                        return 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0

    def _start(self) -> None:
        for directory in (self.data, self.run_dir, self.log_dir, self.data / "db", self.data / "blobs"):
            directory.mkdir(parents=True, exist_ok=True)
        nats, nats_url = start_nats_server(self.data / "nats", self.run_dir, self.log_dir / "nats.log")
        self.children["nats"] = nats
        addresses = {}
        for service in SERVICES:
            port_file = self.run_dir / f"{service}.port"
            port_file.unlink(missing_ok=True)
            env = self._env(service, nats_url)
            env.update(
                HANGAR_DATABASE_URL=f"sqlite+aiosqlite:///{self.data / 'db' / service}.db",
                HANGAR_GRPC_LISTEN="127.0.0.1:0",
                HANGAR_GRPC_PORT_FILE=str(port_file),
                HANGAR_MIGRATE_ON_START="true",
            )
            if service == "blobstore":
                env["HANGAR_BLOB_DIR"] = str(self.data / "blobs")
                env.update(storage_env(os.environ))
            self._spawn(service, env)
        for service in SERVICES:
            addresses[service] = f"127.0.0.1:{self._wait_for_port_file(service)}"
        key_file = self.data / "bootstrap-key"
        if not key_file.exists():
            asyncio.run(self._bootstrap(addresses, key_file))
            print(
                f"hangar: bootstrapped org '{BOOTSTRAP_ORG}' with owner {BOOTSTRAP_OWNER}; "
                f"their API key is in {key_file}",
                flush=True,
            )
        env = self._env("gateway", nats_url)
        env.update({f"HANGAR_{s.upper()}_ADDR": addr for s, addr in addresses.items()})
        env.update(
            HANGAR_HTTP_HOST=self.host,
            HANGAR_HTTP_PORT=str(self.port),
            HANGAR_TOKEN_KEY_FILE=str(self.data / "token-signing-key.pem"),
        )
        if os.environ.get("HANGAR_STORAGE", "filesystem") == "filesystem":
            # one host, one data dir: the gateway reads pulled blobs' files itself (docs/decisions/0021)
            env["HANGAR_SHARED_BLOB_DIR"] = str(self.data / "blobs")
        self._spawn("gateway", env)
        self._wait_for_http(f"http://{self._connect_host()}:{self.port}/readyz", "gateway")
        print(
            f"hangar: ready at http://{self.host}:{self.port} (data in {self.data}; logs in {self.log_dir}; "
            f"bootstrap key in {key_file})",
            flush=True,
        )

    def _env(self, service: str, nats_url: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_")}
        env.update(
            HANGAR_NATS_URL=nats_url,
            HANGAR_NATS_STREAM=os.environ.get("HANGAR_NATS_STREAM", "HANGAR"),
            HANGAR_SUBJECT_PREFIX=os.environ.get("HANGAR_SUBJECT_PREFIX", "hangar"),
            HANGAR_LOG_LEVEL=os.environ.get("HANGAR_LOG_LEVEL", "INFO"),
            PYTHONUNBUFFERED="1",
        )
        if self.trace_dir is not None:
            env["HANGAR_TRACE_FILE"] = str(self.trace_dir / f"{service}.jsonl")
        return env

    def _spawn(self, service: str, env: dict[str, str]) -> None:
        log = (self.log_dir / f"{service}.log").open("ab")
        self._logs.append(log)
        self.children[service] = subprocess.Popen(
            [sys.executable, "-m", "hangar.cli", "serve", service],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops children in order
            preexec_fn=die_with_parent(),  # and a supervisor killed outright takes them with it
        )

    def _wait_for_port_file(self, service: str, timeout: float = 90.0) -> int:
        port_file = self.run_dir / f"{service}.port"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.children[service]
            if proc.poll() is not None:
                raise StartupFailed(
                    f"{service} exited with {proc.returncode}; see {self.log_dir / service}.log"
                )
            if port_file.exists():
                return int(port_file.read_text())
            time.sleep(0.05)
        raise StartupFailed(
            f"{service} did not start within {timeout:.0f}s; see {self.log_dir / service}.log"
        )

    def _connect_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host

    def _wait_for_http(self, url: str, service: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.children[service]
            if proc.poll() is not None:
                raise StartupFailed(
                    f"{service} exited with {proc.returncode}; see {self.log_dir / service}.log"
                )
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(url, timeout=2) as response,  # noqa: S310 - our own loopback URL
            ):
                if response.status == 200:
                    return
            time.sleep(0.1)
        raise StartupFailed(
            f"{service} was not ready within {timeout:.0f}s; see {self.log_dir / service}.log"
        )

    async def _bootstrap(self, addresses: dict[str, str], key_file: Path) -> None:
        """Create org demo, its owner and the owner's first personal key (idempotent after a crash)."""
        from hangar.gateway.clients.identity import IdentityClient
        from hangar.gateway.clients.keys import KeysClient
        from hangar.kit.grpcio import channel

        async with (
            channel(addresses["identity"]) as identity_channel,
            channel(addresses["keys"]) as keys_channel,
        ):
            identity, keys = IdentityClient(identity_channel), KeysClient(keys_channel)
            try:
                created = await identity.create_org(BOOTSTRAP_ORG, "Demo", BOOTSTRAP_OWNER, "Administrator")
                owner_id = created.owner_user_id
            except AlreadyExists:
                owner_id = (await identity.get_user_by_email(BOOTSTRAP_OWNER)).user_id
            issued = await keys.issue_personal_key(
                BOOTSTRAP_ORG, owner_id, "bootstrap", ["registry", "admin"]
            )
        tmp = key_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(issued.secret + "\n")
        tmp.replace(key_file)

    def _stop_all(self) -> None:
        """Gateway first, then the services, NATS last; SIGTERM, then SIGKILL after a grace period."""
        self._stopping = True
        try:
            self._stop_in_order()
        finally:
            for proc in self.children.values():  # whatever happened above, no child outlives us
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            for log in self._logs:
                log.close()

    def _stop_in_order(self) -> None:
        order = ["gateway", *reversed(SERVICES), "nats"]
        for group in (order[:1], order[1:-1], order[-1:]):
            procs = [
                self.children[n] for n in group if n in self.children and self.children[n].poll() is None
            ]
            for proc in procs:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            for proc in procs:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
