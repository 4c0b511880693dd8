"""Quoting user input in error messages without echoing megabytes of it."""

from __future__ import annotations

from typing import Final

_SHOWN_CHARS: Final = 80


def quote(value: str) -> str:
    """`repr(value)`, cut to a readable length."""
    return repr(value if len(value) <= _SHOWN_CHARS else value[: _SHOWN_CHARS - 3] + "...")
