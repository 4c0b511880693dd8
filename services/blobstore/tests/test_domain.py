"""The blobstore's domain rules: digests, upload ids, offsets, ranges and the upload session aggregate."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from hangar.blobstore.domain import (
    BlobStored,
    Digest,
    UploadCancelled,
    UploadSession,
    UploadStarted,
    UploadState,
    check_offset,
    check_upload_id,
    resolve_range,
)
from hangar.kit.errors import DomainError, FailedPrecondition, InvalidArgument, NotFound, OutOfRange

SHA256_HEX = hashlib.sha256(b"layer").hexdigest()
SHA512_HEX = hashlib.sha512(b"layer").hexdigest()
OWNER = "acme/platform/api"


def upload_id() -> str:
    return uuid.uuid4().hex


def code_of(error: pytest.ExceptionInfo[DomainError]) -> str:
    return error.value.code


# -- Digest ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "algorithm", "hex_part"),
    [
        (f"sha256:{SHA256_HEX}", "sha256", SHA256_HEX),
        (f"sha512:{SHA512_HEX}", "sha512", SHA512_HEX),
    ],
)
def test_a_digest_parses_into_algorithm_and_hex_and_prints_back(
    text: str, algorithm: str, hex_part: str
) -> None:
    digest = Digest.parse(text)

    assert (digest.algorithm, digest.hex) == (algorithm, hex_part)
    assert str(digest) == text
    assert hashlib.new(digest.hashlib_name, b"layer").hexdigest() == digest.hex


@pytest.mark.parametrize(
    "text",
    [
        "",
        SHA256_HEX,
        f"sha256:{SHA256_HEX[:-1]}",
        f"sha256:{SHA256_HEX}0",
        f"sha256:{SHA256_HEX.upper()}",
        f"sha256:{SHA256_HEX[:-1]}g",
        f"sha256:{SHA512_HEX}",
        f"sha512:{SHA256_HEX}",
        f"md5:{'0' * 32}",
        f"SHA256:{SHA256_HEX}",
        f"sha256:{SHA256_HEX}\n",
        f" sha256:{SHA256_HEX}",
    ],
    ids=[
        "empty",
        "no-algorithm",
        "short",
        "long",
        "uppercase",
        "not-hex",
        "sha256-too-long",
        "sha512-too-short",
        "unsupported",
        "algorithm-case",
        "trailing-newline",
        "leading-space",
    ],
)
def test_anything_but_a_supported_well_formed_digest_is_refused(text: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        Digest.parse(text)

    assert code_of(refused) == "DIGEST_INVALID"


def test_a_digest_cannot_be_built_invalid_directly() -> None:
    with pytest.raises(InvalidArgument):
        Digest("sha256", "abc")


def test_digests_are_equal_by_value_and_hashable() -> None:
    assert Digest.parse(f"sha256:{SHA256_HEX}") == Digest("sha256", SHA256_HEX)
    assert len({Digest.parse(f"sha256:{SHA256_HEX}"), Digest("sha256", SHA256_HEX)}) == 1


# -- upload ids, offsets, ranges ---------------------------------------------------------------------------


def test_an_upload_id_is_a_uuid_in_hex() -> None:
    value = upload_id()

    assert check_upload_id(value) == value


@pytest.mark.parametrize("value", ["", "../" + "0" * 29, str(uuid.uuid4()), "A" * 32, "0" * 31, "0" * 33])
def test_anything_else_is_not_an_upload_id(value: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        check_upload_id(value)

    assert code_of(refused) == "BLOB_UPLOAD_INVALID"


def test_an_append_must_start_where_the_upload_ends() -> None:
    check_offset(10, 10)

    with pytest.raises(OutOfRange) as refused:
        check_offset(4, 10)

    assert code_of(refused) == "RANGE_INVALID"
    assert "expected offset 10" in str(refused.value)


@pytest.mark.parametrize(
    ("offset", "length", "expected"),
    [
        (0, None, (0, 10)),
        (4, None, (4, 10)),
        (4, 3, (4, 7)),
        (10, None, (10, 10)),
        (10, 0, (10, 10)),
        (0, 10, (0, 10)),
    ],
)
def test_a_range_resolves_to_start_and_end(
    offset: int, length: int | None, expected: tuple[int, int]
) -> None:
    assert resolve_range(10, offset, length) == expected


@pytest.mark.parametrize(("offset", "length"), [(-1, None), (11, None), (0, 11), (10, 1), (4, -1)])
def test_a_range_beyond_the_blob_is_refused(offset: int, length: int | None) -> None:
    with pytest.raises(OutOfRange) as refused:
        resolve_range(10, offset, length)

    assert code_of(refused) == "RANGE_INVALID"


def test_an_empty_blob_has_one_readable_range_the_empty_one() -> None:
    assert resolve_range(0) == (0, 0)


# -- UploadSession -----------------------------------------------------------------------------------------


def test_starting_an_upload_opens_it_for_its_repository() -> None:
    uid = upload_id()

    session = UploadSession.start(uid, OWNER)

    assert session.state is UploadState.OPEN
    assert session.owner == OWNER
    assert session.stream_id == f"upload-{uid}"
    assert session.collect() == [UploadStarted(upload_id=uid, owner=OWNER)]


def test_an_upload_needs_a_repository_and_a_valid_id() -> None:
    with pytest.raises(InvalidArgument):
        UploadSession.start(upload_id(), "  ")
    with pytest.raises(InvalidArgument) as refused:
        UploadSession.start("../escape", OWNER)
    assert code_of(refused) == "BLOB_UPLOAD_INVALID"


def test_a_write_must_land_at_the_current_end() -> None:
    session = UploadSession.start(upload_id(), OWNER)
    session.check_write(0, 0)
    session.check_write(512, 512)

    with pytest.raises(OutOfRange) as refused:
        session.check_write(0, 512)

    assert code_of(refused) == "RANGE_INVALID"
    assert "expected offset 512" in str(refused.value)


def test_committing_with_the_promised_digest_stores_the_blob() -> None:
    session = UploadSession.start(upload_id(), OWNER)
    session.collect()
    digest = Digest("sha256", SHA256_HEX)

    session.commit(digest, digest, size=5, new_content=True)

    assert session.state is UploadState.COMMITTED
    assert (session.digest, session.size) == (digest, 5)
    assert session.collect() == [
        BlobStored(upload_id=session.id, digest=str(digest), size=5, new_content=True)
    ]


def test_a_commit_whose_content_hashes_differently_is_refused_and_records_nothing() -> None:
    session = UploadSession.start(upload_id(), OWNER)
    session.collect()
    expected = Digest("sha256", SHA256_HEX)
    actual = Digest("sha256", hashlib.sha256(b"other").hexdigest())

    with pytest.raises(InvalidArgument) as refused:
        session.commit(expected, actual, size=5, new_content=True)

    assert code_of(refused) == "DIGEST_INVALID"
    assert str(expected) in str(refused.value) and str(actual) in str(refused.value)
    assert session.state is UploadState.OPEN
    assert session.collect() == []


def test_cancelling_an_upload_records_why() -> None:
    session = UploadSession.start(upload_id(), OWNER)
    session.collect()

    session.cancel("digest mismatch")

    assert session.state is UploadState.CANCELLED
    assert session.collect() == [UploadCancelled(upload_id=session.id, reason="digest mismatch")]


def _committed() -> UploadSession:
    session = UploadSession.start(upload_id(), OWNER)
    digest = Digest("sha256", SHA256_HEX)
    session.commit(digest, digest, size=5, new_content=False)
    return session


def _cancelled() -> UploadSession:
    session = UploadSession.start(upload_id(), OWNER)
    session.cancel("client gave up")
    return session


@pytest.mark.parametrize(
    "closed",
    [_committed, _cancelled, lambda: UploadSession(upload_id())],
    ids=["committed", "cancelled", "never-started"],
)
@pytest.mark.parametrize("command", ["write", "commit", "cancel"])
def test_an_upload_that_is_not_open_accepts_no_command(closed: object, command: str) -> None:
    assert callable(closed)
    session: UploadSession = closed()
    digest = Digest("sha256", SHA256_HEX)
    session.collect()

    with pytest.raises(FailedPrecondition) as refused:
        if command == "write":
            session.check_write(0, 0)
        elif command == "commit":
            session.commit(digest, digest, size=5, new_content=True)
        else:
            session.cancel("again")

    assert code_of(refused) == "BLOB_UPLOAD_UNKNOWN"
    assert session.collect() == []


def test_a_session_rehydrates_from_its_events() -> None:
    original = _committed()
    events = original.collect()

    restored = UploadSession.rehydrate(original.id, events)

    assert (restored.state, restored.owner, restored.digest, restored.size) == (
        UploadState.COMMITTED,
        OWNER,
        original.digest,
        5,
    )
    assert restored.version == 2 and restored.loaded_version == 2


# -- who sees an upload, and retried commits ---------------------------------------------------------------


def test_an_upload_is_unknown_to_a_caller_naming_another_repository() -> None:
    session = UploadSession.start(upload_id(), OWNER)
    session.check_access(None)
    session.check_access(OWNER)

    with pytest.raises(NotFound) as refused:
        session.check_access("acme/other")

    assert code_of(refused) == "BLOB_UPLOAD_UNKNOWN"


def test_an_upload_with_no_history_is_unknown_to_everyone() -> None:
    with pytest.raises(NotFound) as refused:
        UploadSession(upload_id()).check_access(None)

    assert code_of(refused) == "BLOB_UPLOAD_UNKNOWN"


def test_a_committed_upload_knows_it_was_committed_as_its_digest_only() -> None:
    session = _committed()

    assert session.committed_as(Digest("sha256", SHA256_HEX)) == 5
    assert session.committed_as(Digest("sha512", SHA512_HEX)) is None
    assert UploadSession.start(upload_id(), OWNER).committed_as(Digest("sha256", SHA256_HEX)) is None
