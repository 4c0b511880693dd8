"""The artifact tables (`repository_info`, `repository_labels`, `versions`, `version_files`; migration r0003)
in their own SQLAlchemy metadata, the registry's core tables by name, and the JSON that holds metadata."""

from __future__ import annotations

import dataclasses
import json

from sqlalchemy import BigInteger, Column, DateTime, Index, MetaData, String, Table, Text, column, table

from hangar.kit.schema import sorted_text
from hangar.registry.domain.metadata import Attribute, RepositoryMetadata, VersionMetadata

Name = sorted_text(255)
VersionName = sorted_text(128)
DigestText = String(135)

artifact_metadata = MetaData()

repository_info = Table(
    "repository_info",
    artifact_metadata,
    Column("name", Name, primary_key=True),
    # "acme" or "acme/vision": where the repository lives.
    Column("namespace", Name, nullable=False),
    Column("metadata", Text, nullable=False),  # RepositoryMetadata as JSON
    Column("latest_version", VersionName, nullable=False),
    Column("latest_policy", String(8), nullable=False),  # "" for containers
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_repository_info_namespace", "namespace", "name"),
)

repository_labels = Table(
    "repository_labels",
    artifact_metadata,
    Column("repository", Name, primary_key=True),
    Column("label", String(64), primary_key=True),
    Index("ix_repository_labels_label", "label", "repository"),
)

versions = Table(
    "versions",
    artifact_metadata,
    Column("repository", Name, primary_key=True),
    Column("version", VersionName, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("metadata", Text, nullable=False),  # VersionMetadata as JSON
    Column("base_version", VersionName, nullable=False),
    Column("manifest_digest", DigestText, nullable=False),
    Column("config_digest", DigestText, nullable=False),
    Column("size", BigInteger, nullable=False),  # of a committed version
    Column("created_by", String(256), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("committed_at", DateTime(timezone=True), nullable=True),
    Column("created_position", BigInteger, nullable=False),
    # The "semver" listing order (hangar.registry.domain.semver.version_sort_key).
    Column("sort_key", sorted_text(512), nullable=False),
    Index("ix_versions_sort", "repository", "sort_key"),
    Index("ix_versions_created", "repository", "created_position"),
)

version_files = Table(
    "version_files",
    artifact_metadata,
    Column("repository", Name, primary_key=True),
    Column("version", VersionName, primary_key=True),
    Column("path", sorted_text(1024), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("digest", DigestText, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("upload_id", String(256), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The registry's own tables (hangar.registry.store), by name: only what the listing reads.
_repositories = table(
    "repositories",
    column("name", String),
    column("kind", String),
    column("created_at", DateTime(timezone=True)),
)
_blobs = table("blobs", column("repository", String), column("size", BigInteger))
_tags = table("tags", column("repository", String), column("tag", String))
_manifests = table("manifests", column("repository", String), column("digest", String))


def _metadata_json(metadata: RepositoryMetadata) -> str:
    return json.dumps(dataclasses.asdict(metadata), sort_keys=True, separators=(",", ":"))


def _metadata_of(text: str) -> RepositoryMetadata:
    values = json.loads(text)
    values["labels"] = tuple(values.get("labels", ()))
    return RepositoryMetadata(**values)


def _version_metadata_json(metadata: VersionMetadata) -> str:
    document = dataclasses.asdict(metadata)
    document["attributes"] = [[a.key, a.value] for a in metadata.attributes]
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def _version_metadata_of(text: str) -> VersionMetadata:
    values = json.loads(text)
    values["attributes"] = tuple(Attribute(k, v) for k, v in values.get("attributes", ()))
    return VersionMetadata(**values)


def namespace_of(repository: str) -> str:
    return repository.rsplit("/", 1)[0]
