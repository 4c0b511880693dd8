"""The gateway's short cache of manifests and blob links, and the verified-token cache."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hangar.gateway.auth import Grant, TokenIssuer, TokenVerifier
from hangar.gateway.clients.cached import MAX_MANIFEST_BYTES, CachedRegistry
from hangar.gateway.clients.model import (
    BlobInfo,
    DeletedManifest,
    PutManifestResult,
    StoredManifest,
    TagPage,
)
from hangar.kit.errors import NotFound, Unauthenticated


class CountingRegistry:
    """Just enough of RegistryPort, counting the calls that reach it."""

    def __init__(self) -> None:
        self.manifests: dict[tuple[str, str], StoredManifest] = {}
        self.blobs: dict[tuple[str, str], int] = {}
        self.calls: dict[str, int] = {}
        self.gate: asyncio.Event | None = None

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    async def get_manifest(self, repository: str, reference: str) -> StoredManifest:
        self._count("get_manifest")
        if self.gate is not None:
            await self.gate.wait()
        try:
            return self.manifests[(repository, reference)]
        except KeyError:
            raise NotFound("manifest unknown", code="MANIFEST_UNKNOWN") from None

    async def put_manifest(
        self, repository: str, reference: str, media_type: str, content: bytes, **_: Any
    ) -> PutManifestResult:
        self._count("put_manifest")
        self.manifests[(repository, reference)] = StoredManifest("sha256:" + "1" * 64, media_type, content)
        return PutManifestResult(digest="sha256:" + "1" * 64)

    async def delete_manifest(self, repository: str, reference: str) -> DeletedManifest:
        self._count("delete_manifest")
        del self.manifests[(repository, reference)]
        return DeletedManifest(digest=reference, tags=(), manifest_deleted=True)

    async def stat_blob(self, repository: str, digest: str) -> BlobInfo:
        self._count("stat_blob")
        if (repository, digest) not in self.blobs:
            raise NotFound("blob unknown", code="BLOB_UNKNOWN")
        return BlobInfo(digest, self.blobs[(repository, digest)])

    async def unlink_blob(self, repository: str, digest: str) -> BlobInfo:
        self._count("unlink_blob")
        return BlobInfo(digest, self.blobs.pop((repository, digest)))

    async def link_blob(self, repository: str, digest: str, size: int) -> None:
        self._count("link_blob")
        self.blobs[(repository, digest)] = size


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cached(registry: CountingRegistry, clock: Clock, ttl: float = 1.0) -> Any:
    return CachedRegistry(registry, ttl, clock)  # type: ignore[arg-type]


async def test_a_manifest_is_fetched_once_within_the_ttl_and_again_after() -> None:
    registry, clock = CountingRegistry(), Clock()
    registry.manifests[("demo/a", "v1")] = StoredManifest("sha256:" + "a" * 64, "m", b"{}")
    cache = cached(registry, clock)
    for _ in range(5):
        assert (await cache.get_manifest("demo/a", "v1")).content == b"{}"
    assert registry.calls["get_manifest"] == 1
    clock.now += 1.0
    await cache.get_manifest("demo/a", "v1")
    assert registry.calls["get_manifest"] == 2


async def test_a_put_or_delete_through_this_replica_is_seen_at_once() -> None:
    registry, clock = CountingRegistry(), Clock()
    cache = cached(registry, clock)
    await cache.put_manifest("demo/a", "v1", "m", b"old")
    assert (await cache.get_manifest("demo/a", "v1")).content == b"old"
    await cache.put_manifest("demo/a", "v1", "m", b"new")
    assert (await cache.get_manifest("demo/a", "v1")).content == b"new"
    await cache.delete_manifest("demo/a", "v1")
    with pytest.raises(NotFound):
        await cache.get_manifest("demo/a", "v1")


async def test_failures_and_large_manifests_are_not_kept() -> None:
    registry, clock = CountingRegistry(), Clock()
    cache = cached(registry, clock)
    for _ in range(2):
        with pytest.raises(NotFound):
            await cache.get_manifest("demo/a", "v1")
    assert registry.calls["get_manifest"] == 2
    registry.manifests[("demo/a", "big")] = StoredManifest("d", "m", b"x" * (MAX_MANIFEST_BYTES + 1))
    await cache.get_manifest("demo/a", "big")
    await cache.get_manifest("demo/a", "big")
    assert registry.calls["get_manifest"] == 4


async def test_a_lookup_in_flight_during_a_change_is_answered_but_not_kept() -> None:
    registry, clock = CountingRegistry(), Clock()
    registry.manifests[("demo/a", "v1")] = StoredManifest("d", "m", b"old")
    registry.gate = asyncio.Event()
    cache = cached(registry, clock)
    lookup = asyncio.create_task(cache.get_manifest("demo/a", "v1"))
    await asyncio.sleep(0)
    await cache.put_manifest("demo/a", "v1", "m", b"new")  # while the lookup waits for its answer
    registry.manifests[("demo/a", "v1")] = StoredManifest("d", "m", b"old")  # what the lookup then sees
    registry.gate.set()
    assert (await lookup).content == b"old"
    registry.gate = None
    registry.manifests[("demo/a", "v1")] = StoredManifest("d", "m", b"new")
    assert (await cache.get_manifest("demo/a", "v1")).content == b"new"  # the stale answer was not kept


async def test_blob_links_are_kept_until_unlinked_here() -> None:
    registry, clock = CountingRegistry(), Clock()
    registry.blobs[("demo/a", "sha256:b")] = 7
    cache = cached(registry, clock)
    assert (await cache.stat_blob("demo/a", "sha256:b")).size == 7
    assert (await cache.stat_blob("demo/a", "sha256:b")).size == 7
    assert registry.calls["stat_blob"] == 1
    await cache.unlink_blob("demo/a", "sha256:b")
    with pytest.raises(NotFound):
        await cache.stat_blob("demo/a", "sha256:b")


async def test_a_missing_blob_is_asked_once_within_the_ttl_and_again_after() -> None:
    """A push HEADs each blob twice before uploading it: the second answer comes from here."""
    registry, clock = CountingRegistry(), Clock()
    cache = cached(registry, clock)
    for _ in range(3):
        with pytest.raises(NotFound) as missing:
            await cache.stat_blob("demo/a", "sha256:b")
        assert missing.value.code == "BLOB_UNKNOWN" and missing.value.message == "blob unknown"
    assert registry.calls["stat_blob"] == 1
    registry.blobs[("demo/a", "sha256:b")] = 7  # linked elsewhere, unheard of: seen after the ttl
    clock.now += 1.0
    assert (await cache.stat_blob("demo/a", "sha256:b")).size == 7


async def test_a_link_here_or_a_change_heard_of_forgets_that_a_blob_was_missing() -> None:
    registry, clock = CountingRegistry(), Clock()
    cache = cached(registry, clock)

    async def missing(repository: str) -> bool:
        try:
            await cache.stat_blob(repository, "sha256:b")
        except NotFound:
            return True
        return False

    assert await missing("demo/a")
    await cache.link_blob("demo/a", "sha256:b", 7)  # this replica's upload or mount
    assert not await missing("demo/a")

    # linked through another port (a REST upload, another replica): told by the change watcher or an event
    for tell in (
        lambda: cache.changed("org/team/x"),
        lambda: cache.forget("org/team"),
        lambda: cache.forget("org"),
        cache.forget_everything,
    ):
        clock.now += 1.0  # what the previous round kept has expired
        registry.blobs.pop(("org/team/x", "sha256:b"), None)
        assert await missing("org/team/x")
        registry.blobs[("org/team/x", "sha256:b")] = 7
        tell()
        assert not await missing("org/team/x")
    # a namespace is forgotten whole and only it
    clock.now += 1.0
    registry.blobs.pop(("org/team/x", "sha256:b"))
    assert await missing("org/team/x") and await missing("other/x")
    cache.forget("org")
    calls = registry.calls["stat_blob"]
    await missing("org/team/x")
    await missing("other/x")
    assert registry.calls["stat_blob"] == calls + 1


async def test_a_miss_answered_while_the_repository_changed_here_is_not_kept() -> None:
    registry, clock = CountingRegistry(), Clock()
    cache = cached(registry, clock)
    registry.gate = asyncio.Event()
    original = registry.stat_blob

    async def gated(repository: str, digest: str) -> BlobInfo:
        assert registry.gate is not None
        await registry.gate.wait()
        return await original(repository, digest)

    registry.stat_blob = gated  # type: ignore[method-assign]
    lookup = asyncio.create_task(cache.stat_blob("demo/a", "sha256:b"))
    await asyncio.sleep(0)
    await cache.link_blob("demo/a", "sha256:b", 7)  # linked while the miss was on its way back
    registry.blobs.pop(("demo/a", "sha256:b"))  # the answer in flight says missing
    registry.gate.set()
    with pytest.raises(NotFound):
        await lookup
    registry.blobs[("demo/a", "sha256:b")] = 7
    assert (await cache.stat_blob("demo/a", "sha256:b")).size == 7


async def test_a_zero_ttl_keeps_nothing() -> None:
    registry, clock = CountingRegistry(), Clock()
    registry.blobs[("demo/a", "sha256:b")] = 7
    cache = cached(registry, clock, ttl=0)
    await cache.stat_blob("demo/a", "sha256:b")
    await cache.stat_blob("demo/a", "sha256:b")
    assert registry.calls["stat_blob"] == 2


def test_a_token_is_verified_once_then_served_from_the_cache_until_it_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = Ed25519PrivateKey.generate()
    token = TokenIssuer(key, 300).issue("user-1", "key-1", [Grant("demo/a", frozenset({"pull"}))]).token
    clock = Clock()
    clock.now = 0.0
    verifier = TokenVerifier(key.public_key(), clock=clock)
    decoded: list[str] = []
    original = verifier._verify

    def counting(raw: str) -> Any:
        decoded.append(raw)
        return original(raw)

    monkeypatch.setattr(verifier, "_verify", counting)
    first = verifier.verify(token)
    assert verifier.verify(token) == first
    assert len(decoded) == 1
    clock.now = float(first.expires_at)  # past its expiry the token is checked afresh
    verifier.verify(token)
    assert len(decoded) == 2


def test_a_refused_token_is_never_cached() -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    forged = TokenIssuer(other, 300).issue("user-1", "key-1", []).token
    verifier = TokenVerifier(key.public_key())
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            verifier.verify(forged)


class TagListing(CountingRegistry):
    def __init__(self, tags: list[str]) -> None:
        super().__init__()
        self.tags = tags

    async def list_tags(self, repository: str, page_size: int = 0, last: str = "") -> TagPage:
        self._count("list_tags")
        after = sorted(t for t in self.tags if t > last)
        page = after if page_size <= 0 else after[:page_size]
        return TagPage(repository, tuple(page), more=len(page) < len(after))


async def test_tag_pages_are_cut_from_one_kept_listing() -> None:
    tags = [f"t{i:03d}" for i in range(250)]
    registry, clock = TagListing(tags), Clock()
    cache = cached(registry, clock)
    seen, last = [], ""
    while True:
        page = await cache.list_tags("demo/a", 100, last)
        seen += page.tags
        if not page.more:
            break
        last = page.tags[-1]
    assert seen == tags
    assert registry.calls["list_tags"] == 1
    assert (await cache.list_tags("demo/a", 0, "t247")).tags == ("t248", "t249")
    await cache.put_manifest("demo/a", "t999", "m", b"{}")
    registry.tags.append("t999")
    assert (await cache.list_tags("demo/a", 0, "t249")).tags == ("t999",)


async def test_a_repository_with_too_many_tags_is_listed_page_by_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("hangar.gateway.clients.cached.MAX_LISTED_TAGS", 10)
    registry, clock = TagListing([f"t{i:03d}" for i in range(25)]), Clock()
    cache = cached(registry, clock)
    page = await cache.list_tags("demo/a", 5, "t004")
    assert page.tags == ("t005", "t006", "t007", "t008", "t009") and page.more
    await cache.list_tags("demo/a", 5, "t009")
    assert registry.calls["list_tags"] == 3  # a probe of the whole (remembered as too large), then pages
