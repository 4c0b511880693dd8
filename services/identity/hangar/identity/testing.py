"""Test support for identity: a clock that tests move, a notifier that records, argon2id made cheap.

`cheap_passwords()` keeps argon2id and the real code path with tiny costs (t=1, 8 MiB, p=1), so a test
suite can hash hundreds of passwords in seconds; production uses `Argon2Passwords()`'s defaults.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from hangar.identity.app import InvitationView
from hangar.identity.passwords import Argon2Passwords


class SettableClock:
    """Now is whatever the test says; it starts at the real time so stored times stay plausible."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


@dataclasses.dataclass
class RecordingNotifier:
    """Keeps what it was asked to send, token included (the test plays the invitee's inbox)."""

    sent: list[tuple[InvitationView, str]] = dataclasses.field(default_factory=list)
    fail: bool = False

    async def invitation_created(self, invitation: InvitationView, token: str) -> None:
        if self.fail:
            raise ConnectionError("the mail server is down")
        self.sent.append((invitation, token))


def cheap_passwords() -> Argon2Passwords:
    return Argon2Passwords(time_cost=1, memory_cost=8 * 1024, parallelism=1)
