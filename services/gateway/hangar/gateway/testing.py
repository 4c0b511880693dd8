"""Test support: a world of fake services with known users, keys and grants, and credential headers."""

from __future__ import annotations

import base64
import dataclasses
from typing import Final

from hangar.gateway.clients.fakes import FakeBlobstore, FakeIdentity, FakeKeys, FakeRegistry
from hangar.gateway.clients.model import KeyInfo
from hangar.gateway.clients.services import Services

ALICE: Final = "user-alice"
ALICE_KEY: Final = "hgr_alice123_aliceSecretAliceSecret"
BOB: Final = "user-bob"
BOB_KEY: Final = "hgr_bob45678_bobSecretBobSecretBob"
#: Alice's key that lacks the "registry" service.
ADMIN_ONLY_KEY: Final = "hgr_admin123_keyWithoutTheRegistryService"
PULL_PUSH: Final = ("DOWNLOAD_ARTIFACTS", "PUSH_ARTIFACTS")


def basic(secret: str, username: str = "$oauthtoken") -> dict[str, str]:
    encoded = base64.b64encode(f"{username}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclasses.dataclass
class FakeWorld:
    identity: FakeIdentity
    keys: FakeKeys
    registry: FakeRegistry
    blobstore: FakeBlobstore

    def services(self) -> Services:
        return Services(
            identity=self.identity, keys=self.keys, registry=self.registry, blobstore=self.blobstore
        )


def fake_world() -> FakeWorld:
    """Alice may pull and push demo/hello and demo/other; Bob may only pull demo/hello."""
    world = FakeWorld(FakeIdentity(), FakeKeys(), FakeRegistry(), FakeBlobstore())
    registry = frozenset({"registry"})
    world.keys.add(ALICE_KEY, KeyInfo("key-alice", "demo", ALICE, registry, prefix="hgr_alice123"))
    world.keys.add(BOB_KEY, KeyInfo("key-bob", "demo", BOB, registry, prefix="hgr_bob45678"))
    world.keys.add(
        ADMIN_ONLY_KEY, KeyInfo("key-admin", "demo", ALICE, frozenset({"admin"}), prefix="hgr_admin123")
    )
    world.identity.grant(ALICE, "demo/hello", *PULL_PUSH)
    world.identity.grant(ALICE, "demo/other", *PULL_PUSH)
    world.identity.grant(BOB, "demo/hello", "DOWNLOAD_ARTIFACTS")
    return world
