"""Real registry clients against a real `hangar up` (DESIGN §4: real clients round-trip byte-identical
content): skopeo with a multi-arch OCI index (and the same list converted to Docker schema 2), skopeo with a
1 GiB layer, podman push and pull, and oras-py pushing an artifact whose subject is an image, found again
through the referrers API. What each client needs is written down in docs/decisions/0019-real-clients.md.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import oras.oci
import oras.provider
import pytest
from hangar_client import Client, Registry, push_image, sha256
from hangar_harness import (
    Hangar,
    layout_blobs,
    layout_manifest_digest,
    make_oci_layout,
    skopeo,
    skopeo_available,
)

OCI_INDEX: Final = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG: Final = "application/vnd.oci.image.config.v1+json"
DOCKER_LIST: Final = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST: Final = "application/vnd.docker.distribution.manifest.v2+json"
ARCHITECTURES: Final = ("amd64", "arm64", "s390x")
GIB: Final = 1024**3
BLOCK: Final = 8 * 1024 * 1024

needs_skopeo = pytest.mark.skipif(not skopeo_available(), reason="skopeo is installed by `make system-deps`")


@pytest.fixture(scope="module")
def hangar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hangar]:
    """conftest's `hangar`, but its blobs (a 1 GiB layer among them) are deleted once the module is done."""
    instance = Hangar(tmp_path_factory.mktemp("hangar-clients"))
    instance.start()
    try:
        yield instance
    finally:
        code = instance.stop()
        shutil.rmtree(instance.data_dir / "blobs", ignore_errors=True)
        assert code == 0, f"hangar up did not stop cleanly ({code}):\n{instance.logs()}"


def owner(hangar: Hangar) -> Registry:
    return Registry(Client(hangar.url), hangar.key)


def creds(hangar: Hangar) -> str:
    return f"$oauthtoken:{hangar.key}"


def checked(result: subprocess.CompletedProcess[str], hangar: Hangar, what: str) -> str:
    """The command's output; on failure its stderr and Hangar's logs, never its arguments (they hold the
    key, and an assert would show them)."""
    if result.returncode != 0:
        pytest.fail(f"{what} failed ({result.returncode}):\n{result.stderr}\n{hangar.logs()[-6000:]}")
    return result.stdout


# -- OCI layouts of our own ---------------------------------------------------------------------------------


def descriptor(media_type: str, data: bytes) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha256(data), "size": len(data)}


def write_blob(layout: Path, data: bytes) -> None:
    path = layout / "blobs" / "sha256" / hashlib.sha256(data).hexdigest()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def gzip_layer(name: str, content: bytes) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


def write_index(layout: Path, tag: str, media_type: str, manifest: bytes) -> None:
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    entry = {**descriptor(media_type, manifest), "annotations": {"org.opencontainers.image.ref.name": tag}}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry]}))


@dataclass(frozen=True)
class MultiArch:
    index: bytes
    children: dict[str, bytes]  # architecture -> image manifest
    layers: dict[str, bytes]  # architecture -> its one gzipped layer

    @property
    def digest(self) -> str:
        return sha256(self.index)


def make_multi_arch_layout(layout: Path, tag: str) -> MultiArch:
    """An OCI image index of one linux image per ARCHITECTURES entry, each with its own config and layer."""
    children, layers, entries = {}, {}, []
    for arch in ARCHITECTURES:
        layer = gzip_layer(f"{arch}/payload.bin", os.urandom(64 * 1024) + arch.encode())
        diff_id = sha256(gzip.decompress(layer))
        config = json.dumps(
            {
                "architecture": arch,
                "os": "linux",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            }
        ).encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": descriptor(OCI_CONFIG, config),
                "layers": [descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer)],
            }
        ).encode()
        for blob in (layer, config, manifest):
            write_blob(layout, blob)
        children[arch], layers[arch] = manifest, layer
        entries.append(
            {**descriptor(OCI_MANIFEST, manifest), "platform": {"architecture": arch, "os": "linux"}}
        )
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    write_blob(layout, index)
    write_index(layout, tag, OCI_INDEX, index)
    return MultiArch(index, children, layers)


def make_large_layout(layout: Path, tag: str, size: int) -> tuple[str, str]:
    """An image of one uncompressed tar layer holding `size` random bytes, written (and hashed) in 8 MiB
    blocks without holding it in memory; (manifest digest, layer digest)."""
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    info = tarfile.TarInfo("payload.bin")
    info.size, info.mtime, info.mode = size, 0, 0o644
    hasher, partial = hashlib.sha256(), blobs / "layer.partial"
    with partial.open("wb") as out:
        for piece in _tar_of_one_file(info, size):
            hasher.update(piece)
            out.write(piece)
    layer_digest = "sha256:" + hasher.hexdigest()
    layer_size = partial.stat().st_size
    partial.rename(blobs / hasher.hexdigest())
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config),
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest,
                    "size": layer_size,
                }
            ],
        }
    ).encode()
    write_blob(layout, config)
    write_blob(layout, manifest)
    write_index(layout, tag, OCI_MANIFEST, manifest)
    return sha256(manifest), layer_digest


def _tar_of_one_file(info: tarfile.TarInfo, size: int) -> Iterator[bytes]:
    """A ustar archive of one regular file of `size` random bytes, piece by piece."""
    yield info.tobuf(format=tarfile.USTAR_FORMAT)
    left = size
    while left > 0:
        piece = os.urandom(min(BLOCK, left))
        left -= len(piece)
        yield piece
    yield b"\0" * (-size % tarfile.BLOCKSIZE + 2 * tarfile.BLOCKSIZE)  # padding, then the end-of-archive


def file_digest(path: Path) -> str:
    with path.open("rb") as f:
        return "sha256:" + hashlib.file_digest(f, "sha256").hexdigest()


# -- (a) skopeo: a multi-arch index, and the same list as Docker schema 2 ----------------------------------


@needs_skopeo
def test_skopeo_copies_a_multi_arch_index_there_and_back_with_every_digest_kept(
    hangar: Hangar, work: Path
) -> None:
    source = work / "src"
    image = make_multi_arch_layout(source, "multi")
    ref = f"docker://{hangar.registry}/demo/multiarch:1"
    checked(
        skopeo(
            work,
            "copy",
            "--all",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--dest-creds",
            creds(hangar),
            f"oci:{source}:multi",
            ref,
        ),
        hangar,
        "push of the index",
    )

    registry = owner(hangar)
    served = registry.request("GET", "demo/multiarch", "manifests/1", headers={"Accept": OCI_INDEX})
    assert served.status == 200, served.shown()
    assert served.headers["Content-Type"] == OCI_INDEX
    assert served.headers["Docker-Content-Digest"] == image.digest
    assert served.raw == image.index
    for child in image.children.values():
        by_digest = registry.request(
            "GET", "demo/multiarch", f"manifests/{sha256(child)}", headers={"Accept": OCI_MANIFEST}
        )
        assert by_digest.status == 200 and by_digest.raw == child, by_digest.shown()

    back = work / "back"
    checked(
        skopeo(
            work,
            "copy",
            "--all",
            "--preserve-digests",
            "--src-tls-verify=false",
            "--src-creds",
            creds(hangar),
            ref,
            f"oci:{back}:1",
        ),
        hangar,
        "pull of the index",
    )
    assert layout_manifest_digest(back) == image.digest
    assert layout_blobs(back) == layout_blobs(source)  # the index, every child, config and layer

    single = work / "arm64"
    checked(
        skopeo(
            work,
            "--override-arch",
            "arm64",
            "copy",
            "--preserve-digests",
            "--src-tls-verify=false",
            "--src-creds",
            creds(hangar),
            ref,
            f"oci:{single}:1",
        ),
        hangar,
        "pull of the arm64 image",
    )
    arm64 = image.children["arm64"]
    assert layout_manifest_digest(single) == sha256(arm64)
    pulled = layout_blobs(single)
    assert pulled[sha256(arm64).removeprefix("sha256:")] == arm64
    assert pulled[sha256(image.layers["arm64"]).removeprefix("sha256:")] == image.layers["arm64"]
    assert sha256(image.layers["amd64"]).removeprefix("sha256:") not in pulled


@needs_skopeo
def test_skopeo_converts_the_index_to_a_docker_manifest_list_and_pulls_it_back_unchanged(
    hangar: Hangar, work: Path
) -> None:
    source = work / "src"
    image = make_multi_arch_layout(source, "multi")
    ref = f"docker://{hangar.registry}/demo/multiarch-v2s2:1"
    # skopeo converts each image and the list itself (digests change, so no --preserve-digests here)
    checked(
        skopeo(
            work,
            "copy",
            "--all",
            "--format",
            "v2s2",
            "--dest-tls-verify=false",
            "--dest-creds",
            creds(hangar),
            f"oci:{source}:multi",
            ref,
        ),
        hangar,
        "push as schema 2",
    )
    raw = checked(
        skopeo(work, "inspect", "--raw", "--tls-verify=false", "--creds", creds(hangar), ref),
        hangar,
        "inspect",
    ).encode()
    listed = json.loads(raw)
    assert listed["mediaType"] == DOCKER_LIST
    assert [(m["mediaType"], m["platform"]["architecture"]) for m in listed["manifests"]] == [
        (DOCKER_MANIFEST, arch) for arch in ARCHITECTURES
    ]
    served = owner(hangar).request(
        "GET", "demo/multiarch-v2s2", "manifests/1", headers={"Accept": DOCKER_LIST}
    )
    assert served.status == 200, served.shown()
    assert served.headers["Content-Type"] == DOCKER_LIST
    assert served.headers["Docker-Content-Digest"] == sha256(raw)

    # a dir: copy keeps the list and every image manifest exactly as the registry has them
    back = work / "back"
    checked(
        skopeo(
            work,
            "copy",
            "--all",
            "--preserve-digests",
            "--src-tls-verify=false",
            "--src-creds",
            creds(hangar),
            ref,
            f"dir:{back}",
        ),
        hangar,
        "pull of the schema 2 list",
    )
    assert (back / "manifest.json").read_bytes() == raw
    for entry, arch in zip(listed["manifests"], ARCHITECTURES, strict=True):
        child = (back / f"{entry['digest'].removeprefix('sha256:')}.manifest.json").read_bytes()
        assert sha256(child) == entry["digest"]
        manifest = json.loads(child)
        assert manifest["mediaType"] == DOCKER_MANIFEST
        layer = manifest["layers"][0]
        assert layer["mediaType"] == "application/vnd.docker.image.rootfs.diff.tar.gzip"
        # the layer's bytes travelled unchanged: only its media type was renamed
        assert layer["digest"] == sha256(image.layers[arch])
        assert (back / layer["digest"].removeprefix("sha256:")).read_bytes() == image.layers[arch]


# -- (b) skopeo: a 1 GiB layer ------------------------------------------------------------------------------


@needs_skopeo
def test_skopeo_round_trips_an_image_with_a_1_gib_layer(hangar: Hangar, work: Path) -> None:
    source, back = work / "src", work / "back"
    try:
        started = time.monotonic()
        digest, layer = make_large_layout(source, "big", GIB)
        made = time.monotonic()
        ref = f"docker://{hangar.registry}/demo/large:1"
        checked(
            skopeo(
                work,
                "copy",
                "--preserve-digests",
                "--dest-tls-verify=false",
                "--dest-creds",
                creds(hangar),
                f"oci:{source}:big",
                ref,
                timeout=300,
            ),
            hangar,
            "push of 1 GiB",
        )
        pushed = time.monotonic()
        shutil.rmtree(source)  # at most two copies on disk: Hangar's and one layout
        head = owner(hangar).request("HEAD", "demo/large", f"blobs/{layer}")
        assert head.status == 200 and int(head.headers["Content-Length"]) > GIB, head.shown()
        checked(
            skopeo(
                work,
                "copy",
                "--preserve-digests",
                "--src-tls-verify=false",
                "--src-creds",
                creds(hangar),
                ref,
                f"oci:{back}:1",
                timeout=300,
            ),
            hangar,
            "pull of 1 GiB",
        )
        pulled = time.monotonic()
        assert layout_manifest_digest(back) == digest
        copy = back / "blobs" / "sha256" / layer.removeprefix("sha256:")
        assert file_digest(copy) == layer
        print(
            f"1 GiB layer: made in {made - started:.1f}s, pushed in {pushed - made:.1f}s, "
            f"pulled in {pulled - pushed:.1f}s"
        )
    finally:
        shutil.rmtree(source, ignore_errors=True)
        shutil.rmtree(back, ignore_errors=True)


# -- (c) podman ---------------------------------------------------------------------------------------------


class Podman:
    """podman with everything of its own under `root`: storage (vfs, no mounts or fuse needed), run root,
    containers.conf (cgroupfs, file events: no systemd), registries.conf, signature policy and auth file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("storage", "run", "tmp", "volumes", "static", "networks"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        (root / "storage.conf").write_text(
            f'[storage]\ndriver = "vfs"\ngraphroot = "{root / "storage"}"\nrunroot = "{root / "run"}"\n'
        )
        (root / "containers.conf").write_text(
            "[engine]\n"
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f'events_logfile_path = "{root / "events.log"}"\n'
            f'tmp_dir = "{root / "tmp"}"\n'
            f'volume_path = "{root / "volumes"}"\n'
            f'static_dir = "{root / "static"}"\n'
            "[network]\n"
            f'network_config_dir = "{root / "networks"}"\n'
        )
        (root / "registries.conf").write_text("unqualified-search-registries = []\n")
        (root / "policy.json").write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
        (root / "auth.json").write_text("{}")

    def env(self) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("CONTAINERS_", "REGISTRY_AUTH"))}
        return {
            **clean,
            "CONTAINERS_CONF": str(self.root / "containers.conf"),
            "CONTAINERS_STORAGE_CONF": str(self.root / "storage.conf"),
            "CONTAINERS_REGISTRIES_CONF": str(self.root / "registries.conf"),
            "REGISTRY_AUTH_FILE": str(self.root / "auth.json"),
            "TMPDIR": str(self.root / "tmp"),
        }

    def __call__(
        self, *args: str, stdin: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        storage = [
            "--root",
            str(self.root / "storage"),
            "--runroot",
            str(self.root / "run"),
            "--storage-driver",
            "vfs",
        ]
        return subprocess.run(
            ["podman", *storage, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env(),
        )


@pytest.mark.skipif(shutil.which("podman") is None, reason="podman is installed by `make system-deps`")
def test_podman_pushes_and_pulls_back_the_same_image(hangar: Hangar, work: Path) -> None:
    files = {"hello.txt": b"hello from podman\n", "bin/data": os.urandom(300_000)}
    source = work / "src"
    make_oci_layout(source, "1", [{"hello.txt": files["hello.txt"]}, {"bin/data": files["bin/data"]}])
    blobs = layout_blobs(source)
    source_manifest = json.loads(blobs[layout_manifest_digest(source).removeprefix("sha256:")])
    source_config = json.loads(blobs[source_manifest["config"]["digest"].removeprefix("sha256:")])
    # podman refuses a run root longer than 50 characters ("the specified runroot is longer than 50
    # characters"): pytest's tmp paths are longer, so podman's files go to a short directory of their own
    podman = Podman(Path(tempfile.mkdtemp(prefix="hangar-podman-", dir="/tmp")))
    policy = ["--signature-policy", str(podman.root / "policy.json")]
    try:
        image_id = checked(
            podman("pull", "-q", *policy, f"oci:{source}:1"), hangar, "podman pull oci:"
        ).strip()
        checked(
            podman(
                "login",
                "--tls-verify=false",
                "-u",
                "$oauthtoken",
                "--password-stdin",
                hangar.registry,
                stdin=hangar.key,
            ),
            hangar,
            "podman login",
        )
        digest_file = work / "pushed-digest"
        ref = f"{hangar.registry}/demo/podman:1"
        checked(
            podman(
                "push",
                "--tls-verify=false",
                *policy,
                "--digestfile",
                str(digest_file),
                image_id,
                f"docker://{ref}",
            ),
            hangar,
            "podman push",
        )
        pushed = digest_file.read_text().strip()
        served = owner(hangar).pull_manifest("demo/podman", "1")
        assert served.status == 200, served.shown()
        assert served.headers["Docker-Content-Digest"] == pushed == sha256(served.raw)
        assert served.json["config"]["digest"] == f"sha256:{image_id}"

        checked(podman("rmi", "--all", "--force"), hangar, "podman rmi")
        assert checked(podman("images", "-q"), hangar, "podman images").strip() == ""
        checked(podman("pull", "-q", "--tls-verify=false", *policy, ref), hangar, "podman pull")
        inspected = json.loads(checked(podman("image", "inspect", ref), hangar, "podman image inspect"))[0]
        assert inspected["Id"] == image_id
        assert inspected["Digest"] == pushed
        assert inspected["RootFS"]["Layers"] == source_config["rootfs"]["diff_ids"]
        mounted = Path(checked(podman("image", "mount", ref), hangar, "podman image mount").strip())
        try:
            for name, content in files.items():
                assert (mounted / name).read_bytes() == content
        finally:
            checked(podman("image", "unmount", ref), hangar, "podman image unmount")
    finally:
        podman("rmi", "--all", "--force")
        shutil.rmtree(podman.root, ignore_errors=True)


# -- (d) oras-py ---------------------------------------------------------------------------------------------

NOTE_TYPE: Final = "application/vnd.example.hangar.note.v1+json"
NOTE_LAYER: Final = "application/vnd.example.hangar.note.layer.v1"


def docker_config(work: Path, hangar: Hangar) -> Path:
    """A Docker config.json of the test's own with the key for Hangar: where oras-py reads credentials."""
    path = work / "docker-config.json"
    secret = base64.b64encode(f"$oauthtoken:{hangar.key}".encode()).decode()
    path.write_text(json.dumps({"auths": {hangar.registry: {"auth": secret}}}))
    path.chmod(0o600)
    return path


def test_oras_pushes_an_artifact_referring_to_an_image_and_pulls_it_back(hangar: Hangar, work: Path) -> None:
    repository = "demo/oras"
    registry = owner(hangar)
    image = push_image(registry, repository, "1")
    config = docker_config(work, hangar)
    payload = work / "note.bin"
    payload.write_bytes(b"reviewed by the release team\n" + os.urandom(200_000))
    (work / "config.json").write_bytes(b"{}")

    # oras-py's token backend keeps one bearer token for every later request whatever its scope (the first
    # request of a push is a HEAD, so a pull-only token) and asks again only after a 403: pushing needs its
    # basic backend, which sends the key on every request (decision 0019)
    pusher = oras.provider.Registry(hostname=hangar.registry, insecure=True, auth_backend="basic")
    subject = oras.oci.Subject(mediaType=OCI_MANIFEST, digest=image.digest, size=len(image.manifest))
    pushed = pusher.push(
        target=f"{hangar.registry}/{repository}:note",
        files=[f"{payload}:{NOTE_LAYER}"],
        manifest_config=f"{work / 'config.json'}:{NOTE_TYPE}",  # oras-py sets no artifactType: the config's
        subject=subject,  # media type stands for it (distribution-spec v1.1)
        config_path=str(config),
        disable_path_validation=True,
        do_chunked=True,  # POST, PATCH with Content-Range per 64 KiB, PUT ?digest=
        chunk_size=64 * 1024,
        quiet=True,
    )
    assert pushed.status_code == 201, pushed.text
    assert pushed.headers["OCI-Subject"] == image.digest
    artifact = pushed.headers["Docker-Content-Digest"]

    listed = registry.request("GET", repository, f"referrers/{image.digest}")
    assert listed.status == 200, listed.shown()
    assert [(d["digest"], d["artifactType"]) for d in listed.json["manifests"]] == [(artifact, NOTE_TYPE)]
    # a media type's "+" must be sent encoded: in a query string a bare "+" is a space
    by_type = f"referrers/{image.digest}?artifactType={quote(NOTE_TYPE, safe='')}"
    filtered = registry.request("GET", repository, by_type)
    assert filtered.status == 200 and filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert [d["digest"] for d in filtered.json["manifests"]] == [artifact]
    other = registry.request("GET", repository, f"referrers/{image.digest}?artifactType=application/x-other")
    assert other.status == 200 and other.json["manifests"] == []

    # pulling works with oras-py's default token backend: every request of a pull needs the pull scope only.
    # (It reads the credentials files once, on its first request: so `pull` with config_path comes first.)
    puller = oras.provider.Registry(hostname=hangar.registry, insecure=True)
    target = f"{hangar.registry}/{repository}@{artifact}"
    files = puller.pull(target=target, outdir=str(work / "pulled"), config_path=str(config))
    assert [Path(f).name for f in files] == [payload.name]
    assert Path(files[0]).read_bytes() == payload.read_bytes()
    manifest = puller.get_manifest(target)
    assert manifest["subject"] == {
        "mediaType": OCI_MANIFEST,
        "digest": image.digest,
        "size": len(image.manifest),
    }
    assert manifest["config"]["mediaType"] == NOTE_TYPE
    assert [(layer["mediaType"], layer["digest"]) for layer in manifest["layers"]] == [
        (NOTE_LAYER, sha256(payload.read_bytes()))
    ]
