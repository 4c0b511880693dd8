"""The in-memory blobstore service: uploads, blobs, presigned URLs, shared blob and upload files."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

from hangar.gateway.clients.fakes._common import sha256_digest
from hangar.gateway.clients.model import (
    BlobInfo,
    BlobLocation,
    BlobUrl,
    UploadStatus,
    WrittenHash,
)
from hangar.kit.errors import (
    InvalidArgument,
    NotFound,
    OutOfRange,
)

#: The most uploads one StartUpload opens (the blobstore's contract).
MAX_UPLOADS_AT_ONCE = 16


@dataclasses.dataclass
class _Upload:
    owner: str
    data: bytearray = dataclasses.field(default_factory=bytearray)
    #: The upload's data file (with `FakeBlobstore.shared_uploads`): the bytes are the file's.
    file: Path | None = None


class FakeBlobstore:
    def __init__(self) -> None:
        self.uploads: dict[str, _Upload] = {}
        self.blobs: dict[str, bytes] = {}
        self.read_chunk = 64 * 1024
        self.healthy = True
        #: Set to hand out presigned URLs under this base (as S3 with HANGAR_S3_REDIRECT would); None: none.
        self.redirect_base: str | None = None
        self.redirect_expiry = 1200
        self.presign_calls = 0
        #: Set to keep every committed blob also as a file under this directory (the filesystem backend's
        #: layout) and tell `locate_blob` callers its path, as a blobstore sharing its blob directory would.
        self.shared_dir: Path | None = None
        #: Paths `locate_blob` answers instead, by digest (e.g. a hostile one).
        self.located_paths: dict[str, str] = {}
        self.locate_calls = 0
        #: Whether a commit says where the blob's file lies (with `shared_dir`), as the real blobstore does.
        self.commit_paths = True
        #: What each commit was told the writer hashed, by upload id.
        self.written_hashes: dict[str, WrittenHash | None] = {}
        self.read_calls = 0
        #: With `shared_dir`: keep each upload's bytes in `<shared_dir>/uploads/<id>` and tell its path, as
        #: the filesystem backend does for writers sharing its directory.
        self.shared_uploads = False
        self.write_calls = 0

    def _upload(self, upload_id: str, owner: str) -> _Upload:
        upload = self.uploads.get(upload_id)
        if upload is None or (owner and upload.owner != owner):
            raise NotFound(f"upload {upload_id} is unknown", code="BLOB_UPLOAD_UNKNOWN")
        if upload.file is not None:  # what a sharing writer put there
            upload.data = bytearray(upload.file.read_bytes())
        return upload

    def upload_path(self, upload_id: str) -> str | None:
        return f"uploads/{upload_id}" if self.shared_uploads and self.shared_dir is not None else None

    async def start_upload(self, owner: str) -> str:
        upload_id = uuid.uuid4().hex
        upload = self.uploads[upload_id] = _Upload(owner=owner)
        path = self.upload_path(upload_id)
        if path is not None and self.shared_dir is not None:
            upload.file = self.shared_dir / path
            upload.file.parent.mkdir(parents=True, exist_ok=True)
            upload.file.write_bytes(b"")
        return upload_id

    async def open_upload(self, owner: str) -> UploadStatus:
        upload_id = await self.start_upload(owner)
        return UploadStatus(
            upload_id=upload_id, owner=owner, committed_size=0, path=self.upload_path(upload_id)
        )

    async def open_uploads(self, owner: str, count: int) -> list[UploadStatus]:
        if not 1 <= count <= MAX_UPLOADS_AT_ONCE:
            raise InvalidArgument(f"open 1 to {MAX_UPLOADS_AT_ONCE} uploads at once, not {count}")
        return [await self.open_upload(owner) for _ in range(count)]

    async def write(
        self, upload_id: str, offset: int | None, chunks: AsyncIterable[bytes], *, owner: str = ""
    ) -> int:
        upload = self._upload(upload_id, owner)
        if offset is not None and offset != len(upload.data):
            raise OutOfRange(
                f"write at {offset} refused: the upload holds {len(upload.data)} bytes", code="RANGE_INVALID"
            )
        self.write_calls += 1
        async for chunk in chunks:
            upload.data += chunk
        if upload.file is not None:
            upload.file.write_bytes(upload.data)
        return len(upload.data)

    async def query_write_status(self, upload_id: str, *, owner: str = "") -> UploadStatus:
        upload = self._upload(upload_id, owner)
        return UploadStatus(
            upload_id=upload_id,
            owner=upload.owner,
            committed_size=len(upload.data),
            path=self.upload_path(upload_id) if upload.file is not None else None,
        )

    async def commit_upload(
        self, upload_id: str, digest: str, *, owner: str = "", written: WrittenHash | None = None
    ) -> BlobInfo:
        upload = self._upload(upload_id, owner)
        self.written_hashes[upload_id] = written
        if written is not None and written.size == len(upload.data) and digest.startswith("sha256:"):
            actual = f"sha256:{written.sha256}"  # trusted, as the blobstore trusts it
        else:
            actual = sha256_digest(bytes(upload.data))
        del self.uploads[upload_id]
        if upload.file is not None:
            upload.file.unlink(missing_ok=True)
        if actual != digest:
            raise InvalidArgument(
                f"digest mismatch: content is {actual}, not {digest}", code="DIGEST_INVALID"
            )
        self.blobs[digest] = bytes(upload.data)
        if self.shared_dir is not None:
            path = self.shared_dir / self.blob_path(digest)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(upload.data)
            if self.commit_paths:
                return BlobInfo(digest=digest, size=len(upload.data), path=self.blob_path(digest))
        return BlobInfo(digest=digest, size=len(upload.data))

    @staticmethod
    def blob_path(digest: str) -> str:
        algorithm, _, hex_digest = digest.partition(":")
        return f"blobs/{algorithm}/{hex_digest[:2]}/{hex_digest}"

    async def cancel_upload(self, upload_id: str, *, owner: str = "") -> None:
        upload = self._upload(upload_id, owner)
        del self.uploads[upload_id]
        if upload.file is not None:
            upload.file.unlink(missing_ok=True)

    async def read(self, digest: str, offset: int = 0, limit: int = 0) -> AsyncIterator[bytes]:
        self.read_calls += 1
        if digest not in self.blobs:
            raise NotFound(f"blob {digest} does not exist", code="BLOB_UNKNOWN")
        data = self.blobs[digest]
        end = len(data) if limit == 0 else offset + limit
        if offset > len(data) or end > len(data):
            raise OutOfRange("range outside the blob", code="RANGE_INVALID")
        for start in range(offset, end, self.read_chunk):
            yield data[start : min(start + self.read_chunk, end)]

    async def stat_blob(self, digest: str) -> BlobInfo:
        if digest not in self.blobs:
            raise NotFound(f"blob {digest} does not exist", code="BLOB_UNKNOWN")
        return BlobInfo(digest=digest, size=len(self.blobs[digest]))

    async def presign_blob(self, digest: str) -> BlobUrl | None:
        self.presign_calls += 1
        if digest not in self.blobs:
            raise NotFound(f"blob {digest} does not exist", code="BLOB_UNKNOWN")
        if self.redirect_base is None:
            return None
        signature = secrets.token_hex(16)  # a new URL per call, as a real signer's would differ by time
        query = f"X-Amz-Expires={self.redirect_expiry}&X-Amz-Signature={signature}"
        return BlobUrl(
            digest=digest, url=f"{self.redirect_base}/{digest}?{query}", expires_in=self.redirect_expiry
        )

    async def locate_blob(self, digest: str) -> BlobLocation:
        self.locate_calls += 1
        if digest not in self.blobs:
            raise NotFound(f"blob {digest} does not exist", code="BLOB_UNKNOWN")
        path = self.located_paths.get(digest)
        if path is None and self.shared_dir is not None:
            path = self.blob_path(digest)
        return BlobLocation(digest=digest, path=path, size=len(self.blobs[digest]))

    async def serving(self) -> bool:
        return self.healthy
