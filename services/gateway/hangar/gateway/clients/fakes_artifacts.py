"""An in-memory ArtifactService for gateway tests: repositories of every kind, versions, files, commits.

It keeps the rules the gateway relies on — names, version names and file paths validated, one upload per
path, a committed version immutable, commits only with every file complete and the config GetVersionConfig
named, `latest` — with the service's error codes, and builds the committed manifest into the fake registry
(so /v2 serves it). The registry's own tests own the full rules.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import re
import time
from collections.abc import Sequence
from typing import Final

from hangar.gateway.clients.artifacts import (
    ARTIFACT_KINDS,
    FILE_COMPLETE,
    FILE_INHERITED,
    FILE_UPLOADING,
    REPOSITORY_METADATA_FIELDS,
    UPLOAD_COMPLETE,
    UPLOAD_PENDING,
    BegunFile,
    CommittedVersion,
    RepositoryInfo,
    RepositoryMetadataInfo,
    VersionConfig,
    VersionFileInfo,
    VersionInfo,
    VersionMetadataInfo,
)
from hangar.gateway.clients.fakes import FakeBlobstore, FakeRegistry, sha256_digest
from hangar.kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from hangar.kit.paging import decode_page_token, encode_page_token

_COMPONENT: Final = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*")
_TAG: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_SEMVER: Final = re.compile(r"v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?")
MAX_PATH_CHARS: Final = 1024
#: The most namespaces one search takes (as the registry).
MAX_NAMESPACES: Final = 100
MANIFEST_MEDIA_TYPE: Final = "application/vnd.oci.image.manifest.v1+json"
ARTIFACT_TYPES: Final = {
    "model": "application/vnd.hangar.model.v1+json",
    "resource": "application/vnd.hangar.resource.v1+json",
}
CONFIG_MEDIA_TYPES: Final = {
    "model": "application/vnd.hangar.model.config.v1+json",
    "resource": "application/vnd.hangar.resource.config.v1+json",
    "chart": "application/vnd.cncf.helm.config.v1+json",
}
LAYER_MEDIA_TYPE: Final = "application/octet-stream"
TITLE: Final = "org.opencontainers.image.title"


def check_repository_name(name: str) -> None:
    parts = name.split("/")
    if not 2 <= len(parts) <= 3 or not all(_COMPONENT.fullmatch(p) for p in parts) or len(name) > 255:
        raise InvalidArgument(
            f"repository name {name[:80]!r} must be org/name or org/team/name (lowercase OCI components)",
            code="NAME_INVALID",
        )


def check_version_name(version: str) -> None:
    if not _TAG.fullmatch(version) or version == "latest":
        raise InvalidArgument(
            f"version {version[:80]!r} must be a tag ([A-Za-z0-9_][A-Za-z0-9._-]{{0,127}}) other than latest",
            code="VERSION_INVALID",
        )


def check_path(path: str) -> None:
    parts = path.split("/")
    bad = (
        not path
        or len(path) > MAX_PATH_CHARS
        or path.startswith("/")
        or "\\" in path
        or not path.isprintable()
        or any(part in ("", ".", "..") for part in parts)
    )
    if bad:
        raise InvalidArgument(
            f"file path {path[:80]!r} must be a relative POSIX path without '.', '..' or empty parts",
            code="PATH_INVALID",
        )


def semver_key(version: str) -> tuple[int, int, int, int, str] | None:
    """A key ordering semantic versions (a release after its pre-releases); None for other names."""
    match = _SEMVER.fullmatch(version)
    if match is None:
        return None
    major, minor, patch, pre = match.groups()
    return int(major), int(minor), int(patch), 0 if pre else 1, pre or ""


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclasses.dataclass
class _Repo:
    name: str
    kind: str
    metadata: RepositoryMetadataInfo
    latest_policy: str
    latest_version: str = ""
    created_at_ms: int = dataclasses.field(default_factory=_now_ms)
    updated_at_ms: int = dataclasses.field(default_factory=_now_ms)
    versions: dict[str, VersionInfo] = dataclasses.field(default_factory=dict)


class FakeArtifacts:
    """ArtifactService in memory, over the fake registry (manifests, tags, links) and blobstore (blobs)."""

    def __init__(self, registry: FakeRegistry, blobstore: FakeBlobstore) -> None:
        self._registry = registry
        self._blobstore = blobstore
        self.repos: dict[str, _Repo] = {}
        self.healthy = True

    # -- repositories --------------------------------------------------------------------------------------

    def _repo(self, name: str) -> _Repo:
        check_repository_name(name)
        repo = self.repos.get(name)
        if repo is None:
            raise NotFound(f"repository {name} does not exist", code="NAME_UNKNOWN")
        return repo

    def _info(self, repo: _Repo) -> RepositoryInfo:
        committed = [v for v in repo.versions.values() if v.status == UPLOAD_COMPLETE]
        linked = self._registry.repositories.get(repo.name)
        return RepositoryInfo(
            name=repo.name,
            kind=repo.kind,
            metadata=repo.metadata,
            latest_version=repo.latest_version,
            latest_policy=repo.latest_policy,
            version_count=len(committed),
            size=sum(linked.blobs.values()) if linked else 0,
            created_at_ms=repo.created_at_ms,
            updated_at_ms=repo.updated_at_ms,
        )

    def _container(self, name: str) -> RepositoryInfo:
        stored = self._registry.repositories[name]
        return RepositoryInfo(
            name=name, kind="container", version_count=len(stored.tags), size=sum(stored.blobs.values())
        )

    def _all(self) -> dict[str, RepositoryInfo]:
        found = {name: self._container(name) for name in self._registry.repositories}
        found.update({name: self._info(repo) for name, repo in self.repos.items()})
        return found

    async def search_repositories(
        self,
        *,
        namespaces: Sequence[str] | None,
        kind: str = "",
        name_pattern: str = "",
        labels: Sequence[str] = (),
        page_size: int = 100,
        page_token: str = "",
    ) -> tuple[list[RepositoryInfo], str]:
        if not 0 <= page_size <= 1000:
            raise InvalidArgument("page size is 1 to 1000", code="PAGE_SIZE_INVALID")
        if len(namespaces or ()) > MAX_NAMESPACES:
            raise InvalidArgument(f"search at most {MAX_NAMESPACES} namespaces at once", code="NAME_INVALID")
        wanted = set(namespaces or ())
        cursor = decode_page_token(page_token, "fake-search") or {}
        after = str(cursor.get("after", ""))
        rows = [
            info
            for name, info in sorted(self._all().items())
            if (namespaces is None or name.rsplit("/", 1)[0] in wanted)
            and (not kind or info.kind == kind)
            and (not name_pattern or fnmatch.fnmatchcase(name, name_pattern))
            and set(labels) <= set(info.metadata.labels)
            and name > after
        ]
        size = page_size or 100
        page = rows[:size]
        return page, (encode_page_token({"after": page[-1].name}, "fake-search") if len(rows) > size else "")

    async def get_repository(self, name: str) -> RepositoryInfo:
        check_repository_name(name)
        if name not in self.repos and name in self._registry.repositories:
            return self._container(name)
        return self._info(self._repo(name))

    async def create_repository(
        self,
        name: str,
        kind: str,
        metadata: RepositoryMetadataInfo | None = None,
        *,
        latest_policy: str = "",
    ) -> RepositoryInfo:
        check_repository_name(name)
        if kind not in ARTIFACT_KINDS:
            raise InvalidArgument(f"kind {kind!r} is not model, resource or chart", code="KIND_INVALID")
        if latest_policy not in ("", "auto", "manual"):
            raise InvalidArgument("latest policy is auto or manual", code="LATEST_POLICY_INVALID")
        if name in self.repos or name in self._registry.repositories:
            raise AlreadyExists(f"repository {name} already exists", code="REPOSITORY_EXISTS")
        repo = _Repo(name, kind, metadata or RepositoryMetadataInfo(), latest_policy or "auto")
        self.repos[name] = repo
        return self._info(repo)

    async def update_repository(
        self, name: str, metadata: RepositoryMetadataInfo, fields: Sequence[str]
    ) -> RepositoryInfo:
        repo = self._repo(name)
        unknown = set(fields) - set(REPOSITORY_METADATA_FIELDS)
        if unknown:
            raise InvalidArgument(f"unknown metadata field {sorted(unknown)[0]!r}", code="FIELD_INVALID")
        changes = {field: getattr(metadata, field) for field in fields}
        repo.metadata = dataclasses.replace(repo.metadata, **changes)
        repo.updated_at_ms = _now_ms()
        return self._info(repo)

    # -- versions ------------------------------------------------------------------------------------------

    def _version(self, repository: str, version: str) -> tuple[_Repo, VersionInfo]:
        repo = self._repo(repository)
        if version == "latest" and repo.latest_version:
            version = repo.latest_version
        found = repo.versions.get(version)
        if found is None:
            raise NotFound(f"version {repository}:{version} does not exist", code="VERSION_UNKNOWN")
        return repo, found

    def _pending(self, repository: str, version: str) -> tuple[_Repo, VersionInfo]:
        repo, found = self._version(repository, version)
        if found.status != UPLOAD_PENDING:
            raise FailedPrecondition(
                f"version {repository}:{version} is committed and cannot change", code="VERSION_COMMITTED"
            )
        return repo, found

    def _store(self, repo: _Repo, version: VersionInfo) -> VersionInfo:
        complete = sum(f.size for f in version.files if f.status != FILE_UPLOADING)
        version = dataclasses.replace(
            version, files=tuple(sorted(version.files, key=lambda f: f.path)), size=complete
        )
        repo.versions[version.version] = version
        repo.updated_at_ms = _now_ms()
        return version

    async def create_version(
        self,
        repository: str,
        version: str,
        *,
        metadata: VersionMetadataInfo | None = None,
        base_version: str = "",
        create_kind: str = "",
        created_by: str = "",
    ) -> VersionInfo:
        check_repository_name(repository)
        check_version_name(version)
        repo = self.repos.get(repository)
        if repo is None:
            if not create_kind:
                raise NotFound(f"repository {repository} does not exist", code="NAME_UNKNOWN")
            await self.create_repository(repository, create_kind)
            repo = self.repos[repository]
        elif create_kind and create_kind != repo.kind:
            raise FailedPrecondition(
                f"repository {repository} is a {repo.kind} repository, not a {create_kind} one",
                code="KIND_MISMATCH",
            )
        if version in repo.versions:
            raise AlreadyExists(f"version {repository}:{version} already exists", code="VERSION_EXISTS")
        files: tuple[VersionFileInfo, ...] = ()
        if base_version:
            base = repo.versions.get(base_version)
            if base is None or base.status != UPLOAD_COMPLETE:
                raise NotFound(
                    f"base version {repository}:{base_version} is not a committed version",
                    code="VERSION_UNKNOWN",
                )
            files = tuple(dataclasses.replace(f, status=FILE_INHERITED) for f in base.files)
        created = VersionInfo(
            repository=repository,
            version=version,
            status=UPLOAD_PENDING,
            metadata=metadata or VersionMetadataInfo(),
            files=files,
            base_version=base_version,
            created_at_ms=_now_ms(),
            created_by=created_by,
        )
        return self._store(repo, created)

    async def get_version(self, repository: str, version: str) -> VersionInfo:
        return self._version(repository, version)[1]

    async def list_versions(
        self,
        repository: str,
        *,
        order: str = "semver",
        page_size: int = 100,
        page_token: str = "",
        include_pending: bool = False,
    ) -> tuple[list[VersionInfo], str]:
        repo = self._repo(repository)
        if order not in ("", "semver", "created"):
            raise InvalidArgument("order is semver or created", code="ORDER_INVALID")
        if not 0 <= page_size <= 1000:
            raise InvalidArgument("page size is 1 to 1000", code="PAGE_SIZE_INVALID")
        if page_token and not page_token.isdigit():
            raise InvalidArgument("page token is not one this service handed out", code="PAGE_TOKEN_INVALID")
        shown = [v for v in repo.versions.values() if include_pending or v.status == UPLOAD_COMPLETE]
        if order == "created":
            shown.sort(key=lambda v: (v.created_at_ms, v.version), reverse=True)
        else:
            semver = sorted((v for v in shown if semver_key(v.version)), key=_semver_of, reverse=True)
            shown = semver + sorted((v for v in shown if not semver_key(v.version)), key=lambda v: v.version)
        start, size = int(page_token or 0), page_size or 100
        page = [dataclasses.replace(v, files=()) for v in shown[start : start + size]]
        return page, (str(start + size) if start + size < len(shown) else "")

    async def delete_version(self, repository: str, version: str) -> None:
        repo, found = self._version(repository, version)
        del repo.versions[found.version]
        stored = self._registry.repositories.get(repository)
        if stored is not None and found.manifest_digest:
            stored.tags.pop(found.version, None)
            stored.manifests.pop(found.manifest_digest, None)
        if repo.latest_version == found.version:
            repo.latest_version = ""
        repo.updated_at_ms = _now_ms()

    async def set_latest(self, repository: str, version: str = "", *, auto: bool = False) -> RepositoryInfo:
        repo = self._repo(repository)
        if auto:
            repo.latest_policy = "auto"
        else:
            check_version_name(version)
            found = repo.versions.get(version)
            if found is None or found.status != UPLOAD_COMPLETE:
                raise NotFound(
                    f"version {repository}:{version} is not a committed version", code="VERSION_UNKNOWN"
                )
            repo.latest_policy, repo.latest_version = "manual", version
        repo.updated_at_ms = _now_ms()
        return self._info(repo)

    # -- files ---------------------------------------------------------------------------------------------

    async def begin_file(
        self, repository: str, version: str, path: str, upload_id: str, size: int = 0
    ) -> BegunFile:
        check_path(path)
        repo, found = self._pending(repository, version)
        current = found.file(path)
        if current is not None and current.status == FILE_UPLOADING:
            return BegunFile(current, started=False)
        if current is not None and current.status == FILE_COMPLETE:
            raise AlreadyExists(
                f"file {path} was already uploaded to {repository}:{version}", code="FILE_EXISTS"
            )
        file = VersionFileInfo(path, FILE_UPLOADING, size=size, upload_id=upload_id, updated_at_ms=_now_ms())
        others = tuple(f for f in found.files if f.path != path)
        self._store(repo, dataclasses.replace(found, files=(*others, file)))
        return BegunFile(file, started=True)

    async def complete_file(
        self, repository: str, version: str, path: str, upload_id: str, digest: str, size: int
    ) -> VersionFileInfo:
        check_path(path)
        repo, found = self._pending(repository, version)
        current = found.file(path)
        if current is None or current.status != FILE_UPLOADING or current.upload_id != upload_id:
            raise NotFound(f"file {path} is not being uploaded by this session", code="FILE_UNKNOWN")
        if digest not in self._blobstore.blobs:
            raise NotFound(f"blob {digest} does not exist", code="BLOB_UNKNOWN")
        await self._registry.link_blob(repository, digest, size)
        file = VersionFileInfo(path, FILE_COMPLETE, digest=digest, size=size, updated_at_ms=_now_ms())
        others = tuple(f for f in found.files if f.path != path)
        self._store(repo, dataclasses.replace(found, files=(*others, file)))
        return file

    async def remove_file(self, repository: str, version: str, path: str) -> None:
        check_path(path)
        repo, found = self._pending(repository, version)
        if found.file(path) is None:
            raise NotFound(f"{repository}:{version} has no file {path}", code="FILE_UNKNOWN")
        self._store(repo, dataclasses.replace(found, files=tuple(f for f in found.files if f.path != path)))

    # -- commit --------------------------------------------------------------------------------------------

    def _config(self, repo: _Repo, version: VersionInfo) -> VersionConfig:
        metadata = dataclasses.asdict(version.metadata)
        content = json.dumps(
            {"repository": repo.name, "version": version.version, "metadata": metadata},
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        return VersionConfig(CONFIG_MEDIA_TYPES[repo.kind], content, sha256_digest(content))

    async def get_version_config(self, repository: str, version: str) -> VersionConfig:
        repo, found = self._version(repository, version)
        return self._config(repo, found)

    async def commit_version(self, repository: str, version: str, config_digest: str) -> CommittedVersion:
        repo, found = self._pending(repository, version)
        if not found.files or any(f.status == FILE_UPLOADING for f in found.files):
            missing = [f.path for f in found.files if f.status == FILE_UPLOADING]
            raise FailedPrecondition(
                f"{repository}:{version} has files not uploaded: {', '.join(missing) or 'no file at all'}",
                code="FILES_INCOMPLETE",
                detail=" ".join(missing),
            )
        config = self._config(repo, found)
        if config_digest != config.digest:
            raise FailedPrecondition(
                f"config {config_digest} is not the config of {repository}:{version}", code="CONFIG_MISMATCH"
            )
        stored = self._registry.repositories.get(repository)
        if stored is None or config.digest not in stored.blobs:
            raise NotFound(f"blob {config.digest} is unknown to {repository}", code="BLOB_UNKNOWN")
        for file in found.files:
            await self._registry.link_blob(repository, file.digest, file.size)
        document: dict[str, object] = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": {"mediaType": config.media_type, "digest": config.digest, "size": len(config.content)},
            "layers": [
                {
                    "mediaType": LAYER_MEDIA_TYPE,
                    "digest": f.digest,
                    "size": f.size,
                    "annotations": {TITLE: f.path},
                }
                for f in found.files
            ],
        }
        if repo.kind in ARTIFACT_TYPES:
            document["artifactType"] = ARTIFACT_TYPES[repo.kind]
        manifest = json.dumps(document, separators=(",", ":")).encode()
        put = await self._registry.put_manifest(repository, version, MANIFEST_MEDIA_TYPE, manifest)
        files = tuple(dataclasses.replace(f, status=FILE_COMPLETE) for f in found.files)
        committed = dataclasses.replace(
            found, status=UPLOAD_COMPLETE, manifest_digest=put.digest, files=files, committed_at_ms=_now_ms()
        )
        committed = self._store(repo, committed)
        if repo.latest_policy == "auto":
            repo.latest_version = version
        return CommittedVersion(committed, manifest)

    async def serving(self) -> bool:
        return self.healthy


def _semver_of(version: VersionInfo) -> tuple[int, int, int, int, str]:
    key = semver_key(version.version)
    assert key is not None
    return key
