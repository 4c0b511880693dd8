"""How many repositories link each digest: a stream per digest that orders every change (decision 0017).

Every link and unlink of a digest, in any repository, appends one event here. The stream's version
therefore serialises racing changes of one digest (an unlink in one repository and a link in another meet on
it, and the loser re-decides on fresh read models), and numbers them: `generation` is the stream's version
after the event, so a consumer that receives reports out of order can tell which is the latest. The count
itself comes from the caller's read model (the `blobs` rows for the digest, read after the stream's
version), so digests linked before this stream existed are counted right.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import ClassVar, Self

from hangar.kit.events import Aggregate, DomainEvent
from hangar.registry.domain.digests import Digest


@dataclasses.dataclass(frozen=True)
class BlobReferenced(DomainEvent):
    """One more repository links the digest; `repositories` link it now (at least 1)."""

    digest: str
    repositories: int
    generation: int


@dataclasses.dataclass(frozen=True)
class BlobDereferenced(DomainEvent):
    """One repository fewer links the digest; `repositories` (at least 1) still do."""

    digest: str
    repositories: int
    generation: int


@dataclasses.dataclass(frozen=True)
class BlobOrphaned(DomainEvent):
    """No repository links the digest any more: garbage collection may reclaim its bytes."""

    digest: str
    generation: int


class BlobUsage(Aggregate):
    """The usage of one digest across repositories. Restored at a stream version, never replayed."""

    stream_prefix: ClassVar[str] = "blobusage"

    def __init__(self, id: str) -> None:
        super().__init__(id)
        self.digest = ""

    @staticmethod
    def id_for(digest: Digest | str) -> str:
        return hashlib.sha256(str(digest).encode()).hexdigest()

    @classmethod
    def restore(cls, digest: Digest | str, version: int) -> Self:
        key = str(digest if isinstance(digest, Digest) else Digest.parse(digest))
        usage = cls(cls.id_for(key))
        usage.digest = key
        usage.version = version
        return usage

    def _next_generation(self) -> int:
        return self.version + 1  # `record` counts the pending events in `version` already

    def linked(self, repositories: int) -> None:
        """A repository linked the digest; `repositories` link it now, that one included."""
        if repositories < 1:
            raise ValueError(f"after a link at least one repository links {self.digest}, not {repositories}")
        self.record(
            BlobReferenced(digest=self.digest, repositories=repositories, generation=self._next_generation())
        )

    def unlinked(self, repositories: int) -> None:
        """A repository unlinked the digest; `repositories` still link it (0: orphaned)."""
        if repositories < 0:
            raise ValueError(f"a digest cannot be linked by {repositories} repositories")
        generation = self._next_generation()
        if repositories == 0:
            self.record(BlobOrphaned(digest=self.digest, generation=generation))
        else:
            self.record(
                BlobDereferenced(digest=self.digest, repositories=repositories, generation=generation)
            )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case BlobReferenced() | BlobDereferenced() | BlobOrphaned():
                self.digest = event.digest
            case _:
                pass
