"""A RegistryPort that remembers manifests and blob links for a moment: most pulls skip the round trip.

A pull asks for the same manifest and the same blobs' presence again and again (every layer is HEADed, then
GETed; a CI fleet pulls one tag a hundred times), and a push asks twice whether each blob is there before
uploading it (skopeo HEADs every blob twice). Each answer is kept `ttl` seconds (1 s by default, the
revocation bound of DESIGN §4, so another replica's change is seen within it without any event), and this
replica's own writes evict at once: a manifest PUT or DELETE forgets every manifest of that repository (tags
move, and so do tag lists, kept whole and paginated here) and every blob it was told is missing there, a blob
link or unlink forgets that blob. Of the failures only BLOB_UNKNOWN is kept; changes made through other
ports (REST artifact uploads link blobs in the registry themselves) evict through `changed` / `forget` /
`forget_everything`, which the gateway's change watcher and registry events call as for the Helm indexes. A
lookup in flight while its repository changed is answered but not kept. Memory is bounded: entries, and
manifest bytes.
"""

from __future__ import annotations

import bisect
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar

from hangar.gateway.clients.model import (
    BlobInfo,
    DeletedManifest,
    PutManifestResult,
    Referrer,
    RepositoryPage,
    StoredManifest,
    TagPage,
)
from hangar.gateway.clients.ports import RegistryPort
from hangar.kit.errors import NotFound

CONTENT_CACHE_SECONDS: Final = 1.0
BLOB_UNKNOWN: Final = "BLOB_UNKNOWN"
MAX_ENTRIES: Final = 10_000
#: Manifests larger than this are always fetched; all kept manifests together hold at most MAX_BYTES.
MAX_MANIFEST_BYTES: Final = 256 * 1024
MAX_BYTES: Final = 16 * 1024 * 1024
#: Repositories with at most this many tags have their whole tag list kept (and paginated from it).
MAX_LISTED_TAGS: Final = 10_000

V = TypeVar("V")


class _Entries(Generic[V]):
    """(repository, key) -> value, each for `ttl` seconds, least recently put out first past the bounds."""

    def __init__(self, ttl: float, clock: Callable[[], float], size: Callable[[V], int]) -> None:
        self._ttl = ttl
        self._clock = clock
        self._size = size
        self._entries: OrderedDict[tuple[str, str], tuple[float, V]] = OrderedDict()
        self._bytes = 0

    def get(self, repository: str, key: str) -> V | None:
        entry = self._entries.get((repository, key))
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            self._drop((repository, key))
            return None
        return entry[1]

    def put(self, repository: str, key: str, value: V) -> None:
        if self._ttl <= 0:
            return
        self._drop((repository, key))
        self._entries[(repository, key)] = (self._clock() + self._ttl, value)
        self._bytes += self._size(value)
        while len(self._entries) > MAX_ENTRIES or self._bytes > MAX_BYTES:
            self._drop(next(iter(self._entries)))

    def forget(self, repository: str, key: str | None = None) -> None:
        """One entry, or every entry of `repository`."""
        if key is not None:
            self._drop((repository, key))
            return
        for name in [name for name in self._entries if name[0] == repository]:
            self._drop(name)

    def forget_under(self, namespace: str) -> None:
        """Every entry of a repository in `namespace` (an org, or org/team), at any depth."""
        prefix = f"{namespace}/"
        for name in [name for name in self._entries if name[0].startswith(prefix)]:
            self._drop(name)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def _drop(self, name: tuple[str, str]) -> None:
        entry = self._entries.pop(name, None)
        if entry is not None:
            self._bytes -= self._size(entry[1])


class CachedRegistry:
    """`registry` with manifests and blob stats kept `ttl` seconds (0: nothing is kept)."""

    def __init__(
        self,
        registry: RegistryPort,
        ttl: float = CONTENT_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = registry
        self._manifests: _Entries[StoredManifest] = _Entries(ttl, clock, lambda m: len(m.content))
        self._blobs: _Entries[BlobInfo] = _Entries(ttl, clock, lambda _: 0)
        #: (repository, digest) -> the registry's BLOB_UNKNOWN message
        self._missing: _Entries[str] = _Entries(ttl, clock, len)
        self._tag_lists: _Entries[TagPage] = _Entries(ttl, clock, lambda page: 64 * len(page.tags))
        # repository -> changes this replica made to it; a lookup that saw it move is not kept
        self._changes: dict[str, int] = {}
        self._epoch = 0  # bumped when `_changes` is reset, which counts as a change of everything

    # -- cached reads ------------------------------------------------------------------------------------

    async def get_manifest(self, repository: str, reference: str) -> StoredManifest:
        cached = self._manifests.get(repository, reference)
        if cached is not None:
            return cached
        before = self._version(repository)
        manifest = await self._registry.get_manifest(repository, reference)
        if len(manifest.content) <= MAX_MANIFEST_BYTES and self._version(repository) == before:
            self._manifests.put(repository, reference, manifest)
        return manifest

    async def stat_blob(self, repository: str, digest: str) -> BlobInfo:
        cached = self._blobs.get(repository, digest)
        if cached is not None:
            return cached
        missing = self._missing.get(repository, digest)
        if missing is not None:
            raise NotFound(missing, code=BLOB_UNKNOWN)
        before = self._version(repository)
        try:
            blob = await self._registry.stat_blob(repository, digest)
        except NotFound as error:
            if error.code == BLOB_UNKNOWN and self._version(repository) == before:
                self._missing.put(repository, digest, error.message)
            raise
        if self._version(repository) == before:
            self._blobs.put(repository, digest, blob)
        return blob

    # -- writes that evict -------------------------------------------------------------------------------

    async def put_manifest(
        self, repository: str, reference: str, media_type: str, content: bytes, *, config: bytes = b""
    ) -> PutManifestResult:
        self._changed(repository, manifests=True)
        try:
            return await self._registry.put_manifest(
                repository, reference, media_type, content, config=config
            )
        finally:
            self._changed(repository, manifests=True)

    async def delete_manifest(self, repository: str, reference: str) -> DeletedManifest:
        self._changed(repository, manifests=True)
        try:
            return await self._registry.delete_manifest(repository, reference)
        finally:
            self._changed(repository, manifests=True)

    async def unlink_blob(self, repository: str, digest: str) -> BlobInfo:
        self._changed(repository, digest=digest)
        try:
            return await self._registry.unlink_blob(repository, digest)
        finally:
            self._changed(repository, digest=digest)

    async def link_blob(self, repository: str, digest: str, size: int) -> None:
        self._changed(repository, digest=digest)
        try:
            await self._registry.link_blob(repository, digest, size)
        finally:
            self._changed(repository, digest=digest)

    # -- changes made elsewhere (the helm.events.Indexes protocol) ---------------------------------------

    def changed(self, repository: str) -> None:
        """`repository` changed through another port (REST artifacts, another replica's event)."""
        self._changed(repository, manifests=True)

    def forget(self, namespace: str) -> None:
        """A repository of `namespace` changed, which one is not known: forget what was kept of them all."""
        for entries in self._every_kind():
            entries.forget_under(namespace)
        self._epoch += 1  # and keep no lookup that was in flight

    def forget_everything(self) -> None:
        for entries in self._every_kind():
            entries.clear()
        self._epoch += 1

    def _every_kind(self) -> tuple[_Entries[Any], ...]:
        return (self._manifests, self._blobs, self._missing, self._tag_lists)

    def _changed(self, repository: str, *, manifests: bool = False, digest: str = "") -> None:
        self._changes[repository] = self._changes.get(repository, 0) + 1
        if manifests:
            self._manifests.forget(repository)
            self._tag_lists.forget(repository)
            self._missing.forget(repository)  # pushing an artifact's manifest may link its blobs
        if digest:
            self._blobs.forget(repository, digest)
            self._missing.forget(repository, digest)
        if len(self._changes) > MAX_ENTRIES:  # only equality with a snapshot matters: restart the counts
            self._changes.clear()
            self._epoch += 1

    def _version(self, repository: str) -> tuple[int, int]:
        return self._epoch, self._changes.get(repository, 0)

    async def list_tags(self, repository: str, page_size: int = 0, last: str = "") -> TagPage:
        """A page of tags, cut from the repository's whole (sorted) tag list when that is kept.

        A listing paginated by `n`/`last` costs one registry call per page otherwise; a repository of up
        to MAX_LISTED_TAGS tags is fetched whole once and kept like a manifest (a manifest PUT or DELETE
        here forgets it). A larger one is passed through page by page.
        """
        listing = self._tag_lists.get(repository, "")
        if listing is None:
            before = self._version(repository)
            whole = await self._registry.list_tags(repository, MAX_LISTED_TAGS, "")
            # too many to keep: remembered as such (`more`, no tags), and paginated by the registry
            listing = TagPage(whole.repository, () if whole.more else tuple(sorted(whole.tags)), whole.more)
            if self._version(repository) == before:
                self._tag_lists.put(repository, "", listing)
        if listing.more:
            return await self._registry.list_tags(repository, page_size, last)
        start = bisect.bisect_right(listing.tags, last) if last else 0
        end = len(listing.tags) if page_size <= 0 else start + page_size
        return TagPage(listing.repository, listing.tags[start:end], more=end < len(listing.tags))

    # -- passed through ----------------------------------------------------------------------------------

    async def list_referrers(
        self, repository: str, subject_digest: str, artifact_type: str = ""
    ) -> tuple[Referrer, ...]:
        return await self._registry.list_referrers(repository, subject_digest, artifact_type)

    async def list_repositories(self, page_size: int = 0, last: str = "") -> RepositoryPage:
        return await self._registry.list_repositories(page_size, last)

    async def serving(self) -> bool:
        return await self._registry.serving()
