"""`hangar up` gives the gateway the blob directory it shares with the blobstore (HANGAR_SHARED_BLOB_DIR):
a pulled blob is read from its file, byte for byte, without the blobstore streaming it (docs/decisions/0021).

Observed two ways: the blobstore's spans show a LocateBlob and no Read for the pull, and with the blobstore
process stopped (SIGSTOP) a blob whose location the gateway already knows is still served whole and ranged.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hangar_client import Client, Registry, sha256
from hangar_harness import Hangar, processes_using

REPOSITORY = "demo/shared-reads"


@pytest.fixture(scope="module")
def hangar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hangar]:
    instance = Hangar(tmp_path_factory.mktemp("hangar-shared-reads"))
    instance.start()
    try:
        yield instance
    finally:
        code = instance.stop()
        assert code == 0, f"hangar up did not stop cleanly ({code}):\n{instance.logs()}"


def blobstore_pid(hangar: Hangar) -> int:
    for pid in processes_using(hangar.data_dir):
        if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[-3:-1] == [b"serve", b"blobstore"]:
            return pid
    raise AssertionError(f"no blobstore process of this hangar up:\n{hangar.logs()}")


def blobstore_calls(hangar: Hangar, method: str) -> int:
    return sum(
        1
        for span in hangar.spans()
        if span["service"] == "hangar-blobstore" and span["name"].endswith(f"BlobstoreService/{method}")
    )


def test_a_pulled_blob_is_read_from_the_shared_directory(hangar: Hangar) -> None:
    registry = Registry(Client(hangar.url), hangar.key)
    data = os.urandom(3 * 1024 * 1024 + 123)  # several 1 MiB reads
    assert registry.push_blob(REPOSITORY, data).status == 201
    digest = sha256(data)
    reads_before = blobstore_calls(hangar, "Read")

    pulled = registry.pull_blob(REPOSITORY, digest)

    assert pulled.status == 200, pulled.shown()
    assert pulled.raw == data
    assert pulled.headers["Docker-Content-Digest"] == digest
    # pushed through this gateway: its commit said where the file lies, so no LocateBlob either
    assert blobstore_calls(hangar, "LocateBlob") == 0
    assert blobstore_calls(hangar, "Read") == reads_before  # no byte streamed by the blobstore

    pid = blobstore_pid(hangar)
    os.kill(pid, signal.SIGSTOP)  # the blobstore cannot answer anything now
    try:
        again = registry.pull_blob(REPOSITORY, digest)
        ranged = registry.request(
            "GET", REPOSITORY, f"blobs/{digest}", headers={"Range": "bytes=1048570-2097160"}
        )
    finally:
        os.kill(pid, signal.SIGCONT)

    assert again.status == 200 and again.raw == data
    assert ranged.status == 206, ranged.shown()
    assert ranged.raw == data[1048570:2097161]
