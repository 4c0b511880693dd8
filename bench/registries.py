"""The two registries a benchmark compares, started side by side on loopback, and what is measured of them.

- `EmbeddedHangar`: `hangar up` with its embedded defaults (SQLite, filesystem blobs, its own NATS, auth on,
  no tracing), in a temporary data dir.
- `ReferenceRegistry`: docker-registry (CNCF Distribution 2.8 from Debian), filesystem storage, no auth.
- `RssSampler`: peak resident memory of a process tree, sampled from /proc every 50 ms.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

from hangar.kit.testing import free_port, wait_for_port

MiB = 1024 * 1024
REPO_ROOT = Path(__file__).resolve().parents[1]


class EmbeddedHangar:
    """`hangar up --data-dir <root>/data` on a free loopback port, as a user would start it."""

    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.port = free_port()
        self.extra_env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def key(self) -> str:
        return (self.data_dir / "bootstrap-key").read_text().strip()

    def start(self, timeout: float = 120.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        log_path = self.root / "up.log"
        log = log_path.open("ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_")}
        env.update(self.extra_env)
        command = [sys.executable, "-m", "hangar.cli", "up", "--data-dir", str(self.data_dir)]
        self.proc = subprocess.Popen(
            [*command, "--port", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=self.root,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hangar up exited with {self.proc.returncode}; see {log_path}")
            if b"hangar: ready" in log_path.read_bytes():
                return
            time.sleep(0.1)
        raise TimeoutError(f"hangar up not ready in {timeout}s; see {log_path}")

    def stop(self, timeout: float = 60.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def gateway_pid(self) -> int:
        """The `hangar serve gateway` child of this `hangar up`."""
        assert self.proc is not None
        for pid in children_of(self.proc.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in cmdline and b"gateway" in cmdline:
                return pid
        raise RuntimeError("the gateway process of this hangar up was not found")

    def token(self, scope: str) -> str:
        """An access token for `scope` from /token, with the bootstrap key (lives HANGAR_TOKEN_TTL_SECONDS,
        300 s by default: fetch one per measurement, never one for a whole run)."""
        basic = base64.b64encode(f"$oauthtoken:{self.key}".encode()).decode()
        query = urllib.parse.urlencode({"service": "hangar", "scope": scope})
        status, _, body = http(
            "GET", f"http://{self.address}/token?{query}", headers={"Authorization": f"Basic {basic}"}
        )
        if status != 200:
            raise RuntimeError(f"/token answered {status}: {body[:200]!r}")
        return str(json.loads(body)["token"])


class ReferenceRegistry:
    """docker-registry (CNCF Distribution 2.8 from Debian), filesystem storage, no auth, on a free port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {self.root / 'storage'}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.address}\n"
        )
        log = (self.root / "registry.log").open("ab")
        self.proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=log, stderr=log)
        wait_for_port(self.port, timeout=20)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


def children_of(pid: int) -> list[int]:
    """Every live descendant of `pid`."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent:
                found.append(child)
                frontier.append(child)
    return found


def rss_bytes(pid: int) -> int:
    """VmRSS of `pid`, 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples the VmRSS of a process and its descendants every `interval` s while running (a with block).

    `peak_total` is the largest sum over the tree seen in one sample, `peak_single` the largest process.
    """

    def __init__(self, pid: int, interval: float = 0.05, limit_seconds: float = 3600.0) -> None:
        self._pid = pid
        self._interval = interval
        self._limit = limit_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak_total = 0
        self.peak_single = 0
        self.samples = 0

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        deadline = time.monotonic() + self._limit
        pids = [self._pid, *children_of(self._pid)]
        refreshed = time.monotonic()
        while not self._stop.is_set() and time.monotonic() < deadline:
            if time.monotonic() - refreshed > 1.0:
                pids, refreshed = [self._pid, *children_of(self._pid)], time.monotonic()
            sizes = [rss_bytes(pid) for pid in pids]
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_single = max(self.peak_single, *sizes)
            self.samples += 1
            self._stop.wait(self._interval)


def http(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    timeout: float = 30,
) -> tuple[int, Message, bytes]:
    """One HTTP request to loopback; the answer's headers are looked up case-insensitively."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"benchmarks talk to loopback only, not {url}")
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=data)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def missing_tool(*tools: str) -> str | None:
    """The first of `tools` not on PATH (after saying so on stderr), or None when all are there."""
    for tool in tools:
        if shutil.which(tool) is None:
            print(f"{tool} is required (Debian: skopeo docker-registry wrk apache2-utils)", file=sys.stderr)
            return tool
    return None


@contextlib.contextmanager
def side_by_side() -> Iterator[tuple[Path, EmbeddedHangar, ReferenceRegistry]]:
    """A temporary directory with Hangar and the reference registry started in it; both stopped after."""
    with tempfile.TemporaryDirectory(prefix="hangar-bench-") as tmp:
        root = Path(tmp)
        hangar, reference = EmbeddedHangar(root / "hangar"), ReferenceRegistry(root / "reference")
        try:
            hangar.start()
            reference.start()
            yield root, hangar, reference
        finally:
            hangar.stop()
            reference.stop()
