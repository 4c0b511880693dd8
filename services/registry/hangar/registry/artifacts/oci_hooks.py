"""The hooks of the OCI side (App.put_manifest, App.delete_manifest): what a manifest push or delete means
for the versions of a model, resource or chart repository, in the push's or delete's unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hangar.kit import context
from hangar.kit.errors import AlreadyExists, FailedPrecondition
from hangar.kit.events import DomainEvent
from hangar.kit.uow import UnitOfWork
from hangar.registry.artifacts.aggregates import _append, _artifact_repository, _load_version
from hangar.registry.artifacts.ports import ArtifactViews
from hangar.registry.domain.artifacts import artifact_kind, pushed_version
from hangar.registry.domain.manifests import ParsedManifest
from hangar.registry.domain.metadata import ARTIFACT_KINDS
from hangar.registry.domain.quoting import quote
from hangar.registry.domain.repository import TagDeleted
from hangar.registry.domain.versions import COMMITTED


def kind_of_push(parsed: ParsedManifest) -> str | None:
    """The repository kind a manifest pushed to a new repository creates (None: a container)."""
    return artifact_kind(parsed)


async def versions_on_push(
    uow: UnitOfWork[Any],
    repository: str,
    kind: str,
    parsed: ParsedManifest,
    tag: str | None,
    config: bytes,
    repository_version: int,
) -> None:
    """Record what a manifest push into a repository of `kind` means for its versions, in the push's unit of
    work after its events (appended up to `repository_version`): a refusal raised here rolls the push back.

    A model/resource/chart manifest goes only to a repository of its kind (KIND_MISMATCH). Under a tag it
    makes that version, committed; a tag naming a committed version keeps it (VERSION_COMMITTED for other
    content; the same manifest again is a no-op), and a pending one refuses the push (VERSION_EXISTS).
    """
    pushed_kind = artifact_kind(parsed)
    views: ArtifactViews = uow.views
    if pushed_kind is not None and kind != pushed_kind:
        # A container holding blobs only (its first upload made it) takes the kind of its first manifest.
        holder = await _artifact_repository(uow, repository, kind, repository_version)
        holder.receive(pushed_kind, await views.has_other_manifests(repository, str(parsed.digest)))
        repository_version = await _append(uow, holder.stream_id, repository_version, holder.collect())
        kind = pushed_kind
    if tag is None or kind not in ARTIFACT_KINDS:
        return
    existing = await views.version(repository, tag)
    if existing is not None:
        if existing.status == COMMITTED and existing.manifest_digest == str(parsed.digest):
            return
        if existing.status == COMMITTED:
            raise FailedPrecondition(
                f"version {quote(tag)} of {quote(repository)} is committed as {existing.manifest_digest}; "
                "versions are immutable: push another version",
                code="VERSION_COMMITTED",
            )
        raise AlreadyExists(
            f"version {quote(tag)} of {quote(repository)} is being uploaded; commit or delete it first",
            code="VERSION_EXISTS",
        )
    found = pushed_version(parsed, tag, config)
    if found is None:
        return  # another tag of an artifact repository (a signature, say): not a version
    version = await _load_version(uow, repository, tag, files=False)
    version.pushed(
        found.kind,
        found.metadata,
        found.files,
        parsed.digest,
        found.config_digest,
        created_by=context.current().actor,
    )
    await _append(uow, version.stream_id, version.loaded_version, version.collect())
    artifacts = await _artifact_repository(uow, repository, kind, repository_version)
    artifacts.version_committed(tag)
    await uow.events.append(artifacts.stream_id, repository_version, artifacts.collect())


async def versions_on_delete(
    uow: UnitOfWork[Any], repository: str, kind: str, deleted: Sequence[DomainEvent], repository_version: int
) -> None:
    """Delete the versions whose tags a manifest or tag delete removed (`deleted`: its events, appended up
    to `repository_version`), in its unit of work; `latest` leaves them."""
    if kind not in ARTIFACT_KINDS:
        return
    gone: list[str] = []
    for event in deleted:
        if not isinstance(event, TagDeleted):
            continue
        version = await _load_version(uow, repository, event.tag, files=False)
        if version.status == COMMITTED and version.manifest_digest == event.digest:
            version.delete()
            await _append(uow, version.stream_id, version.loaded_version, version.collect())
            gone.append(event.tag)
    if not gone:
        return
    artifacts = await _artifact_repository(uow, repository, kind, repository_version)
    newest = await uow.views.newest_committed(repository)
    for name in gone:
        artifacts.version_deleted(name, newest)
    await uow.events.append(artifacts.stream_id, repository_version, artifacts.collect())
