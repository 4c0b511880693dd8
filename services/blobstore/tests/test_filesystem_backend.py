"""The filesystem backend passes the backend contract and keeps its documented on-disk layout."""

from __future__ import annotations

import errno
import hashlib
import os
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from backend_contract import CONTENT, BlobBackendContract, new_upload_id, sha256_of, sha512_of, stream, upload

from hangar.blobstore.backend import BlobBackend, MiB
from hangar.blobstore.domain import Digest
from hangar.blobstore.filesystem import FilesystemBackend

pytestmark = pytest.mark.asyncio


class TestFilesystemBackend(BlobBackendContract):
    @pytest.fixture(autouse=True)
    def _storage(self, tmp_path: Path) -> None:
        self.root = tmp_path / "blobstore"

    async def make_backend(self) -> BlobBackend:
        return FilesystemBackend(self.root)


def files_under(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


async def test_a_blob_lives_at_its_documented_path_and_nothing_else_remains(tmp_path: Path) -> None:
    backend = FilesystemBackend(tmp_path)
    digest = sha256_of(CONTENT)

    await upload(backend, CONTENT)

    assert files_under(tmp_path) == [f"blobs/sha256/{digest.hex[:2]}/{digest.hex}"]
    assert (tmp_path / "blobs" / "sha256" / digest.hex[:2] / digest.hex).read_bytes() == CONTENT


async def test_an_open_upload_lives_at_its_documented_path(tmp_path: Path) -> None:
    backend = FilesystemBackend(tmp_path)
    upload_id = new_upload_id()
    await backend.create_upload(upload_id)

    await backend.append(upload_id, 0, stream(CONTENT))

    assert (tmp_path / "uploads" / upload_id).read_bytes() == CONTENT


async def test_refused_and_cancelled_uploads_leave_no_files(tmp_path: Path) -> None:
    backend = FilesystemBackend(tmp_path)
    refused, cancelled = new_upload_id(), new_upload_id()
    for upload_id in (refused, cancelled):
        await backend.create_upload(upload_id)
        await backend.append(upload_id, 0, stream(CONTENT))

    with pytest.raises(Exception, match="digest mismatch"):
        await backend.commit(refused, sha512_of(b"other"))
    await backend.cancel(cancelled)

    assert files_under(tmp_path) == []


def refuse_links(monkeypatch: pytest.MonkeyPatch, error_number: int) -> None:
    def link(source: object, target: object) -> None:
        raise OSError(error_number, os.strerror(error_number))

    monkeypatch.setattr(os, "link", link)


async def test_without_hard_links_blobs_are_renamed_into_place_and_still_deduplicated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_links(monkeypatch, errno.EPERM)
    backend = FilesystemBackend(tmp_path)

    assert await upload(backend, CONTENT) == (len(CONTENT), True)
    assert await upload(backend, CONTENT) == (len(CONTENT), False)

    assert files_under(tmp_path) == [f"blobs/sha256/{sha256_of(CONTENT).hex[:2]}/{sha256_of(CONTENT).hex}"]


async def test_a_commit_that_fails_to_publish_hands_the_upload_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = FilesystemBackend(tmp_path)
    upload_id = new_upload_id()
    await backend.create_upload(upload_id)
    await backend.append(upload_id, 0, stream(CONTENT))

    with monkeypatch.context() as patched:
        refuse_links(patched, errno.EIO)
        with pytest.raises(OSError, match="Input/output"):
            await backend.commit(upload_id, sha256_of(CONTENT))

    assert await backend.stat(sha256_of(CONTENT)) is None
    assert await backend.upload_size(upload_id) == len(CONTENT)
    assert await backend.commit(upload_id, sha256_of(CONTENT)) == (len(CONTENT), True)


async def generated(total: int, chunk: int) -> AsyncIterator[bytes]:
    """`total` bytes, made one chunk at a time so the test itself never holds the whole blob."""
    for index in range(total // chunk):
        yield index.to_bytes(8, "big") * (chunk // 8)


def generated_digest(algorithm: str, total: int, chunk: int) -> Digest:
    hasher = hashlib.new(algorithm)
    for index in range(total // chunk):
        hasher.update(index.to_bytes(8, "big") * (chunk // 8))
    return Digest(algorithm, hasher.hexdigest())


async def test_memory_stays_flat_for_a_blob_many_times_larger_than_any_buffer(tmp_path: Path) -> None:
    total, chunk = 128 * MiB, 256 * 1024
    expected = generated_digest("sha512", total, chunk)
    upload_id = new_upload_id()
    await FilesystemBackend(tmp_path).create_upload(upload_id)

    tracemalloc.start()
    try:
        await FilesystemBackend(tmp_path).append(upload_id, 0, generated(total, chunk))
        # A fresh instance has no hasher, and sha512 is never streamed: both force a rehash from disk.
        backend = FilesystemBackend(tmp_path)
        assert await backend.commit(upload_id, expected) == (total, True)
        received = 0
        async for block in await backend.read(expected, chunk_size=4 * MiB):
            received += len(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert received == total
    assert peak < 32 * MiB, f"peak {peak / MiB:.1f} MiB for a {total // MiB} MiB blob"
