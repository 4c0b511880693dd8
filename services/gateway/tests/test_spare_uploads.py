"""SpareUploads: upload sessions opened ahead per repository in growing batches, each handed out once,
cancelled when stale, pushed out or left at close."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import pytest

from hangar.gateway.clients import UploadStatus
from hangar.gateway.oci.spare_uploads import SpareUploads

A = "demo/a"
B = "demo/b"
C = "demo/c"
#: Long enough for a take that needs no opener; a take that waits for a blocked opener never finishes.
QUICK = 0.2


class Opener:
    """Opens sessions `up-1`, `up-2`, ... owned by the repository asked for, `count` per call; records every
    call as (repository, count).

    `gate`: when set to an unset event, each call made from then on waits for it (the blobstore is slow).
    `fail`: raised by each call made from then on. `complete_when_cancelled`: a call cancelled while it
    waits still returns its sessions (the blobstore opened them anyway).
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.opened: list[UploadStatus] = []
        self.cancelled: list[str] = []
        self.gate: asyncio.Event | None = None
        self.fail: Exception | None = None
        self.complete_when_cancelled = False
        self.waiting = 0

    async def __call__(self, repository: str, count: int) -> list[UploadStatus]:
        self.calls.append((repository, count))
        gate, fail = self.gate, self.fail
        if gate is not None:
            self.waiting += 1
            try:
                await gate.wait()
            except asyncio.CancelledError:
                self.cancelled.append(repository)
                if not self.complete_when_cancelled:
                    raise
            finally:
                self.waiting -= 1
        if fail is not None:
            raise fail
        sessions = [
            UploadStatus(
                upload_id=f"up-{len(self.opened) + 1 + index}", owner=repository, committed_size=0, path=None
            )
            for index in range(count)
        ]
        self.opened.extend(sessions)
        return sessions

    def ids(self) -> list[str]:
        return [session.upload_id for session in self.opened]

    def counts(self) -> list[int]:
        return [count for _, count in self.calls]


class Canceller:
    """Records each cancellation as (upload_id, owner), after `delay` turns of the event loop."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.delay = 0

    async def __call__(self, upload_id: str, owner: str) -> None:
        for _ in range(self.delay):
            await asyncio.sleep(0)
        self.calls.append((upload_id, owner))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


Make = Callable[..., SpareUploads]


@pytest.fixture
def opener() -> Opener:
    return Opener()


@pytest.fixture
def canceller() -> Canceller:
    return Canceller()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def make(opener: Opener, canceller: Canceller, clock: Clock) -> AsyncIterator[Make]:
    """`make(capacity=..., max_age=..., max_batch=...)`: a SpareUploads over the fakes, closed after the
    test."""
    made: list[SpareUploads] = []

    def build(*, capacity: int = 16, max_age: float = 30.0, max_batch: int = 8) -> SpareUploads:
        spares = SpareUploads(
            opener, canceller, capacity=capacity, max_age=max_age, max_batch=max_batch, clock=clock
        )
        made.append(spares)
        return spares

    yield build
    if opener.gate is not None:
        opener.gate.set()
    for spares in made:
        await spares.close()


async def settle() -> None:
    """Let the background opens and cancellations run (each is a few turns of the loop)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def quick_take(spares: SpareUploads, repository: str) -> UploadStatus:
    return await asyncio.wait_for(spares.take(repository), QUICK)


async def first_and_spare(spares: SpareUploads, opener: Opener) -> tuple[UploadStatus, UploadStatus]:
    """A's first session, and the spare opened behind it."""
    first = await spares.take(A)
    await settle()
    (spare,) = [s for s in opener.opened if s != first]
    return first, spare


async def refill_in_flight(
    spares: SpareUploads, opener: Opener, *, complete_when_cancelled: bool = False
) -> None:
    """A's spare taken, and the next one's open waiting on a stalled blobstore (`opener.gate`)."""
    await spares.take(A)
    await settle()
    opener.gate = asyncio.Event()
    opener.complete_when_cancelled = complete_when_cancelled
    await quick_take(spares, A)
    await settle()
    assert opener.waiting == 1


# -- taking ----------------------------------------------------------------------------------------------


async def test_the_first_take_opens_its_own_session_and_a_spare_in_the_background(
    make: Make, opener: Opener
) -> None:
    spares = make()

    first = await spares.take(A)
    await settle()

    assert first.owner == A and first.upload_id in opener.ids()
    assert opener.calls == [(A, 1), (A, 1)]  # its own, and one spare
    assert spares.spare_count() == 1
    (spare,) = [s for s in opener.opened if s != first]
    assert spare.owner == A


async def test_the_second_take_gets_the_spare_without_waiting_and_opens_the_next_two(
    make: Make, opener: Opener
) -> None:
    spares = make()
    first, spare = await first_and_spare(spares, opener)

    opener.gate = asyncio.Event()  # the blobstore stalls: a take that opened now would not return
    second = await quick_take(spares, A)

    assert second == spare
    await settle()
    assert opener.calls == [(A, 1), (A, 1), (A, 2)] and opener.waiting == 1  # the next spares are coming
    assert spares.spare_count() == 0
    opener.gate.set()
    await settle()
    assert spares.spare_count() == 2
    batch = opener.opened[-2:]
    third, fourth = await quick_take(spares, A), await quick_take(spares, A)
    assert [third, fourth] == batch and not {third, fourth} & {first, second}


async def test_each_refill_after_a_spare_was_taken_opens_twice_as_many_up_to_max_batch(
    make: Make, opener: Opener
) -> None:
    spares = make(max_batch=8)

    handed = []
    for _ in range(40):
        handed.append(await spares.take(A))
        await settle()

    # the first take's own, then a refill whenever a take left none: after takes 1, 2, 4, 8, 16, ... 40
    assert opener.counts() == [1, 1, 2, 4, 8, 8, 8, 8, 8]
    assert len({session.upload_id for session in handed}) == 40
    assert spares.spare_count() == 8 == len(opener.opened) - 40


async def test_a_repository_whose_spares_expired_starts_again_at_one(
    make: Make, opener: Opener, canceller: Canceller, clock: Clock
) -> None:
    spares = make(max_age=30.0)
    for _ in range(4):  # the fourth takes the last of a batch of two: a batch of four is opened
        await spares.take(A)
        await settle()
    held = opener.opened[-4:]
    assert opener.counts() == [1, 1, 2, 4]
    assert spares.spare_count() == 4

    clock.now += 31.0
    fresh = await spares.take(A)
    await settle()

    assert fresh not in held
    assert sorted(canceller.calls) == sorted((s.upload_id, A) for s in held)
    assert opener.counts()[4:] == [1, 1]  # its own, and one spare again


async def test_a_push_of_one_blob_leaves_one_spare_which_close_cancels(
    make: Make, opener: Opener, canceller: Canceller
) -> None:
    spares = make()
    own = await spares.take(A)
    await settle()

    assert spares.spare_count() == 1
    await spares.close()
    (left,) = [s for s in opener.opened if s != own]
    assert canceller.calls == [(left.upload_id, A)]


async def test_spares_are_per_repository_and_owned_by_it(make: Make, opener: Opener) -> None:
    spares = make()
    first_a = await spares.take(A)
    await settle()
    (spare_a,) = [s for s in opener.opened if s != first_a]

    opener.gate = asyncio.Event()
    taking_b = asyncio.ensure_future(spares.take(B))
    await settle()
    assert not taking_b.done()  # B has no spare yet: A's is not handed to it
    opener.gate.set()
    first_b = await taking_b
    await settle()

    assert first_b != spare_a and first_b.owner == B
    assert spares.spare_count() == 2
    assert await quick_take(spares, A) == spare_a
    second_b = await quick_take(spares, B)
    assert second_b.owner == B and second_b != first_b


async def test_concurrent_takes_for_one_repository_never_get_the_same_session(
    make: Make, opener: Opener
) -> None:
    spares = make()
    await spares.take(A)
    await settle()

    opener.gate = asyncio.Event()
    takes = [asyncio.ensure_future(spares.take(A)) for _ in range(20)]
    await settle()
    opener.gate.set()
    handed = await asyncio.gather(*takes)
    handed.append(await spares.take(A))  # and whatever spare was opened meanwhile
    await settle()
    handed.append(await spares.take(A))

    ids = [session.upload_id for session in handed]
    assert len(set(ids)) == len(ids)
    assert all(session.owner == A for session in handed)


async def test_racing_takes_keep_at_most_one_spare_open_per_repository(
    make: Make, opener: Opener, canceller: Canceller
) -> None:
    spares = make()
    opener.gate = asyncio.Event()

    takes = [asyncio.ensure_future(spares.take(A)) for _ in range(5)]
    await settle()
    assert len(opener.calls) == 5 + 1  # each take's own, and a single spare
    opener.gate.set()
    await asyncio.gather(*takes)
    await settle()

    assert spares.spare_count() == 1
    assert len(opener.calls) == 6  # no second spare opened (and thrown away)
    assert canceller.calls == []


# -- expiry and capacity ---------------------------------------------------------------------------------


async def test_a_spare_younger_than_max_age_is_handed_out(make: Make, opener: Opener, clock: Clock) -> None:
    spares = make(max_age=30.0)
    _first, spare = await first_and_spare(spares, opener)

    clock.now += 29.0
    assert await spares.take(A) == spare


async def test_a_spare_older_than_max_age_is_cancelled_and_the_take_opens_a_fresh_one(
    make: Make, opener: Opener, canceller: Canceller, clock: Clock
) -> None:
    spares = make(max_age=30.0)
    first, spare = await first_and_spare(spares, opener)

    clock.now += 31.0
    second = await spares.take(A)
    await settle()

    assert second not in (spare, first) and second.owner == A
    assert second in opener.opened
    assert canceller.calls == [(spare.upload_id, A)]


async def test_a_take_for_another_repository_cancels_an_expired_spare(
    make: Make, opener: Opener, canceller: Canceller, clock: Clock
) -> None:
    spares = make(max_age=30.0)
    _first, spare = await first_and_spare(spares, opener)

    clock.now += 31.0
    await spares.take(B)
    await settle()

    assert canceller.calls == [(spare.upload_id, A)]
    assert spares.spare_count() == 1  # B's


async def test_beyond_capacity_the_oldest_spare_is_pushed_out_and_cancelled(
    make: Make, opener: Opener, canceller: Canceller, clock: Clock
) -> None:
    spares = make(capacity=2)
    spare_of: dict[str, UploadStatus] = {}
    for repository in (A, B, C):
        own = await spares.take(repository)
        await settle()
        (spare_of[repository],) = [s for s in opener.opened if s.owner == repository and s != own]
        clock.now += 1.0

    assert spares.spare_count() == 2
    assert canceller.calls == [(spare_of[A].upload_id, A)]
    assert await spares.take(B) == spare_of[B]
    assert await spares.take(C) == spare_of[C]
    fresh_a = await spares.take(A)
    assert fresh_a != spare_of[A] and fresh_a.owner == A


async def test_a_repository_pushed_out_has_every_spare_of_its_batch_cancelled(
    make: Make, opener: Opener, canceller: Canceller, clock: Clock
) -> None:
    spares = make(capacity=1)
    for _ in range(4):
        await spares.take(A)
        await settle()
    batch_of_a = opener.opened[-4:]
    clock.now += 1.0

    await spares.take(B)
    await settle()

    assert sorted(canceller.calls) == sorted((s.upload_id, A) for s in batch_of_a)
    assert spares.spare_count() == 1  # B's
    assert (await spares.take(A)) not in batch_of_a


# -- failures --------------------------------------------------------------------------------------------


async def test_a_failed_background_open_is_logged_and_the_next_take_opens_its_own(
    make: Make, opener: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    spares = make()
    caplog.set_level(logging.WARNING, logger="hangar.gateway.oci.spare_uploads")
    first = await spares.take(A)  # its own open runs before the spare's
    opener.fail = RuntimeError("blobstore unavailable")
    await settle()

    assert spares.spare_count() == 0
    assert any(
        record.levelno == logging.WARNING and A in record.getMessage() and record.exc_info
        for record in caplog.records
    )
    opener.fail = None
    second = await spares.take(A)
    assert second.owner == A and second != first and second == opener.opened[-1]
    await settle()
    assert spares.spare_count() == 1  # and the spares resume


async def test_a_failed_open_for_the_take_itself_reaches_the_caller(make: Make, opener: Opener) -> None:
    spares = make()
    opener.fail = RuntimeError("blobstore unavailable")

    with pytest.raises(RuntimeError, match="blobstore unavailable"):
        await spares.take(A)


# -- close -----------------------------------------------------------------------------------------------


async def test_close_cancels_every_spare_still_held(make: Make, opener: Opener, canceller: Canceller) -> None:
    spares = make()
    own = [await spares.take(A), await spares.take(B)]
    await settle()
    held = [s for s in opener.opened if s not in own]
    assert spares.spare_count() == 2
    canceller.delay = 5  # a cancellation takes a few turns of the loop, as an RPC does

    await asyncio.wait_for(spares.close(), QUICK)

    assert sorted(canceller.calls) == sorted((s.upload_id, s.owner) for s in held)
    assert spares.spare_count() == 0


async def test_close_cancels_a_background_open_in_flight(make: Make, opener: Opener) -> None:
    spares = make()
    await refill_in_flight(spares, opener)

    await asyncio.wait_for(spares.close(), QUICK)  # not CLOSE_TIMEOUT: the open is cancelled

    assert opener.cancelled == [A] and opener.waiting == 0
    assert spares.spare_count() == 0


async def test_after_close_a_take_still_opens_a_session_but_no_spare(
    make: Make, opener: Opener, canceller: Canceller
) -> None:
    spares = make()
    await spares.take(A)
    await settle()
    await spares.close()
    calls = len(opener.calls)

    taken = await quick_take(spares, A)
    await settle()
    also = await quick_take(spares, B)
    await settle()

    assert taken.owner == A and also.owner == B
    assert len(opener.calls) == calls + 2  # the takes' own, nothing ahead
    assert spares.spare_count() == 0
    assert {upload_id for upload_id, _ in canceller.calls}.isdisjoint({taken.upload_id, also.upload_id})


async def test_a_session_that_arrives_after_close_is_cancelled_not_kept(
    make: Make, opener: Opener, canceller: Canceller
) -> None:
    spares = make()
    await refill_in_flight(spares, opener, complete_when_cancelled=True)  # the blobstore opens it anyway

    await spares.close()
    await settle()

    late = opener.opened[-1]
    assert opener.cancelled == [A]
    assert (late.upload_id, A) in canceller.calls
    assert spares.spare_count() == 0


# -- races -----------------------------------------------------------------------------------------------


async def test_a_take_in_the_same_turn_as_the_refill_ending_still_opens_the_next_spare(
    make: Make, opener: Opener
) -> None:
    spares = make()
    await refill_in_flight(spares, opener)

    opened = len(opener.opened)
    assert opener.gate is not None
    opener.gate.set()  # the next spare's reply arrives ...
    taken = await asyncio.ensure_future(spares.take(A))  # ... and a POST is handled in the same turn
    await settle()

    assert taken == opener.opened[opened]  # it got that spare, fine
    assert spares.spare_count() == 1  # and the next one was opened after it


async def test_close_returns_after_the_session_arriving_during_it_is_cancelled(
    make: Make, opener: Opener, canceller: Canceller
) -> None:
    spares = make()
    await refill_in_flight(spares, opener, complete_when_cancelled=True)
    canceller.delay = 5  # a cancellation takes a few turns of the loop, as an RPC does

    await spares.close()

    assert (opener.opened[-1].upload_id, A) in canceller.calls
