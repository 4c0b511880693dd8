"""Quoting user input in error messages without echoing megabytes of it (the kit's `quote`)."""

from __future__ import annotations

from hangar.kit.digests import quote

__all__ = ["quote"]
