"""The contract every `BlobBackend` passes: subclass `BlobBackendContract` and say how to build a backend."""

from __future__ import annotations

import abc
import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from hangar.blobstore.backend import BlobBackend, MiB
from hangar.blobstore.domain import Digest
from hangar.kit.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    DomainError,
    InvalidArgument,
    NotFound,
    OutOfRange,
)

pytestmark = pytest.mark.asyncio

CONTENT = b"0123456789abcdefghij"


def new_upload_id() -> str:
    return uuid.uuid4().hex


def sha256_of(data: bytes) -> Digest:
    return Digest("sha256", hashlib.sha256(data).hexdigest())


def sha512_of(data: bytes) -> Digest:
    return Digest("sha512", hashlib.sha512(data).hexdigest())


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await asyncio.sleep(0)
        yield chunk


def split(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


async def read_all(backend: BlobBackend, digest: Digest, offset: int = 0, length: int | None = None) -> bytes:
    return b"".join(await read_chunks(backend, digest, offset, length))


async def read_chunks(
    backend: BlobBackend, digest: Digest, offset: int = 0, length: int | None = None, chunk_size: int = MiB
) -> list[bytes]:
    return [chunk async for chunk in await backend.read(digest, offset, length, chunk_size)]


async def upload(backend: BlobBackend, data: bytes, digest: Digest | None = None) -> tuple[int, bool]:
    upload_id = new_upload_id()
    await backend.create_upload(upload_id)
    await backend.append(upload_id, 0, stream(*split(data, 7)))
    return await backend.commit(upload_id, digest or sha256_of(data))


def assert_code(error: BaseException, code: str) -> None:
    assert isinstance(error, DomainError), repr(error)
    assert error.code == code, f"{error!r} has code {error.code}, not {code}"


class BlobBackendContract(abc.ABC):
    """Storage rules every backend keeps. Each `make_backend()` call is a fresh instance on the same storage,
    as after a process restart or on another replica."""

    @abc.abstractmethod
    async def make_backend(self) -> BlobBackend: ...

    # -- round trips -----------------------------------------------------------------------------------

    async def test_a_committed_upload_reads_back_byte_for_byte(self) -> None:
        backend = await self.make_backend()
        upload_id = new_upload_id()
        await backend.create_upload(upload_id)

        size = await backend.append(upload_id, 0, stream(CONTENT))
        stored = await backend.commit(upload_id, sha256_of(CONTENT))

        assert size == len(CONTENT)
        assert stored == (len(CONTENT), True)
        assert await backend.stat(sha256_of(CONTENT)) == len(CONTENT)
        assert await read_all(backend, sha256_of(CONTENT)) == CONTENT

    async def test_an_upload_may_arrive_in_many_chunks_over_many_appends(self) -> None:
        backend = await self.make_backend()
        upload_id = new_upload_id()
        await backend.create_upload(upload_id)

        assert await backend.append(upload_id, 0, stream(CONTENT[:3], CONTENT[3:4], b"", CONTENT[4:9])) == 9
        assert await backend.upload_size(upload_id) == 9
        assert await backend.append(upload_id, 9, stream(CONTENT[9:])) == len(CONTENT)
        assert await backend.commit(upload_id, sha256_of(CONTENT)) == (len(CONTENT), True)

        assert await read_all(backend, sha256_of(CONTENT)) == CONTENT

    async def test_a_new_upload_is_empty(self) -> None:
        backend = await self.make_backend()
        upload_id = new_upload_id()
        await backend.create_upload(upload_id)

        assert await backend.upload_size(upload_id) == 0

    async def test_an_empty_blob_can_be_stored_and_read(self) -> None:
        backend = await self.make_backend()
        upload_id = new_upload_id()
        await backend.create_upload(upload_id)

        assert await backend.append(upload_id, 0, stream()) == 0
        assert await backend.commit(upload_id, sha256_of(b"")) == (0, True)

        assert await backend.stat(sha256_of(b"")) == 0
        assert await read_all(backend, sha256_of(b"")) == b""

    async def test_a_large_blob_streams_through_in_bounded_chunks(self) -> None:
        backend = await self.make_backend()
        data = os.urandom(20 * MiB)
        upload_id = new_upload_id()
        await backend.create_upload(upload_id)
        half = len(data) // 2

        await backend.append(upload_id, 0, stream(*split(data[:half], MiB - 1)))
        await backend.append(upload_id, half, stream(*split(data[half:], 256 * 1024)))
        assert await backend.commit(upload_id, sha256_of(data)) == (len(data), True)

        hasher = hashlib.sha256()
        received = 0
        async for chunk in await backend.read(sha256_of(data), chunk_size=MiB):
            assert 0 < len(chunk) <= MiB
            hasher.update(chunk)
            received += len(chunk)
        assert received == len(data)
        assert hasher.hexdigest() == sha256_of(data).hex

    # -- append ------------------------------------------------------------------------------------------

    @pytest.mark.parametrize("offset", [0, 4, 6, -1], ids=["behind", "inside", "ahead", "negative"])
    async def test_an_append_not_at_the_end_is_refused_and_changes_nothing(self, offset: int) -> None:
        backend = await self.make_backend()
        upload_id = new_upload_id()
        await backend.create_upload(upload_id)
        await backend.append(upload_id, 0, stream(CONTENT[:5]))

        with pytest.raises(OutOfRange) as refused:
            await backend.append(upload_id, offset, stream(b"XXXXX"))

        assert_code(refused.value, "RANGE_INVALID")
        assert await backend.upload_size(upload_id) == 5
        await backend.append(upload_id, 5, stream(CONTENT[5:]))
        assert await backend.commit(upload_id, sha256_of(CONTENT)) == (len(CONTENT), True)

    async def test_a_broken_stream_resumes_from_the_reported_size(self) -> None:
        backend = await self.make_backend()
        upload_id = new_upload_id()
        await backend.create_upload(upload_id)

        async def breaks_after_first_chunk() -> AsyncIterator[bytes]:
            yield CONTENT[:8]
            raise ConnectionResetError("client went away")

        with pytest.raises(ConnectionResetError):
            await backend.append(upload_id, 0, breaks_after_first_chunk())

        kept = await backend.upload_size(upload_id)
        assert 0 <= kept <= 8
        await backend.append(upload_id, kept, stream(CONTENT[kept:]))
        assert await backend.commit(upload_id, sha256_of(CONTENT)) == (len(CONTENT), True)
        assert await read_all(backend, sha256_of(CONTENT)) == CONTENT

    async def test_an_append_abandoned_mid_stream_leaves_the_upload_resumable(self) -> None:
        backend = await self.make_backend()
        upload_id = new_upload_id()
        await backend.create_upload(upload_id)
        stalled = asyncio.Event()

        async def stalls_after_first_chunk() -> AsyncIterator[bytes]:
            yield CONTENT[:8]
            stalled.set()
            await asyncio.Event().wait()
            yield b"never sent"

        abandoned = asyncio.create_task(backend.append(upload_id, 0, stalls_after_first_chunk()))
        await stalled.wait()
        abandoned.cancel()
        with pytest.raises(asyncio.CancelledError):
            await abandoned

        kept = await backend.upload_size(upload_id)
        assert 0 <= kept <= 8
        await backend.append(upload_id, kept, stream(CONTENT[kept:]))
        assert await backend.commit(upload_id, sha256_of(CONTENT)) == (len(CONTENT), True)

    async def test_an_upload_has_one_writer_at_a_time(self) -> None:
        backend = await self.make_backend()
        upload_id = new_upload_id()
        await backend.create_upload(upload_id)
        writing, release = asyncio.Event(), asyncio.Event()

        async def slow_writer() -> AsyncIterator[bytes]:
            writing.set()
            yield CONTENT[:10]
            await release.wait()
            yield CONTENT[10:]

        first = asyncio.create_task(backend.append(upload_id, 0, slow_writer()))
        await writing.wait()
        second = asyncio.create_task(backend.append(upload_id, 0, stream(b"X" * len(CONTENT))))
        # A backend may refuse the second writer at once, or make it wait for the first and then refuse it.
        await asyncio.wait([second], timeout=2)
        release.set()
        first_result, second_result = await asyncio.gather(first, second, return_exceptions=True)

        assert first_result == len(CONTENT)
        assert isinstance(second_result, ConcurrencyConflict | OutOfRange), second_result
        assert await backend.commit(upload_id, sha256_of(CONTENT)) == (len(CONTENT), True)

    # -- commit ------------------------------------------------------------------------------------------

    async def test_a_commit_with_the_wrong_digest_is_refused_and_leaves_nothing(self) -> None:
        backend = await self.make_backend()
        upload_id = new_upload_id()
        await backend.create_upload(upload_id)
        await backend.append(upload_id, 0, stream(CONTENT))
        claimed = sha256_of(b"something else")

        with pytest.raises(InvalidArgument) as refused:
            await backend.commit(upload_id, claimed)

        assert_code(refused.value, "DIGEST_INVALID")
        assert str(claimed) in str(refused.value) and str(sha256_of(CONTENT)) in str(refused.value)
        assert await backend.stat(claimed) is None
        assert await backend.stat(sha256_of(CONTENT)) is None
        with pytest.raises(NotFound):
            await backend.upload_size(upload_id)

    async def test_identical_content_is_stored_once(self) -> None:
        backend = await self.make_backend()
        assert await upload(backend, CONTENT) == (len(CONTENT), True)
        upload_id = new_upload_id()
        await backend.create_upload(upload_id)
        await backend.append(upload_id, 0, stream(CONTENT))

        assert await backend.commit(upload_id, sha256_of(CONTENT)) == (len(CONTENT), False)

        assert await read_all(backend, sha256_of(CONTENT)) == CONTENT
        with pytest.raises(NotFound):
            await backend.upload_size(upload_id)

    async def test_a_committed_upload_is_closed(self) -> None:
        backend = await self.make_backend()
        upload_id = new_upload_id()
        await backend.create_upload(upload_id)
        await backend.append(upload_id, 0, stream(CONTENT))
        await backend.commit(upload_id, sha256_of(CONTENT))

        attempts: list[Callable[[], Awaitable[object]]] = [
            lambda: backend.upload_size(upload_id),
            lambda: backend.append(upload_id, len(CONTENT), stream(b"more")),
            lambda: backend.commit(upload_id, sha256_of(CONTENT)),
        ]
        for attempt in attempts:
            with pytest.raises(NotFound) as unknown:
                await attempt()
            assert_code(unknown.value, "BLOB_UPLOAD_UNKNOWN")
        assert await read_all(backend, sha256_of(CONTENT)) == CONTENT

    async def test_a_sha512_digest_is_verified_and_addresses_the_blob(self) -> None:
        backend = await self.make_backend()

        with pytest.raises(InvalidArgument):
            await upload(backend, CONTENT, sha512_of(b"something else"))
        assert await upload(backend, CONTENT, sha512_of(CONTENT)) == (len(CONTENT), True)

        assert await backend.stat(sha512_of(CONTENT)) == len(CONTENT)
        assert await backend.stat(sha256_of(CONTENT)) is None
        assert await read_all(backend, sha512_of(CONTENT)) == CONTENT

    # -- restarts and replicas ---------------------------------------------------------------------------

    async def test_an_upload_continues_after_a_restart(self) -> None:
        before = await self.make_backend()
        upload_id = new_upload_id()
        await before.create_upload(upload_id)
        await before.append(upload_id, 0, stream(CONTENT[:7]))

        after = await self.make_backend()

        assert await after.upload_size(upload_id) == 7
        assert await after.append(upload_id, 7, stream(CONTENT[7:])) == len(CONTENT)
        assert await after.commit(upload_id, sha256_of(CONTENT)) == (len(CONTENT), True)
        assert await read_all(after, sha256_of(CONTENT)) == CONTENT

    async def test_a_commit_after_a_restart_still_verifies_the_digest(self) -> None:
        before = await self.make_backend()
        upload_id = new_upload_id()
        await before.create_upload(upload_id)
        await before.append(upload_id, 0, stream(CONTENT))

        after = await self.make_backend()

        with pytest.raises(InvalidArgument):
            await after.commit(upload_id, sha256_of(CONTENT[:-1]))
        assert await after.stat(sha256_of(CONTENT[:-1])) is None

    async def test_replicas_may_take_turns_appending_to_one_upload(self) -> None:
        first, second = await self.make_backend(), await self.make_backend()
        upload_id = new_upload_id()
        await first.create_upload(upload_id)

        await first.append(upload_id, 0, stream(CONTENT[:5]))
        await second.append(upload_id, 5, stream(CONTENT[5:12]))
        await first.append(upload_id, 12, stream(CONTENT[12:]))

        assert await first.commit(upload_id, sha256_of(CONTENT)) == (len(CONTENT), True)
        assert await read_all(second, sha256_of(CONTENT)) == CONTENT

    # -- cancel, unknown and malformed uploads ----------------------------------------------------------

    async def test_a_cancelled_upload_is_gone(self) -> None:
        backend = await self.make_backend()
        upload_id = new_upload_id()
        await backend.create_upload(upload_id)
        await backend.append(upload_id, 0, stream(CONTENT))

        await backend.cancel(upload_id)

        attempts: list[Callable[[], Awaitable[object]]] = [
            lambda: backend.upload_size(upload_id),
            lambda: backend.append(upload_id, len(CONTENT), stream(b"more")),
            lambda: backend.commit(upload_id, sha256_of(CONTENT)),
            lambda: backend.cancel(upload_id),
        ]
        for attempt in attempts:
            with pytest.raises(NotFound) as unknown:
                await attempt()
            assert_code(unknown.value, "BLOB_UPLOAD_UNKNOWN")
        assert await backend.stat(sha256_of(CONTENT)) is None

    async def test_an_upload_id_cannot_be_opened_twice(self) -> None:
        backend = await self.make_backend()
        upload_id = new_upload_id()
        await backend.create_upload(upload_id)
        await backend.append(upload_id, 0, stream(CONTENT))

        with pytest.raises(AlreadyExists):
            await backend.create_upload(upload_id)
        assert await backend.upload_size(upload_id) == len(CONTENT)

    @pytest.mark.parametrize(
        "upload_id",
        ["../../etc/passwd", "", ".", "A" * 32, str(uuid.UUID(int=7)), "0" * 31 + "/", "0" * 33],
    )
    async def test_a_malformed_upload_id_is_refused(self, upload_id: str) -> None:
        backend = await self.make_backend()

        attempts: list[Callable[[], Awaitable[object]]] = [
            lambda: backend.create_upload(upload_id),
            lambda: backend.upload_size(upload_id),
            lambda: backend.append(upload_id, 0, stream(CONTENT)),
            lambda: backend.commit(upload_id, sha256_of(CONTENT)),
            lambda: backend.cancel(upload_id),
        ]
        for attempt in attempts:
            with pytest.raises(InvalidArgument) as refused:
                await attempt()
            assert_code(refused.value, "BLOB_UPLOAD_INVALID")

    # -- reads, stat, delete -----------------------------------------------------------------------------

    @pytest.mark.parametrize(
        ("offset", "length", "expected"),
        [
            (0, None, CONTENT),
            (3, None, CONTENT[3:]),
            (3, 4, CONTENT[3:7]),
            (0, len(CONTENT), CONTENT),
            (len(CONTENT) - 1, 1, CONTENT[-1:]),
            (7, 0, b""),
            (len(CONTENT), None, b""),
        ],
    )
    async def test_a_range_read_returns_exactly_the_bytes_asked_for(
        self, offset: int, length: int | None, expected: bytes
    ) -> None:
        backend = await self.make_backend()
        await upload(backend, CONTENT)

        assert await read_all(backend, sha256_of(CONTENT), offset=offset, length=length) == expected

    @pytest.mark.parametrize(
        ("offset", "length"),
        [(-1, None), (len(CONTENT) + 1, None), (0, len(CONTENT) + 1), (len(CONTENT), 1), (5, -1)],
    )
    async def test_a_range_outside_the_blob_is_refused(self, offset: int, length: int | None) -> None:
        backend = await self.make_backend()
        await upload(backend, CONTENT)

        with pytest.raises(OutOfRange) as refused:
            await read_all(backend, sha256_of(CONTENT), offset=offset, length=length)
        assert_code(refused.value, "RANGE_INVALID")

    async def test_reads_come_in_chunks_no_larger_than_asked(self) -> None:
        backend = await self.make_backend()
        await upload(backend, CONTENT)

        chunks = await read_chunks(backend, sha256_of(CONTENT), offset=1, chunk_size=3)

        assert b"".join(chunks) == CONTENT[1:]
        assert all(0 < len(chunk) <= 3 for chunk in chunks)
        assert len(chunks) == 7

    async def test_a_missing_blob_has_no_size_and_cannot_be_read(self) -> None:
        backend = await self.make_backend()

        assert await backend.stat(sha256_of(CONTENT)) is None
        with pytest.raises(NotFound) as unknown:
            await backend.read(sha256_of(CONTENT))
        assert_code(unknown.value, "BLOB_UNKNOWN")

    async def test_a_deleted_blob_is_gone(self) -> None:
        backend = await self.make_backend()
        await upload(backend, CONTENT)
        await upload(backend, CONTENT[1:])

        await backend.delete(sha256_of(CONTENT))

        assert await backend.stat(sha256_of(CONTENT)) is None
        with pytest.raises(NotFound):
            await backend.read(sha256_of(CONTENT))
        assert await read_all(backend, sha256_of(CONTENT[1:])) == CONTENT[1:]
        with pytest.raises(NotFound) as unknown:
            await backend.delete(sha256_of(CONTENT))
        assert_code(unknown.value, "BLOB_UNKNOWN")

    async def test_deleted_content_can_be_stored_again(self) -> None:
        backend = await self.make_backend()
        await upload(backend, CONTENT)
        await backend.delete(sha256_of(CONTENT))

        assert await upload(backend, CONTENT) == (len(CONTENT), True)
        assert await read_all(backend, sha256_of(CONTENT)) == CONTENT
