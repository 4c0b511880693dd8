"""The blobstore process's composition root: settings -> runtime -> backend -> app -> gRPC server."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

from pydantic import field_validator

from hangar.api.blobstore.v1 import blobstore_pb2_grpc
from hangar.blobstore import rpc, store
from hangar.blobstore.app import App
from hangar.blobstore.backend import BlobBackend
from hangar.blobstore.filesystem import FilesystemBackend
from hangar.blobstore.subscriptions import subscriptions
from hangar.kit.config import KitSettings
from hangar.kit.runtime import ServiceRuntime, configure_logging

SERVICE: Final = "blobstore"
STORAGES: Final = ("filesystem",)  # "s3" comes with the S3 backend


class Settings(KitSettings):
    #: Where the filesystem backend keeps blobs and open uploads (HANGAR_BLOB_DIR).
    blob_dir: str = "./data/blobs"
    #: Which backend stores the bytes (HANGAR_STORAGE).
    storage: str = "filesystem"

    @field_validator("storage")
    @classmethod
    def _known_storage(cls, value: str) -> str:
        if value not in STORAGES:
            raise ValueError(
                f"HANGAR_STORAGE={value!r} is not supported; choose one of: {', '.join(STORAGES)}"
            )
        return value


def make_backend(settings: Settings) -> BlobBackend:
    if settings.storage == "filesystem":
        return FilesystemBackend(Path(settings.blob_dir))
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
    app = App(runtime.uow, make_backend(settings))
    try:
        await runtime.start()
    except BaseException:
        await runtime.close()
        raise
    await runtime.serve(
        [(blobstore_pb2_grpc.add_BlobstoreServiceServicer_to_server, rpc.BlobstoreServicer(app))],
        [rpc.SERVICE_NAME],
        subscriptions(app),
    )


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, SERVICE)
    asyncio.run(run(settings))
