"""The repository-level rules of models, resources and charts: metadata and the `latest` pointer (the
ArtifactRepository aggregate, beside Repository on its `repo-<name>` stream) and their events."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import ClassVar, Self

from hangar.kit.errors import FailedPrecondition, InvalidArgument, NotFound
from hangar.kit.events import Aggregate, DomainEvent
from hangar.registry.domain.metadata import (
    ARTIFACT_KINDS,
    LATEST_AUTO,
    LATEST_MANUAL,
    METADATA_FIELDS,
    RepositoryMetadata,
    validate_latest_policy,
)
from hangar.registry.domain.names import validate_repository_name
from hangar.registry.domain.quoting import quote
from hangar.registry.domain.repository import RepositoryCreated
from hangar.registry.domain.versions import validate_version_name


@dataclasses.dataclass(frozen=True)
class MetadataUpdated(DomainEvent):
    repository: str
    fields: tuple[str, ...]
    description: str = ""
    labels: tuple[str, ...] = ()
    publisher: str = ""
    built_by: str = ""
    display_name: str = ""
    application: str = ""
    framework: str = ""
    format: str = ""
    precision: str = ""
    overview: str = dataclasses.field(default="", repr=False)
    setup: str = dataclasses.field(default="", repr=False)
    quick_start: str = dataclasses.field(default="", repr=False)
    release_notes: str = dataclasses.field(default="", repr=False)

    @property
    def metadata(self) -> RepositoryMetadata:
        return RepositoryMetadata(**{f: getattr(self, f) for f in METADATA_FIELDS})


@dataclasses.dataclass(frozen=True)
class LatestMoved(DomainEvent):
    repository: str
    version: str  # "" when it points at nothing
    previous_version: str


@dataclasses.dataclass(frozen=True)
class LatestPolicyChanged(DomainEvent):
    repository: str
    policy: str


@dataclasses.dataclass(frozen=True)
class RepositoryKindChanged(DomainEvent):
    repository: str
    kind: str
    previous_kind: str


class ArtifactRepository(Aggregate):
    """What a repository adds for models, resources and charts: metadata and the `latest` pointer.

    It shares the repository's stream (`repo-<name>`) with `Repository`; each ignores the other's events.
    """

    stream_prefix: ClassVar[str] = "repo"

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.kind = ""
        self.metadata = RepositoryMetadata()
        self.latest = ""
        self.policy = LATEST_AUTO

    @classmethod
    def create(cls, name: str, kind: str, metadata: RepositoryMetadata, latest_policy: str = "") -> Self:
        validate_repository_name(name)
        if kind not in ARTIFACT_KINDS:
            raise InvalidArgument(
                f"repository kind {quote(kind)} is not one of chart, model, resource "
                "(container repositories come to be by their first push)",
                code="KIND_INVALID",
            )
        policy = validate_latest_policy(latest_policy)
        checked = metadata.validated(kind)
        repository = cls(name)
        repository.record(RepositoryCreated(repository=name, kind=kind))
        repository._record_metadata(checked)
        if policy != LATEST_AUTO:
            repository.record(LatestPolicyChanged(repository=name, policy=policy))
        return repository

    @classmethod
    def restore(
        cls, name: str, version: int, *, kind: str, metadata: RepositoryMetadata, latest: str, policy: str
    ) -> Self:
        repository = cls(name)
        repository.kind = kind
        repository.metadata = metadata
        repository.latest = latest
        repository.policy = policy or LATEST_AUTO
        repository.version = version
        return repository

    def receive(self, kind: str, has_manifests: bool) -> None:
        """A manifest of `kind` arrives: a repository holding only blobs (a container by its first upload)
        takes that kind; any other repository of another kind refuses it (KIND_MISMATCH)."""
        self._require_exists()
        if kind == self.kind:
            return
        if self.kind != "container" or has_manifests or kind not in ARTIFACT_KINDS:
            raise FailedPrecondition(
                f"this is a {kind}; {quote(self.id)} is a {self.kind} repository", code="KIND_MISMATCH"
            )
        self.record(RepositoryKindChanged(repository=self.id, kind=kind, previous_kind=self.kind))

    def update_metadata(self, changes: RepositoryMetadata, fields: Iterable[str]) -> None:
        """Change the named fields (METADATA_INVALID for a field of another kind or a bad value)."""
        self._require_exists()
        self._record_metadata(self.metadata.updated(changes, fields, self.kind))

    def set_latest(self, version: str, committed: bool) -> None:
        """Point `latest` at a committed version; the policy becomes manual."""
        self._require_artifacts()
        validate_version_name(version)
        if not committed:
            raise NotFound(
                f"{quote(version)} is not a committed version of {quote(self.id)}", code="VERSION_UNKNOWN"
            )
        if self.policy != LATEST_MANUAL:
            self.record(LatestPolicyChanged(repository=self.id, policy=LATEST_MANUAL))
        if self.latest != version:
            self.record(LatestMoved(repository=self.id, version=version, previous_version=self.latest))

    def set_auto(self) -> None:
        """Let each commit move `latest` from now on (it stays where it is until the next commit)."""
        self._require_artifacts()
        if self.policy != LATEST_AUTO:
            self.record(LatestPolicyChanged(repository=self.id, policy=LATEST_AUTO))

    def version_committed(self, version: str) -> None:
        if self.policy == LATEST_AUTO and self.latest != version:
            self.record(LatestMoved(repository=self.id, version=version, previous_version=self.latest))

    def version_deleted(self, version: str, newest_remaining: str) -> None:
        """`latest` leaves a deleted version: for the newest committed one left when auto, else nowhere."""
        if self.latest == version:
            target = newest_remaining if self.policy == LATEST_AUTO else ""
            self.record(LatestMoved(repository=self.id, version=target, previous_version=version))

    def _record_metadata(self, metadata: RepositoryMetadata) -> None:
        changed = self.metadata.changed_fields(metadata)
        if changed:
            self.record(MetadataUpdated(self.id, changed, **dataclasses.asdict(metadata)))

    def _require_exists(self) -> None:
        if not self.kind:
            raise NotFound(f"repository {quote(self.id)} does not exist", code="NAME_UNKNOWN")

    def _require_artifacts(self) -> None:
        self._require_exists()
        if self.kind not in ARTIFACT_KINDS:
            raise FailedPrecondition(
                f"{quote(self.id)} is a {self.kind} repository: it has tags, not versions",
                code="KIND_MISMATCH",
            )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case RepositoryCreated(kind=kind) | RepositoryKindChanged(kind=kind):
                self.kind = kind
            case MetadataUpdated() as updated:
                self.metadata = updated.metadata
            case LatestMoved(version=version):
                self.latest = version
            case LatestPolicyChanged(policy=policy):
                self.policy = policy
            case _:
                pass
