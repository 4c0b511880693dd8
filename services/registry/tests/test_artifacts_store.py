"""The artifact read models: the migration builds exactly their tables (and backfills repository_info), they
rebuild from the events alone, events publish without their private fields, and the whole thing runs on
PostgreSQL too (locks, collation, LIKE escaping, concurrent uploads)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from hangar.api.registry.v1 import artifact_events_pb2
from hangar.kit import migrations, testing
from hangar.kit.db import Database
from hangar.kit.uow import UnitOfWorkFactory
from hangar.registry.app import App
from hangar.registry.artifact_store import (
    artifact_metadata,
    like_pattern,
    repository_info,
    repository_labels,
    version_files,
    versions,
)
from hangar.registry.artifacts import ArtifactApp
from hangar.registry.domain.artifacts import MetadataUpdated
from hangar.registry.domain.metadata import RepositoryMetadata, VersionMetadata
from hangar.registry.domain.versions import FileRef, VersionCreated
from hangar.registry.store import MIGRATIONS, PROJECTORS, SqlViews, codec, repositories

REPO = "acme/vision/resnet"


def digest_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


async def test_the_migration_builds_exactly_the_artifact_tables(uow: UnitOfWorkFactory[Any]) -> None:
    ours = {table.name for table in artifact_metadata.sorted_tables}

    def only_ours(name: str | None, type_: str, parent_names: Any) -> bool:
        return type_ != "table" or name in ours

    async with uow.db.engine.connect() as conn:
        differences = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"include_name": only_ours, "compare_type": True}),
                artifact_metadata,
            )
        )
    assert differences == []


async def test_the_migration_gives_existing_repositories_their_info_row(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await migrations.upgrade(url, MIGRATIONS, revision="r0002")
    db = Database(url)
    try:  # a registry before r0003: its own projector only
        old = UnitOfWorkFactory(
            db, codec(), subject_prefix="hangar", projectors=PROJECTORS[:1], views=SqlViews
        )
        await App(old).link_blob("acme/web", digest_of(b"x"), 1)
    finally:
        await db.dispose()
    async with testing.service_units_of_work(
        url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews
    ) as new:
        found = await ArtifactApp(new, App(new).link_blob).get_repository("acme/web")
    assert (found.kind, found.metadata, found.latest_policy, found.size) == (
        "container",
        RepositoryMetadata(),
        "",
        1,
    )


async def test_artifact_read_models_rebuild_from_the_events(
    app: App, uow: UnitOfWorkFactory[Any], tmp_path: Path
) -> None:
    artifacts = ArtifactApp(uow, app.link_blob)
    await artifacts.create_repository(REPO, "model", RepositoryMetadata(labels=("a", "b"), overview="# x"))
    await artifacts.update_repository(REPO, RepositoryMetadata(labels=("c",)), ["labels"])
    for name, base in (("1.0", ""), ("1.1", "1.0"), ("2.0", "")):
        await artifacts.create_version(REPO, name, VersionMetadata.of(epochs=1), base_version=base)
        await artifacts.begin_file(REPO, name, "w.bin", "u", 0)
        await artifacts.complete_file(REPO, name, "w.bin", "u", digest_of(name.encode()), len(name))
        await artifacts.begin_file(REPO, name, f"extra/{name}", "u", 0)
        if name != "2.0":
            await artifacts.remove_file(REPO, name, f"extra/{name}")
            _, content, digest = await artifacts.get_version_config(REPO, name)
            await app.link_blob(REPO, digest, len(content))
            await artifacts.commit_version(REPO, name, digest)
    await artifacts.set_latest(REPO, "1.0", False)
    await artifacts.delete_version(REPO, "1.0")

    async with uow(readonly=True) as unit:
        history = await unit.events.read_all(limit=10_000)
    async with testing.service_units_of_work(
        f"sqlite+aiosqlite:///{tmp_path / 'rebuilt.db'}",
        codec(),
        MIGRATIONS,
        projectors=PROJECTORS,
        views=SqlViews,
    ) as fresh:
        async with fresh() as unit:
            for stored in history:
                for project in PROJECTORS:
                    await project(unit.session, stored)
            await unit.commit()
        for table in (repositories, repository_info, repository_labels, versions, version_files):
            assert await rows(fresh, table) == await rows(uow, table), table.name
    assert len(await rows(uow, versions)) == 2


async def rows(uow: UnitOfWorkFactory[Any], table: Any) -> list[tuple[Any, ...]]:
    async with uow(readonly=True) as unit:
        result = await unit.session.execute(select(table).order_by(*table.primary_key.columns))
        return [tuple(row) for row in result]


def test_published_events_leave_documents_and_file_lists_behind() -> None:
    registry = codec()
    updated = MetadataUpdated(REPO, ("overview", "labels"), labels=("x",), overview="# big")
    entry, stored = registry.encode(updated)
    assert entry.name == "hangar.registry.v1.MetadataUpdated"
    assert registry.decode(entry.name, stored) == updated
    published = artifact_events_pb2.MetadataUpdated.FromString(registry.public_payload(updated))
    assert (published.overview, list(published.labels), list(published.fields)) == (
        "",
        ["x"],
        ["overview", "labels"],
    )
    created = VersionCreated(
        REPO, "1.1", "model", VersionMetadata(), "1.0", "alice", (FileRef("a", digest_of(b"a"), 1),)
    )
    entry, stored = registry.encode(created)
    assert registry.decode(entry.name, stored) == created
    public = artifact_events_pb2.VersionCreated.FromString(registry.public_payload(created))
    assert (list(public.inherited), public.base_version) == ([], "1.0")


@pytest.mark.parametrize(
    ("pattern", "like"),
    [
        ("acme/*", "acme/%"),
        ("a?b", "a_b"),
        ("a_b%c", "a\\_b\\%c"),
        ("x[ab]y", "x_y"),
        ("x[!a]", "x_"),
        ("x[", "x["),
    ],
)
def test_shell_patterns_become_like_patterns(pattern: str, like: str) -> None:
    assert like_pattern(pattern) == like


@pytest.mark.postgres
async def test_artifacts_on_postgresql() -> None:
    async with (
        testing.postgres_database("hangar_registry_test") as url,
        testing.service_units_of_work(url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews) as uow,
    ):
        app = App(uow)
        artifacts = ArtifactApp(uow, app.link_blob)
        await artifacts.create_repository(REPO, "model", RepositoryMetadata(labels=("vision",)))
        await artifacts.create_repository("acme/vision/a_b", "chart", RepositoryMetadata())
        await artifacts.create_repository("acme/vision/axb", "chart", RepositoryMetadata())
        await artifacts.create_version(REPO, "1.0.0", VersionMetadata())
        paths = [f"shard-{i:02d}.bin" for i in range(12)]

        async def upload(path: str) -> None:
            await artifacts.begin_file(REPO, "1.0.0", path, f"u-{path}", 0)
            await artifacts.complete_file(
                REPO, "1.0.0", path, f"u-{path}", digest_of(path.encode()), len(path)
            )

        await asyncio.gather(*(upload(p) for p in paths))  # parallel uploads queue on the version row
        _, content, digest = await artifacts.get_version_config(REPO, "1.0.0")
        await app.link_blob(REPO, digest, len(content))
        record, _ = await artifacts.commit_version(REPO, "1.0.0", digest)
        assert [f.path for f in record.files] == paths and record.size == sum(len(p) for p in paths)
        results = await asyncio.gather(
            *(artifacts.create_version(REPO, "2.0.0", VersionMetadata()) for _ in range(4)),
            return_exceptions=True,
        )
        assert sum(not isinstance(r, BaseException) for r in results) == 1
        assert all(
            getattr(r, "code", "") == "VERSION_EXISTS" for r in results if isinstance(r, BaseException)
        )
        found, _ = await artifacts.search_repositories(all_namespaces=True, name_pattern="acme/vision/a_b")
        assert [r.name for r in found] == ["acme/vision/a_b"]
        found, _ = await artifacts.search_repositories(namespaces=["acme/vision"], labels=["vision"])
        assert [(r.name, r.version_count, r.latest_version) for r in found] == [(REPO, 1, "1.0.0")]
        await artifacts.delete_version(REPO, "1.0.0")
        assert (await artifacts.get_repository(REPO)).latest_version == ""
