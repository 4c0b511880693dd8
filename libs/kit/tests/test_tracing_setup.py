"""Tracing is instrumented only when a process exports traces."""

from __future__ import annotations

from pathlib import Path

import pytest

from hangar.kit import grpcio, tracing


def test_grpc_is_instrumented_only_when_traces_are_exported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracing, "_instrumented", tracing._instrumented)  # restored after the test
    tracing.setup_tracing("hangar-test")
    assert not tracing.instrumented()
    assert grpcio._server_tracing() == [] and grpcio._client_tracing() == []

    tracing.setup_tracing("hangar-test", trace_file=str(tmp_path / "traces.jsonl"))
    assert tracing.instrumented()
    assert len(grpcio._server_tracing()) == 1 and grpcio._client_tracing()
