"""Events from other services that blobstore acts on: the registry's reports of which digests no repository
links any more (garbage collection, docs/decisions/0017), applied in the consumer's unit of work with its
inbox row."""

from __future__ import annotations

from typing import Any

from hangar.api.registry.v1 import events_pb2 as registry_events
from hangar.blobstore.app import App
from hangar.kit.errors import InvalidArgument
from hangar.kit.messaging import PermanentFailure, ReceivedEvent, Subscription
from hangar.kit.uow import UnitOfWork

BLOB_ORPHANED = "hangar.registry.v1.BlobOrphaned"
BLOB_REFERENCED = "hangar.registry.v1.BlobReferenced"


def subscriptions(app: App) -> list[Subscription]:
    async def on_blob_orphaned(event: ReceivedEvent, uow: UnitOfWork[Any]) -> None:
        """No repository links the digest: condemn it (deleted after the grace period unless spared)."""
        message = event.message
        assert isinstance(message, registry_events.BlobOrphaned)
        if message.generation <= 0:
            raise PermanentFailure(f"BlobOrphaned {event.event_id} has no generation")
        try:
            await app.note_orphaned(uow, message.digest, message.generation)
        except InvalidArgument as invalid:
            raise PermanentFailure(f"BlobOrphaned {event.event_id}: {invalid.message}") from invalid

    async def on_blob_referenced(event: ReceivedEvent, uow: UnitOfWork[Any]) -> None:
        """A repository links the digest again after an orphaning (see `may_follow_an_orphaning`)."""
        message = event.message
        assert isinstance(message, registry_events.BlobReferenced)
        if message.generation <= 0:
            raise PermanentFailure(f"BlobReferenced {event.event_id} has no generation")
        try:
            await app.note_referenced(uow, message.digest, message.generation)
        except InvalidArgument as invalid:
            raise PermanentFailure(f"BlobReferenced {event.event_id}: {invalid.message}") from invalid

    return [
        Subscription(BLOB_ORPHANED, registry_events.BlobOrphaned, on_blob_orphaned),
        Subscription(
            BLOB_REFERENCED,
            registry_events.BlobReferenced,
            on_blob_referenced,
            applies=may_follow_an_orphaning,
        ),
    ]


def may_follow_an_orphaning(message: registry_events.BlobReferenced) -> bool:
    """Whether a link report can matter to garbage collection: only the first repository to link a digest
    (repositories == 1) can follow an orphaning, and not at generation 1, the digest's very first usage
    event, which no orphan report can precede (generations start at 1). Every new blob's first link is
    therefore acknowledged without a transaction or an event."""
    return message.repositories == 1 and message.generation != 1
