"""In-memory fakes of the four service ports, beside the ports they fake: for tests that need no process.

They keep the rules the gateway relies on (offsets, digest checks, owners, tag order, error codes) and
nothing more; the services' own tests cover the rest.
"""

from hangar.gateway.clients.fakes._common import sha256_digest
from hangar.gateway.clients.fakes.blobstore import FakeBlobstore
from hangar.gateway.clients.fakes.identity import (
    CAPABILITIES,
    INVITATION_SECONDS,
    SESSION_SECONDS,
    FakeIdentity,
)
from hangar.gateway.clients.fakes.keys import (
    ENTITY_TYPES,
    KEY_SERVICES,
    MIN_KEY_SECONDS,
    PERSONAL_KEYS_PER_USER,
    SCOPE_ACTIONS,
    SERVICE_KEYS_PER_ORG,
    FakeKeys,
)
from hangar.gateway.clients.fakes.registry import MAX_MANIFEST_BYTES, FakeRegistry

__all__ = [
    "CAPABILITIES",
    "ENTITY_TYPES",
    "INVITATION_SECONDS",
    "KEY_SERVICES",
    "MAX_MANIFEST_BYTES",
    "MIN_KEY_SECONDS",
    "PERSONAL_KEYS_PER_USER",
    "SCOPE_ACTIONS",
    "SERVICE_KEYS_PER_ORG",
    "SESSION_SECONDS",
    "FakeBlobstore",
    "FakeIdentity",
    "FakeKeys",
    "FakeRegistry",
    "sha256_digest",
]
