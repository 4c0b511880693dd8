"""The storage port: the small async capabilities every blob backend (filesystem, S3) provides."""

from __future__ import annotations

import abc
import collections
from collections.abc import AsyncIterable, AsyncIterator, Hashable
from typing import TYPE_CHECKING, Final, Protocol

from hangar.blobstore.domain import Digest, WrittenHash, resolve_range
from hangar.kit.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from hashlib import _Hash

MiB: Final = 1024 * 1024
DEFAULT_READ_CHUNK: Final = 1 * MiB


class BlobIngester(Protocol):
    """Resumable, append-only uploads (shaped like Google's ByteStream) committed under a verified digest.

    Upload ids are 32 lowercase hex characters (`domain.check_upload_id`), made by the caller and never
    reused; a malformed one is InvalidArgument with code BLOB_UPLOAD_INVALID. Every operation on an upload
    that does not exist is NotFound with code BLOB_UPLOAD_UNKNOWN. An upload has one writer at a time: an
    operation that overlaps another on the same upload (from any process) may be refused with
    ConcurrencyConflict. Upload data survives process restarts, and any replica may continue an upload begun
    on another one.

    Digests are computed while the bytes stream in, once. Backends hash incrementally with sha256 only (the
    digest every OCI client sends); a commit that asks for another algorithm (sha512) costs one extra read of
    the upload at commit time. Keeping a second incremental hasher would double the CPU spent on every
    sha256 upload, which is nearly all of them, to save that read on the rare other one.
    """

    async def create_upload(self, upload_id: str) -> None:
        """Open an empty upload. AlreadyExists if the id is taken."""
        ...

    async def upload_size(self, upload_id: str) -> int:
        """The number of bytes the upload holds: the offset of the next append."""
        ...

    async def append(self, upload_id: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        """Append a stream of chunks at `offset`, which must equal the upload's size; returns the new size.

        A wrong offset is OutOfRange (RANGE_INVALID) and changes nothing. If `chunks` breaks mid-stream the
        error propagates and some of the bytes received before it may be kept: the client asks
        `upload_size` and resumes from there.
        """
        ...

    async def commit(
        self, upload_id: str, expected: Digest, written: WrittenHash | None = None
    ) -> tuple[int, bool]:
        """Verify the upload hashes to `expected` and store it as that blob; returns `(size, new_content)`.

        On a mismatch the upload is deleted and InvalidArgument (DIGEST_INVALID) is raised. On success the
        content becomes visible under its digest atomically, only once durable, and the upload is gone. If
        the blob already exists the upload is dropped instead and `new_content` is False (deduplication).
        `written`: what a writer sharing the backend's files hashed as it wrote them (`WrittenHash`); a
        backend without shared files ignores it.
        """
        ...

    async def cancel(self, upload_id: str) -> None:
        """Delete the upload and the bytes it holds."""
        ...


class BlobStatter(Protocol):
    async def stat(self, digest: Digest) -> int | None:
        """The size of the stored blob, or None if there is no such blob."""
        ...


class BlobReader(Protocol):
    async def read(
        self, digest: Digest, offset: int = 0, length: int | None = None, chunk_size: int = DEFAULT_READ_CHUNK
    ) -> AsyncIterator[bytes]:
        """Stream `length` bytes (to the end if None) from `offset`, in chunks of at most `chunk_size`.

        Awaiting checks, before any byte is streamed, that the blob exists (NotFound, BLOB_UNKNOWN) and that
        the range fits it (`domain.resolve_range`; OutOfRange, RANGE_INVALID); then iterate the result:
        `async for chunk in await backend.read(digest): ...`. Close the iterator (`aclose()`) when stopping
        early. A blob deleted between the await and the first chunk may make iteration raise NotFound.
        """
        ...


class BlobDeleter(Protocol):
    async def delete(self, digest: Digest) -> None:
        """Delete the blob. NotFound (BLOB_UNKNOWN) if there is none."""
        ...


class BlobPresigner(Protocol):
    """What a backend whose blobs can be fetched straight from storage (S3) offers beside `BlobBackend`."""

    async def presign(self, digest: Digest, expires_in: int) -> str:
        """A URL that GETs exactly the blob's object (HTTP Range honoured) for `expires_in` seconds.

        Signed locally, without a request to storage, and without checking that the blob exists: the caller
        does. The URL is a bearer capability: never log its query (the signature).
        """
        ...


class BlobLocator(Protocol):
    """What a backend whose blobs are files (the filesystem) offers beside `BlobBackend`: where a committed
    blob's file lies, for readers sharing the directory (the gateway with HANGAR_SHARED_BLOB_DIR)."""

    async def locate(self, digest: Digest) -> tuple[str, int] | None:
        """The blob's file relative to the backend's root ('/'-separated) and its size, or None if the blob
        is not stored. Committed files are never modified, only deleted (garbage collection)."""
        ...

    def blob_file(self, digest: Digest) -> str:
        """Where a committed blob's file lies relative to the backend's root ('/'-separated), as `locate`
        would say; says nothing about whether it is there."""
        ...


class UploadLocator(Protocol):
    """What a backend whose uploads are files (the filesystem) offers beside `BlobBackend`: where an upload's
    data file lies, for writers sharing the directory (the gateway with HANGAR_SHARED_BLOB_DIR). Such a
    writer holds the file's exclusive flock while it writes, and writes only at the file's end; the backend
    hashes what it did not write itself from the file, and verifies the digest at commit as always."""

    def upload_file(self, upload_id: str) -> str:
        """The upload's data file relative to the backend's root ('/'-separated)."""
        ...


class BlobBackend(BlobIngester, BlobStatter, BlobReader, BlobDeleter, Protocol):
    """Everything the blobstore needs from storage. Every implementation passes `BlobBackendContract`."""


#: A caller's chunk size is capped so that one read never holds more than this.
MAX_READ_CHUNK: Final = 16 * MiB


def unknown_blob(digest: Digest) -> NotFound:
    return NotFound(f"blob {digest} does not exist", code="BLOB_UNKNOWN")


class RangedReads(abc.ABC):
    """`read` for every backend: check the arguments and the range before a byte moves, then stream."""

    @abc.abstractmethod
    async def stat(self, digest: Digest) -> int | None: ...

    @abc.abstractmethod
    def _stream(self, digest: Digest, start: int, end: int, chunk_size: int) -> AsyncIterator[bytes]:
        """Bytes [start, end) of the blob in chunks of at most `chunk_size`."""

    async def read(
        self, digest: Digest, offset: int = 0, length: int | None = None, chunk_size: int = DEFAULT_READ_CHUNK
    ) -> AsyncIterator[bytes]:
        if chunk_size <= 0:
            raise InvalidArgument(f"chunk size must be positive, got {chunk_size}")
        size = await self.stat(digest)
        if size is None:
            raise unknown_blob(digest)
        start, end = resolve_range(size, offset, length)
        return self._stream(digest, start, end, min(chunk_size, MAX_READ_CHUNK))


#: Abandoned uploads must not grow memory: past this many, the oldest hasher goes (it is rebuilt if needed).
MAX_CACHED_HASHERS: Final = 10_000


class HasherCache:
    """Incremental hashers of uploads in progress, each valid only at the position it has hashed up to
    (a byte offset, or a backend's state version): hash while streaming, once, in this process."""

    def __init__(self, capacity: int = MAX_CACHED_HASHERS) -> None:
        self._capacity = capacity
        self._entries: collections.OrderedDict[str, tuple[Hashable, _Hash]] = collections.OrderedDict()

    def take(self, upload_id: str, position: Hashable) -> _Hash | None:
        """Remove and return the upload's hasher if it has hashed exactly up to `position`."""
        entry = self._entries.pop(upload_id, None)
        if entry is None or entry[0] != position:
            return None
        return entry[1]

    def take_behind(self, upload_id: str, position: int) -> tuple[int, _Hash] | None:
        """Remove and return the upload's hasher and the byte offset it has hashed up to, if that is at
        most `position` (the caller hashes the rest)."""
        entry = self._entries.pop(upload_id, None)
        if entry is None or not isinstance(entry[0], int) or entry[0] > position:
            return None
        return entry[0], entry[1]

    def put(self, upload_id: str, position: Hashable, hasher: _Hash) -> None:
        self._entries[upload_id] = (position, hasher)
        self._entries.move_to_end(upload_id)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def drop(self, upload_id: str) -> None:
        self._entries.pop(upload_id, None)
