"""Child processes that do not outlive the process that started them."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A `preexec_fn` asking Linux to send `signum` to the child when its parent dies (even by SIGKILL).

    None elsewhere (no such facility), so `subprocess.Popen(preexec_fn=die_with_parent())` stays portable.
    The signal is tied to the thread that forks: start children from a thread that lives as long as they do.
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

    def preexec() -> None:
        if libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:  # pragma: no cover - cannot fail on Linux
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")

    return preexec
