"""The read models of models, resources and charts (and every repository's listing data), their projector,
the views `hangar.registry.artifacts` decides on, and the codec entries of the artifact events.

Tables: `repository_info` (a row per repository of any kind: namespace, metadata, `latest`), its
`repository_labels`, `versions` and `version_files`. They live in their own SQLAlchemy metadata (migration
r0003); the registry's core tables are referenced here by name only, so this package does not import
`hangar.registry.store` (which mixes these views into its `SqlViews`). Projections run in the appending
transaction, as in the rest of the registry (docs/decisions/0004).

The package: `tables`, `projector` (with the codec entries) and `views`.
"""

from hangar.registry.artifact_store.projector import project_artifacts, register_artifact_events
from hangar.registry.artifact_store.tables import (
    DigestText,
    Name,
    VersionName,
    artifact_metadata,
    namespace_of,
    repository_info,
    repository_labels,
    version_files,
    versions,
)
from hangar.registry.artifact_store.views import ArtifactSqlViews, like_pattern

__all__ = [
    "ArtifactSqlViews",
    "DigestText",
    "Name",
    "VersionName",
    "artifact_metadata",
    "like_pattern",
    "namespace_of",
    "project_artifacts",
    "register_artifact_events",
    "repository_info",
    "repository_labels",
    "version_files",
    "versions",
]
