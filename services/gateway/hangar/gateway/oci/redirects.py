"""Presigned blob URLs for `GET /v2/<name>/blobs/<digest>` redirects, kept per digest for part of their life.

The blobstore decides whether blobs may be fetched straight from storage (HANGAR_S3_REDIRECT, S3 only) and
signs the URLs; the gateway only asks, after its usual authorization and repository-membership checks, and
remembers the answers so that a GET costs no extra RPC:

- a URL is reused for `REUSE_FRACTION` of its lifetime, so a client handed a cached URL still has at least
  the rest (10 of the default 20 minutes) to start its download, and every Range request it re-sends;
- "no direct URL" (the filesystem, redirects off) is a property of the deployment, not of a digest: it is
  remembered for `UNAVAILABLE_TTL` seconds for every digest, so a gateway in front of a filesystem blobstore
  asks at most once per that interval;
- a failed presign (the blobstore unreachable, or too old to know the RPC) also falls back to streaming for
  `UNAVAILABLE_TTL`: the streamed answer is always correct, only slower. An unknown blob is still NotFound.

URLs are bearer capabilities: they are never logged, and the cache holds at most `MAX_CACHED_URLS`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Final

from hangar.gateway.caches import Lru
from hangar.gateway.clients import BlobstorePort
from hangar.kit.errors import DomainError, NotFound

log = logging.getLogger(__name__)

REUSE_FRACTION: Final = 0.5
UNAVAILABLE_TTL: Final = 30.0
MAX_CACHED_URLS: Final = 10_000


@dataclasses.dataclass(frozen=True)
class _Cached:
    url: str = dataclasses.field(repr=False)
    fresh_until: float


class BlobRedirects:
    """Where to send a blob GET instead of streaming it (`location`), or None to stream it."""

    def __init__(
        self,
        blobstore: BlobstorePort,
        *,
        clock: Callable[[], float] = time.monotonic,
        reuse_fraction: float = REUSE_FRACTION,
        unavailable_ttl: float = UNAVAILABLE_TTL,
        capacity: int = MAX_CACHED_URLS,
    ) -> None:
        if not 0 < reuse_fraction < 1:
            raise ValueError(f"reuse_fraction must lie strictly between 0 and 1, not {reuse_fraction}")
        self._blobstore = blobstore
        self._clock = clock
        self._reuse_fraction = reuse_fraction
        self._unavailable_ttl = unavailable_ttl
        self._urls: Lru[str, _Cached] = Lru(capacity)
        self._unavailable_until = float("-inf")

    async def location(self, digest: str) -> str | None:
        """A presigned URL of the blob with at least half its lifetime left, or None: stream it instead.

        NotFound (BLOB_UNKNOWN) if the blobstore has no such blob.
        """
        now = self._clock()
        if now < self._unavailable_until:
            return None
        cached = self._urls.get(digest)
        if cached is not None and now < cached.fresh_until:
            return cached.url
        try:
            answer = await self._blobstore.presign_blob(digest)
        except NotFound:
            self._urls.pop(digest)
            raise
        except DomainError as error:
            log.warning(
                "blob redirects paused for %.0fs, blobs are streamed meanwhile: presigning failed (%s)",
                self._unavailable_ttl,
                error.code,
            )
            self._pause(now)
            return None
        if answer is None:
            self._pause(now)
            return None
        self._urls.put(digest, _Cached(answer.url, now + answer.expires_in * self._reuse_fraction))
        return answer.url

    def _pause(self, now: float) -> None:
        self._unavailable_until = now + self._unavailable_ttl
        self._urls.clear()
