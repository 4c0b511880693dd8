"""Runs a real `hangar up` in a temporary data dir and drives it with real clients (skopeo, HTTP, gRPC)."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import nats

from hangar.kit.testing import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Hangar:
    """One embedded Hangar: `start()`, `stop()`, and start again over the same data dir."""

    root: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    #: HANGAR_* settings given to `hangar up` (e.g. HANGAR_STORAGE=s3); no other is inherited.
    env: dict[str, str] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def trace_dir(self) -> Path:
        return self.root / "traces"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def registry(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def key(self) -> str:
        return (self.data_dir / "bootstrap-key").read_text().strip()

    def grpc_address(self, service: str) -> str:
        return f"127.0.0.1:{(self.data_dir / 'run' / f'{service}.port').read_text().strip()}"

    def start(self, timeout: float = 120.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        log_path = self.root / "up.log"
        seen = log_path.stat().st_size if log_path.exists() else 0  # earlier runs' lines don't count
        log = log_path.open("ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_")}
        env.update(self.env)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hangar.cli",
                "up",
                "--data-dir",
                str(self.data_dir),
                "--port",
                str(self.port),
                "--trace-dir",
                str(self.trace_dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=self.root,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hangar up exited with {self.proc.returncode}:\n{self.logs()}")
            with log_path.open("rb") as f:
                f.seek(seen)
                if b"hangar: ready" in f.read():
                    return
            time.sleep(0.1)
        raise TimeoutError(f"hangar up not ready in {timeout}s:\n{self.logs()}")

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise

    def logs(self) -> str:
        parts = [
            (self.root / "up.log").read_text(errors="replace") if (self.root / "up.log").exists() else ""
        ]
        for log in sorted((self.data_dir / "logs").glob("*.log")):
            parts.append(f"--- {log.name}\n" + log.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    def spans(self) -> list[dict[str, str]]:
        spans = []
        for path in self.trace_dir.glob("*.jsonl"):
            spans.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
        return spans


def http(
    method: str, url: str, *, headers: dict[str, str] | None = None, data: bytes | None = None
) -> tuple[int, Message, bytes]:
    """One HTTP request; the answer's headers are looked up case-insensitively."""
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=data)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


# -- OCI image layouts --------------------------------------------------------------------------------------


def _descriptor(media_type: str, data: bytes) -> dict[str, object]:
    return {
        "mediaType": media_type,
        "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }


def _write_blob(layout: Path, data: bytes) -> None:
    path = layout / "blobs" / "sha256" / hashlib.sha256(data).hexdigest()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _layer(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


def make_oci_layout(layout: Path, tag: str, layers: list[dict[str, bytes]]) -> str:
    """Write an OCI image layout with one image of the given gzipped tar layers; return its digest."""
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    layer_blobs = [_layer(files) for files in layers]
    diff_ids = ["sha256:" + hashlib.sha256(gzip.decompress(b)).hexdigest() for b in layer_blobs]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {
                "type": "layers",
                "diff_ids": diff_ids,
            },
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": _descriptor("application/vnd.oci.image.config.v1+json", config),
            "layers": [_descriptor("application/vnd.oci.image.layer.v1.tar+gzip", b) for b in layer_blobs],
        }
    ).encode()
    for blob in (*layer_blobs, config, manifest):
        _write_blob(layout, blob)
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                **_descriptor("application/vnd.oci.image.manifest.v1+json", manifest),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


def layout_manifest_digest(layout: Path) -> str:
    return str(json.loads((layout / "index.json").read_text())["manifests"][0]["digest"])


def layout_blobs(layout: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (layout / "blobs" / "sha256").iterdir()}


# -- skopeo -------------------------------------------------------------------------------------------------


def skopeo_available() -> bool:
    return shutil.which("skopeo") is not None


def skopeo(work: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run skopeo with a policy and auth file of the test's own (nothing read from the machine's config)."""
    policy = work / "policy.json"
    if not policy.exists():
        work.mkdir(parents=True, exist_ok=True)
        policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    auth = work / "auth.json"
    if not auth.exists():
        auth.write_text("{}")
    return subprocess.run(
        ["skopeo", "--policy", str(policy), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "REGISTRY_AUTH_FILE": str(auth)},
    )


def processes_using(path: Path) -> list[int]:
    """PIDs of live processes whose command line or environment names `path` (our children do)."""
    needle = str(path).encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if (proc / "stat").read_text().split()[2] == "Z":
                continue
            if needle in (proc / "cmdline").read_bytes() or needle in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path


def hangar_command(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `hangar <args>` with exactly the HANGAR_* settings given (none inherited)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_")}
    return subprocess.Popen(
        [sys.executable, "-m", "hangar.cli", *args],
        env={**clean, **env, "PYTHONUNBUFFERED": "1"},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def wait_for_file(path: Path, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise TimeoutError(f"{path} did not appear:\n{log.read_text(errors='replace')}")


def stop_processes(processes: list[Process], timeout: float = 30.0) -> dict[str, int]:
    for p in processes:
        if p.proc.poll() is None:
            p.proc.send_signal(signal.SIGTERM)
    codes = {}
    for p in processes:
        try:
            codes[p.name] = p.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.proc.kill()
            codes[p.name] = p.proc.wait()
    return codes


# -- distributed mode: each service its own process, on the shared NATS -------------------------------------

SERVICES = ("identity", "keys", "registry", "blobstore")


@dataclass
class Distributed:
    """The four services and gateway replicas as separate `hangar serve` processes on one NATS, with a
    stream and subject prefix of their own (`close()` stops everything and deletes the stream).

    `database_urls` maps each service to its database; SQLite files are made and migrated on start,
    PostgreSQL databases must be migrated first (`migrate()`).
    """

    root: Path
    database_urls: dict[str, str]
    nats_url: str
    stream: str
    prefix: str
    processes: dict[str, Process] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    gateway_urls: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {
            "HANGAR_NATS_URL": self.nats_url,
            "HANGAR_NATS_STREAM": self.stream,
            "HANGAR_SUBJECT_PREFIX": self.prefix,
            "HANGAR_TRACE_FILE": "",
            "HANGAR_LOG_LEVEL": os.environ.get("HANGAR_TEST_LOG_LEVEL", "INFO"),
        }

    def migrate(self) -> None:
        for service in SERVICES:
            log = self.root / f"migrate-{service}.log"
            env = {"HANGAR_DATABASE_URL": self.database_urls[service]}
            code = hangar_command("migrate", service, env=env, log=log).wait(120)
            assert code == 0, log.read_text()

    def start_service(self, service: str, listen: str = "127.0.0.1:0") -> str:
        """Start one service (on `listen`, e.g. the address it had before a restart); its address."""
        log, port_file = self.root / f"{service}.log", self.root / f"{service}.port"
        port_file.unlink(missing_ok=True)
        sqlite = self.database_urls[service].startswith("sqlite")
        env = {
            **self.env(),
            "HANGAR_DATABASE_URL": self.database_urls[service],
            "HANGAR_MIGRATE_ON_START": "true" if sqlite else "false",
            "HANGAR_GRPC_LISTEN": listen,
            "HANGAR_GRPC_PORT_FILE": str(port_file),
            "HANGAR_BLOB_DIR": str(self.root / "blobs"),
        }
        proc = hangar_command("serve", service, env=env, log=log)
        self.processes[service] = Process(service, proc, log)
        self.addresses[service] = f"127.0.0.1:{wait_for_file(port_file, proc, log)}"
        return self.addresses[service]

    def start_services(self) -> None:
        for service in SERVICES:
            self.start_service(service)

    def start_gateway(self, name: str, timeout: float = 60.0) -> str:
        """Start a gateway replica; its base URL once /readyz says ready (services up, events heard)."""
        log, port = self.root / f"{name}.log", free_port()
        env = {
            **self.env(),
            **{f"HANGAR_{s.upper()}_ADDR": a for s, a in self.addresses.items()},
            "HANGAR_HTTP_HOST": "127.0.0.1",
            "HANGAR_HTTP_PORT": str(port),
            "HANGAR_TOKEN_KEY_FILE": str(self.root / "token-signing-key.pem"),  # shared by replicas
        }
        proc = hangar_command("serve", "gateway", env=env, log=log)
        self.processes[name] = Process(name, proc, log)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited ({proc.returncode}):\n{log.read_text(errors='replace')}")
            try:
                status, _, _ = http("GET", f"{url}/readyz")
            except OSError:
                status = 0
            if status == 200:
                self.gateway_urls[name] = url
                return url
            time.sleep(0.1)
        raise TimeoutError(f"{name} not ready in {timeout}s:\n{log.read_text(errors='replace')}")

    def stop(self, name: str, timeout: float = 30.0) -> int:
        return stop_processes([self.processes[name]], timeout)[name]

    def close(self) -> dict[str, int]:
        """Stop every process still running, gateways first; their exit codes."""
        return stop_processes([p for p in reversed(self.processes.values()) if p.proc.poll() is None])

    async def delete_stream(self) -> None:
        nc = await nats.connect(self.nats_url)
        try:
            with contextlib.suppress(Exception):
                await nc.jetstream().delete_stream(self.stream)
        finally:
            await nc.close()

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + p.log.read_text(errors="replace")[-4000:] for p in self.processes.values()
        )
