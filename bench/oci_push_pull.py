"""Blob push/pull throughput of Hangar (auth on) against the reference registry, side by side in one run.

Runs skopeo copy (OCI layout <-> registry) for each workload, alternating the two registries, with fresh
random content every round so nothing is deduplicated; prints MiB/s for both and the ratio Hangar/reference,
and the gateway's peak RSS.

    .venv/bin/python bench/oci_push_pull.py                 # 1 GiB layer, 8 x ~37 MiB, 200 x 64 KiB
    .venv/bin/python bench/oci_push_pull.py --scale 0.25    # a quicker run with a quarter of the bytes

Needs skopeo and docker-registry (Debian packages: `apt-get install skopeo docker-registry`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))

from hangar_harness import Hangar, make_oci_layout, skopeo

from hangar.kit.testing import free_port, wait_for_port

MiB = 1024 * 1024


@dataclass
class Workload:
    name: str
    layer_sizes: list[int]

    @property
    def total(self) -> int:
        return sum(self.layer_sizes)


def workloads(scale: float) -> list[Workload]:
    big, eight = int(1024 * MiB * scale), int(300 * MiB * scale / 8)
    return [
        Workload(f"1 layer of {big // MiB} MiB", [big]),
        Workload(f"8 layers, {8 * eight // MiB} MiB", [eight] * 8),
        Workload("200 layers of 64 KiB", [64 * 1024] * 200),
    ]


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
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {self.root / 'storage'}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.address}\n"
        )
        log = (self.root / "registry.log").open("ab")
        self.proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=log, stderr=log)
        wait_for_port(self.port, timeout=20)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)


def random_layers(layout: Path, sizes: list[int]) -> None:
    make_oci_layout(layout, "1", [{f"blob{i}.bin": os.urandom(size)} for i, size in enumerate(sizes)])


def timed_copy(work: Path, src: str, dst: str, *flags: str) -> float:
    started = time.perf_counter()
    result = skopeo(work, "copy", *flags, src, dst, timeout=3600)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"skopeo copy {src} -> {dst} failed:\n{result.stderr}")
    return elapsed


def gateway_peak_rss(hangar: Hangar) -> int:
    """VmHWM of the gateway process (kB -> bytes), found among `hangar up`'s children."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            status = (proc / "status").read_text()
        except OSError:
            continue
        if (
            b"serve" in cmdline
            and b"gateway" in cmdline
            and str(hangar.data_dir) in (proc / "environ").read_text(errors="replace")
        ):
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the large workloads' bytes")
    parser.add_argument("--rounds", type=int, default=1, help="rounds per workload (median reported)")
    args = parser.parse_args()
    for tool in ("skopeo", "docker-registry"):
        if shutil.which(tool) is None:
            print(f"{tool} is required: apt-get install {tool}", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="hangar-bench-") as tmp:
        root = Path(tmp)
        hangar, reference = Hangar(root / "hangar"), ReferenceRegistry(root / "reference")
        hangar.start()
        reference.start()
        key = hangar.key
        hangar_push = ("--dest-tls-verify=false", "--dest-creds", f"$oauthtoken:{key}")
        hangar_pull = ("--src-tls-verify=false", "--src-creds", f"$oauthtoken:{key}")
        rows = []
        try:
            for number, workload in enumerate(workloads(args.scale)):
                times: dict[str, list[float]] = {
                    k: [] for k in ("ref push", "hangar push", "ref pull", "hangar pull")
                }
                for round_ in range(args.rounds):
                    layout = root / f"src-{number}-{round_}"
                    random_layers(layout, workload.layer_sizes)
                    repo = f"demo/bench{number}r{round_}:1"
                    times["ref push"].append(
                        timed_copy(
                            root,
                            f"oci:{layout}:1",
                            f"docker://{reference.address}/{repo}",
                            "--dest-tls-verify=false",
                        )
                    )
                    times["hangar push"].append(
                        timed_copy(
                            root, f"oci:{layout}:1", f"docker://{hangar.registry}/{repo}", *hangar_push
                        )
                    )
                    for side, address, flags in (
                        ("ref", reference.address, ("--src-tls-verify=false",)),
                        ("hangar", hangar.registry, hangar_pull),
                    ):
                        dest = root / f"pulled-{side}-{number}-{round_}"
                        times[f"{side} pull"].append(
                            timed_copy(root, f"docker://{address}/{repo}", f"oci:{dest}:1", *flags)
                        )
                        shutil.rmtree(dest)
                    shutil.rmtree(layout)
                mib = workload.total / MiB
                median = {k: statistics.median(v) for k, v in times.items()}
                for op in ("push", "pull"):
                    ref_rate, hangar_rate = mib / median[f"ref {op}"], mib / median[f"hangar {op}"]
                    rows.append((workload.name, op, ref_rate, hangar_rate, hangar_rate / ref_rate))
            rss = gateway_peak_rss(hangar)
        finally:
            hangar.stop()
            reference.stop()
    print(f"\n{'workload':<24}{'op':<6}{'reference MiB/s':>17}{'hangar MiB/s':>14}{'ratio':>8}")
    for name, op, ref_rate, hangar_rate, ratio in rows:
        print(f"{name:<24}{op:<6}{ref_rate:>17.1f}{hangar_rate:>14.1f}{ratio:>8.2f}")
    print(f"\ngateway peak RSS over the whole run: {rss / MiB:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
