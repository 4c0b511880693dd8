"""Blobstore's stored events keep stable names and every field, and its read models follow the events."""

from __future__ import annotations

from typing import Any

import pytest

from hangar.blobstore import store
from hangar.blobstore.domain import BlobStored, UploadCancelled, UploadStarted, UploadState
from hangar.kit.events import DomainEvent
from hangar.kit.uow import UnitOfWorkFactory

UPLOAD_ID = "a" * 32
DIGEST = "sha256:" + "b" * 64


@pytest.mark.parametrize(
    "event",
    [
        UploadStarted(upload_id=UPLOAD_ID, owner="acme/platform/api"),
        BlobStored(upload_id=UPLOAD_ID, digest=DIGEST, size=5_000_000_000, new_content=True),
        BlobStored(upload_id=UPLOAD_ID, digest=DIGEST, size=0, new_content=False),
        UploadCancelled(upload_id=UPLOAD_ID, reason="digest mismatch"),
    ],
)
def test_every_event_round_trips_under_its_stable_name(event: DomainEvent) -> None:
    codec = store.codec()
    entry, payload = codec.encode(event)

    assert entry.name == f"hangar.blobstore.v1.{type(event).__name__}"
    assert codec.decode(entry.name, payload) == event


async def test_the_read_models_follow_an_upload_to_its_stored_blob(uow: UnitOfWorkFactory[Any]) -> None:
    stream = f"upload-{UPLOAD_ID}"
    async with uow() as unit:
        await unit.events.append(stream, 0, [UploadStarted(upload_id=UPLOAD_ID, owner="acme/x")])
        await unit.commit()
    async with uow() as unit:
        stored = await unit.events.append(
            stream, 1, [BlobStored(upload_id=UPLOAD_ID, digest=DIGEST, size=42, new_content=True)]
        )
        await unit.commit()

    async with uow(readonly=True) as unit:
        upload = await unit.views.upload(UPLOAD_ID)
        blob = await unit.views.blob(DIGEST)
    assert upload is not None and blob is not None
    assert (upload.owner, upload.state) == ("acme/x", UploadState.COMMITTED)
    assert upload.updated_at == stored[0].recorded_at
    assert (blob.digest, blob.size, blob.created_at) == (DIGEST, 42, stored[0].recorded_at)


async def test_storing_content_already_indexed_keeps_one_blob_row(uow: UnitOfWorkFactory[Any]) -> None:
    for index, new_content in enumerate((True, False, True)):
        upload_id = f"{index:032x}"
        async with uow() as unit:
            await unit.events.append(
                f"upload-{upload_id}",
                0,
                [
                    UploadStarted(upload_id=upload_id, owner="acme/x"),
                    BlobStored(upload_id=upload_id, digest=DIGEST, size=42, new_content=new_content),
                ],
            )
            await unit.commit()

    async with uow(readonly=True) as unit:
        rows = (await unit.session.execute(store.blobs.select())).all()
    assert len(rows) == 1


async def test_a_cancelled_upload_is_marked_so(uow: UnitOfWorkFactory[Any]) -> None:
    async with uow() as unit:
        await unit.events.append(
            f"upload-{UPLOAD_ID}",
            0,
            [
                UploadStarted(upload_id=UPLOAD_ID, owner="acme/x"),
                UploadCancelled(upload_id=UPLOAD_ID, reason="cancelled by client"),
            ],
        )
        await unit.commit()

    async with uow(readonly=True) as unit:
        upload = await unit.views.upload(UPLOAD_ID)
    assert upload is not None and upload.state is UploadState.CANCELLED
