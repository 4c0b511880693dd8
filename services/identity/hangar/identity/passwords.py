"""Console passwords hashed with argon2id (argon2-cffi), off the event loop: implements `app.Passwords`.

The default parameters are argon2-cffi's, RFC 9106's low-memory profile: argon2id, t=3, m=64 MiB, p=4.
Hashing runs in worker threads, at most `max_concurrent` at once, so a burst of logins can neither stall
the event loop nor take more than `max_concurrent` x 64 MiB. A login for an unknown email verifies against a
dummy hash made with the same parameters, so it takes as long as one for a known email.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

log = logging.getLogger(__name__)


def _default_concurrency() -> int:
    return max(1, min(4, os.cpu_count() or 1))


class Argon2Passwords:
    """argon2id password hashes; `verify(None, ...)` does a dummy verification and answers False."""

    def __init__(
        self,
        *,
        time_cost: int = argon2.DEFAULT_TIME_COST,
        memory_cost: int = argon2.DEFAULT_MEMORY_COST,
        parallelism: int = argon2.DEFAULT_PARALLELISM,
        max_concurrent: int | None = None,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=argon2.Type.ID
        )
        # Made once, from a random string nobody knows: it matches no password.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(32))
        self._slots = asyncio.Semaphore(max_concurrent or _default_concurrency())

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        target = self._dummy_hash if password_hash is None else password_hash
        async with self._slots:
            matches = await asyncio.to_thread(self._verify, target, password)
        return matches and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except VerifyMismatchError:
            return False
        except (VerificationError, InvalidHashError):
            log.warning("a stored password hash could not be verified (corrupt or unsupported)")
            return False
