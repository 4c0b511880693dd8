"""Blob deletes (unlink) and the usage stream that tells garbage collection when a digest is orphaned."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hangar.kit import migrations, schema, testing
from hangar.kit.codec import EventCodec
from hangar.kit.db import Database
from hangar.kit.errors import FailedPrecondition, InvalidArgument, NotFound
from hangar.kit.uow import UnitOfWorkFactory
from hangar.registry.app import App
from hangar.registry.domain import (
    OCI_INDEX,
    OCI_MANIFEST,
    BlobDereferenced,
    BlobLink,
    BlobLinked,
    BlobOrphaned,
    BlobReferenced,
    BlobUnlinked,
    BlobUsage,
    manifest_blob_digests,
)
from hangar.registry.rpc import RegistryServicer
from hangar.registry.store import (
    MIGRATIONS,
    PROJECTORS,
    SqlViews,
    blobs,
    codec,
    manifest_blobs,
    manifests,
    repositories,
)

REPO = "acme/web"
OTHER = "acme/api"
CONFIG = b'{"architecture":"amd64","os":"linux"}'
LAYER = b"layer one"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def digest_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def image(*layers: bytes, config: bytes = CONFIG) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest_of(config),
                "size": len(config),
            },
            "layers": [{"mediaType": OCI_LAYER, "digest": digest_of(x), "size": len(x)} for x in layers],
        }
    ).encode()


async def link(app: App, *contents: bytes, repository: str = REPO) -> None:
    for content in contents:
        await app.link_blob(repository, digest_of(content), len(content))


async def usage_events(uow: UnitOfWorkFactory[Any], digest: str) -> list[Any]:
    """The events of a digest's usage stream, decoded, in order."""
    stream = BlobUsage.stream_for(BlobUsage.id_for(digest))
    async with uow(readonly=True) as unit:
        return [record.event for record in await unit.events.load(stream)]


async def rows(uow: UnitOfWorkFactory[Any], query: Any) -> int:
    async with uow(readonly=True) as unit:
        return int((await unit.session.execute(query)).scalar_one())


# -- domain -----------------------------------------------------------------------------------------------


def linked(repository: str, content: bytes) -> BlobLink:
    link = BlobLink(BlobLink.id_for(repository, digest_of(content)))
    link.link(repository, digest_of(content), len(content))
    link.collect()
    return link


def test_unlinking_a_linked_blob_records_blob_unlinked_with_its_size() -> None:
    link = linked(REPO, LAYER)
    link.unlink(REPO, digest_of(LAYER))
    assert link.collect() == [BlobUnlinked(repository=REPO, digest=digest_of(LAYER), size=len(LAYER))]
    assert not link.linked
    # And it can be linked again afterwards.
    link.link(REPO, digest_of(LAYER), len(LAYER))
    assert link.collect() == [BlobLinked(repository=REPO, digest=digest_of(LAYER), size=len(LAYER))]


def test_unlinking_a_blob_a_manifest_uses_is_refused_naming_the_manifests() -> None:
    link = linked(REPO, LAYER)
    users = [f"sha256:{c * 64}" for c in "ba"]
    with pytest.raises(FailedPrecondition) as caught:
        link.unlink(REPO, digest_of(LAYER), users)
    assert caught.value.code == "BLOB_REFERENCED"
    assert caught.value.detail == " ".join(sorted(users))
    assert sorted(users)[0] in caught.value.message
    assert link.collect() == [] and link.linked


def test_unlinking_what_is_not_linked_is_blob_unknown_and_a_bad_digest_digest_invalid() -> None:
    link = BlobLink(BlobLink.id_for(REPO, digest_of(LAYER)))
    with pytest.raises(NotFound) as unknown:
        link.unlink(REPO, digest_of(LAYER))
    assert unknown.value.code == "BLOB_UNKNOWN"
    with pytest.raises(InvalidArgument) as invalid:
        link.unlink(REPO, "sha256:nothex")
    assert invalid.value.code == "DIGEST_INVALID"


def test_usage_numbers_each_change_and_orphans_at_zero() -> None:
    digest = digest_of(LAYER)
    usage = BlobUsage.restore(digest, 4)
    usage.linked(2)
    usage.unlinked(1)
    usage.unlinked(0)
    assert usage.collect() == [
        BlobReferenced(digest=digest, repositories=2, generation=5),
        BlobDereferenced(digest=digest, repositories=1, generation=6),
        BlobOrphaned(digest=digest, generation=7),
    ]
    assert usage.loaded_version == 7
    with pytest.raises(ValueError):
        usage.linked(0)


def test_manifest_blob_digests_names_config_and_layers_of_image_manifests_only() -> None:
    content = image(LAYER, LAYER)
    assert manifest_blob_digests(OCI_MANIFEST, content) == (digest_of(CONFIG), digest_of(LAYER))
    assert manifest_blob_digests(OCI_INDEX, b'{"manifests": []}') == ()
    assert manifest_blob_digests(OCI_MANIFEST, b"not json") == ()


# -- app over SQLite --------------------------------------------------------------------------------------


async def test_a_blob_no_manifest_uses_is_unlinked_and_is_then_unknown(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    await link(app, LAYER)
    assert await app.unlink_blob(REPO, digest_of(LAYER)) == (digest_of(LAYER), len(LAYER))
    with pytest.raises(NotFound) as caught:
        await app.stat_blob(REPO, digest_of(LAYER))
    assert caught.value.code == "BLOB_UNKNOWN"
    assert await usage_events(uow, digest_of(LAYER)) == [
        BlobReferenced(digest=digest_of(LAYER), repositories=1, generation=1),
        BlobOrphaned(digest=digest_of(LAYER), generation=2),
    ]
    # Linking it again makes it referenced again, at the next generation.
    await link(app, LAYER)
    assert await app.stat_blob(REPO, digest_of(LAYER)) == len(LAYER)
    assert (await usage_events(uow, digest_of(LAYER)))[-1] == BlobReferenced(
        digest=digest_of(LAYER), repositories=1, generation=3
    )


async def test_a_blob_of_a_manifest_is_refused_until_the_manifest_is_deleted(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    await link(app, CONFIG, LAYER)
    content = image(LAYER)
    digest, _ = await app.put_manifest(REPO, "v1", OCI_MANIFEST, content)
    for blob in (CONFIG, LAYER):  # the config and a layer alike
        with pytest.raises(FailedPrecondition) as caught:
            await app.unlink_blob(REPO, digest_of(blob))
        assert caught.value.code == "BLOB_REFERENCED"
        assert caught.value.detail == digest
        assert await app.stat_blob(REPO, digest_of(blob)) == len(blob)
    await app.delete_manifest(REPO, digest)
    assert await rows(uow, select(func.count()).select_from(manifest_blobs)) == 0
    await app.unlink_blob(REPO, digest_of(LAYER))
    with pytest.raises(NotFound):
        await app.stat_blob(REPO, digest_of(LAYER))


async def test_a_manifest_in_another_repository_does_not_hold_a_blob_back(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    await link(app, CONFIG, LAYER, repository=OTHER)
    await app.put_manifest(OTHER, "v1", OCI_MANIFEST, image(LAYER))
    await link(app, LAYER)
    await app.unlink_blob(REPO, digest_of(LAYER))
    # Still linked by the other repository: dereferenced, not orphaned.
    assert (await usage_events(uow, digest_of(LAYER)))[-1] == BlobDereferenced(
        digest=digest_of(LAYER), repositories=1, generation=3
    )
    assert await app.stat_blob(OTHER, digest_of(LAYER)) == len(LAYER)


async def test_refused_unlinks_write_nothing(app: App, uow: UnitOfWorkFactory[Any]) -> None:
    await link(app, CONFIG, LAYER)
    await app.put_manifest(REPO, "v1", OCI_MANIFEST, image(LAYER))
    async with uow(readonly=True) as unit:
        before = (await unit.session.execute(select(func.count()).select_from(schema.events))).scalar_one()
    for repository, digest, kind, code in [
        ("acme/none", digest_of(LAYER), NotFound, "NAME_UNKNOWN"),
        (REPO, digest_of(b"never linked"), NotFound, "BLOB_UNKNOWN"),
        (REPO, "sha256:abc", InvalidArgument, "DIGEST_INVALID"),
        ("Bad//Name", digest_of(LAYER), InvalidArgument, "NAME_INVALID"),
        (REPO, digest_of(LAYER), FailedPrecondition, "BLOB_REFERENCED"),
    ]:
        with pytest.raises(kind) as caught:
            await app.unlink_blob(repository, digest)
        assert caught.value.code == code, (repository, digest)
    assert await rows(uow, select(func.count()).select_from(schema.events)) == before


async def test_unlink_blob_over_rpc(app: App) -> None:
    from hangar.api.registry.v1 import registry_pb2

    await link(app, LAYER)
    reply = await RegistryServicer(app).UnlinkBlob(
        registry_pb2.UnlinkBlobRequest(repository=REPO, digest=digest_of(LAYER)), None
    )
    assert (reply.digest, reply.size) == (digest_of(LAYER), len(LAYER))


def test_the_new_events_round_trip_through_the_codec() -> None:
    registry: EventCodec = codec()
    digest = digest_of(LAYER)
    for event in (
        BlobUnlinked(repository=REPO, digest=digest, size=9),
        BlobReferenced(digest=digest, repositories=2, generation=3),
        BlobDereferenced(digest=digest, repositories=1, generation=4),
        BlobOrphaned(digest=digest, generation=5),
    ):
        entry, payload = registry.encode(event)
        assert entry.name == f"hangar.registry.v1.{type(event).__name__}"
        assert registry.decode(entry.name, payload) == event


async def test_the_migration_backfills_the_blobs_of_existing_manifests(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await migrations.upgrade(url, MIGRATIONS, revision="r0001")
    content = image(LAYER)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    db = Database(url)
    try:  # rows as a registry before r0002 left them
        async with db.engine.begin() as conn:
            await conn.execute(repositories.insert().values(name=REPO, kind="container", created_at=at))
            await conn.execute(
                manifests.insert(),
                [
                    {
                        "repository": REPO,
                        "digest": digest_of(body),
                        "media_type": media_type,
                        "size": len(body),
                        "content": body,
                        "subject_digest": "",
                        "artifact_type": "",
                        "created_at": at,
                    }
                    for body, media_type in ((content, OCI_MANIFEST), (b'{"manifests": []}', OCI_INDEX))
                ],
            )
    finally:
        await db.dispose()
    async with (
        testing.service_units_of_work(url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews) as uow,
        uow(readonly=True) as unit,
    ):
        found = await unit.session.execute(
            select(manifest_blobs.c.manifest_digest, manifest_blobs.c.blob_digest).order_by(
                manifest_blobs.c.blob_digest
            )
        )
        assert sorted(found.all()) == sorted(
            [(digest_of(content), digest_of(CONFIG)), (digest_of(content), digest_of(LAYER))]
        )


# -- PostgreSQL -------------------------------------------------------------------------------------------


@pytest.mark.postgres
async def test_unlinks_racing_links_in_other_repositories_never_orphan_a_linked_digest() -> None:
    async with (
        testing.postgres_database("hangar_registry_test") as url,
        testing.service_units_of_work(url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews) as uow,
    ):
        app = App(uow)
        digest = digest_of(LAYER)
        sources = [f"acme/src{i}" for i in range(8)]
        targets = [f"acme/dst{i}" for i in range(8)]
        for repository in sources:
            await link(app, LAYER, repository=repository)
        # Every source unlinks while every target links: the usage stream serialises them.
        await asyncio.gather(
            *(app.unlink_blob(repository, digest) for repository in sources),
            *(link(app, LAYER, repository=repository) for repository in targets),
        )
        events = await usage_events(uow, digest)
        assert [e.generation for e in events] == list(range(1, len(events) + 1))
        assert len(events) == 8 + 16
        last = events[-1]
        assert isinstance(last, BlobReferenced | BlobDereferenced)
        assert last.repositories == 8
        assert await rows(uow, select(func.count()).select_from(blobs).where(blobs.c.digest == digest)) == 8
        # Each count follows from the one before it by exactly one link or unlink.
        count = 0
        for event in events:
            after = 0 if isinstance(event, BlobOrphaned) else event.repositories
            assert after == count + (1 if isinstance(event, BlobReferenced) else -1)
            count = after
        # Then the rest go: the last one orphans the digest.
        await asyncio.gather(*(app.unlink_blob(repository, digest) for repository in targets))
        assert isinstance((await usage_events(uow, digest))[-1], BlobOrphaned)
