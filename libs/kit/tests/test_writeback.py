"""start_writeback asks the kernel to begin writing a range back, and never raises."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from hangar.kit.writeback import start_writeback


@pytest.mark.skipif(sys.platform != "linux", reason="sync_file_range is Linux's")
def test_a_written_range_is_handed_to_the_kernel(tmp_path: Path) -> None:
    path = tmp_path / "data"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"x" * 100_000)
        assert start_writeback(fd, 0, 100_000)
    finally:
        os.close(fd)
    assert path.read_bytes() == b"x" * 100_000


def test_nothing_to_write_or_a_bad_descriptor_is_no_error() -> None:
    assert not start_writeback(0, 0, 0)
    assert not start_writeback(-1, 0, 10)
