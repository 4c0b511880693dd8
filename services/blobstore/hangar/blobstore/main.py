"""The blobstore process's composition root: settings -> runtime -> backend -> app -> gRPC server."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from datetime import timedelta
from pathlib import Path
from typing import Final

from pydantic import Field, SecretStr, field_validator, model_validator

from hangar.api.blobstore.v1 import blobstore_pb2_grpc
from hangar.blobstore import rpc, store
from hangar.blobstore.app import App, Redirects
from hangar.blobstore.backend import BlobBackend, BlobLocator, BlobPresigner
from hangar.blobstore.domain import DEFAULT_REDIRECT_EXPIRY_SECONDS, check_redirect_expiry
from hangar.blobstore.filesystem import FilesystemBackend
from hangar.blobstore.s3 import S3Backend, S3Connection
from hangar.blobstore.subscriptions import subscriptions
from hangar.kit.config import KitSettings
from hangar.kit.errors import InvalidArgument
from hangar.kit.runtime import ServiceRuntime, configure_logging, run_process

SERVICE: Final = "blobstore"
STORAGES: Final = ("filesystem", "s3")

log = logging.getLogger(__name__)


class Settings(KitSettings):
    #: Where the filesystem backend keeps blobs and open uploads (HANGAR_BLOB_DIR).
    blob_dir: str = "./data/blobs"
    #: Which backend stores the bytes (HANGAR_STORAGE).
    storage: str = "filesystem"
    #: The S3 backend's bucket and key prefix (HANGAR_S3_BUCKET, HANGAR_S3_PREFIX).
    s3_bucket: str = ""
    s3_prefix: str = ""
    #: Where and how to reach S3; unset values fall back to botocore's environment and profile
    #: (HANGAR_S3_ENDPOINT_URL, HANGAR_S3_REGION, HANGAR_S3_ACCESS_KEY_ID, HANGAR_S3_SECRET_ACCESS_KEY).
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    #: Send blob GETs straight to S3 with presigned URLs (HANGAR_S3_REDIRECT, off by default), each valid for
    #: HANGAR_S3_REDIRECT_EXPIRY seconds, signed for HANGAR_S3_REDIRECT_ENDPOINT_URL when clients reach the
    #: bucket at another address than this process does (default: HANGAR_S3_ENDPOINT_URL).
    s3_redirect: bool = False
    s3_redirect_expiry: int = DEFAULT_REDIRECT_EXPIRY_SECONDS
    s3_redirect_endpoint_url: str | None = None
    #: Garbage collection (docs/decisions/0017): a blob no repository links is deleted once it has been
    #: condemned this long (HANGAR_GC_GRACE_SECONDS; keep it well above the longest upload commit), by a
    #: sweep every HANGAR_GC_INTERVAL_SECONDS deleting at most HANGAR_GC_BATCH blobs per round.
    gc_grace_seconds: float = Field(default=3600.0, ge=0)
    gc_interval_seconds: float = Field(default=60.0, gt=0)
    gc_batch: int = Field(default=100, ge=1, le=10_000)

    @field_validator("storage")
    @classmethod
    def _known_storage(cls, value: str) -> str:
        if value not in STORAGES:
            raise ValueError(
                f"HANGAR_STORAGE={value!r} is not supported; choose one of: {', '.join(STORAGES)}"
            )
        return value

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> Settings:
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError("HANGAR_STORAGE=s3 needs HANGAR_S3_BUCKET")
        return self

    @model_validator(mode="after")
    def _redirects_need_s3(self) -> Settings:
        if self.s3_redirect and self.storage != "s3":
            raise ValueError(
                "HANGAR_S3_REDIRECT=true needs HANGAR_STORAGE=s3: the filesystem has no URLs to give"
            )
        try:
            check_redirect_expiry(self.s3_redirect_expiry)
        except InvalidArgument as error:
            raise ValueError(f"HANGAR_S3_REDIRECT_EXPIRY: {error}") from None
        return self

    def redirects(self) -> Redirects:
        return Redirects(enabled=self.s3_redirect, expires_in=self.s3_redirect_expiry)


def make_backend(settings: Settings) -> BlobBackend:
    if settings.storage == "filesystem":
        return FilesystemBackend(Path(settings.blob_dir))
    if settings.storage == "s3":
        secret = settings.s3_secret_access_key
        connection = S3Connection(
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret is not None else None,
        )
        return S3Backend(
            settings.s3_bucket,
            settings.s3_prefix,
            connection,
            redirect_endpoint_url=settings.s3_redirect_endpoint_url,
        )
    raise ValueError(f"unsupported storage {settings.storage!r}")  # Settings refuses it first


async def run(settings: Settings) -> None:
    runtime = ServiceRuntime(
        SERVICE,
        settings,
        store.codec(),
        migrations_dir=store.MIGRATIONS,
        projectors=store.PROJECTORS,
        views=store.SqlViews,
    )
    backend = make_backend(settings)
    presigner: BlobPresigner | None = backend if isinstance(backend, S3Backend) else None
    locator: BlobLocator | None = backend if isinstance(backend, FilesystemBackend) else None
    app = App(
        runtime.uow,
        backend,
        presigner=presigner,
        locator=locator,
        upload_locator=backend if isinstance(backend, FilesystemBackend) else None,
        redirects=settings.redirects(),
    )
    try:
        await runtime.start()
    except BaseException:
        await runtime.close()
        raise
    await runtime.serve(
        [(blobstore_pb2_grpc.add_BlobstoreServiceServicer_to_server, rpc.BlobstoreServicer(app))],
        [rpc.SERVICE_NAME],
        subscriptions(app),
        background=[functools.partial(sweep, app, settings)],
    )


async def sweep(app: App, settings: Settings, stop: asyncio.Event) -> None:
    """Garbage collection: every interval, delete a bounded batch of blobs whose grace period has passed
    (a full batch is followed at once by the next); until `stop` is set."""
    grace = timedelta(seconds=settings.gc_grace_seconds)
    while not stop.is_set():
        try:
            deleted = await app.collect_garbage(grace, settings.gc_batch)
        except Exception:
            log.warning("garbage collection sweep failed; retrying next interval", exc_info=True)
            deleted = 0
        if deleted >= settings.gc_batch:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.gc_interval_seconds)


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, SERVICE)
    run_process(run(settings))
