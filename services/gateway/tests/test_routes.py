"""/v2/ paths: resource, repository name (with slashes) and reference; bad input is a 4xx, never a 500."""

from __future__ import annotations

import pytest

from hangar.gateway.oci.errors import OciError
from hangar.gateway.oci.routes import CATALOG, Target, check_digest, check_reference, parse_path

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/v2/", Target("base")),
        ("/v2", Target("base")),
        (f"/v2/demo/hello/blobs/{DIGEST}", Target("blob", "demo/hello", DIGEST)),
        ("/v2/demo/hello/blobs/uploads/", Target("uploads", "demo/hello")),
        ("/v2/demo/hello/blobs/uploads", Target("uploads", "demo/hello")),
        ("/v2/demo/hello/blobs/uploads/0123abcd", Target("upload", "demo/hello", "0123abcd")),
        ("/v2/demo/vision/resnet/manifests/v1.0", Target("manifest", "demo/vision/resnet", "v1.0")),
        (f"/v2/demo/hello/manifests/{DIGEST}", Target("manifest", "demo/hello", DIGEST)),
        ("/v2/demo/hello/tags/list", Target("tags", "demo/hello")),
        (f"/v2/demo/hello/referrers/{DIGEST}", Target("referrers", "demo/hello", DIGEST)),
        # names may hold the words the routes use
        ("/v2/demo/blobs/manifests/latest", Target("manifest", "demo/blobs", "latest")),
        ("/v2/demo/manifests/tags/list", Target("tags", "demo/manifests")),
        (f"/v2/demo/blobs/uploads/blobs/{DIGEST}", Target("blob", "demo/blobs/uploads", DIGEST)),
    ],
)
def test_paths_are_parsed_into_targets(path: str, target: Target) -> None:
    assert parse_path(path) == target


@pytest.mark.parametrize(
    "path",
    [
        "/v2/Demo/hello/manifests/latest",
        "/v2/demo//hello/manifests/latest",
        "/v2/../etc/manifests/latest",
        "/v2/demo/../../etc/tags/list",
        "/v2/demo/./hello/tags/list",
        "/v2/demo/hello%00/tags/list",
        "/v2/-demo/hello/tags/list",
        "/v2/" + "a" * 300 + "/tags/list",
    ],
)
def test_bad_names_are_400_name_invalid(path: str) -> None:
    with pytest.raises(OciError) as refused:
        parse_path(path)
    assert (refused.value.code, refused.value.status) == ("NAME_INVALID", 400)


def test_the_catalog_is_its_own_resource() -> None:
    assert parse_path("/v2/_catalog") == Target(CATALOG)


@pytest.mark.parametrize(
    "path", ["/v2/../x", "/v2/_catalog/x", "/v2/demo/hello", "/v2/demo/hello/nothing/here", "/v3/"]
)
def test_paths_that_are_no_endpoint_are_404(path: str) -> None:
    with pytest.raises(OciError) as refused:
        parse_path(path)
    assert refused.value.status == 404


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/v2/demo/hello/blobs/sha256:xyz", "DIGEST_INVALID"),
        ("/v2/demo/hello/blobs/md5:" + "a" * 32, "DIGEST_INVALID"),
        ("/v2/demo/hello/blobs/latest", "DIGEST_INVALID"),
        ("/v2/demo/hello/manifests/-latest", "TAG_INVALID"),
        ("/v2/demo/hello/manifests/" + "t" * 129, "TAG_INVALID"),
        ("/v2/demo/hello/manifests/sha256:" + "A" * 64, "DIGEST_INVALID"),
        ("/v2/demo/hello/blobs/uploads/not*an*id", "BLOB_UPLOAD_UNKNOWN"),
    ],
)
def test_bad_references_are_refused_with_their_code(path: str, code: str) -> None:
    with pytest.raises(OciError) as refused:
        parse_path(path)
    assert refused.value.code == code
    assert refused.value.status < 500


def test_digests_of_both_supported_algorithms_are_accepted() -> None:
    assert check_digest(DIGEST) == DIGEST
    assert check_digest("sha512:" + "b" * 128)


def test_a_tag_reference_is_a_tag() -> None:
    assert check_reference("latest") == "latest"
    assert check_reference("_v1.0-rc.1") == "_v1.0-rc.1"
