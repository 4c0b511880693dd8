"""Schemathesis against the live `/api/v1/openapi.json` with the bootstrap key: whatever it sends, the REST
API answers without a server error, to requests that fit the schema and to requests that do not. Bounded: a
few examples per operation and mode, each call at most 10 s; the run stops at a safety bound of 300 s (a
hang, not a speed measurement: speed is the benchmark's business).

Hypothesis drives each operation's strategy directly (schemathesis' pytest plugin does not run on pytest 9).
"""

from __future__ import annotations

import time
from typing import Any

import schemathesis
from hangar_harness import Hangar
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

EXAMPLES_PER_OPERATION = 8
SAFETY_BOUND_SECONDS = 300.0


def fuzz(
    operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str]
) -> tuple[int, list[str]]:
    """Call one operation with generated requests: how many were sent, and the server errors seen."""
    calls = 0
    failures: list[str] = []

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        nonlocal calls
        calls += 1
        response = case.call(base_url=base_url, headers=headers, timeout=10)
        if response.status_code >= 500:
            failures.append(
                f"{mode} {case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
            )

    call()
    return calls, failures


def test_no_request_makes_the_rest_api_fail(hangar: Hangar) -> None:
    schema = schemathesis.openapi.from_url(f"{hangar.url}/api/v1/openapi.json", timeout=10)
    headers = {"Authorization": f"Bearer {hangar.key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    started = time.monotonic()
    calls, failures = 0, []
    for operation in operations:
        assert time.monotonic() - started < SAFETY_BOUND_SECONDS, f"stopped after {calls} requests"
        for mode in GenerationMode:
            sent, failed = fuzz(operation, mode, f"{hangar.url}/api/v1", headers)
            calls += sent
            failures += failed

    assert not failures, "\n".join(failures[:20])
    assert calls > 10 * len(operations), f"only {calls} requests were generated"
