"""The projector of the artifact events into the artifact tables (in the appending transaction,
docs/decisions/0004), and the codec entries of those events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hangar.api.registry.v1 import artifact_events_pb2
from hangar.kit.codec import EventCodec
from hangar.kit.eventstore import StoredEvent
from hangar.registry.artifact_store.tables import (
    _metadata_json,
    _repositories,
    _version_metadata_json,
    namespace_of,
    repository_info,
    repository_labels,
    version_files,
    versions,
)
from hangar.registry.domain.artifacts import (
    LatestMoved,
    LatestPolicyChanged,
    MetadataUpdated,
    RepositoryKindChanged,
)
from hangar.registry.domain.metadata import ARTIFACT_KINDS, DOCUMENT_FIELDS, LATEST_AUTO, RepositoryMetadata
from hangar.registry.domain.repository import RepositoryCreated, TagDeleted, TagMoved
from hangar.registry.domain.versions import (
    COMMITTED,
    COMPLETE,
    INHERITED,
    PENDING,
    UPLOADING,
    FileRemoved,
    FileUploaded,
    FileUploadStarted,
    VersionCommitted,
    VersionCreated,
    VersionDeleted,
    version_sort_key,
)


def register_artifact_events(codec: EventCodec) -> None:
    """The artifact events and their messages; inherited file lists and markdown stay in the event store."""
    codec.register(MetadataUpdated, artifact_events_pb2.MetadataUpdated, private=sorted(DOCUMENT_FIELDS))
    codec.register(VersionCreated, artifact_events_pb2.VersionCreated, private=["inherited"])
    codec.register(FileUploadStarted, artifact_events_pb2.FileUploadStarted)
    codec.register(FileUploaded, artifact_events_pb2.FileUploaded)
    codec.register(FileRemoved, artifact_events_pb2.FileRemoved)
    codec.register(VersionCommitted, artifact_events_pb2.VersionCommitted)
    codec.register(VersionDeleted, artifact_events_pb2.VersionDeleted)
    codec.register(LatestMoved, artifact_events_pb2.LatestMoved)
    codec.register(LatestPolicyChanged, artifact_events_pb2.LatestPolicyChanged)
    codec.register(RepositoryKindChanged, artifact_events_pb2.RepositoryKindChanged)


async def _touch(session: AsyncConnection, repository: str, at: datetime) -> None:
    await session.execute(
        update(repository_info).where(repository_info.c.name == repository).values(updated_at=at)
    )


async def _put_file(session: AsyncConnection, event: Any, at: datetime, **values: Any) -> None:
    where = (
        version_files.c.repository == event.repository,
        version_files.c.version == event.version,
        version_files.c.path == event.path,
    )
    await session.execute(delete(version_files).where(*where))
    await session.execute(
        insert(version_files).values(
            repository=event.repository, version=event.version, path=event.path, updated_at=at, **values
        )
    )


async def project_artifacts(session: AsyncConnection, stored: StoredEvent) -> None:
    """Keep the artifact read models in step with the registry events, in the appending transaction."""
    at = stored.recorded_at
    match stored.event:
        case RepositoryCreated() as created:
            await session.execute(
                insert(repository_info).values(
                    name=created.repository,
                    namespace=namespace_of(created.repository),
                    metadata=_metadata_json(RepositoryMetadata()),
                    latest_version="",
                    latest_policy=LATEST_AUTO if created.kind in ARTIFACT_KINDS else "",
                    updated_at=at,
                )
            )
        case MetadataUpdated() as updated:
            await session.execute(
                update(repository_info)
                .where(repository_info.c.name == updated.repository)
                .values(metadata=_metadata_json(updated.metadata), updated_at=at)
            )
            await session.execute(
                delete(repository_labels).where(repository_labels.c.repository == updated.repository)
            )
            if updated.labels:
                await session.execute(
                    insert(repository_labels),
                    [{"repository": updated.repository, "label": label} for label in updated.labels],
                )
        case LatestMoved() as moved:
            await session.execute(
                update(repository_info)
                .where(repository_info.c.name == moved.repository)
                .values(latest_version=moved.version, updated_at=at)
            )
        case LatestPolicyChanged() as changed:
            await session.execute(
                update(repository_info)
                .where(repository_info.c.name == changed.repository)
                .values(latest_policy=changed.policy, updated_at=at)
            )
        case RepositoryKindChanged() as changed:
            await session.execute(
                update(_repositories)
                .where(_repositories.c.name == changed.repository)
                .values(kind=changed.kind)
            )
            await session.execute(
                update(repository_info)
                .where(repository_info.c.name == changed.repository)
                .values(latest_policy=LATEST_AUTO, updated_at=at)
            )
        case TagMoved() | TagDeleted():
            await _touch(session, stored.event.repository, at)
        case VersionCreated() as created:
            await session.execute(
                insert(versions).values(
                    repository=created.repository,
                    version=created.version,
                    kind=created.kind,
                    status=PENDING,
                    metadata=_version_metadata_json(created.metadata),
                    base_version=created.base_version,
                    manifest_digest="",
                    config_digest="",
                    size=0,
                    created_by=created.created_by,
                    created_at=at,
                    committed_at=None,
                    created_position=stored.position,
                    sort_key=version_sort_key(created.version),
                )
            )
            if created.inherited:
                await session.execute(
                    insert(version_files),
                    [
                        {
                            "repository": created.repository,
                            "version": created.version,
                            "path": f.path,
                            "status": INHERITED,
                            "digest": f.digest,
                            "size": f.size,
                            "upload_id": "",
                            "updated_at": at,
                        }
                        for f in created.inherited
                    ],
                )
        case FileUploadStarted() as started:
            await _put_file(
                session,
                started,
                at,
                status=UPLOADING,
                digest="",
                size=started.size,
                upload_id=started.upload_id,
            )
        case FileUploaded() as uploaded:
            await _put_file(
                session,
                uploaded,
                at,
                status=COMPLETE,
                digest=uploaded.digest,
                size=uploaded.size,
                upload_id="",
            )
        case FileRemoved() as removed:
            await session.execute(
                delete(version_files).where(
                    version_files.c.repository == removed.repository,
                    version_files.c.version == removed.version,
                    version_files.c.path == removed.path,
                )
            )
        case VersionCommitted() as committed:
            await session.execute(
                update(versions)
                .where(versions.c.repository == committed.repository, versions.c.version == committed.version)
                .values(
                    status=COMMITTED,
                    manifest_digest=committed.manifest_digest,
                    config_digest=committed.config_digest,
                    size=committed.size,
                    committed_at=at,
                )
            )
            await _touch(session, committed.repository, at)
        case VersionDeleted() as deleted:
            for model in (version_files, versions):
                await session.execute(
                    delete(model).where(
                        model.c.repository == deleted.repository, model.c.version == deleted.version
                    )
                )
            await _touch(session, deleted.repository, at)
