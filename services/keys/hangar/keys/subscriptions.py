"""Events of other services -> keys commands, applied in the consumer's unit of work with its inbox row."""

from __future__ import annotations

from typing import Any

from hangar.api.identity.v1 import events_pb2 as identity_events
from hangar.keys.app import App
from hangar.kit.messaging import PermanentFailure, ReceivedEvent, Subscription
from hangar.kit.uow import UnitOfWork

USER_REMOVED = "hangar.identity.v1.UserRemoved"


def subscriptions(app: App) -> list[Subscription]:
    async def on_user_removed(event: ReceivedEvent, uow: UnitOfWork[Any]) -> None:
        """A user left an org: their personal and legacy keys in that org die with the membership."""
        message = event.message
        assert isinstance(message, identity_events.UserRemoved)
        if not message.org or not message.user_id:
            raise PermanentFailure(f"UserRemoved {event.event_id} names no org or no user")
        await app.revoke_user_keys_in(
            uow, message.org, message.user_id, f"the user was removed from org {message.org}"
        )

    return [Subscription(USER_REMOVED, identity_events.UserRemoved, on_user_removed)]
