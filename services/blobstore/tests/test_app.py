"""The blobstore app on a real database and the filesystem backend: sessions, bytes, blobs and their rules."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from backend_contract import split, stream

from hangar.blobstore.app import App
from hangar.blobstore.domain import UploadSession, UploadState
from hangar.blobstore.filesystem import FilesystemBackend
from hangar.kit.errors import DomainError, FailedPrecondition, InvalidArgument, NotFound, OutOfRange
from hangar.kit.uow import UnitOfWorkFactory

pytestmark = pytest.mark.asyncio

OWNER = "acme/platform/api"
CONTENT = bytes(range(256)) * 1000  # 256 000 bytes


def sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def sha512(data: bytes) -> str:
    return f"sha512:{hashlib.sha512(data).hexdigest()}"


@pytest.fixture
def blob_dir(tmp_path: Path) -> Path:
    return tmp_path / "blobs"


@pytest.fixture
def app(uow: UnitOfWorkFactory[Any], blob_dir: Path) -> App:
    return App(uow, FilesystemBackend(blob_dir))


async def read_all(app: App, digest: str, offset: int = 0, length: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in await app.read(digest, offset, length)])


async def upload(app: App, data: bytes, digest: str | None = None, owner: str = OWNER) -> tuple[str, int]:
    upload_id = await app.start_upload(owner)
    await app.write(upload_id, 0, stream(*split(data, 64 * 1024)))
    return await app.commit(upload_id, digest or sha256(data))


async def upload_state(uow: UnitOfWorkFactory[Any], upload_id: str) -> UploadState | None:
    async with uow(readonly=True) as unit:
        view = await unit.views.upload(upload_id)
    return None if view is None else view.state


async def recorded(uow: UnitOfWorkFactory[Any], upload_id: str) -> list[Any]:
    async with uow(readonly=True) as unit:
        return [e.event for e in await unit.events.load(UploadSession.stream_for(upload_id))]


def code_of(error: pytest.ExceptionInfo[DomainError]) -> str:
    return error.value.code


# -- the round trip ----------------------------------------------------------------------------------------


async def test_an_upload_written_in_pieces_and_committed_reads_back_byte_for_byte(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    upload_id = await app.start_upload(OWNER)
    half = len(CONTENT) // 2

    assert await app.write(upload_id, 0, stream(*split(CONTENT[:half], 10_000))) == half
    assert await app.query(upload_id) == (OWNER, half)
    assert await app.write(upload_id, half, stream(CONTENT[half:])) == len(CONTENT)
    digest, size = await app.commit(upload_id, sha256(CONTENT))

    assert (digest, size) == (sha256(CONTENT), len(CONTENT))
    assert await app.stat(digest) == len(CONTENT)
    assert await read_all(app, digest) == CONTENT
    assert await upload_state(uow, upload_id) is UploadState.COMMITTED


async def test_a_session_changed_while_its_bytes_were_committed_is_not_recorded_over(
    uow: UnitOfWorkFactory[Any], blob_dir: Path
) -> None:
    """The commit decides on the session it read before the backend ran; a change made meanwhile (here a
    cancel, as another replica could record) makes that a lost race: reloaded, and refused."""

    class ChangedDuringCommit(FilesystemBackend):
        async def commit(self, upload_id: str, expected: Any, written: Any = None) -> tuple[int, bool]:
            committed = await super().commit(upload_id, expected, written)
            await app._record(upload_id, lambda session: session.cancel("elsewhere"))
            return committed

    app = App(uow, ChangedDuringCommit(blob_dir))
    upload_id = await app.start_upload(OWNER)
    await app.write(upload_id, 0, stream(CONTENT))

    with pytest.raises(FailedPrecondition):
        await app.commit(upload_id, sha256(CONTENT))

    assert [type(event).__name__ for event in await recorded(uow, upload_id)] == [
        "UploadStarted",
        "UploadCancelled",
    ]


async def test_upload_ids_are_fresh_uuids_in_hex(app: App) -> None:
    first, second = await app.start_upload(OWNER), await app.start_upload(OWNER)

    assert first != second
    assert len(first) == 32 and int(first, 16) >= 0


async def test_starting_an_upload_records_it_for_its_repository(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    upload_id = await app.start_upload(OWNER)

    async with uow(readonly=True) as unit:
        view = await unit.views.upload(upload_id)
    assert view is not None
    assert (view.owner, view.state) == (OWNER, UploadState.OPEN)
    assert view.created_at == view.updated_at and view.created_at.tzinfo is not None
    assert await app.query(upload_id) == (OWNER, 0)


async def test_several_uploads_open_at_once_each_recorded_open_and_writable(
    app: App, uow: UnitOfWorkFactory[Any], blob_dir: Path
) -> None:
    opened = await app.start_uploads(OWNER, 3)

    assert len(set(opened)) == 3
    for upload_id in opened:
        assert await upload_state(uow, upload_id) is UploadState.OPEN
        assert await app.query(upload_id) == (OWNER, 0)
        assert (blob_dir / "uploads" / upload_id).is_file()
    await app.write(opened[1], 0, stream(CONTENT))
    assert await app.commit(opened[1], sha256(CONTENT)) == (sha256(CONTENT), len(CONTENT))
    assert await upload_state(uow, opened[0]) is UploadState.OPEN


@pytest.mark.parametrize("count", [0, -1, 17])
async def test_opening_no_uploads_or_more_than_16_at_once_is_refused_and_opens_nothing(
    app: App, blob_dir: Path, count: int
) -> None:
    with pytest.raises(InvalidArgument, match="1 to 16"):
        await app.start_uploads(OWNER, count)

    assert not (blob_dir / "uploads").exists() or not any((blob_dir / "uploads").iterdir())


@pytest.mark.parametrize("fails", ["creating a file", "recording"])
async def test_uploads_opened_at_once_leave_nothing_behind_when_one_cannot_be_opened(
    uow: UnitOfWorkFactory[Any], blob_dir: Path, fails: str
) -> None:
    taken = "a" * 32
    ids = iter([taken, "b" * 32, taken])  # the batch's second id is taken
    app = App(uow, FilesystemBackend(blob_dir), new_id=lambda: next(ids))
    await app.start_upload(OWNER)
    if fails == "recording":  # the file can be created, but the session's stream already exists
        (blob_dir / "uploads" / taken).unlink()
    before = sorted(path.name for path in (blob_dir / "uploads").iterdir())

    with pytest.raises(DomainError):
        await app.start_uploads(OWNER, 2)

    assert sorted(path.name for path in (blob_dir / "uploads").iterdir()) == before
    assert await upload_state(uow, "b" * 32) is None
    assert await upload_state(uow, taken) is UploadState.OPEN


async def test_an_upload_needs_a_repository(app: App) -> None:
    with pytest.raises(InvalidArgument) as error:
        await app.start_upload("  ")

    assert code_of(error) == "NAME_INVALID"


async def test_a_sha512_digest_is_verified_too(app: App) -> None:
    digest, size = await upload(app, CONTENT, sha512(CONTENT))

    assert (digest, size) == (sha512(CONTENT), len(CONTENT))
    assert await read_all(app, digest) == CONTENT


async def test_an_empty_blob_can_be_stored_and_read(app: App) -> None:
    digest, size = await upload(app, b"")

    assert size == 0
    assert await app.stat(digest) == 0
    assert await read_all(app, digest) == b""


async def test_identical_content_is_stored_once_and_the_second_commit_says_so(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    first = await app.start_upload(OWNER)
    second = await app.start_upload("acme/other")
    for upload_id in (first, second):
        await app.write(upload_id, 0, stream(CONTENT))

    assert await app.commit(first, sha256(CONTENT)) == (sha256(CONTENT), len(CONTENT))
    assert await app.commit(second, sha256(CONTENT)) == (sha256(CONTENT), len(CONTENT))

    assert [e.new_content for e in (await recorded(uow, first))[1:]] == [True]
    assert [e.new_content for e in (await recorded(uow, second))[1:]] == [False]
    assert await app.stat(sha256(CONTENT)) == len(CONTENT)


async def test_committing_again_with_the_same_digest_answers_the_same(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    upload_id = await app.start_upload(OWNER)
    await app.write(upload_id, 0, stream(CONTENT))
    answer = await app.commit(upload_id, sha256(CONTENT))

    assert await app.commit(upload_id, sha256(CONTENT)) == answer
    assert len(await recorded(uow, upload_id)) == 2
    with pytest.raises(FailedPrecondition) as error:
        await app.commit(upload_id, sha256(b"other content"))
    assert code_of(error) == "BLOB_UPLOAD_UNKNOWN"


# -- a digest that does not match --------------------------------------------------------------------------


async def test_a_commit_with_the_wrong_digest_is_refused_and_leaves_nothing_visible(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    upload_id = await app.start_upload(OWNER)
    await app.write(upload_id, 0, stream(CONTENT))
    claimed = sha256(b"something else")

    with pytest.raises(InvalidArgument) as error:
        await app.commit(upload_id, claimed)

    assert code_of(error) == "DIGEST_INVALID"
    for digest in (claimed, sha256(CONTENT)):
        with pytest.raises(NotFound) as missing:
            await app.stat(digest)
        assert code_of(missing) == "BLOB_UNKNOWN"
        with pytest.raises(NotFound):
            await app.read(digest)
    assert await upload_state(uow, upload_id) is UploadState.CANCELLED
    assert (await recorded(uow, upload_id))[-1].reason == "digest mismatch"


async def test_a_refused_upload_accepts_nothing_more(app: App) -> None:
    upload_id = await app.start_upload(OWNER)
    await app.write(upload_id, 0, stream(CONTENT))
    with pytest.raises(InvalidArgument):
        await app.commit(upload_id, sha256(b"something else"))

    for attempt in (
        lambda: app.write(upload_id, len(CONTENT), stream(b"more")),
        lambda: app.query(upload_id),
        lambda: app.commit(upload_id, sha256(CONTENT)),
        lambda: app.cancel(upload_id),
    ):
        with pytest.raises(FailedPrecondition) as error:
            await attempt()
        assert code_of(error) == "BLOB_UPLOAD_UNKNOWN"


async def test_a_malformed_digest_is_refused_before_anything_happens(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    upload_id = await app.start_upload(OWNER)
    await app.write(upload_id, 0, stream(CONTENT))

    with pytest.raises(InvalidArgument) as error:
        await app.commit(upload_id, "sha256:NOT-HEX")

    assert code_of(error) == "DIGEST_INVALID"
    assert await upload_state(uow, upload_id) is UploadState.OPEN
    assert await app.query(upload_id) == (OWNER, len(CONTENT))


# -- offsets and broken streams ----------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-1, 0, 5, 11])
async def test_a_write_not_at_the_end_of_the_upload_is_refused_and_changes_nothing(
    app: App, offset: int
) -> None:
    upload_id = await app.start_upload(OWNER)
    await app.write(upload_id, 0, stream(CONTENT[:10]))

    with pytest.raises(OutOfRange) as error:
        await app.write(upload_id, offset, stream(b"xyz"))

    assert code_of(error) == "RANGE_INVALID"
    assert await app.query(upload_id) == (OWNER, 10)


async def test_bytes_received_before_a_stream_breaks_are_kept_for_resuming(app: App) -> None:
    upload_id = await app.start_upload(OWNER)

    async def breaks() -> AsyncIterator[bytes]:
        yield CONTENT[:1000]
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        await app.write(upload_id, 0, breaks())

    _, size = await app.query(upload_id)
    assert size == 1000
    await app.write(upload_id, size, stream(CONTENT[size:]))
    assert await app.commit(upload_id, sha256(CONTENT)) == (sha256(CONTENT), len(CONTENT))


# -- restarts ----------------------------------------------------------------------------------------------


async def test_an_upload_survives_a_restart_and_continues_where_it_stopped(
    database_url: str,
    blob_dir: Path,
    open_units_of_work: Callable[[str], AbstractAsyncContextManager[UnitOfWorkFactory[Any]]],
) -> None:
    half = len(CONTENT) // 2
    async with open_units_of_work(database_url) as before:
        app = App(before, FilesystemBackend(blob_dir))
        upload_id = await app.start_upload(OWNER)
        await app.write(upload_id, 0, stream(CONTENT[:half]))

    async with open_units_of_work(database_url) as after:
        restarted = App(after, FilesystemBackend(blob_dir))
        assert await restarted.query(upload_id) == (OWNER, half)
        assert await restarted.write(upload_id, half, stream(CONTENT[half:])) == len(CONTENT)
        assert await restarted.commit(upload_id, sha256(CONTENT)) == (sha256(CONTENT), len(CONTENT))
        assert await read_all(restarted, sha256(CONTENT)) == CONTENT


# -- cancelling --------------------------------------------------------------------------------------------


async def test_a_cancelled_upload_is_gone_with_its_bytes(
    app: App, uow: UnitOfWorkFactory[Any], blob_dir: Path
) -> None:
    upload_id = await app.start_upload(OWNER)
    await app.write(upload_id, 0, stream(CONTENT))

    await app.cancel(upload_id)

    assert await upload_state(uow, upload_id) is UploadState.CANCELLED
    assert (await recorded(uow, upload_id))[-1].reason == "cancelled by client"
    assert not (blob_dir / "uploads" / upload_id).exists()
    with pytest.raises(FailedPrecondition):
        await app.cancel(upload_id)


# -- who may see an upload ---------------------------------------------------------------------------------


async def test_an_upload_is_unknown_to_callers_naming_another_repository(app: App) -> None:
    upload_id = await app.start_upload(OWNER)
    await app.write(upload_id, 0, stream(CONTENT), owner=OWNER)
    other = "acme/other"

    for attempt in (
        lambda: app.write(upload_id, len(CONTENT), stream(b"more"), owner=other),
        lambda: app.query(upload_id, owner=other),
        lambda: app.commit(upload_id, sha256(CONTENT), owner=other),
        lambda: app.cancel(upload_id, owner=other),
    ):
        with pytest.raises(NotFound) as error:
            await attempt()
        assert code_of(error) == "BLOB_UPLOAD_UNKNOWN"
    assert await app.query(upload_id, owner=OWNER) == (OWNER, len(CONTENT))
    assert await app.commit(upload_id, sha256(CONTENT), owner=OWNER) == (sha256(CONTENT), len(CONTENT))


async def test_an_unknown_upload_is_not_found_and_a_malformed_id_is_invalid(app: App) -> None:
    unknown = "0" * 32
    for attempt in (
        lambda: app.write(unknown, 0, stream(b"x")),
        lambda: app.query(unknown),
        lambda: app.commit(unknown, sha256(b"x")),
        lambda: app.cancel(unknown),
    ):
        with pytest.raises(NotFound) as error:
            await attempt()
        assert code_of(error) == "BLOB_UPLOAD_UNKNOWN"

    with pytest.raises(InvalidArgument) as invalid:
        await app.query("../../etc/passwd")
    assert code_of(invalid) == "BLOB_UPLOAD_INVALID"


# -- reading -----------------------------------------------------------------------------------------------


async def test_a_range_of_a_blob_reads_exactly_those_bytes(app: App) -> None:
    digest, _ = await upload(app, CONTENT)

    assert await read_all(app, digest, 1000, 5000) == CONTENT[1000:6000]
    assert await read_all(app, digest, len(CONTENT) - 7) == CONTENT[-7:]


async def test_a_range_beyond_the_blob_is_refused(app: App) -> None:
    digest, _ = await upload(app, CONTENT)

    with pytest.raises(OutOfRange) as error:
        await app.read(digest, len(CONTENT) - 10, 11)

    assert code_of(error) == "RANGE_INVALID"


async def test_an_unknown_blob_is_not_found(app: App) -> None:
    for attempt in (lambda: app.stat(sha256(b"never stored")), lambda: app.read(sha256(b"never stored"))):
        with pytest.raises(NotFound) as error:
            await attempt()
        assert code_of(error) == "BLOB_UNKNOWN"
