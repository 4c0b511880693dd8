"""Models, resources and charts: repository metadata, versions and their files, commit, `latest`, listings.

Streams: a repository's metadata and `latest` join its `repo-<name>` stream (ArtifactRepository beside
Repository); each version has its own stream (`version-<hash>`). Like the rest of the registry, commands
restore aggregates from the read models after reading the stream versions, and queue on row locks: the
repository row for anything that creates, commits or deletes a version, or moves a tag; the version row for
file changes. Locks are always taken repository first, then version.

A version's commit writes, in one transaction: its manifest and tag (Repository), VersionCommitted, and the
`latest` move. A manifest pushed under a tag with a model or resource artifactType (or Helm's config) makes
that version, committed, in the push's transaction (`versions_on_push`, called by `App.put_manifest`); a
deleted tag or manifest of a version deletes the version (`versions_on_delete`), and DeleteVersion deletes
its tag and manifest (docs/decisions/0022).

The package: `ports` (records and the views protocol), `aggregates` (restore and append), `oci_hooks`
(`versions_on_push`, `versions_on_delete`), and ArtifactApp (`service`) gathering the use cases of
`repositories` and `versions`.
"""

from hangar.registry.artifacts.oci_hooks import kind_of_push, versions_on_delete, versions_on_push
from hangar.registry.artifacts.ports import (
    ArtifactViews,
    FileRecord,
    LinkBlob,
    RepositoryRecord,
    SearchFilter,
    VersionRecord,
)
from hangar.registry.artifacts.repositories import MAX_NAMESPACES, MAX_PATTERN, metadata_fields
from hangar.registry.artifacts.service import ArtifactApp
from hangar.registry.artifacts.versions import ORDERS

__all__ = [
    "MAX_NAMESPACES",
    "MAX_PATTERN",
    "ORDERS",
    "ArtifactApp",
    "ArtifactViews",
    "FileRecord",
    "LinkBlob",
    "RepositoryRecord",
    "SearchFilter",
    "VersionRecord",
    "kind_of_push",
    "metadata_fields",
    "versions_on_delete",
    "versions_on_push",
]
