"""Referrers and the catalog end to end: an image and an artifact whose subject is that image, pushed over
the OCI API to a real `hangar up`, then listed (filtered or not); the owner's catalog shows the repository."""

from __future__ import annotations

import json
from typing import Final

from hangar_client import Client, Registry, push_image, sha256
from hangar_harness import Hangar

REPOSITORY: Final = "demo/referrers"
OCI_MANIFEST: Final = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX: Final = "application/vnd.oci.image.index.v1+json"
EMPTY_TYPE: Final = "application/vnd.oci.empty.v1+json"
SIGNATURE: Final = "application/vnd.example.signature.v1"
SBOM: Final = "application/vnd.example.sbom.v1"
EMPTY: Final = b"{}"


def artifact(subject: bytes, artifact_type: str, note: str) -> bytes:
    empty = {"mediaType": EMPTY_TYPE, "digest": sha256(EMPTY), "size": len(EMPTY)}
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": empty,
            "layers": [empty],
            "subject": {"mediaType": OCI_MANIFEST, "digest": sha256(subject), "size": len(subject)},
            "annotations": {"org.example.note": note},
        }
    ).encode()


def test_referrers_of_an_image_are_listed_and_filtered(hangar: Hangar) -> None:
    owner = Registry(Client(hangar.url), hangar.key)
    image = push_image(owner, REPOSITORY, "1")
    assert owner.push_blob(REPOSITORY, EMPTY).status == 201
    signature = artifact(image.manifest, SIGNATURE, "signed")
    sbom = artifact(image.manifest, SBOM, "inventory")
    for body in (signature, sbom):
        pushed = owner.push_manifest(REPOSITORY, sha256(body), body)
        assert pushed.status == 201, pushed.shown()
        assert pushed.headers["OCI-Subject"] == image.digest

    listed = owner.request("GET", REPOSITORY, f"referrers/{image.digest}")
    assert listed.status == 200, listed.shown()
    assert listed.headers["Content-Type"] == OCI_INDEX
    assert "OCI-Filters-Applied" not in listed.headers
    expected = sorted(
        (
            {
                "mediaType": OCI_MANIFEST,
                "digest": sha256(body),
                "size": len(body),
                "artifactType": kind,
                "annotations": {"org.example.note": note},
            }
            for body, kind, note in ((signature, SIGNATURE, "signed"), (sbom, SBOM, "inventory"))
        ),
        key=lambda descriptor: str(descriptor["digest"]),
    )
    assert listed.json == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": expected}

    filtered = owner.request("GET", REPOSITORY, f"referrers/{image.digest}?artifactType={SBOM}")
    assert filtered.status == 200, filtered.shown()
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert [d["digest"] for d in filtered.json["manifests"]] == [sha256(sbom)]

    none = owner.request("GET", REPOSITORY, f"referrers/{sha256(signature)}")
    assert none.status == 200 and none.json["manifests"] == []
    malformed = owner.request("GET", REPOSITORY, "referrers/sha256:nothex")
    assert malformed.status == 400 and malformed.oci_error["code"] == "DIGEST_INVALID"


def test_the_owner_sees_the_repository_in_the_catalog(hangar: Hangar) -> None:
    client = Client(hangar.url)
    owner = Registry(client, hangar.key)
    push_image(owner, "demo/catalog-a", "1")
    push_image(owner, "demo/catalog-b", "1")

    challenged = client.v2("GET", "_catalog", token="")
    assert challenged.status == 401
    assert 'scope="registry:catalog:*"' in challenged.headers["WWW-Authenticate"]

    # an API key is decided per repository: the owner sees every repository
    listed = client.v2("GET", "_catalog", token=hangar.key)
    assert listed.status == 200, listed.shown()
    names = listed.json["repositories"]
    assert names == sorted(names) and {"demo/catalog-a", "demo/catalog-b"} <= set(names)

    first = client.v2("GET", "_catalog?n=1", token=hangar.key)
    assert first.status == 200 and len(first.json["repositories"]) == 1
    assert first.headers["Link"].endswith('; rel="next"')

    # an access token granting the catalog shows what its key may see; one without, what it grants
    token = client.access_token(hangar.key, "registry:catalog:*", "repository:demo/catalog-b:pull")
    catalog = client.v2("GET", "_catalog", token=token)
    assert catalog.status == 200 and catalog.json == listed.json
    token = client.access_token(hangar.key, "repository:demo/catalog-b:pull")
    granted = client.v2("GET", "_catalog", token=token)
    assert granted.status == 200 and granted.json == {"repositories": ["demo/catalog-b"]}
