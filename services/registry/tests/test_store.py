"""The registry store: its migration builds its tables, and its read models rebuild from the events alone."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from hangar.kit import testing
from hangar.kit.codec import EventCodec
from hangar.kit.uow import UnitOfWorkFactory
from hangar.registry.app import App
from hangar.registry.store import (
    MIGRATIONS,
    PROJECTORS,
    SqlViews,
    blobs,
    codec,
    manifest_references,
    manifests,
    metadata,
    repositories,
    tags,
)

REPO = "acme/web"


def digest_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def image(layer: bytes) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": digest_of(b"{}"),
                "size": 2,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": digest_of(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()


async def test_the_migration_builds_exactly_the_tables_of_the_store(uow: UnitOfWorkFactory[Any]) -> None:
    ours = {table.name for table in metadata.sorted_tables}

    def only_ours(name: str | None, type_: str, parent_names: Any) -> bool:
        return type_ != "table" or name in ours  # the kit's own tables are not in this metadata

    async with uow.db.engine.connect() as conn:
        differences = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"include_name": only_ours, "compare_type": True}),
                metadata,
            )
        )
    assert differences == []


async def test_read_models_rebuild_from_the_events(
    app: App, uow: UnitOfWorkFactory[Any], tmp_path: Path
) -> None:
    await app.link_blob(REPO, digest_of(b"{}"), 2)
    for layer in (b"one", b"two"):
        await app.link_blob(REPO, digest_of(layer), len(layer))
        await app.put_manifest(REPO, "latest", "", image(layer))
    children = [image(b"one"), image(b"two")]
    listing = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": digest_of(c),
                    "size": len(c),
                }
                for c in children
            ],
        }
    ).encode()
    await app.put_manifest(REPO, "multi", "", listing)
    # Deletes too: a tag alone, an index (with its references and tag), then a child it had listed.
    await app.put_manifest(REPO, "stable", "", image(b"two"))
    await app.delete_manifest(REPO, "stable")
    await app.delete_manifest(REPO, digest_of(listing))
    await app.delete_manifest(REPO, digest_of(image(b"one")))

    async with uow(readonly=True) as unit:
        history = await unit.events.read_all()
    rebuilt_url = f"sqlite+aiosqlite:///{tmp_path / 'rebuilt.db'}"
    async with testing.service_units_of_work(
        rebuilt_url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews
    ) as fresh:
        async with fresh() as unit:
            for stored in history:
                for project in PROJECTORS:
                    await project(unit.session, stored)
            await unit.commit()
        for table in (repositories, blobs, manifests, manifest_references, tags):
            assert await rows(fresh, table) == await rows(uow, table), table.name


async def rows(uow: UnitOfWorkFactory[Any], table: Any) -> list[tuple[Any, ...]]:
    async with uow(readonly=True) as unit:
        result = await unit.session.execute(select(table).order_by(*table.primary_key.columns))
        return [tuple(row) for row in result]


def test_published_manifest_events_leave_the_bytes_and_children_behind() -> None:
    from hangar.api.registry.v1 import events_pb2
    from hangar.registry.domain import ManifestPushed

    registry: EventCodec = codec()
    event = ManifestPushed(
        REPO, digest_of(b"m"), "application/vnd.oci.image.index.v1+json", 1, "", "", ("sha256:c",), b"m"
    )
    entry, stored = registry.encode(event)
    assert entry.name == "hangar.registry.v1.ManifestPushed"
    assert registry.decode(entry.name, stored) == event
    published = events_pb2.ManifestPushed.FromString(registry.public_payload(event))
    assert (published.content, list(published.children), published.digest) == (b"", [], digest_of(b"m"))


def test_delete_events_are_published_whole_under_stable_names() -> None:
    from hangar.api.registry.v1 import events_pb2
    from hangar.registry.domain import ManifestDeleted, TagDeleted

    registry: EventCodec = codec()
    for event, message in (
        (ManifestDeleted(REPO, digest_of(b"m")), events_pb2.ManifestDeleted),
        (TagDeleted(REPO, "v1", digest_of(b"m")), events_pb2.TagDeleted),
    ):
        entry, stored = registry.encode(event)
        assert entry.name == f"hangar.registry.v1.{type(event).__name__}"
        assert registry.decode(entry.name, stored) == event
        assert message.FromString(registry.public_payload(event)).digest == digest_of(b"m")
