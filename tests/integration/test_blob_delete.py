"""Blob DELETE and garbage collection end to end (docs/decisions/0017): a real `hangar up` with a short grace
period; who may delete, the refusal while a manifest names the blob, then the bytes leaving the data dir."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest
from hangar_client import Client, Registry, push_image, sha256
from hangar_harness import Hangar

from hangar.kit.testing import eventually

REPOSITORY: Final = "demo/gc"
GRACE_SECONDS: Final = 3


@pytest.fixture(scope="module")
def hangar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hangar]:
    instance = Hangar(
        tmp_path_factory.mktemp("hangar-gc"),
        env={"HANGAR_GC_GRACE_SECONDS": str(GRACE_SECONDS), "HANGAR_GC_INTERVAL_SECONDS": "0.5"},
    )
    instance.start()
    try:
        yield instance
    finally:
        code = instance.stop()
        assert code == 0, f"hangar up did not stop cleanly ({code}):\n{instance.logs()}"


def stored_files(hangar: Hangar, digest: str) -> list[Path]:
    """The files under the data dir's blob storage holding `digest`'s bytes (by their hex name)."""
    return [path for path in (hangar.data_dir / "blobs").rglob(digest.split(":", 1)[1]) if path.is_file()]


def test_a_registry_admin_deletes_an_unused_blob_and_its_bytes_are_reclaimed(hangar: Hangar) -> None:
    client = Client(hangar.url)
    owner = Registry(client, hangar.key)
    image = push_image(owner, REPOSITORY, "1")
    layer = sha256(image.layer)
    assert len(stored_files(hangar, layer)) == 1

    # A REGISTRY_USER may push but not delete: the token lacks `delete`, so the gateway refuses.
    user = client.join(hangar.key, "gc-user@example.com", ["REGISTRY_USER"])
    refused = Registry(client, user.key).request("DELETE", REPOSITORY, f"blobs/{layer}")
    assert refused.status in (401, 403), refused.shown()
    assert owner.pull_blob(REPOSITORY, layer).status == 200

    # A REGISTRY_ADMIN may, but not while the manifest names the layer.
    registry_admin = client.join(hangar.key, "gc-admin@example.com", ["REGISTRY_ADMIN", "REGISTRY_USER"])
    admin = Registry(client, registry_admin.key)
    referenced = admin.request("DELETE", REPOSITORY, f"blobs/{layer}")
    assert referenced.status == 409, referenced.shown()
    assert referenced.oci_error["code"] == "DENIED"
    assert referenced.oci_error["detail"] == {"reason": "BLOB_REFERENCED", "manifests": [image.digest]}

    # Bad input: a malformed digest is 400 and changes nothing.
    malformed = admin.request("DELETE", REPOSITORY, "blobs/sha256:nothex")
    assert malformed.status == 400 and malformed.oci_error["code"] == "DIGEST_INVALID"
    assert owner.pull_blob(REPOSITORY, layer).status == 200

    # Delete the manifest, then the layer: 202, and the blob is unknown at once.
    assert admin.delete_manifest(REPOSITORY, image.digest).status == 202
    deleted = admin.request("DELETE", REPOSITORY, f"blobs/{layer}")
    assert deleted.status == 202, deleted.shown()
    gone = owner.pull_blob(REPOSITORY, layer)
    assert gone.status == 404 and gone.oci_error["code"] == "BLOB_UNKNOWN"
    again = admin.request("DELETE", REPOSITORY, f"blobs/{layer}")
    assert again.status == 404 and again.oci_error["code"] == "BLOB_UNKNOWN"
    # Within the grace period the bytes are still there; after it the sweep deletes them. The config, still
    # linked, stays.
    assert len(stored_files(hangar, layer)) == 1

    async def reclaimed() -> bool:
        return not stored_files(hangar, layer)

    asyncio.run(eventually(reclaimed, within=GRACE_SECONDS + 30, interval=0.2))
    assert len(stored_files(hangar, sha256(image.config))) == 1
    assert owner.pull_blob(REPOSITORY, sha256(image.config)).status == 200

    # The same content pushed again is stored anew and served.
    assert owner.push_blob(REPOSITORY, image.layer).status == 201
    pulled = owner.pull_blob(REPOSITORY, layer)
    assert pulled.status == 200 and pulled.raw == image.layer
    assert len(stored_files(hangar, layer)) == 1
