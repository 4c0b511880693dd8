"""All data survives stopping everything and starting again."""

from __future__ import annotations

import os
import signal
import stat
import time
from pathlib import Path

import pytest
from hangar_harness import (
    Hangar,
    layout_blobs,
    layout_manifest_digest,
    make_oci_layout,
    processes_using,
    skopeo,
    skopeo_available,
)

pytestmark = pytest.mark.skipif(not skopeo_available(), reason="skopeo is installed by `make test`")


def test_an_image_pushed_before_a_restart_pulls_after_it(tmp_path: Path) -> None:
    hangar = Hangar(tmp_path / "hangar")
    layout = tmp_path / "src"
    digest = make_oci_layout(layout, "1", [{"a.txt": b"before restart\n"}, {"b.bin": os.urandom(100_000)}])
    hangar.start()
    try:
        key = hangar.key
        assert stat.S_IMODE((hangar.data_dir / "bootstrap-key").stat().st_mode) == 0o600
        pushed = skopeo(
            tmp_path,
            "copy",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            f"$oauthtoken:{key}",
            f"oci:{layout}:1",
            f"docker://{hangar.registry}/demo/durable:1",
        )
        assert pushed.returncode == 0, pushed.stderr + hangar.logs()
    finally:
        assert hangar.stop() == 0, hangar.logs()
    hangar.start()
    try:
        assert hangar.key == key, "a restart must not bootstrap again"
        dest = tmp_path / "pulled"
        pulled = skopeo(
            tmp_path,
            "copy",
            "--preserve-digests",
            "--src-tls-verify=false",
            "--src-creds",
            f"$oauthtoken:{key}",
            f"docker://{hangar.registry}/demo/durable:1",
            f"oci:{dest}:1",
        )
        assert pulled.returncode == 0, pulled.stderr + hangar.logs()
        assert layout_manifest_digest(dest) == digest
        assert layout_blobs(dest) == layout_blobs(layout)
    finally:
        assert hangar.stop() == 0, hangar.logs()


def test_a_second_interrupt_during_shutdown_still_stops_every_process(tmp_path: Path) -> None:
    hangar = Hangar(tmp_path / "hangar")
    hangar.start()
    assert hangar.proc is not None
    assert processes_using(hangar.data_dir), "the children should be running"
    hangar.proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    hangar.proc.send_signal(signal.SIGINT)  # an impatient second Ctrl-C
    assert hangar.proc.wait(timeout=60) == 0, hangar.logs()
    assert processes_using(hangar.data_dir) == []


def test_killing_the_supervisor_outright_takes_every_child_with_it(tmp_path: Path) -> None:
    hangar = Hangar(tmp_path / "hangar")
    hangar.start()
    assert hangar.proc is not None
    children = processes_using(hangar.data_dir)
    assert len(children) >= 5, "nats-server, four services and the gateway should be running"
    hangar.proc.send_signal(signal.SIGKILL)  # no chance to stop them in order
    hangar.proc.wait(timeout=10)
    deadline = time.monotonic() + 30
    while processes_using(hangar.data_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_using(hangar.data_dir) == [], "children outlived a killed supervisor"
