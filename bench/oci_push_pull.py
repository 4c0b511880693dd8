"""Blob push/pull throughput of Hangar (auth on) against the reference registry, side by side in one run.

Runs skopeo copy (OCI layout <-> registry) for each workload, alternating the two registries (which goes
first flips every round), with fresh random content every round so nothing is deduplicated; prints MiB/s for
both (medians), the ratio Hangar/reference (the median of each round's own ratio) and its lowest and highest
round, and the peak RSS of the gateway (its process and any workers) and of the reference registry while
each pulls the largest layer (VmRSS sampled every 50 ms). Hangar runs as `hangar up` with its embedded
defaults.

    .venv/bin/python bench/oci_push_pull.py                 # 1 GiB layer, 8 x ~37 MiB, 200 x 64 KiB
    .venv/bin/python bench/oci_push_pull.py --scale 0.25    # a quicker run with a quarter of the bytes
    .venv/bin/python bench/oci_push_pull.py --only '64 KiB' --rounds 3   # one workload

Needs skopeo and docker-registry (Debian packages: `apt-get install skopeo docker-registry`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hangar_harness import make_oci_layout, skopeo
from registries import EmbeddedHangar, ReferenceRegistry, RssSampler, missing_tool, side_by_side

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


def random_layers(layout: Path, sizes: list[int]) -> None:
    make_oci_layout(layout, "1", [{f"blob{i}.bin": os.urandom(size)} for i, size in enumerate(sizes)])


def timed_copy(work: Path, src: str, dst: str, *flags: str) -> float:
    started = time.perf_counter()
    result = skopeo(work, "copy", *flags, src, dst, timeout=3600)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"skopeo copy {src} -> {dst} failed:\n{result.stderr}")
    return elapsed


@dataclass
class BlobFigures:
    #: workload, op, reference MiB/s, hangar MiB/s (medians over the rounds), ratio (median of the rounds'
    #: own ratios), lowest and highest round ratio
    rows: list[tuple[str, str, float, float, float, float, float]]
    #: peak VmRSS while pulling the largest layer: (gateway tree total, largest gateway process, reference)
    rss: tuple[int, int, int]


def measure(
    hangar: EmbeddedHangar,
    reference: ReferenceRegistry,
    root: Path,
    scale: float,
    rounds: int,
    only: str = "",
) -> BlobFigures:
    """skopeo push and pull of every workload (or those whose name contains `only`), alternating the
    registries; medians of `rounds`.

    Each round pushes (then pulls) the same content to both registries, one right after the other, and the
    order flips every round (the reference first in even rounds, Hangar first in odd ones), so that neither
    always runs second, after the other's writes. The ratio is the median of the rounds' own ratios: a
    round compares two runs seconds apart, which a machine whose speed drifts over minutes does not skew.
    """
    key = hangar.key
    flags = {
        ("ref", "push"): ("--dest-tls-verify=false",),
        ("hangar", "push"): ("--dest-tls-verify=false", "--dest-creds", f"$oauthtoken:{key}"),
        ("ref", "pull"): ("--src-tls-verify=false",),
        ("hangar", "pull"): ("--src-tls-verify=false", "--src-creds", f"$oauthtoken:{key}"),
    }
    addresses = {"ref": reference.address, "hangar": hangar.address}
    pids = {"ref": reference.pid(), "hangar": hangar.gateway_pid()}
    rows = []
    rss = {"hangar": (0, 0), "ref": (0, 0)}
    for number, workload in enumerate(workloads(scale)):
        if only and only not in workload.name:
            continue
        times: dict[tuple[str, str], list[float]] = {key: [] for key in flags}
        for round_ in range(rounds):
            layout = root / f"src-{number}-{round_}"
            random_layers(layout, workload.layer_sizes)
            repo = f"demo/bench{number}r{round_}:1"
            order = ("ref", "hangar") if round_ % 2 == 0 else ("hangar", "ref")
            for side in order:
                target = f"docker://{addresses[side]}/{repo}"
                times[side, "push"].append(timed_copy(root, f"oci:{layout}:1", target, *flags[side, "push"]))
            for side in order:
                dest = root / f"pulled-{side}-{number}-{round_}"
                with RssSampler(pids[side]) as sampler:
                    source, target = f"docker://{addresses[side]}/{repo}", f"oci:{dest}:1"
                    times[side, "pull"].append(timed_copy(root, source, target, *flags[side, "pull"]))
                if number == 0:  # the largest layer
                    rss[side] = (
                        max(rss[side][0], sampler.peak_total),
                        max(rss[side][1], sampler.peak_single),
                    )
                shutil.rmtree(dest)
            shutil.rmtree(layout)
        mib = workload.total / MiB
        for op in ("push", "pull"):
            ref_times, hangar_times = times["ref", op], times["hangar", op]
            paired = [ref / ours for ref, ours in zip(ref_times, hangar_times, strict=True)]
            rows.append(
                (
                    workload.name,
                    op,
                    mib / statistics.median(ref_times),
                    mib / statistics.median(hangar_times),
                    statistics.median(paired),
                    min(paired),
                    max(paired),
                )
            )
    return BlobFigures(rows, (rss["hangar"][0], rss["hangar"][1], rss["ref"][0]))


def table(figures: BlobFigures, big: str) -> list[str]:
    lines = [
        f"{'workload':<24}{'op':<6}{'reference MiB/s':>17}{'hangar MiB/s':>14}{'ratio':>8}"
        f"{'rounds low-high':>17}"
    ]
    for name, op, ref_rate, hangar_rate, ratio, low, high in figures.rows:
        lines.append(
            f"{name:<24}{op:<6}{ref_rate:>17.1f}{hangar_rate:>14.1f}{ratio:>8.2f}{f'{low:.2f}-{high:.2f}':>17}"
        )
    total, single, ref = figures.rss
    lines.append(
        f"peak RSS pulling {big}: gateway {total / MiB:.0f} MiB (largest process {single / MiB:.0f} MiB), "
        f"reference {ref / MiB:.0f} MiB"
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the large workloads' bytes")
    parser.add_argument("--rounds", type=int, default=1, help="rounds per workload (median reported)")
    parser.add_argument(
        "--only", default="", help="only the workloads whose name contains this (e.g. '64 KiB', '8 layers')"
    )
    args = parser.parse_args()
    if missing_tool("skopeo", "docker-registry"):
        return 2
    with side_by_side() as (root, hangar, reference):
        figures = measure(hangar, reference, root, args.scale, args.rounds, args.only)
    print()
    print("\n".join(table(figures, workloads(args.scale)[0].name)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
