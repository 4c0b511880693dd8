"""The one table from domain errors to OCI error responses, and the 401 challenge."""

from __future__ import annotations

import json

import pytest

from hangar.gateway.oci.errors import (
    STATUS_BY_CODE,
    OciError,
    challenge,
    error_response,
    from_domain,
    status_for,
)
from hangar.kit.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    OutOfRange,
    PermissionDenied,
    Unauthenticated,
)

EXPECTED = {
    "BLOB_UNKNOWN": 404,
    "BLOB_UPLOAD_INVALID": 400,
    "BLOB_UPLOAD_UNKNOWN": 404,
    "DIGEST_INVALID": 400,
    "MANIFEST_BLOB_UNKNOWN": 400,
    "MANIFEST_INVALID": 400,
    "MANIFEST_UNKNOWN": 404,
    "NAME_INVALID": 400,
    "NAME_UNKNOWN": 404,
    "SIZE_INVALID": 400,
    "UNAUTHORIZED": 401,
    "DENIED": 403,
    "UNSUPPORTED": 405,
    "TOOMANYREQUESTS": 429,
    "RANGE_INVALID": 416,
    "TAG_INVALID": 400,
    "PAGINATION_NUMBER_INVALID": 400,
    "UNAVAILABLE": 503,
    "UNKNOWN": 500,
}


def test_the_table_covers_every_code_with_its_status() -> None:
    assert dict(STATUS_BY_CODE) == EXPECTED


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (InvalidArgument("bad digest", code="DIGEST_INVALID"), "DIGEST_INVALID", 400),
        (InvalidArgument("bad manifest", code="MANIFEST_INVALID"), "MANIFEST_INVALID", 400),
        (InvalidArgument("missing blob", code="MANIFEST_BLOB_UNKNOWN"), "MANIFEST_BLOB_UNKNOWN", 400),
        (InvalidArgument("bad name", code="NAME_INVALID"), "NAME_INVALID", 400),
        (InvalidArgument("bad tag", code="TAG_INVALID"), "TAG_INVALID", 400),
        (InvalidArgument("too big", code="SIZE_INVALID"), "SIZE_INVALID", 400),
        (InvalidArgument("bad id", code="BLOB_UPLOAD_INVALID"), "BLOB_UPLOAD_INVALID", 400),
        (NotFound("no manifest", code="MANIFEST_UNKNOWN"), "MANIFEST_UNKNOWN", 404),
        (NotFound("no repo", code="NAME_UNKNOWN"), "NAME_UNKNOWN", 404),
        (NotFound("no blob", code="BLOB_UNKNOWN"), "BLOB_UNKNOWN", 404),
        (NotFound("no upload", code="BLOB_UPLOAD_UNKNOWN"), "BLOB_UPLOAD_UNKNOWN", 404),
        (OutOfRange("wrong offset", code="RANGE_INVALID"), "RANGE_INVALID", 416),
        (OutOfRange("wrong offset"), "RANGE_INVALID", 416),
        (Unauthenticated("key revoked", code="KEY_REVOKED"), "UNAUTHORIZED", 401),
        (PermissionDenied("no role"), "DENIED", 403),
        (NotFound("no such org", code="ORG_NOT_FOUND"), "ORG_NOT_FOUND", 404),
        (AlreadyExists("exists"), "ALREADY_EXISTS", 409),
        (FailedPrecondition("not now"), "FAILED_PRECONDITION", 409),
        (LimitExceeded("too many"), "LIMIT_EXCEEDED", 429),
        (DomainError("service unavailable: connection refused", code="UNAVAILABLE"), "UNAVAILABLE", 503),
        (DomainError("boom: table x is missing"), "UNKNOWN", 500),
    ],
)
def test_domain_errors_become_oci_errors(error: DomainError, code: str, status: int) -> None:
    mapped = from_domain(error)
    assert (mapped.code, mapped.status) == (code, status)


def test_internal_messages_never_reach_the_client() -> None:
    mapped = from_domain(DomainError("boom: table x is missing"))
    assert mapped.message == "internal error"


def test_a_manifest_too_large_is_413_on_the_manifest_route_only() -> None:
    too_large = InvalidArgument("manifest is 5 MiB", code="SIZE_INVALID")
    assert from_domain(too_large, "manifest").status == 413
    assert from_domain(too_large, "upload").status == 400
    assert status_for("SIZE_INVALID", "invalid_argument", "manifest") == 413


def test_a_manifest_too_large_is_answered_manifest_invalid() -> None:
    too_large = InvalidArgument("manifest is 5 MiB", code="SIZE_INVALID")
    assert from_domain(too_large, "manifest").code == "MANIFEST_INVALID"
    assert from_domain(too_large, "upload").code == "SIZE_INVALID"  # a length that does not match


#: The distribution-spec's closed list of error codes, and the legacy TAG_INVALID it lets clients meet.
SPEC_CODES = {
    "BLOB_UNKNOWN",
    "BLOB_UPLOAD_INVALID",
    "BLOB_UPLOAD_UNKNOWN",
    "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID",
    "MANIFEST_UNKNOWN",
    "NAME_INVALID",
    "NAME_UNKNOWN",
    "SIZE_INVALID",
    "UNAUTHORIZED",
    "DENIED",
    "UNSUPPORTED",
    "TOOMANYREQUESTS",
    "TAG_INVALID",
}


@pytest.mark.parametrize("code", sorted(STATUS_BY_CODE))
def test_every_4xx_answer_carries_a_spec_code(code: str) -> None:
    response = error_response(OciError(code, "message"))
    body = json.loads(response.body)
    if response.status_code < 500:
        assert body["errors"][0]["code"] in SPEC_CODES
    assert response.status_code == STATUS_BY_CODE[code]  # the status is kept whatever the code answered


def test_a_docker_code_is_answered_with_the_spec_code_and_kept_as_the_reason() -> None:
    unsatisfiable = OciError("RANGE_INVALID", "not satisfiable", headers={"Content-Range": "bytes */3"})
    response = error_response(unsatisfiable)
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */3"
    assert json.loads(response.body) == {
        "errors": [
            {"code": "SIZE_INVALID", "message": "not satisfiable", "detail": {"reason": "RANGE_INVALID"}}
        ]
    }
    paged = error_response(OciError("PAGINATION_NUMBER_INVALID", "n", detail={"n": "x"}))
    assert json.loads(paged.body)["errors"][0] == {
        "code": "UNSUPPORTED",
        "message": "n",
        "detail": {"reason": "PAGINATION_NUMBER_INVALID", "n": "x"},
    }
    wrapped = error_response(OciError("RANGE_INVALID", "r", detail="bytes=9-"))
    assert json.loads(wrapped.body)["errors"][0]["detail"] == {
        "reason": "RANGE_INVALID",
        "detail": "bytes=9-",
    }


def test_an_unauthenticated_error_says_why_in_its_detail() -> None:
    mapped = from_domain(Unauthenticated("API key hgr_x expired", code="KEY_EXPIRED"))
    assert mapped.detail == {"reason": "KEY_EXPIRED"} and "expired" in mapped.message


def test_an_error_response_has_the_spec_body_and_the_api_version_header() -> None:
    response = error_response(OciError("BLOB_UNKNOWN", "blob unknown to registry", detail={"digest": "x"}))
    assert response.status_code == 404
    assert response.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert json.loads(response.body) == {
        "errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown to registry", "detail": {"digest": "x"}}]
    }


def test_the_challenge_has_the_token_spec_format() -> None:
    assert (
        challenge("https://r.example/token", "hangar", "repository:demo/hello:pull,push")
        == 'Bearer realm="https://r.example/token",service="hangar",scope="repository:demo/hello:pull,push"'
    )
    assert (
        challenge("https://r.example/token", "hangar")
        == 'Bearer realm="https://r.example/token",service="hangar"'
    )
    assert challenge("http://h/token", "hangar", "", "invalid_token").endswith(',error="invalid_token"')
