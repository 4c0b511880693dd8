"""Every benchmark in one run: Hangar (`hangar up`, auth on) beside the reference registry (docker-registry).

Blob push/pull with skopeo (1 layer of 1 GiB, 8 layers of ~300 MiB in all, 200 layers of 64 KiB), peak
RSS of the gateway and of the reference while each pulls the largest layer, then small requests with wrk
(and ab for HEAD) at concurrency 1 and 50, and tags/list over 1,000 tags. Each figure is printed for both
registries with the ratio Hangar/reference (for times: reference time / Hangar time, so above 1 is faster).

    .venv/bin/python bench/run_all.py                                 # the full run (~10 minutes)
    .venv/bin/python bench/run_all.py --scale 0.25 --seconds 3        # a quick run (~2.5 minutes)

Needs skopeo, docker-registry, wrk and ab (Debian: skopeo docker-registry wrk apache2-utils).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import oci_push_pull
import small_requests
from registries import missing_tool, side_by_side


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the large blob workloads' bytes")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of every measurement (median reported)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each wrk/ab run")
    parser.add_argument("--tags", type=int, default=1000, help="tags created for tags/list")
    parser.add_argument("--skip-blobs", action="store_true", help="small requests only")
    parser.add_argument("--skip-small", action="store_true", help="blob push/pull only")
    args = parser.parse_args()
    if missing_tool("skopeo", "docker-registry", "wrk", "ab"):
        return 2
    started = time.monotonic()
    lines: list[str] = []
    with side_by_side() as (root, hangar, reference):
        if not args.skip_blobs:
            print("blob push/pull (skopeo)...", flush=True)
            blobs = oci_push_pull.measure(hangar, reference, root, args.scale, args.rounds)
            lines += oci_push_pull.table(blobs, oci_push_pull.workloads(args.scale)[0].name)
            lines.append("")
        if not args.skip_small:
            print("small requests (wrk, ab)...", flush=True)
            sides = [
                small_requests.Side("reference", reference.address),
                small_requests.Side("hangar", hangar.address, hangar),
            ]
            figures = small_requests.measure(sides, args.seconds, args.tags, args.rounds, root)
            lines += small_requests.table(figures)
    print()
    print("\n".join(lines))
    print(f"\n(run took {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
