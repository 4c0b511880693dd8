"""Events from other services that blobstore acts on: none yet (garbage collection will add some)."""

from __future__ import annotations

from hangar.blobstore.app import App
from hangar.kit.messaging import Subscription


def subscriptions(app: App) -> list[Subscription]:
    return []
