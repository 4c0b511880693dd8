"""The registry's use cases over a real SQLite database (and PostgreSQL where concurrency is the point)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

import pytest
from sqlalchemy import Table, func, select, text

from hangar.kit import schema, testing
from hangar.kit.errors import DomainError, FailedPrecondition, InvalidArgument, NotFound
from hangar.kit.uow import UnitOfWorkFactory
from hangar.registry.app import App, Deletion
from hangar.registry.domain import DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST
from hangar.registry.store import (
    MIGRATIONS,
    PROJECTORS,
    SqlViews,
    codec,
    manifest_references,
    manifests,
    repositories,
    tags,
)

REPO = "acme/web"
CONFIG = b'{"architecture":"amd64","os":"linux"}'
LAYERS = [b"layer one", b"layer two"]
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def digest_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def descriptor(data: bytes, media_type: str = OCI_LAYER) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest_of(data), "size": len(data)}


def image(
    layers: list[bytes] = LAYERS, *, config: bytes = CONFIG, media_type: str = OCI_MANIFEST, **fields: Any
) -> bytes:
    docker = media_type == DOCKER_MANIFEST
    document = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": descriptor(config, DOCKER_CONFIG if docker else OCI_CONFIG),
        "layers": [descriptor(layer, DOCKER_LAYER if docker else OCI_LAYER) for layer in layers],
        **fields,
    }
    # Indented, with a trailing newline: what is served must be these bytes, not a re-serialization.
    return json.dumps(document, indent=3).encode() + b"\n"


def index(children: list[bytes], media_type: str = OCI_INDEX) -> bytes:
    child_type = DOCKER_MANIFEST if media_type == DOCKER_MANIFEST_LIST else OCI_MANIFEST
    document = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [descriptor(child, child_type) for child in children],
    }
    return json.dumps(document).encode()


async def link(app: App, *blobs: bytes, repository: str = REPO) -> None:
    for blob in blobs:
        await app.link_blob(repository, digest_of(blob), len(blob))


async def count(uow: UnitOfWorkFactory[Any], table: Table, **where: str) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    async with uow(readonly=True) as unit:
        return int((await unit.session.execute(query)).scalar_one())


async def refusal(call: Any, kind: type[DomainError] = DomainError) -> DomainError:
    with pytest.raises(kind) as caught:
        await call
    return caught.value


async def event_types(uow: UnitOfWorkFactory[Any], after: int = 0) -> list[str]:
    """The type names of the events recorded after the first `after`, in order."""
    query = select(schema.events.c.type).order_by(schema.events.c.position).offset(after)
    async with uow(readonly=True) as unit:
        return [name.rsplit(".", 1)[-1] for name in (await unit.session.execute(query)).scalars()]


# -- manifests --------------------------------------------------------------------------------------------


async def test_manifest_pushed_by_tag_is_served_by_tag_and_by_digest_byte_for_byte(app: App) -> None:
    content = image()
    await link(app, CONFIG, *LAYERS)
    digest, subject = await app.put_manifest(REPO, "v1", OCI_MANIFEST, content)
    assert digest == digest_of(content)
    assert subject == ""
    assert await app.get_manifest(REPO, "v1") == (digest, OCI_MANIFEST, content)
    assert await app.get_manifest(REPO, digest) == (digest, OCI_MANIFEST, content)


async def test_manifest_naming_an_unlinked_layer_is_refused_and_writes_nothing(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    await link(app, CONFIG, *LAYERS, repository="acme/other")
    await link(app, CONFIG, LAYERS[0])
    events_before = await count(uow, schema.events)

    refused = await refusal(app.put_manifest(REPO, "v1", OCI_MANIFEST, image()), FailedPrecondition)
    assert refused.code == "MANIFEST_BLOB_UNKNOWN"
    assert digest_of(LAYERS[1]) in refused.message
    # Into a repository that does not exist yet (its blobs are linked elsewhere): not even the repository.
    refused = await refusal(app.put_manifest("acme/new", "v1", OCI_MANIFEST, image()), FailedPrecondition)
    assert refused.code == "MANIFEST_BLOB_UNKNOWN"

    assert await count(uow, repositories, name="acme/new") == 0
    assert await count(uow, manifests) == 0
    assert await count(uow, tags) == 0
    assert await count(uow, schema.events) == events_before


async def test_index_naming_a_manifest_not_in_the_repository_is_refused(app: App) -> None:
    child = image()
    await link(app, CONFIG, *LAYERS)
    await app.put_manifest(REPO, digest_of(child), OCI_MANIFEST, child)
    refused = await refusal(
        app.put_manifest(REPO, "multi", OCI_INDEX, index([child, image(LAYERS[:1])])), FailedPrecondition
    )
    assert refused.code == "MANIFEST_BLOB_UNKNOWN"
    assert digest_of(image(LAYERS[:1])) in refused.message


async def test_index_of_pushed_children_records_its_references(app: App, uow: UnitOfWorkFactory[Any]) -> None:
    amd64, arm64 = image(LAYERS[:1]), image(LAYERS[1:])
    await link(app, CONFIG, *LAYERS)
    for child in (amd64, arm64):
        await app.put_manifest(REPO, digest_of(child), OCI_MANIFEST, child)
    content = index([amd64, arm64])
    digest, _ = await app.put_manifest(REPO, "multi", OCI_INDEX, content)
    assert await app.get_manifest(REPO, "multi") == (digest, OCI_INDEX, content)
    assert await count(uow, manifest_references, parent_digest=digest) == 2


async def test_docker_schema2_manifest_and_manifest_list_are_accepted(app: App) -> None:
    child = image(media_type=DOCKER_MANIFEST)
    await link(app, CONFIG, *LAYERS)
    digest, _ = await app.put_manifest(REPO, "docker", DOCKER_MANIFEST, child)
    assert await app.get_manifest(REPO, "docker") == (digest, DOCKER_MANIFEST, child)
    listing = index([child], DOCKER_MANIFEST_LIST)
    await app.put_manifest(REPO, "docker-list", DOCKER_MANIFEST_LIST, listing)
    assert (await app.get_manifest(REPO, "docker-list"))[1:] == (DOCKER_MANIFEST_LIST, listing)


async def test_push_by_digest_must_name_the_content_digest(app: App, uow: UnitOfWorkFactory[Any]) -> None:
    content = image()
    await link(app, CONFIG, *LAYERS)
    refused = await refusal(
        app.put_manifest(REPO, digest_of(b"something else"), OCI_MANIFEST, content), InvalidArgument
    )
    assert refused.code == "DIGEST_INVALID"
    assert await count(uow, manifests) == 0
    digest, _ = await app.put_manifest(REPO, digest_of(content), OCI_MANIFEST, content)
    assert digest == digest_of(content)
    assert await count(uow, tags) == 0


async def test_moving_a_tag_keeps_the_old_manifest_by_digest(app: App) -> None:
    first, second = image(), image(LAYERS[:1])
    await link(app, CONFIG, *LAYERS)
    old, _ = await app.put_manifest(REPO, "latest", OCI_MANIFEST, first)
    new, _ = await app.put_manifest(REPO, "latest", OCI_MANIFEST, second)
    assert (await app.get_manifest(REPO, "latest"))[0] == new
    assert (await app.get_manifest(REPO, old))[2] == first


async def test_repushing_a_manifest_under_its_tag_appends_nothing(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    await link(app, CONFIG, *LAYERS)
    await app.put_manifest(REPO, "v1", OCI_MANIFEST, image())
    before = await count(uow, schema.events)
    await app.put_manifest(REPO, "v1", OCI_MANIFEST, image())
    assert await count(uow, schema.events) == before


async def test_subject_digest_of_a_referrer_is_returned(app: App) -> None:
    subject = image()
    await link(app, CONFIG, *LAYERS)
    await app.put_manifest(REPO, "v1", OCI_MANIFEST, subject)
    signature = image(LAYERS[:1], subject=descriptor(subject, OCI_MANIFEST))
    digest, subject_digest = await app.put_manifest(REPO, digest_of(signature), OCI_MANIFEST, signature)
    assert digest == digest_of(signature)
    assert subject_digest == digest_of(subject)


async def test_missing_manifest_is_manifest_unknown_and_missing_repository_name_unknown(app: App) -> None:
    await link(app, CONFIG)
    assert (await refusal(app.get_manifest(REPO, "nope"), NotFound)).code == "MANIFEST_UNKNOWN"
    assert (await refusal(app.get_manifest(REPO, digest_of(b"x")), NotFound)).code == "MANIFEST_UNKNOWN"
    assert (await refusal(app.get_manifest("acme/none", "v1"), NotFound)).code == "NAME_UNKNOWN"
    assert (await refusal(app.get_manifest("Acme/Web", "v1"), InvalidArgument)).code == "NAME_INVALID"
    assert (await refusal(app.get_manifest(REPO, "-bad"), InvalidArgument)).code == "TAG_INVALID"


# -- blobs ------------------------------------------------------------------------------------------------


async def test_linking_creates_the_repository_and_is_idempotent(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    await link(app, CONFIG)
    events = await count(uow, schema.events)
    await link(app, CONFIG)
    assert await count(uow, schema.events) == events == 3  # RepositoryCreated, BlobLinked, BlobReferenced
    assert await app.stat_blob(REPO, digest_of(CONFIG)) == len(CONFIG)
    async with uow(readonly=True) as unit:
        assert await unit.views.repository_kind(REPO) == "container"


async def test_relinking_a_blob_with_another_size_is_refused(app: App) -> None:
    await link(app, CONFIG)
    refused = await refusal(app.link_blob(REPO, digest_of(CONFIG), len(CONFIG) + 1), InvalidArgument)
    assert refused.code == "SIZE_INVALID"


async def test_unknown_blob_is_blob_unknown_and_missing_repository_name_unknown(app: App) -> None:
    await link(app, CONFIG)
    assert (await refusal(app.stat_blob(REPO, digest_of(b"x")), NotFound)).code == "BLOB_UNKNOWN"
    assert (await refusal(app.stat_blob("acme/none", digest_of(CONFIG)), NotFound)).code == "NAME_UNKNOWN"
    assert (await refusal(app.stat_blob(REPO, "sha256:XYZ"), InvalidArgument)).code == "DIGEST_INVALID"


async def test_fifty_concurrent_links_on_one_repository_all_succeed(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    blobs = [f"layer {i}".encode() for i in range(50)]
    await asyncio.gather(*(app.link_blob(REPO, digest_of(blob), len(blob)) for blob in blobs))
    for blob in blobs:
        assert await app.stat_blob(REPO, digest_of(blob)) == len(blob)
    assert await count(uow, repositories) == 1


async def test_concurrent_links_of_one_blob_record_it_once(app: App, uow: UnitOfWorkFactory[Any]) -> None:
    await asyncio.gather(*(app.link_blob(REPO, digest_of(CONFIG), len(CONFIG)) for _ in range(10)))
    assert await count(uow, schema.events) == 3  # RepositoryCreated, BlobLinked, BlobReferenced


async def test_pushing_an_image_of_200_layers_stays_fast(app: App) -> None:
    blobs = [f"layer {i}".encode() for i in range(200)]
    content = image(blobs)
    started = time.perf_counter()
    await asyncio.gather(*(app.link_blob(REPO, digest_of(blob), len(blob)) for blob in [CONFIG, *blobs]))
    await app.put_manifest(REPO, "big", OCI_MANIFEST, content)
    pushed = time.perf_counter() - started
    # Every link is O(1) in the repository's size; a stream replay per link would be O(n^2) overall.
    started = time.perf_counter()
    await asyncio.gather(*(app.link_blob(REPO, digest_of(blob), len(blob)) for blob in [CONFIG, *blobs]))
    await app.put_manifest(REPO, "big", OCI_MANIFEST, content)
    repushed = time.perf_counter() - started
    print(f"200-layer push: {pushed:.2f}s; repush (all linked): {repushed:.2f}s")
    assert pushed < 15
    assert repushed < 5
    assert (await app.get_manifest(REPO, "big"))[2] == content


# -- tags -------------------------------------------------------------------------------------------------


async def test_tags_are_listed_in_byte_order_with_n_and_last(app: App) -> None:
    await link(app, CONFIG, *LAYERS)
    names = ["v2", "V1", "latest", "a", "v10", "_x"]
    for name in names:
        await app.put_manifest(REPO, name, OCI_MANIFEST, image())
    assert await app.list_tags(REPO, None, None) == (sorted(names), False)
    assert await app.list_tags(REPO, 2, None) == (["V1", "_x"], True)
    assert await app.list_tags(REPO, 2, "_x") == (["a", "latest"], True)
    assert await app.list_tags(REPO, 2, "latest") == (["v10", "v2"], False)
    assert await app.list_tags(REPO, 10, "v2") == ([], False)
    assert await app.list_tags(REPO, 0, None) == ([], False)


async def test_tags_of_a_repository_without_tags_or_without_existence(app: App) -> None:
    await link(app, CONFIG)
    assert await app.list_tags(REPO, None, None) == ([], False)
    assert (await refusal(app.list_tags("acme/none", None, None), NotFound)).code == "NAME_UNKNOWN"
    assert (await refusal(app.list_tags(REPO, -1, None), InvalidArgument)).code == "PAGINATION_NUMBER_INVALID"


# -- deletes ----------------------------------------------------------------------------------------------


async def test_deleting_by_digest_removes_the_manifest_and_every_tag_pointing_at_it(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    first, second = image(), image(LAYERS[:1])
    await link(app, CONFIG, *LAYERS)
    digest, _ = await app.put_manifest(REPO, "v1", OCI_MANIFEST, first)
    await app.put_manifest(REPO, "latest", OCI_MANIFEST, first)
    other, _ = await app.put_manifest(REPO, "v2", OCI_MANIFEST, second)
    before = await count(uow, schema.events)

    assert await app.delete_manifest(REPO, digest) == Deletion(
        digest, ("latest", "v1"), manifest_deleted=True
    )

    assert await event_types(uow, before) == ["TagDeleted", "TagDeleted", "ManifestDeleted"]
    for reference in (digest, "v1", "latest"):
        assert (await refusal(app.get_manifest(REPO, reference), NotFound)).code == "MANIFEST_UNKNOWN"
    assert await app.list_tags(REPO, None, None) == (["v2"], False)
    assert (await app.get_manifest(REPO, other))[2] == second
    assert await count(uow, manifests, repository=REPO) == 1
    assert await app.stat_blob(REPO, digest_of(LAYERS[1])) == len(LAYERS[1])  # blobs stay until GC


async def test_deleting_a_tag_leaves_the_manifest_and_its_other_tags(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    content = image()
    await link(app, CONFIG, *LAYERS)
    digest, _ = await app.put_manifest(REPO, "v1", OCI_MANIFEST, content)
    await app.put_manifest(REPO, "stable", OCI_MANIFEST, content)
    before = await count(uow, schema.events)

    assert await app.delete_manifest(REPO, "v1") == Deletion(digest, ("v1",), manifest_deleted=False)

    assert await event_types(uow, before) == ["TagDeleted"]
    assert (await refusal(app.get_manifest(REPO, "v1"), NotFound)).code == "MANIFEST_UNKNOWN"
    assert await app.get_manifest(REPO, digest) == (digest, OCI_MANIFEST, content)
    assert await app.get_manifest(REPO, "stable") == (digest, OCI_MANIFEST, content)
    assert await app.list_tags(REPO, None, None) == (["stable"], False)


async def test_a_child_of_an_index_is_refused_until_the_index_is_deleted(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    amd64, arm64 = image(LAYERS[:1]), image(LAYERS[1:])
    await link(app, CONFIG, *LAYERS)
    for child in (amd64, arm64):
        await app.put_manifest(REPO, digest_of(child), OCI_MANIFEST, child)
    multi, _ = await app.put_manifest(REPO, "multi", OCI_INDEX, index([amd64, arm64]))
    before = await count(uow, schema.events)

    refused = await refusal(app.delete_manifest(REPO, digest_of(amd64)), FailedPrecondition)
    assert refused.code == "MANIFEST_REFERENCED"
    assert multi in refused.message and refused.detail == multi
    assert await count(uow, schema.events) == before
    assert (await app.get_manifest(REPO, digest_of(amd64)))[2] == amd64

    assert await app.delete_manifest(REPO, multi) == Deletion(multi, ("multi",), manifest_deleted=True)
    assert await count(uow, manifest_references) == 0
    await app.delete_manifest(REPO, digest_of(amd64))
    assert (await refusal(app.get_manifest(REPO, digest_of(amd64)), NotFound)).code == "MANIFEST_UNKNOWN"


async def test_an_index_in_another_repository_does_not_hold_a_manifest_back(app: App) -> None:
    child = image()
    for repository in (REPO, "acme/mirror"):
        await link(app, CONFIG, *LAYERS, repository=repository)
        await app.put_manifest(repository, digest_of(child), OCI_MANIFEST, child)
    await app.put_manifest("acme/mirror", "multi", OCI_INDEX, index([child]))
    deletion = await app.delete_manifest(REPO, digest_of(child))
    assert deletion.manifest_deleted
    assert (await app.get_manifest("acme/mirror", digest_of(child)))[2] == child


async def test_deleting_what_is_not_there_is_refused_with_the_oci_codes(
    app: App, uow: UnitOfWorkFactory[Any]
) -> None:
    await link(app, CONFIG, *LAYERS)
    digest, _ = await app.put_manifest(REPO, "v1", OCI_MANIFEST, image())
    before = await count(uow, schema.events)
    assert (await refusal(app.delete_manifest(REPO, "v2"), NotFound)).code == "MANIFEST_UNKNOWN"
    unknown = digest_of(b"never pushed")
    refused = await refusal(app.delete_manifest(REPO, unknown), NotFound)
    assert refused.code == "MANIFEST_UNKNOWN" and unknown in refused.message
    assert (await refusal(app.delete_manifest("acme/none", digest), NotFound)).code == "NAME_UNKNOWN"
    assert (await refusal(app.delete_manifest("acme/none", "v1"), NotFound)).code == "NAME_UNKNOWN"
    assert (await refusal(app.delete_manifest(REPO, "-v1"), InvalidArgument)).code == "TAG_INVALID"
    assert (await refusal(app.delete_manifest(REPO, "sha256:x"), InvalidArgument)).code == "DIGEST_INVALID"
    assert (await refusal(app.delete_manifest("Acme/Web", "v1"), InvalidArgument)).code == "NAME_INVALID"
    await app.delete_manifest(REPO, digest)
    assert (await refusal(app.delete_manifest(REPO, digest), NotFound)).code == "MANIFEST_UNKNOWN"
    assert await count(uow, schema.events) == before + 2  # only the one delete that found something


async def test_a_deleted_manifest_can_be_pushed_again_by_tag_and_by_digest(app: App) -> None:
    content = image()
    await link(app, CONFIG, *LAYERS)
    digest, _ = await app.put_manifest(REPO, "v1", OCI_MANIFEST, content)
    await app.delete_manifest(REPO, digest)
    assert (await app.put_manifest(REPO, "v1", OCI_MANIFEST, content))[0] == digest
    assert await app.get_manifest(REPO, "v1") == (digest, OCI_MANIFEST, content)
    assert await app.list_tags(REPO, None, None) == (["v1"], False)
    await app.delete_manifest(REPO, "v1")
    await app.delete_manifest(REPO, digest)
    assert (await app.put_manifest(REPO, digest, OCI_MANIFEST, content))[0] == digest
    assert (await app.get_manifest(REPO, digest))[2] == content
    assert await app.list_tags(REPO, None, None) == ([], False)


# -- PostgreSQL -------------------------------------------------------------------------------------------


@pytest.mark.postgres
async def test_concurrent_links_and_pushes_on_postgresql_all_succeed() -> None:
    async with (
        testing.postgres_database("hangar_registry_test") as url,
        testing.service_units_of_work(url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews) as uow,
    ):
        app = App(uow)
        blobs = [CONFIG, *(f"layer {i}".encode() for i in range(50))]
        await asyncio.gather(*(app.link_blob(REPO, digest_of(blob), len(blob)) for blob in blobs))
        for blob in blobs:
            assert await app.stat_blob(REPO, digest_of(blob)) == len(blob)
        assert await count(uow, repositories) == 1
        # Parallel pushes of one repository's manifests race on its stream; every one lands.
        images = {f"v{i}": image(blobs[1 + i : 3 + i]) for i in range(25)}
        await asyncio.gather(
            *(app.put_manifest(REPO, tag, OCI_MANIFEST, content) for tag, content in images.items())
        )
        assert await app.list_tags(REPO, None, None) == (sorted(images), False)
        for tag, content in images.items():
            assert (await app.get_manifest(REPO, tag))[2] == content
        # Tags sort byte by byte whatever the database's locale.
        async with uow(readonly=True) as unit:
            collation = await unit.session.execute(
                text(
                    "SELECT collation_name FROM information_schema.columns"
                    " WHERE table_name = 'tags' AND column_name = 'tag'"
                )
            )
            assert collation.scalar_one() == "C"


@pytest.mark.postgres
async def test_deletes_racing_pushes_on_postgresql_leave_no_index_without_its_children() -> None:
    async with (
        testing.postgres_database("hangar_registry_test") as url,
        testing.service_units_of_work(url, codec(), MIGRATIONS, projectors=PROJECTORS, views=SqlViews) as uow,
    ):
        app = App(uow)
        layers = [f"layer {i}".encode() for i in range(20)]
        await link(app, CONFIG, *layers)
        children = [image(layers[i : i + 1]) for i in range(20)]
        for child in children:
            await app.put_manifest(REPO, digest_of(child), OCI_MANIFEST, child)
        # Each index races the delete of its only child: exactly one of the two wins, on the row lock.
        outcomes = await asyncio.gather(
            *(
                app.put_manifest(REPO, f"multi{i}", OCI_INDEX, index([child]))
                for i, child in enumerate(children)
            ),
            *(app.delete_manifest(REPO, digest_of(child)) for child in children),
            return_exceptions=True,
        )
        pushes, deletes = outcomes[:20], outcomes[20:]
        for i, (pushed, deleted) in enumerate(zip(pushes, deletes, strict=True)):
            if isinstance(pushed, BaseException):
                assert isinstance(pushed, FailedPrecondition) and pushed.code == "MANIFEST_BLOB_UNKNOWN"
                assert isinstance(deleted, Deletion)
            else:
                assert isinstance(deleted, FailedPrecondition) and deleted.code == "MANIFEST_REFERENCED"
                assert (await app.get_manifest(REPO, f"multi{i}"))[1] == OCI_INDEX
        async with uow(readonly=True) as unit:
            orphaned = await unit.session.execute(
                select(func.count())
                .select_from(manifest_references)
                .outerjoin(
                    manifests,
                    (manifests.c.repository == manifest_references.c.repository)
                    & (manifests.c.digest == manifest_references.c.child_digest),
                )
                .where(manifests.c.digest.is_(None))
            )
            assert orphaned.scalar_one() == 0
        # Tags of what is left can all be deleted at once.
        tags_left, _ = await app.list_tags(REPO, None, None)
        await asyncio.gather(*(app.delete_manifest(REPO, tag) for tag in tags_left))
        assert await app.list_tags(REPO, None, None) == ([], False)
