"""The S3 backend passes the backend contract (against moto's S3 server) and keeps its documented layout."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from aiobotocore.session import AioSession, get_session
from backend_contract import CONTENT, BlobBackendContract, new_upload_id, sha256_of, sha512_of, stream, upload
from moto.server import ThreadedMotoServer

from hangar.blobstore.backend import BlobBackend, MiB
from hangar.blobstore.s3 import PART_SIZE, S3Backend, S3Connection
from hangar.kit.errors import ConcurrencyConflict

pytestmark = pytest.mark.asyncio

REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def session() -> AioSession:
    """One botocore session for every backend: loading S3's service model once keeps the suite fast."""
    return get_session()


@pytest.fixture
def connection(s3_endpoint: str) -> S3Connection:
    return S3Connection(
        endpoint_url=s3_endpoint, region=REGION, access_key_id="testing", secret_access_key="testing"
    )


@pytest.fixture
async def bucket(connection: S3Connection, session: AioSession) -> str:
    name = f"hangar-{uuid.uuid4().hex}"
    async with session.create_client(
        "s3",
        endpoint_url=connection.endpoint_url,
        region_name=connection.region,
        aws_access_key_id=connection.access_key_id,
        aws_secret_access_key=connection.secret_access_key,
    ) as s3:
        await s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
async def backends(bucket: str, connection: S3Connection) -> AsyncIterator[list[S3Backend]]:
    """Every backend a test makes, closed when it ends."""
    made: list[S3Backend] = []
    yield made
    for backend in made:
        await backend.close()


async def keys_in(backend: S3Backend, bucket: str) -> list[str]:
    s3 = await backend._s3()
    response = await s3.list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in response.get("Contents", []))


class TestS3Backend(BlobBackendContract):
    @pytest.fixture(autouse=True)
    def _storage(
        self, bucket: str, connection: S3Connection, session: AioSession, backends: list[S3Backend]
    ) -> None:
        self.bucket, self.connection, self.session, self.backends = bucket, connection, session, backends

    async def make_backend(self) -> BlobBackend:
        backend = S3Backend(self.bucket, "hangar/blobs-test", self.connection, self.session)
        self.backends.append(backend)
        return backend


@pytest.fixture
def new_backend(
    bucket: str, connection: S3Connection, session: AioSession, backends: list[S3Backend]
) -> S3Backend:
    backend = S3Backend(bucket, "root", connection, session)
    backends.append(backend)
    return backend


async def test_a_blob_lives_at_its_documented_key_and_nothing_else_remains(
    new_backend: S3Backend, bucket: str
) -> None:
    digest = sha256_of(CONTENT)

    await upload(new_backend, CONTENT)

    assert await keys_in(new_backend, bucket) == [f"root/blobs/sha256/{digest.hex[:2]}/{digest.hex}"]


async def test_an_open_upload_keeps_its_state_in_the_bucket(new_backend: S3Backend, bucket: str) -> None:
    upload_id = new_upload_id()
    await new_backend.create_upload(upload_id)

    await new_backend.append(upload_id, 0, stream(CONTENT))

    keys = await keys_in(new_backend, bucket)
    assert f"root/uploads/{upload_id}/state.json" in keys
    assert any(key.startswith(f"root/uploads/{upload_id}/tail-") for key in keys)


async def test_refused_and_cancelled_multipart_uploads_leave_no_objects(
    new_backend: S3Backend, bucket: str
) -> None:
    data = b"x" * (PART_SIZE + MiB)
    refused, cancelled = new_upload_id(), new_upload_id()
    for upload_id in (refused, cancelled):
        await new_backend.create_upload(upload_id)
        await new_backend.append(upload_id, 0, stream(data))

    with pytest.raises(Exception, match="digest mismatch"):
        await new_backend.commit(refused, sha512_of(b"other"))
    await new_backend.cancel(cancelled)

    assert await keys_in(new_backend, bucket) == []
    s3 = await new_backend._s3()
    assert (await s3.list_multipart_uploads(Bucket=bucket)).get("Uploads", []) == []


async def test_a_multipart_upload_resumed_on_another_instance_commits_whole(
    new_backend: S3Backend,
    bucket: str,
    connection: S3Connection,
    session: AioSession,
    backends: list[S3Backend],
) -> None:
    data = bytes(range(256)) * (PART_SIZE * 2 // 256 + 1000)
    upload_id = new_upload_id()
    await new_backend.create_upload(upload_id)
    split_at = PART_SIZE + 12345
    await new_backend.append(upload_id, 0, stream(data[:split_at]))

    other = S3Backend(bucket, "root", connection, session)
    backends.append(other)
    assert await other.upload_size(upload_id) == split_at
    await other.append(upload_id, split_at, stream(data[split_at:]))

    assert await other.commit(upload_id, sha256_of(data)) == (len(data), True)
    assert b"".join([chunk async for chunk in await new_backend.read(sha256_of(data))]) == data


async def test_a_held_lock_refuses_another_writer_until_released(new_backend: S3Backend) -> None:
    upload_id = new_upload_id()
    await new_backend.create_upload(upload_id)

    async with new_backend._locked(upload_id):
        with pytest.raises(ConcurrencyConflict):
            await new_backend.append(upload_id, 0, stream(CONTENT))

    assert await new_backend.append(upload_id, 0, stream(CONTENT)) == len(CONTENT)


async def test_the_secret_key_is_not_in_the_connections_repr() -> None:
    assert "s3cr3t" not in repr(S3Connection(secret_access_key="s3cr3t"))


async def test_hangar_storage_s3_builds_an_s3_backend_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from hangar.blobstore.main import Settings, make_backend

    monkeypatch.setenv("HANGAR_STORAGE", "s3")
    monkeypatch.setenv("HANGAR_S3_BUCKET", "layers")
    monkeypatch.setenv("HANGAR_S3_SECRET_ACCESS_KEY", "s3cr3t")
    settings = Settings()

    assert "s3cr3t" not in repr(settings)
    assert isinstance(make_backend(settings), S3Backend)


async def test_hangar_storage_s3_needs_a_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    from hangar.blobstore.main import Settings

    monkeypatch.setenv("HANGAR_STORAGE", "s3")
    with pytest.raises(ValueError, match="HANGAR_S3_BUCKET"):
        Settings()
