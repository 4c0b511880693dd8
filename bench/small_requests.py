"""Small-request throughput and latency of Hangar (auth on) against the reference registry, in one run.

With `wrk` (Debian package), for each registry in turn: manifest GET, manifest HEAD, blob HEAD and `/v2/`
at concurrency 1 and 50 for `--seconds` each (requests/s, p50, p99; HEAD with `ab -k -i` from Debian's
apache2-utils, since Debian's wrk 4.1 never completes a HEAD whose answer has a Content-Length); then
tags/list of a repository holding `--tags` tags (made by manifest PUTs, 16 at a time): a full listing
paginated with n=100 following Link, and one unpaginated list (Hangar answers at most 1,000 per page and
follows its Link too). Hangar gets `Authorization: Bearer <token>` from /token with the bootstrap key, a
fresh token per run.

    .venv/bin/python bench/small_requests.py --seconds 3       # ~1.5 minutes
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from registries import EmbeddedHangar, http, missing_tool, side_by_side

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
REPO = "demo/small"
ENDPOINTS = ("manifest GET", "manifest HEAD", "blob HEAD", "/v2/")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass
class WrkResult:
    rps: float
    p50: float  # seconds
    p99: float
    errors: int


@dataclass
class Image:
    manifest: bytes
    digest: str
    config_digest: str


class Side:
    """One registry under test: its address, and the headers a request needs (a token for Hangar)."""

    def __init__(self, name: str, address: str, hangar: EmbeddedHangar | None = None) -> None:
        self.name = name
        self.address = address
        self.hangar = hangar

    def headers(self, actions: str = "pull") -> dict[str, str]:
        if self.hangar is None:
            return {}
        return {"Authorization": f"Bearer {self.hangar.token(f'repository:{REPO}:{actions}')}"}


def _seconds(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def parse_wrk(output: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if rps is None or p50 is None or p99 is None:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses:\s+([0-9]+)", output)
    return WrkResult(float(rps[1]), _seconds(p50[1]), _seconds(p99[1]), int(errors[1]) if errors else 0)


def wrk(
    url: str, method: str, connections: int, seconds: float, headers: dict[str, str], work: Path
) -> WrkResult:
    script = work / f"{method.lower()}.lua"
    script.write_text(f'wrk.method = "{method}"\n')
    threads = min(connections, 2)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    command += ["--timeout", "10s", "-s", str(script)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stderr}")
    return parse_wrk(result.stdout)


def ab_head(url: str, connections: int, seconds: float, headers: dict[str, str], work: Path) -> WrkResult:
    """HEAD load with ApacheBench (`ab -i`): Debian's wrk 4.1 waits for a body after a HEAD answer that
    carries Content-Length and so completes no request."""
    csv = work / "ab.csv"
    command = ["ab", "-q", "-k", "-i", "-c", str(connections), "-t", str(max(1, round(seconds)))]
    command += ["-n", "100000000", "-s", "10", "-e", str(csv)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    rps = re.search(r"Requests per second:\s+([0-9.]+)", result.stdout)
    if result.returncode != 0 or rps is None:
        raise RuntimeError(f"ab failed: {result.stdout[-2000:]}{result.stderr}")
    percentiles = dict(line.split(",") for line in csv.read_text().splitlines()[1:])
    errors = re.search(r"Non-2xx responses:\s+([0-9]+)", result.stdout)
    failed = re.search(r"Failed requests:\s+([0-9]+)", result.stdout)
    return WrkResult(
        float(rps[1]),
        float(percentiles["50"]) / 1e3,
        float(percentiles["99"]) / 1e3,
        (int(errors[1]) if errors else 0) + (int(failed[1]) if failed else 0),
    )


def push_image(side: Side, tags: list[str], concurrency: int = 16) -> Image:
    """Upload one config blob and PUT one manifest under every tag in `tags` (bounded concurrency)."""
    headers = side.headers("pull,push")
    base = f"http://{side.address}/v2/{REPO}"
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    )
    config_bytes = config.encode()
    config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    # POST then PUT (docker-registry 2.8 has no monolithic POST ?digest=)
    status, answer, body = http("POST", f"{base}/blobs/uploads/", headers=headers, data=b"")
    if status != 202:
        raise RuntimeError(f"{side.name}: upload start answered {status}: {body[:300]!r}")
    location = answer["Location"]
    location = location if location.startswith("http://") else f"http://{side.address}{location}"
    separator = "&" if "?" in location else "?"
    status, _, body = http(
        "PUT",
        f"{location}{separator}digest={config_digest}",
        headers={**headers, "Content-Type": "application/octet-stream"},
        data=config_bytes,
    )
    if status != 201:
        raise RuntimeError(f"{side.name}: blob upload answered {status}: {body[:300]!r}")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": CONFIG_TYPE, "digest": config_digest, "size": len(config_bytes)},
            "layers": [],
        }
    ).encode()

    def put(tag: str) -> None:
        for _attempt in range(3):
            status, _, body = http(
                "PUT",
                f"{base}/manifests/{tag}",
                headers={**headers, "Content-Type": MANIFEST_TYPE},
                data=manifest,
            )
            if status == 201:
                return
        raise RuntimeError(f"{side.name}: manifest PUT {tag} answered {status}: {body[:300]!r}")

    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(put, tags))
    return Image(manifest, "sha256:" + hashlib.sha256(manifest).hexdigest(), config_digest)


def list_tags(
    side: Side, page: int | None, headers: dict[str, str], limit: int = 10_000
) -> tuple[float, int]:
    """Seconds to list every tag, following Link (at most `limit` pages); and how many tags came back."""
    url = f"http://{side.address}/v2/{REPO}/tags/list" + (f"?n={page}" if page else "")
    count = 0
    started = time.perf_counter()
    for _page in range(limit):
        status, answer, body = http("GET", url, headers=headers)
        if status != 200:
            raise RuntimeError(f"{side.name}: tags/list answered {status}: {body[:300]!r}")
        count += len(json.loads(body)["tags"] or [])
        link = answer.get("Link")
        if not link:
            break
        match = re.match(r"<([^>]+)>", link)
        if match is None:
            raise RuntimeError(f"{side.name}: malformed Link {link!r}")
        target = match[1]
        url = target if target.startswith("http://") else f"http://{side.address}{target}"
    return time.perf_counter() - started, count


def measure(
    sides: list[Side], seconds: float, tag_count: int, rounds: int, work: Path, log: bool = True
) -> dict[tuple[str, str], dict[str, float]]:
    """Every small-request figure of every side, alternating sides within each round; medians of rounds."""
    tags = [f"t{i:05d}" for i in range(tag_count)]
    images = {}
    for side in sides:
        started = time.perf_counter()
        images[side.name] = push_image(side, tags)
        elapsed = time.perf_counter() - started
        if log:
            print(f"  {side.name}: {tag_count} manifest PUTs in {elapsed:.1f}s", flush=True)
    samples: dict[tuple[str, str], dict[str, list[float]]] = {}

    def record(side: Side, what: str, values: dict[str, float]) -> None:
        slot = samples.setdefault((side.name, what), {})
        for name, value in values.items():
            slot.setdefault(name, []).append(value)

    for _round in range(rounds):
        for endpoint in ENDPOINTS:
            for connections in (1, 50):
                for side in sides:
                    image = images[side.name]
                    base = f"http://{side.address}/v2/"
                    url, method = {
                        "manifest GET": (f"{base}{REPO}/manifests/{tags[0]}", "GET"),
                        "manifest HEAD": (f"{base}{REPO}/manifests/{tags[0]}", "HEAD"),
                        "blob HEAD": (f"{base}{REPO}/blobs/{image.config_digest}", "HEAD"),
                        "/v2/": (base, "GET"),
                    }[endpoint]
                    headers = side.headers()
                    if endpoint.startswith("manifest"):
                        headers["Accept"] = MANIFEST_TYPE
                    if method == "HEAD":
                        result = ab_head(url, connections, seconds, headers, work)
                    else:
                        result = wrk(url, method, connections, seconds, headers, work)
                    if result.errors:
                        print(f"  {side.name} {endpoint} c{connections}: {result.errors} non-2xx", flush=True)
                    record(
                        side,
                        f"{endpoint} c{connections}",
                        {"rps": result.rps, "p50": result.p50, "p99": result.p99},
                    )
        for side in sides:
            headers = side.headers("pull")
            paged, count_paged = list_tags(side, 100, headers)
            whole, count_whole = list_tags(side, None, headers)
            if count_paged != tag_count or count_whole != tag_count:
                raise RuntimeError(f"{side.name}: listed {count_paged}/{count_whole} of {tag_count} tags")
            record(side, "tags/list n=100", {"seconds": paged})
            record(side, "tags/list all", {"seconds": whole})
    return {key: {k: statistics.median(v) for k, v in values.items()} for key, values in samples.items()}


def table(figures: dict[tuple[str, str], dict[str, float]]) -> list[str]:
    """Rows: every small-request figure of both sides and the ratio Hangar/reference."""
    lines = [
        f"{'request':<22}{'ref req/s':>11}{'hangar req/s':>14}{'ratio':>7}"
        f"{'ref p50':>10}{'hangar p50':>12}{'ref p99':>10}{'hangar p99':>12}"
    ]
    for endpoint in ENDPOINTS:
        for connections in (1, 50):
            what = f"{endpoint} c{connections}"
            ref, hangar = figures[("reference", what)], figures[("hangar", what)]
            lines.append(
                f"{what:<22}{ref['rps']:>11.0f}{hangar['rps']:>14.0f}{hangar['rps'] / ref['rps']:>7.2f}"
                f"{ref['p50'] * 1e3:>8.2f}ms{hangar['p50'] * 1e3:>10.2f}ms"
                f"{ref['p99'] * 1e3:>8.2f}ms{hangar['p99'] * 1e3:>10.2f}ms"
            )
    for what in ("tags/list n=100", "tags/list all"):
        ref, hangar = figures[("reference", what)]["seconds"], figures[("hangar", what)]["seconds"]
        lines.append(
            f"{what:<22}{'ref ' + f'{ref * 1e3:.1f}ms':>11}{'hangar ' + f'{hangar * 1e3:.1f}ms':>14}"
            f"{ref / hangar:>7.2f}   (ratio = reference time / hangar time)"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each wrk run")
    parser.add_argument("--tags", type=int, default=1000, help="tags created for tags/list")
    parser.add_argument("--rounds", type=int, default=1, help="rounds (median reported)")
    args = parser.parse_args()
    if missing_tool("wrk", "ab", "docker-registry"):
        return 2
    with side_by_side() as (root, hangar, reference):
        sides = [Side("reference", reference.address), Side("hangar", hangar.address, hangar)]
        figures = measure(sides, args.seconds, args.tags, args.rounds, root)
    print("\n".join(table(figures)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
