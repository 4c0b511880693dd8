"""The ArtifactService's use cases (ArtifactApp): repository metadata, search and `latest`
(`repositories`); versions, their files, commit and delete (`versions`)."""

from __future__ import annotations

from typing import Any

from hangar.kit.uow import UnitOfWorkFactory
from hangar.registry.artifacts.ports import ArtifactViews, LinkBlob
from hangar.registry.artifacts.repositories import RepositoryCommands
from hangar.registry.artifacts.versions import VersionCommands


class ArtifactApp(RepositoryCommands, VersionCommands):
    """The ArtifactService's commands and queries over the registry's unit-of-work factory."""

    def __init__(self, uow: UnitOfWorkFactory[Any], link_blob: LinkBlob) -> None:
        self.uow: UnitOfWorkFactory[ArtifactViews] = uow
        self._link_blob = link_blob
