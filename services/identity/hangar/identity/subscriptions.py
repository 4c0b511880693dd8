"""Events from other services that identity acts on: none yet."""

from __future__ import annotations

from hangar.identity.app import App
from hangar.kit.messaging import Subscription


def subscriptions(app: App) -> list[Subscription]:
    """Identity consumes no integration events yet; the runtime starts no consumer for an empty list."""
    return []
