"""Authorization headers: which credentials the gateway accepts, and why it refuses the others."""

from __future__ import annotations

import base64

import pytest

from hangar.gateway.auth import ApiKeyCredential, TokenCredential, parse_authorization
from hangar.kit.errors import Unauthenticated


def basic(value: str) -> str:
    return "Basic " + base64.b64encode(value.encode()).decode()


def test_no_header_is_no_credential() -> None:
    assert parse_authorization(None) is None
    assert parse_authorization("  ") is None


def test_basic_with_oauthtoken_username_carries_the_api_key() -> None:
    assert parse_authorization(basic("$oauthtoken:hgr_abcdefgh_secret")) == ApiKeyCredential(
        "hgr_abcdefgh_secret"
    )


def test_the_password_may_contain_colons() -> None:
    assert parse_authorization(basic("$oauthtoken:a:b")) == ApiKeyCredential("a:b")


def test_basic_with_any_other_username_is_refused_with_the_reason() -> None:
    with pytest.raises(Unauthenticated, match=r"\$oauthtoken") as refused:
        parse_authorization(basic("alice:hgr_abcdefgh_secret"))
    assert refused.value.code == "USERNAME_INVALID"


@pytest.mark.parametrize("value", ["Basic !!!notbase64", basic("no-colon"), basic("$oauthtoken:")])
def test_malformed_basic_credentials_are_refused(value: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        parse_authorization(value)
    assert refused.value.code == "CREDENTIAL_MALFORMED"


def test_bearer_starting_with_the_key_prefix_is_an_api_key() -> None:
    assert parse_authorization("Bearer hgr_abcdefgh_secret") == ApiKeyCredential("hgr_abcdefgh_secret")


def test_any_other_bearer_is_an_access_token() -> None:
    assert parse_authorization("bearer eyJhbGciOi.x.y") == TokenCredential("eyJhbGciOi.x.y")


@pytest.mark.parametrize("value", ["Bearer", "Bearer   ", "Digest abc", "Negotiate xyz", "x" * 9000])
def test_empty_bearer_other_schemes_and_huge_headers_are_refused(value: str) -> None:
    with pytest.raises(Unauthenticated):
        parse_authorization(value)


def test_credentials_never_show_their_secret_in_a_repr() -> None:
    assert "s3cr3t" not in repr(ApiKeyCredential("hgr_abcdefgh_s3cr3t"))
    assert "s3cr3t" not in repr(TokenCredential("header.s3cr3t.signature"))
