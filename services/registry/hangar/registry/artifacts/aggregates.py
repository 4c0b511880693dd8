"""The artifact aggregates (Version, ArtifactRepository) restored from the read models under their row locks,
what they record appended to their streams, and the refusals every artifact command shares."""

from __future__ import annotations

from collections.abc import Sequence

from hangar.kit.errors import FailedPrecondition, NotFound
from hangar.kit.events import Aggregate, DomainEvent
from hangar.kit.uow import UnitOfWork
from hangar.registry.artifacts.ports import ArtifactViews, FileRecord, VersionRecord
from hangar.registry.domain.artifacts import ArtifactRepository
from hangar.registry.domain.metadata import ARTIFACT_KINDS, LATEST_AUTO, RepositoryMetadata
from hangar.registry.domain.quoting import quote
from hangar.registry.domain.repository import Repository
from hangar.registry.domain.versions import Version, VersionFile


def _name_unknown(repository: str) -> NotFound:
    return NotFound(f"repository {quote(repository)} does not exist", code="NAME_UNKNOWN")


def _kind_mismatch(repository: str, kind: str, wanted: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"{quote(repository)} is a {kind} repository, not a {wanted}", code="KIND_MISMATCH"
    )


def _require_artifacts(repository: str, kind: str | None) -> str:
    if kind is None:
        raise _name_unknown(repository)
    if kind not in ARTIFACT_KINDS:
        raise FailedPrecondition(
            f"{quote(repository)} is a {kind} repository: it has tags, not versions", code="KIND_MISMATCH"
        )
    return kind


def _restore_version(
    repository: str,
    version: str,
    stream_version: int,
    record: VersionRecord | None,
    files: Sequence[FileRecord],
) -> Version:
    if record is None:
        return Version.restore(repository, version, stream_version)
    return Version.restore(
        repository,
        version,
        stream_version,
        kind=record.kind,
        status=record.status,
        metadata=record.metadata,
        base_version=record.base_version,
        files=[VersionFile(f.path, f.status, f.digest, f.size, f.upload_id) for f in files],
        manifest_digest=record.manifest_digest,
    )


async def _load_version(
    uow: UnitOfWork[ArtifactViews], repository: str, version: str, *, files: bool = True
) -> Version:
    """The version, its row locked, restored at its stream's version."""
    # The row lock first (every command changing a version takes it), then the stream's version, then the
    # files: they are at least as current as the version read (decision 0004).
    record = await uow.views.lock_version(repository, version)
    stream_version = await uow.events.stream_version(Version.stream_for(Version.id_for(repository, version)))
    found = await uow.views.version_files(repository, version) if record is not None and files else []
    return _restore_version(repository, version, stream_version, record, found)


async def _artifact_repository(
    uow: UnitOfWork[ArtifactViews], repository: str, kind: str, stream_version: int
) -> ArtifactRepository:
    record = await uow.views.artifact_repository(repository)
    return ArtifactRepository.restore(
        repository,
        stream_version,
        kind=kind,
        metadata=record.metadata if record else RepositoryMetadata(),
        latest=record.latest_version if record else "",
        policy=(record.latest_policy if record else "") or LATEST_AUTO,
    )


async def _flush(uow: UnitOfWork[ArtifactViews], aggregate: Aggregate) -> None:
    """Append what the aggregate recorded, if anything, at the version it was loaded at."""
    expected = aggregate.loaded_version
    events = aggregate.collect()
    if events:
        await uow.events.append(aggregate.stream_id, expected, events)


async def _append(
    uow: UnitOfWork[ArtifactViews], stream: str, expected: int, events: Sequence[DomainEvent]
) -> int:
    await uow.events.append(stream, expected, events)
    return expected + len(events)


async def _lock_artifact_repository(uow: UnitOfWork[ArtifactViews], repository: str) -> ArtifactRepository:
    """The repository's ArtifactRepository, its row locked, at its stream's version (NAME_UNKNOWN when there
    is no such repository)."""
    kind = await uow.views.lock_repository(repository)
    if kind is None:
        raise _name_unknown(repository)
    stream_version = await uow.events.stream_version(Repository.stream_for(repository))
    return await _artifact_repository(uow, repository, kind, stream_version)
