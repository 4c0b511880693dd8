"""The S3 `BlobBackend`: blobs as objects and resumable uploads as S3 multipart uploads, all in one bucket.

Object layout (this docstring and the `_*_key` methods are the only places that know it):

    <prefix>/blobs/<algorithm>/<first two hex>/<hex>   a committed blob, immutable, named by its digest
    <prefix>/uploads/<upload_id>/state.json            an open upload: the S3 UploadId, the parts uploaded so
                                                       far (number, ETag, size), and the name of its tail
    <prefix>/uploads/<upload_id>/tail-<generation>     the last bytes received (< one part), not yet a part
    <prefix>/uploads/<upload_id>/lock                  held while an operation runs on the upload
    <prefix>/uploads/<upload_id>/assembled             the complete upload, made at commit, before it is
                                                       verified and copied under its digest

Everything an upload needs lives in the bucket, so after a restart, or on another replica, a new instance
continues it. `state.json` is the commit point of every change: a new tail is written under a new name before
the state names it, so a crash leaves the previous state whole (plus debris under the upload's prefix, which
commit and cancel delete). Parts are `PART_SIZE` bytes; only the last part of a commit may be smaller, as S3
requires. An upload small enough never to fill a part never starts a multipart upload.

One writer per upload: the `lock` object is created with a conditional put (`If-None-Match: *`), which S3
and compatible stores honour, so an overlapping operation from any process gets ConcurrencyConflict. A lock
left by a crashed process expires after `LOCK_LEASE` (writers refresh it after every part).

Digests: sha256 is hashed while bytes stream in and kept per process with the state generation it matches;
if another instance touched the upload since (a restart, a replica), or the commit asks for another algorithm,
commit streams the assembled object back once and hashes that. Correctness never depends on the cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from typing import TYPE_CHECKING, Any, Final

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import ClientError

from hangar.blobstore.backend import HasherCache, MiB, RangedReads, unknown_blob
from hangar.blobstore.domain import (
    Digest,
    WrittenHash,
    check_offset,
    check_upload_id,
    unknown_upload,
    verify_digest,
)
from hangar.kit.errors import AlreadyExists, ConcurrencyConflict, DomainError, InvalidArgument

if TYPE_CHECKING:
    from hashlib import _Hash

STREAMING_ALGORITHM: Final = "sha256"
"""The one algorithm hashed while bytes stream in; see `BlobIngester` for why there is only one."""

PART_SIZE: Final = 8 * MiB  # S3 wants >= 5 MiB for every part but the last
LOCK_LEASE: Final = datetime.timedelta(minutes=10)
_HASH_BLOCK: Final = 8 * MiB
_MAX_SINGLE_COPY: Final = 5 * 1024 * MiB  # CopyObject's limit; larger blobs are copied part by part
_COPY_PART: Final = 512 * MiB
_MISSING: Final = frozenset({"NoSuchKey", "404", "NotFound"})
#: botocore logs every canonical request and signature at DEBUG: for a presigned URL that is the capability.
_SIGNING_LOGGER: Final = "botocore.auth"


@dataclasses.dataclass(frozen=True)
class S3Connection:
    """How to reach the bucket. Unset fields fall back to botocore's usual sources (environment, profile)."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = dataclasses.field(default=None, repr=False)


@dataclasses.dataclass
class _Part:
    number: int
    etag: str
    size: int


@dataclasses.dataclass
class _UploadState:
    generation: str
    multipart_id: str | None = None
    parts: list[_Part] = dataclasses.field(default_factory=list)
    tail_key: str | None = None
    tail_size: int = 0
    assembled: bool = False

    @property
    def size(self) -> int:
        return sum(part.size for part in self.parts) + self.tail_size

    def to_json(self) -> bytes:
        return json.dumps(dataclasses.asdict(self)).encode()

    @classmethod
    def from_json(cls, data: bytes) -> _UploadState:
        raw = json.loads(data)
        raw["parts"] = [_Part(**part) for part in raw["parts"]]
        return cls(**raw)


class S3Backend(RangedReads):
    """Stores blobs in `bucket` under `prefix` (see the module docstring for the layout).

    Opens its S3 client on first use; `close()` releases it. Instances may share one `session` (it caches
    botocore's service models, which are slow to load); they share no upload state through it.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        connection: S3Connection | None = None,
        session: AioSession | None = None,
        redirect_endpoint_url: str | None = None,
    ) -> None:
        self._session = session or get_session()
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._connection = connection or S3Connection()
        self._client: Any = None
        self._redirect_endpoint_url = redirect_endpoint_url or self._connection.endpoint_url
        self._signer: Any = None
        self._exit_stack = contextlib.AsyncExitStack()
        self._client_lock = asyncio.Lock()
        self._hashers = HasherCache()

    async def close(self) -> None:
        self._client = self._signer = None
        await self._exit_stack.aclose()

    async def _s3(self) -> Any:
        async with self._client_lock:
            if self._client is None:
                connection = self._connection
                self._client = await self._exit_stack.enter_async_context(
                    self._session.create_client(
                        "s3",
                        endpoint_url=connection.endpoint_url,
                        region_name=connection.region,
                        aws_access_key_id=connection.access_key_id,
                        aws_secret_access_key=connection.secret_access_key,
                    )
                )
            return self._client

    async def _presigning_client(self) -> Any:
        """A client that only signs URLs (no connection is ever opened): SigV4, for the endpoint clients
        reach, which may differ from the one this process uses (`redirect_endpoint_url`)."""
        async with self._client_lock:
            if self._signer is None:
                signing_log = logging.getLogger(_SIGNING_LOGGER)
                if signing_log.getEffectiveLevel() < logging.INFO:  # even at HANGAR_LOG_LEVEL=DEBUG
                    signing_log.setLevel(logging.INFO)
                connection = self._connection
                self._signer = await self._exit_stack.enter_async_context(
                    self._session.create_client(
                        "s3",
                        endpoint_url=self._redirect_endpoint_url,
                        region_name=connection.region,
                        aws_access_key_id=connection.access_key_id,
                        aws_secret_access_key=connection.secret_access_key,
                        config=AioConfig(signature_version="s3v4"),
                    )
                )
            return self._signer

    # -- the key scheme --------------------------------------------------------------------------------

    def _key(self, path: str) -> str:
        return f"{self._prefix}/{path}" if self._prefix else path

    def _blob_key(self, digest: Digest) -> str:
        return self._key(f"blobs/{digest.algorithm}/{digest.hex[:2]}/{digest.hex}")

    def _upload_key(self, upload_id: str, name: str = "") -> str:
        return self._key(f"uploads/{check_upload_id(upload_id)}/{name}")

    # -- BlobIngester ----------------------------------------------------------------------------------

    async def create_upload(self, upload_id: str) -> None:
        state = _UploadState(generation=uuid.uuid4().hex)
        s3 = await self._s3()
        try:
            await s3.put_object(
                Bucket=self._bucket,
                Key=self._upload_key(upload_id, "state.json"),
                Body=state.to_json(),
                IfNoneMatch="*",
            )
        except ClientError as error:
            if _code(error) in ("PreconditionFailed", "412"):
                raise AlreadyExists(f"upload {upload_id} already exists") from None
            raise
        self._hashers.put(upload_id, state.generation, hashlib.new(STREAMING_ALGORITHM))

    async def upload_size(self, upload_id: str) -> int:
        return (await self._load_state(upload_id)).size

    async def append(self, upload_id: str, offset: int, chunks: AsyncIterable[bytes]) -> int:
        async with self._locked(upload_id) as state:
            check_offset(offset, state.size)
            hasher = self._hashers.take(upload_id, state.generation)
            pending = bytearray(await self._read_tail(state))
            received = 0
            try:
                async for chunk in chunks:
                    pending += chunk
                    received += len(chunk)
                    if hasher is not None:
                        hasher.update(chunk)
                    while len(pending) >= PART_SIZE:
                        await self._upload_part(upload_id, state, bytes(pending[:PART_SIZE]))
                        del pending[:PART_SIZE]
            finally:
                # Bytes received before a broken stream are kept, so the client can resume after them.
                if received:
                    await self._save_tail(upload_id, state, bytes(pending))
                if hasher is not None:  # reached only if the state was saved: it has hashed exactly that
                    self._hashers.put(upload_id, state.generation, hasher)
            return state.size

    async def commit(
        self, upload_id: str, expected: Digest, written: WrittenHash | None = None
    ) -> tuple[int, bool]:
        del written  # no writer shares S3 uploads: the parts are hashed here as they arrive
        async with self._locked(upload_id) as state:
            hasher = self._hashers.take(upload_id, state.generation)
            if expected.algorithm != STREAMING_ALGORITHM or state.assembled:
                hasher = None
            assembled = self._upload_key(upload_id, "assembled")
            if not state.assembled:
                await self._assemble(upload_id, state, assembled)
            if hasher is None:
                hasher = await self._hash_object(assembled, expected.hashlib_name)
            try:
                verify_digest(expected, Digest(expected.algorithm, hasher.hexdigest()))
            except InvalidArgument:
                await self._discard(upload_id, state)
                raise
            new_content = await self._publish(assembled, self._blob_key(expected), state.size)
            await self._discard(upload_id, state)
            return state.size, new_content

    async def cancel(self, upload_id: str) -> None:
        async with self._locked(upload_id) as state:
            await self._discard(upload_id, state)

    # -- BlobStatter, BlobReader, BlobDeleter ----------------------------------------------------------

    async def stat(self, digest: Digest) -> int | None:
        return await self._object_size(self._blob_key(digest))

    async def _stream(self, digest: Digest, start: int, end: int, chunk_size: int) -> AsyncIterator[bytes]:
        if start == end:
            return
        try:
            async for block in self._ranged_get(self._blob_key(digest), start, end, chunk_size):
                yield block
        except ClientError as error:
            if _code(error) in _MISSING:
                raise unknown_blob(digest) from None
            raise

    async def presign(self, digest: Digest, expires_in: int) -> str:
        """`BlobPresigner.presign`: a SigV4 presigned GetObject of the blob's key, signed in this process."""
        signer = await self._presigning_client()
        url: str = await signer.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._bucket, "Key": self._blob_key(digest)},
            ExpiresIn=expires_in,
        )
        return url

    async def delete(self, digest: Digest) -> None:
        key = self._blob_key(digest)
        if await self._object_size(key) is None:
            raise unknown_blob(digest)
        await (await self._s3()).delete_object(Bucket=self._bucket, Key=key)

    # -- upload state ----------------------------------------------------------------------------------

    async def _load_state(self, upload_id: str) -> _UploadState:
        key = self._upload_key(upload_id, "state.json")
        try:
            response = await (await self._s3()).get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if _code(error) in _MISSING:
                raise unknown_upload(upload_id) from None
            raise
        async with response["Body"] as body:
            return _UploadState.from_json(await body.read())

    async def _save_state(self, upload_id: str, state: _UploadState) -> None:
        state.generation = uuid.uuid4().hex
        await (await self._s3()).put_object(
            Bucket=self._bucket, Key=self._upload_key(upload_id, "state.json"), Body=state.to_json()
        )

    async def _read_tail(self, state: _UploadState) -> bytes:
        if state.tail_key is None or state.tail_size == 0:
            return b""
        response = await (await self._s3()).get_object(Bucket=self._bucket, Key=state.tail_key)
        async with response["Body"] as body:
            data: bytes = await body.read()
        if len(data) != state.tail_size:
            raise DomainError(f"upload tail {state.tail_key} holds {len(data)} bytes, not {state.tail_size}")
        return data

    async def _save_tail(self, upload_id: str, state: _UploadState, tail: bytes) -> None:
        """Write the new tail under a new name, then make the state name it: the state is the commit point."""
        s3 = await self._s3()
        previous = state.tail_key
        state.tail_key, state.tail_size = None, len(tail)
        if tail:
            state.tail_key = self._upload_key(upload_id, f"tail-{uuid.uuid4().hex}")
            await s3.put_object(Bucket=self._bucket, Key=state.tail_key, Body=tail)
        await self._save_state(upload_id, state)
        if previous is not None:
            with contextlib.suppress(ClientError):  # debris at worst; commit and cancel clear the prefix
                await s3.delete_object(Bucket=self._bucket, Key=previous)

    async def _upload_part(self, upload_id: str, state: _UploadState, data: bytes) -> None:
        s3 = await self._s3()
        if state.multipart_id is None:
            created = await s3.create_multipart_upload(
                Bucket=self._bucket, Key=self._upload_key(upload_id, "assembled")
            )
            state.multipart_id = created["UploadId"]
        number = len(state.parts) + 1  # a part uploaded but never recorded in the state is overwritten here
        response = await s3.upload_part(
            Bucket=self._bucket,
            Key=self._upload_key(upload_id, "assembled"),
            UploadId=state.multipart_id,
            PartNumber=number,
            Body=data,
        )
        state.parts.append(_Part(number=number, etag=response["ETag"], size=len(data)))
        await self._refresh_lock(upload_id)

    async def _assemble(self, upload_id: str, state: _UploadState, assembled: str) -> None:
        """Make the whole upload one object at `assembled`, and record that it is there."""
        s3 = await self._s3()
        if state.multipart_id is None:
            await s3.put_object(Bucket=self._bucket, Key=assembled, Body=await self._read_tail(state))
        else:
            if state.tail_size:
                await self._upload_part(upload_id, state, await self._read_tail(state))
                state.tail_key, state.tail_size = None, 0  # now the last part; the object goes with the rest
            await s3.complete_multipart_upload(
                Bucket=self._bucket,
                Key=assembled,
                UploadId=state.multipart_id,
                MultipartUpload={"Parts": [{"PartNumber": p.number, "ETag": p.etag} for p in state.parts]},
            )
        state.assembled = True
        await self._save_state(upload_id, state)

    async def _discard(self, upload_id: str, state: _UploadState) -> None:
        """Delete the upload: its state first (from then on it is unknown), then every object it left."""
        s3 = await self._s3()
        await s3.delete_object(Bucket=self._bucket, Key=self._upload_key(upload_id, "state.json"))
        if state.multipart_id is not None and not state.assembled:
            with contextlib.suppress(ClientError):
                await s3.abort_multipart_upload(
                    Bucket=self._bucket,
                    Key=self._upload_key(upload_id, "assembled"),
                    UploadId=state.multipart_id,
                )
        lock = self._upload_key(upload_id, "lock")
        paginator = s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self._bucket, Prefix=self._upload_key(upload_id)):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", []) if item["Key"] != lock]
            if keys:
                await s3.delete_objects(Bucket=self._bucket, Delete={"Objects": keys, "Quiet": True})
        self._hashers.drop(upload_id)

    # -- the per-upload lock ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _locked(self, upload_id: str) -> AsyncIterator[_UploadState]:
        """Hold the upload's lock object and yield its state; NotFound if there is no such upload."""
        s3 = await self._s3()
        key = self._upload_key(upload_id, "lock")
        await self._acquire(upload_id, key)
        try:
            yield await self._load_state(upload_id)
        finally:
            await s3.delete_object(Bucket=self._bucket, Key=key)

    async def _acquire(self, upload_id: str, key: str) -> None:
        s3 = await self._s3()
        for _attempt in range(2):
            try:
                await s3.put_object(Bucket=self._bucket, Key=key, Body=b"", IfNoneMatch="*")
                return
            except ClientError as error:
                if _code(error) not in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                    raise
            try:
                head = await s3.head_object(Bucket=self._bucket, Key=key)
            except ClientError as error:
                if _code(error) in _MISSING:
                    continue  # released meanwhile
                raise
            if datetime.datetime.now(datetime.UTC) - head["LastModified"] < LOCK_LEASE:
                break
            # Left by a crashed process: break it. Two breakers racing may both win; the lease is long enough
            # that this needs a crash and two retries within the same instant.
            await s3.delete_object(Bucket=self._bucket, Key=key)
        raise ConcurrencyConflict(f"another operation on upload {upload_id} is in progress")

    async def _refresh_lock(self, upload_id: str) -> None:
        await (await self._s3()).put_object(
            Bucket=self._bucket, Key=self._upload_key(upload_id, "lock"), Body=b""
        )

    # -- object helpers --------------------------------------------------------------------------------

    async def _object_size(self, key: str) -> int | None:
        try:
            head = await (await self._s3()).head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if _code(error) in _MISSING:
                return None
            raise
        size: int = head["ContentLength"]
        return size

    async def _ranged_get(self, key: str, start: int, end: int, chunk_size: int) -> AsyncIterator[bytes]:
        """Yield bytes [start, end) of an object in chunks of `chunk_size` (only the last may be shorter)."""
        response = await (await self._s3()).get_object(
            Bucket=self._bucket, Key=key, Range=f"bytes={start}-{end - 1}"
        )
        position = start
        async with response["Body"] as body:
            buffer = bytearray()
            while position < end:
                block = await body.read(min(chunk_size - len(buffer), end - position))
                if not block:
                    raise DomainError(f"object {key} ends at byte {position}, short of {end}")
                buffer += block
                position += len(block)
                if len(buffer) == chunk_size or position == end:
                    yield bytes(buffer)
                    buffer.clear()

    async def _hash_object(self, key: str, algorithm: str) -> _Hash:
        hasher = hashlib.new(algorithm)
        size = await self._object_size(key)
        if size:
            async for block in self._ranged_get(key, 0, size, _HASH_BLOCK):
                hasher.update(block)
        return hasher

    async def _publish(self, source: str, target: str, size: int) -> bool:
        """Copy the verified upload to its blob key unless a blob is already there; True if this call did."""
        if await self._object_size(target) is not None:
            return False
        s3 = await self._s3()
        copy_source = {"Bucket": self._bucket, "Key": source}
        if size <= _MAX_SINGLE_COPY:
            await s3.copy_object(Bucket=self._bucket, Key=target, CopySource=copy_source)
            return True
        created = await s3.create_multipart_upload(Bucket=self._bucket, Key=target)
        try:
            parts = []
            for number, first in enumerate(range(0, size, _COPY_PART), start=1):
                last = min(first + _COPY_PART, size) - 1
                response = await s3.upload_part_copy(
                    Bucket=self._bucket,
                    Key=target,
                    UploadId=created["UploadId"],
                    PartNumber=number,
                    CopySource=copy_source,
                    CopySourceRange=f"bytes={first}-{last}",
                )
                parts.append({"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]})
            await s3.complete_multipart_upload(
                Bucket=self._bucket,
                Key=target,
                UploadId=created["UploadId"],
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            with contextlib.suppress(ClientError):
                await s3.abort_multipart_upload(Bucket=self._bucket, Key=target, UploadId=created["UploadId"])
            raise
        return True


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
