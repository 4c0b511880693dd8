"""A chart archive uploaded through REST becomes exactly what `helm push` makes: its config (Chart.yaml as
JSON) and the archive stored as blobs of `<namespace>/<chart>`, and an OCI manifest with Helm's media types
tagged with the chart's version — through the same registry and blobstore ports as /v2, so the registry
records it as a committed chart version just like a push.

The archive is validated whole before anything is stored: a bad one leaves nothing behind. The same chart
uploaded again is answered with what is there; another archive under a version that exists is 409.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Final

from hangar.gateway.clients.artifacts import ArtifactsPort
from hangar.gateway.clients.ports import BlobstorePort, RegistryPort
from hangar.gateway.helm.chart import OCI_MANIFEST_MEDIA_TYPE, Chart, load_chart, parse_chart_manifest
from hangar.gateway.helm.index import rfc3339
from hangar.kit.errors import AlreadyExists, DomainError

#: Bytes per message when a blob is written to the blobstore.
WRITE_CHUNK: Final = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Published:
    """A chart version as stored: where, under which tag, with which manifest and archive digest."""

    repository: str
    name: str
    version: str
    tag: str
    manifest_digest: str
    chart_digest: str
    chart_size: int
    #: False when this very chart was there already (nothing was stored).
    created: bool


class ChartPublisher:
    def __init__(
        self,
        registry: RegistryPort,
        blobstore: BlobstorePort,
        artifacts: ArtifactsPort,
        *,
        on_change: Callable[[str], None] = lambda repository: None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._registry = registry
        self._blobstore = blobstore
        self._artifacts = artifacts
        self._on_change = on_change
        self._wall_clock = wall_clock

    @staticmethod
    async def validate(archive: bytes, namespace: str) -> Chart:
        """The chart in `archive` (decompressed off the event loop); InvalidArgument when it is not one."""
        return await asyncio.to_thread(load_chart, archive, namespace)

    async def publish(self, chart: Chart, namespace: str) -> Published:
        """Store `chart` (already validated) at `<namespace>/<name>:<version>`."""
        repository = f"{namespace}/{chart.name}"
        existing = await self._existing(repository, chart)
        if existing is not None:
            return existing
        config = chart.config
        for blob in (config, chart.archive):
            await self._store(repository, blob)
        manifest = chart.manifest(created=rfc3339(int(self._wall_clock() * 1000)))
        try:
            stored = await self._registry.put_manifest(
                repository, chart.tag, OCI_MANIFEST_MEDIA_TYPE, manifest
            )
        finally:
            self._on_change(repository)
        return Published(
            repository=repository,
            name=chart.name,
            version=chart.version,
            tag=chart.tag,
            manifest_digest=stored.digest,
            chart_digest=chart.digest,
            chart_size=len(chart.archive),
            created=True,
        )

    async def _existing(self, repository: str, chart: Chart) -> Published | None:
        """The same chart already stored under this version (None when the version is free); 409 when the
        version holds something else."""
        try:
            version = await self._artifacts.get_version(repository, chart.tag)
        except DomainError as error:
            if error.kind == "not_found":
                return None
            raise
        conflict = AlreadyExists(
            f"{repository} already has version {chart.version} with other content; versions are immutable",
            code="VERSION_EXISTS",
        )
        if not version.manifest_digest:
            raise conflict
        try:
            stored = await self._registry.get_manifest(repository, version.manifest_digest)
        except DomainError as error:
            if error.kind == "not_found":
                raise conflict from None
            raise
        pushed = parse_chart_manifest(stored.content)
        if pushed is None or pushed.chart_digest != chart.digest:
            raise conflict
        return Published(
            repository=repository,
            name=chart.name,
            version=chart.version,
            tag=chart.tag,
            manifest_digest=version.manifest_digest,
            chart_digest=chart.digest,
            chart_size=len(chart.archive),
            created=False,
        )

    async def _store(self, repository: str, data: bytes) -> None:
        """One blob, written, committed under its digest and linked into the repository (as /v2 does)."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        upload_id = await self._blobstore.start_upload(repository)
        try:
            await self._blobstore.write(upload_id, 0, _chunks(data), owner=repository)
            blob = await self._blobstore.commit_upload(upload_id, digest, owner=repository)
        except BaseException:
            with contextlib.suppress(DomainError):  # already committed or gone
                await self._blobstore.cancel_upload(upload_id, owner=repository)
            raise
        await self._registry.link_blob(repository, blob.digest, blob.size)


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), WRITE_CHUNK):
        yield data[start : start + WRITE_CHUNK]
