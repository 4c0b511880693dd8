"""The registry's NATS subscriptions: integration events of other services -> App commands (none yet)."""

from __future__ import annotations

from hangar.kit.messaging import Subscription
from hangar.registry.app import App


def subscriptions(app: App) -> list[Subscription]:
    return []
