"""Time in the identity domain: always passed in (the domain reads no clock), always timezone-aware."""

from __future__ import annotations

from datetime import datetime


def require_aware(moment: datetime) -> datetime:
    """Return `moment` if it is timezone-aware; a naive time given to the domain is a programming error."""
    if moment.tzinfo is None:
        raise ValueError("times given to the identity domain must be timezone-aware")
    return moment
