"""The chart repository index of a namespace (`org` or `org/team`): built from registry and blobstore,
cached, and forgotten when the namespace changes.

An index is built once and served until something evicts it: a registry event about a repository of the
namespace (`events.IndexEvents`), a change this replica made (`ChangeWatcher`, `publish`), or its age
(`ttl_seconds`, in case an event was missed). Concurrent requests for a namespace being built wait for
that one build; a build that an eviction overtook is served to those who asked but not kept.

Chart metadata comes from each version's config blob (Helm's config JSON: Chart.yaml's fields), read by
digest and kept (content by digest never changes); so do the parsed manifests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import yaml

from hangar.gateway.caches import Lru
from hangar.gateway.clients.artifacts import UPLOAD_COMPLETE, ArtifactsPort, VersionInfo
from hangar.gateway.clients.ports import BlobstorePort, RegistryPort
from hangar.gateway.helm.chart import (
    MAX_CONFIG_BYTES,
    ChartManifest,
    metadata_from_config,
    namespace_of,
    parse_chart_manifest,
    semver_key,
)
from hangar.kit.errors import DomainError

log = logging.getLogger(__name__)

CHART_KIND: Final = "chart"
#: How long an index is served without an event saying it changed.
INDEX_TTL_SECONDS: Final = 30.0
#: Namespaces whose index is kept at once (the least recently used go first).
MAX_NAMESPACES: Final = 1000
#: Manifests and configs kept by digest.
MAX_DIGESTS: Final = 20_000
#: Bounds of one build: pages of repositories and of each repository's versions, concurrent lookups.
PAGE_SIZE: Final = 1000
MAX_PAGES: Final = 50
BUILD_CONCURRENCY: Final = 16


def rfc3339(unix_ms: int) -> str:
    """Unix milliseconds as RFC 3339 in UTC with milliseconds: 2026-01-02T03:04:05.678Z."""
    moment = datetime.fromtimestamp(unix_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclasses.dataclass(frozen=True)
class IndexEntry:
    """One chart version of the index: where its archive is, and its entry as Helm writes it."""

    repository: str
    name: str
    version: str
    #: The version as the registry names it (the OCI tag: `+` written `_`).
    tag: str
    chart_digest: str
    chart_size: int
    fields: Mapping[str, Any]

    @property
    def file_name(self) -> str:
        return f"{self.name}-{self.version}.tgz"


@dataclasses.dataclass(frozen=True)
class NamespaceIndex:
    """Every chart of one namespace, newest version first, and the whole index rendered once."""

    namespace: str
    #: Every chart repository of the namespace (some may have no version yet).
    repositories: frozenset[str]
    entries: tuple[IndexEntry, ...]
    generated: str
    built_at: float
    full: bytes = dataclasses.field(repr=False)

    def entry(self, file_name: str) -> IndexEntry | None:
        return next((e for e in self.entries if e.file_name == file_name), None)

    def render(self, visible: Iterable[str]) -> bytes:
        """index.yaml with the charts of the repositories in `visible` only."""
        shown = frozenset(visible)
        if self.repositories <= shown:
            return self.full
        return render_index([e for e in self.entries if e.repository in shown], self.generated)


def render_index(entries: Iterable[IndexEntry], generated: str) -> bytes:
    """A Helm repository index (apiVersion v1): entries by chart name, in the order given; keys sorted as
    Helm's own YAML (JSON-tagged Go structs through sigs.k8s.io/yaml) has them."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_name.setdefault(entry.name, []).append(dict(entry.fields))
    document = {"apiVersion": "v1", "entries": by_name, "generated": generated}
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(document, Dumper=dumper, sort_keys=True, default_flow_style=False, allow_unicode=True)
    return str(text).encode()


def entry_fields(
    metadata: Mapping[str, Any], *, name: str, version: str, created: str, digest: str
) -> dict[str, Any]:
    """An index entry: the chart's metadata (config JSON), its URL, creation time and archive digest."""
    fields = dict(metadata)
    fields["name"] = name
    fields["version"] = version
    fields["urls"] = [f"charts/{name}-{version}.tgz"]
    fields["created"] = created
    fields["digest"] = digest.removeprefix("sha256:")
    return fields


class HelmIndexes:
    """The cached index of each namespace, built on demand and evicted by `changed` / `forget_*`."""

    def __init__(
        self,
        artifacts: ArtifactsPort,
        registry: RegistryPort,
        blobstore: BlobstorePort,
        *,
        ttl_seconds: float = INDEX_TTL_SECONDS,
        max_namespaces: int = MAX_NAMESPACES,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._artifacts = artifacts
        self._registry = registry
        self._blobstore = blobstore
        self._ttl = ttl_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        self._indexes: Lru[str, NamespaceIndex] = Lru(max_namespaces)
        self._building: dict[str, asyncio.Future[NamespaceIndex]] = {}
        #: Bumped for a namespace (and for all, `_epoch`) when it changes: a build it overtook is not kept.
        self._generations: dict[str, int] = {}
        self._epoch = 0
        self._manifests: Lru[str, ChartManifest | bool] = Lru(MAX_DIGESTS)
        self._configs: Lru[str, Mapping[str, Any]] = Lru(MAX_DIGESTS)
        #: How many indexes were built (for tests and logs).
        self.builds = 0

    # -- reading --------------------------------------------------------------------------------------

    async def get(self, namespace: str) -> NamespaceIndex:
        """The namespace's index: cached while fresh, else built (once, however many ask)."""
        cached = self._indexes.get(namespace)
        if cached is not None and self._clock() - cached.built_at < self._ttl:
            return cached
        building = self._building.get(namespace)
        if building is None:
            building = asyncio.ensure_future(self._build_and_keep(namespace))
            self._building[namespace] = building
            building.add_done_callback(lambda _: self._building.pop(namespace, None))
        return await asyncio.shield(building)

    async def _build_and_keep(self, namespace: str) -> NamespaceIndex:
        generation = (self._epoch, self._generations.get(namespace, 0))
        index = await self.build(namespace)
        if generation == (self._epoch, self._generations.get(namespace, 0)):
            self._indexes.put(namespace, index)
        return index

    async def build(self, namespace: str) -> NamespaceIndex:
        """Read the namespace's charts from the services (no cache of indexes involved)."""
        self.builds += 1
        names = await self._chart_repositories(namespace)
        limit = asyncio.Semaphore(BUILD_CONCURRENCY)

        async def of(repository: str) -> list[IndexEntry]:
            async with limit:
                versions = await self._versions(repository)
            found = await asyncio.gather(*(self._entry(repository, v, limit) for v in versions))
            return [e for e in found if e is not None]

        per_repository = await asyncio.gather(*(of(name) for name in names))
        entries = [e for found in per_repository for e in found]
        # by chart name, then newest SemVer first (Helm's own order: sort.Reverse(ChartVersions))
        entries.sort(key=lambda e: e.version)
        entries.sort(key=lambda e: semver_key(e.version), reverse=True)
        entries.sort(key=lambda e: e.name)
        generated = rfc3339(int(self._wall_clock() * 1000))
        return NamespaceIndex(
            namespace=namespace,
            repositories=frozenset(names),
            entries=tuple(entries),
            generated=generated,
            built_at=self._clock(),
            full=render_index(entries, generated),
        )

    async def _chart_repositories(self, namespace: str) -> list[str]:
        names: list[str] = []
        token = ""
        for _ in range(MAX_PAGES):
            page, token = await self._artifacts.search_repositories(
                namespaces=[namespace], kind=CHART_KIND, page_size=PAGE_SIZE, page_token=token
            )
            names.extend(r.name for r in page if r.kind == CHART_KIND and namespace_of(r.name) == namespace)
            if not token:
                return names
        log.warning("helm index of %s: more than %d pages of charts; the rest left out", namespace, MAX_PAGES)
        return names

    async def _versions(self, repository: str) -> list[VersionInfo]:
        versions: list[VersionInfo] = []
        token = ""
        for _ in range(MAX_PAGES):
            try:
                page, token = await self._artifacts.list_versions(
                    repository, order="semver", page_size=PAGE_SIZE, page_token=token
                )
            except DomainError as error:
                if error.kind == "not_found":  # deleted while the index was being built
                    return versions
                raise
            versions.extend(v for v in page if v.status == UPLOAD_COMPLETE and v.manifest_digest)
            if not token:
                return versions
        log.warning("helm index: %s has over %d pages of versions; the rest left out", repository, MAX_PAGES)
        return versions

    async def _entry(
        self, repository: str, version: VersionInfo, limit: asyncio.Semaphore
    ) -> IndexEntry | None:
        async with limit:
            manifest = await self.chart_manifest(repository, version.manifest_digest)
            if manifest is None:
                return None
            metadata = await self.chart_metadata(manifest.config_digest)
        leaf = repository.rpartition("/")[2]
        chart_version = str(metadata.get("version") or version.version.replace("_", "+"))
        created_ms = version.committed_at_ms or version.created_at_ms
        fields = entry_fields(
            metadata,
            name=leaf,
            version=chart_version,
            created=rfc3339(created_ms),
            digest=manifest.chart_digest,
        )
        return IndexEntry(
            repository=repository,
            name=leaf,
            version=chart_version,
            tag=version.version,
            chart_digest=manifest.chart_digest,
            chart_size=manifest.chart_size,
            fields=fields,
        )

    async def chart_manifest(self, repository: str, digest: str) -> ChartManifest | None:
        """The chart layer and config of a manifest (kept by digest); None when it is not a Helm chart."""
        cached = self._manifests.get(digest)
        if cached is None:
            try:
                stored = await self._registry.get_manifest(repository, digest)
            except DomainError as error:
                if error.kind == "not_found":
                    return None
                raise
            parsed = parse_chart_manifest(stored.content)
            cached = parsed if parsed is not None else False
            self._manifests.put(digest, cached)
        return cached if isinstance(cached, ChartManifest) else None

    async def chart_metadata(self, config_digest: str) -> Mapping[str, Any]:
        """Chart.yaml's fields from the config blob (kept by digest); {} when it cannot be read."""
        cached = self._configs.get(config_digest)
        if cached is not None:
            return cached
        data = bytearray()
        try:
            async for chunk in self._blobstore.read(config_digest, 0, 0):
                data += chunk
                if len(data) > MAX_CONFIG_BYTES:
                    log.warning("helm config %s is over %d bytes; ignored", config_digest, MAX_CONFIG_BYTES)
                    return {}
        except DomainError as error:
            if error.kind == "not_found":
                return {}
            raise
        metadata = metadata_from_config(bytes(data))
        self._configs.put(config_digest, metadata)
        return metadata

    # -- forgetting -----------------------------------------------------------------------------------

    def changed(self, repository: str) -> None:
        """Something in `repository` changed (pushed, deleted, committed...): its namespace is rebuilt."""
        namespace = namespace_of(repository)
        if namespace:
            self.forget(namespace)

    def forget(self, namespace: str) -> None:
        self._generations[namespace] = self._generations.get(namespace, 0) + 1
        self._indexes.pop(namespace)
        if len(self._generations) > 4 * MAX_NAMESPACES:  # bounded: dropping counters only forgets more
            self._generations.clear()
            self._epoch += 1

    def forget_everything(self) -> None:
        """Events may have been missed: every index is rebuilt (content by digest stays)."""
        self._epoch += 1
        self._indexes.clear()

    def cached(self, namespace: str) -> bool:
        return self._indexes.get(namespace) is not None
