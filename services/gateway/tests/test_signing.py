"""Access tokens: what they claim, and which ones the registry refuses."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hangar.gateway.auth import Denial, Grant, TokenIssuer, TokenVerifier, load_or_create_signing_key
from hangar.gateway.auth.signing import key_thumbprint
from hangar.kit.errors import Unauthenticated


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_a_token_carries_the_docker_claims_and_only_granted_actions(key: Ed25519PrivateKey) -> None:
    issued = TokenIssuer(key, 300).issue(
        "user-1",
        "key-1",
        [Grant("demo/hello", frozenset({"pull", "push"})), Grant("demo/empty", frozenset())],
        [Denial("demo/secret", frozenset({"pull"}), "no role in team secret")],
    )
    header = jwt.get_unverified_header(issued.token)
    claims = jwt.decode(issued.token, key.public_key(), algorithms=["EdDSA"], audience="hangar")
    assert header["alg"] == "EdDSA"
    assert header["kid"] == key_thumbprint(key.public_key())
    assert claims["iss"] == claims["aud"] == "hangar"
    assert claims["sub"] == "user-1"
    assert claims["key_id"] == "key-1"
    assert claims["exp"] - claims["iat"] == 300 == issued.expires_in
    assert claims["nbf"] == claims["iat"]
    assert claims["jti"]
    assert claims["access"] == [{"type": "repository", "name": "demo/hello", "actions": ["pull", "push"]}]
    assert claims["denied"][0]["reason"] == "no role in team secret"


def test_a_verified_token_says_what_it_allows_and_why_it_refuses(key: Ed25519PrivateKey) -> None:
    issued = TokenIssuer(key).issue(
        "user-1",
        "key-1",
        [Grant("demo/hello", frozenset({"pull"}))],
        [Denial("demo/hello", frozenset({"push"}), "read-only role")],
    )
    claims = TokenVerifier(key.public_key()).verify(issued.token)
    assert claims.subject == "user-1" and claims.key_id == "key-1"
    assert claims.allows("demo/hello", "pull")
    assert not claims.allows("demo/hello", "push")
    assert claims.denial("demo/hello", "push") == "read-only role"
    assert claims.denial("demo/other", "pull") is None


def test_a_token_never_outlives_its_api_key(key: Ed25519PrivateKey) -> None:
    now = int(time.time())
    issued = TokenIssuer(key, 300).issue("u", "k", [], not_after=now + 90)
    assert issued.expires_in <= 90


def test_an_expired_token_is_refused(key: Ed25519PrivateKey) -> None:
    stale = TokenIssuer(key, 300, clock=lambda: time.time() - 3600).issue("u", "k", [])
    with pytest.raises(Unauthenticated) as refused:
        TokenVerifier(key.public_key()).verify(stale.token)
    assert refused.value.code == "TOKEN_EXPIRED"


def test_a_token_signed_by_another_key_is_refused(key: Ed25519PrivateKey) -> None:
    forged = TokenIssuer(Ed25519PrivateKey.generate()).issue(
        "u", "k", [Grant("demo/hello", frozenset({"push"}))]
    )
    with pytest.raises(Unauthenticated) as refused:
        TokenVerifier(key.public_key()).verify(forged.token)
    assert refused.value.code == "TOKEN_INVALID"


def test_a_token_for_another_audience_is_refused(key: Ed25519PrivateKey) -> None:
    elsewhere = TokenIssuer(key, audience="another-registry").issue("u", "k", [])
    with pytest.raises(Unauthenticated, match=r"(?i)audience"):
        TokenVerifier(key.public_key()).verify(elsewhere.token)


def test_a_token_from_another_issuer_is_refused(key: Ed25519PrivateKey) -> None:
    elsewhere = TokenIssuer(key, issuer="someone-else").issue("u", "k", [])
    with pytest.raises(Unauthenticated):
        TokenVerifier(key.public_key()).verify(elsewhere.token)


def test_an_unsigned_or_garbled_token_is_refused(key: Ed25519PrivateKey) -> None:
    unsigned = jwt.encode(
        {
            "iss": "hangar",
            "aud": "hangar",
            "sub": "u",
            "exp": time.time() + 60,
            "iat": 0,
            "nbf": 0,
            "jti": "x",
        },
        key=None,
        algorithm="none",
    )
    for token in (unsigned, "not-a-jwt", "a.b.c"):
        with pytest.raises(Unauthenticated):
            TokenVerifier(key.public_key()).verify(token)


def test_a_token_with_malformed_access_claims_is_refused(key: Ed25519PrivateKey) -> None:
    now = int(time.time())
    claims = {
        "iss": "hangar",
        "aud": "hangar",
        "sub": "u",
        "exp": now + 60,
        "iat": now,
        "nbf": now,
        "jti": "x",
    }
    token = jwt.encode({**claims, "access": [{"name": "demo/x"}]}, key, algorithm="EdDSA")
    with pytest.raises(Unauthenticated, match="malformed"):
        TokenVerifier(key.public_key()).verify(token)


def test_the_signing_key_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "token.pem"
    first = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = load_or_create_signing_key(path)
    assert key_thumbprint(first.public_key()) == key_thumbprint(second.public_key())
    assert [p.name for p in path.parent.iterdir()] == ["token.pem"]


def test_a_key_file_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ValueError):
        load_or_create_signing_key(path)
