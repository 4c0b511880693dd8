"""Integration fixtures: a real embedded Hangar per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hangar_harness import Hangar


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="module")
def hangar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hangar]:
    instance = Hangar(tmp_path_factory.mktemp("hangar"))
    instance.start()
    try:
        yield instance
    finally:
        code = instance.stop()
        assert code == 0, f"hangar up did not stop cleanly ({code}):\n{instance.logs()}"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return tmp_path
