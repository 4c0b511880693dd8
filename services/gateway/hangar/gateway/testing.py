"""Test support: a world of fake services with known users, keys and grants, and credential headers.

Org `demo` (team `vision`): Alice is ORG_OWNER, Bob REGISTRY_READ, Carol USER_ADMIN + REGISTRY_USER, Dave
REGISTRY_READ (with an admin key, to reach the management API), Erin REGISTRY_USER in team vision only. Org
`acme` belongs to Zed, a stranger to everyone above.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Final

from hangar.gateway.clients.fakes import FakeBlobstore, FakeIdentity, FakeKeys, FakeRegistry
from hangar.gateway.clients.fakes_artifacts import FakeArtifacts
from hangar.gateway.clients.model import KeyInfo
from hangar.gateway.clients.services import Services

ALICE: Final = "user-alice"
ALICE_KEY: Final = "hgr_alice123_aliceSecretAliceSecret"
BOB: Final = "user-bob"
BOB_KEY: Final = "hgr_bob45678_bobSecretBobSecretBob"
#: Alice's key that lacks the "registry" service.
ADMIN_ONLY_KEY: Final = "hgr_admin123_keyWithoutTheRegistryService"
#: As in the capability matrix, whoever may download or push may also view (list).
PULL_PUSH: Final = ("VIEW_ARTIFACTS", "DOWNLOAD_ARTIFACTS", "PUSH_ARTIFACTS")
ALICE_PASSWORD: Final = "alice-password"  # noqa: S105 - a fake user's, for tests
CAROL: Final = "user-carol"
CAROL_KEY: Final = "hgr_carol123_carolSecretCarolSecret"
DAVE: Final = "user-dave"
DAVE_KEY: Final = "hgr_dave5678_daveSecretDaveSecretDav"
ERIN: Final = "user-erin"
ERIN_KEY: Final = "hgr_erin5678_erinSecretErinSecretEri"
ZED: Final = "user-zed"
ZED_KEY: Final = "hgr_zed45678_zedSecretZedSecretZedSe"
ADMIN_SERVICES: Final = frozenset({"admin", "registry"})
#: Where the REST API is mounted.
API: Final = "/api/v1"


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
    artifacts: FakeArtifacts = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.artifacts = FakeArtifacts(self.registry, self.blobstore)

    def services(self) -> Services:
        return Services(
            identity=self.identity,
            keys=self.keys,
            registry=self.registry,
            blobstore=self.blobstore,
            artifacts=self.artifacts,
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
    world.identity.grant(BOB, "demo/hello", "VIEW_ARTIFACTS", "DOWNLOAD_ARTIFACTS")
    identity = world.identity
    identity.member("demo", ALICE, "ORG_OWNER", email="alice@example.com", password=ALICE_PASSWORD)
    identity.member("demo", BOB, "REGISTRY_READ", email="bob@example.com")
    identity.member("demo", CAROL, "USER_ADMIN", "REGISTRY_USER", email="carol@example.com")
    identity.member("demo", DAVE, "REGISTRY_READ", email="dave@example.com")
    identity.member("demo", ERIN, "REGISTRY_USER", team="vision", email="erin@example.com")
    identity.member("acme", ZED, "ORG_OWNER", email="zed@example.com")
    for secret, key_id, user, org in (
        (CAROL_KEY, "key-carol", CAROL, "demo"),
        (DAVE_KEY, "key-dave", DAVE, "demo"),
        (ERIN_KEY, "key-erin", ERIN, "demo"),
        (ZED_KEY, "key-zed", ZED, "acme"),
    ):
        world.keys.add(secret, KeyInfo(key_id, org, user, ADMIN_SERVICES, prefix=secret[:12], name=key_id))
    return world
