"""Where the CPU of a small-blob push goes: CPU seconds of each Hangar process (and of the reference
registry, and of skopeo itself) while skopeo pushes N layers of 64 KiB, alternating the two registries.

Wall time of such a push is mostly per-request latency (skopeo pushes one blob after another: HEAD, HEAD,
POST, PATCH, PUT); CPU per process tells which service to look at, and changes far less with a noisy machine
than wall time does.

    .venv/bin/python bench/push_cpu.py                       # 200 layers, 2 rounds
    .venv/bin/python bench/push_cpu.py --layers 100 --rounds 3

Needs skopeo and docker-registry (Debian packages: `apt-get install skopeo docker-registry`).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hangar_harness import skopeo
from oci_push_pull import random_layers
from registries import children_of, missing_tool, side_by_side

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def process_name(pid: int) -> str:
    try:
        argv = [part.decode() for part in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if part]
    except OSError:
        return "?"
    if "hangar.cli" in argv and "serve" in argv[:-1]:
        return argv[argv.index("serve") + 1]  # hangar.cli serve <service>
    return Path(argv[0]).name if argv else "?"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def push(root: Path, layout: Path, address: str, flags: list[str], repo: str) -> float:
    started = time.perf_counter()
    result = skopeo(root, "copy", *flags, f"oci:{layout}:1", f"docker://{address}/{repo}:1", timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(f"skopeo push to {address} failed:\n{result.stderr}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--layers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not 1 <= args.layers <= 2000 or not 1 <= args.rounds <= 10:
        parser.error("--layers 1..2000, --rounds 1..10")
    if missing_tool("skopeo", "docker-registry"):
        return 2
    with side_by_side() as (root, hangar, reference):
        sides = {
            "reference": (reference.address, ["--dest-tls-verify=false"]),
            "hangar": (
                hangar.address,
                ["--dest-tls-verify=false", "--dest-creds", f"$oauthtoken:{hangar.key}"],
            ),
        }
        for round_ in range(args.rounds):
            for side, (address, flags) in sides.items():
                layout = root / f"layout-{side}-{round_}"
                random_layers(layout, [64 * 1024] * args.layers)
                assert hangar.proc is not None
                pids = [reference.pid()] if side == "reference" else children_of(hangar.proc.pid)
                before = {pid: cpu_seconds(pid) for pid in pids}
                client_before = children_cpu()
                wall = push(root, layout, address, flags, f"demo/cpu{round_}")
                client = children_cpu() - client_before
                spent = {pid: cpu_seconds(pid) - before[pid] for pid in pids}
                print(
                    f"{side:<10} round {round_}: {wall:6.2f} s wall, {wall / args.layers * 1000:5.1f} ms "
                    f"per blob; skopeo {client:5.2f} s CPU; server {sum(spent.values()):5.2f} s CPU"
                )
                for pid, seconds in sorted(spent.items(), key=lambda item: -item[1]):
                    if seconds >= 0.05:
                        per_blob = seconds / args.layers * 1000
                        print(f"    {process_name(pid):<16} {seconds:6.2f} s  ({per_blob:5.1f} ms per blob)")
                shutil.rmtree(layout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
