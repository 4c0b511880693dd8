"""Access tokens: JWTs signed EdDSA (Ed25519) by the token service, verified locally on every request.

Claims (Docker registry token spec, plus Hangar's): `iss`/`aud` "hangar", `sub` the user id, `exp`, `nbf`,
`iat`, `jti`, `key_id` (the API key the token was exchanged for), `access` (granted actions only, per
repository, plus `{"type": "registry", "name": "catalog", "actions": ["*"]}` when the catalog was asked
for: the catalog then lists what the token's key may see), `denied` (actions asked for and refused, with
identity's reason, so the registry can say *why* instead of challenging again) and `iat_ms` (when the
facts the token holds were read, in unix milliseconds: revocation compares it with a key's or user's
not-before, and whole seconds would refuse tokens issued in the same second after a change). The JWT
header's `kid` is the RFC 7638 thumbprint of the signing key.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hangar.gateway.auth.scopes import REPOSITORY, expand_actions, holds
from hangar.kit.errors import Unauthenticated

#: The service clients ask tokens for (`service=` in challenges and /token); the tokens' audience.
SERVICE: Final = "hangar"
TOKEN_ISSUER: Final = "hangar"  # noqa: S105 - the issuer's name, not a secret
TOKEN_AUDIENCE: Final = SERVICE
ALGORITHM: Final = "EdDSA"
#: The catalog grant's resource (Docker registry token spec: `registry:catalog:*`).
REGISTRY_RESOURCE: Final = "registry"
CATALOG_NAME: Final = "catalog"
#: Clock skew tolerated between gateway replicas, in seconds.
LEEWAY_SECONDS: Final = 10
#: Verified tokens remembered (by SHA-256) so each is checked once, not on every request.
VERIFIED_CACHE_MAX_ENTRIES: Final = 10_000


@dataclasses.dataclass(frozen=True)
class Grant:
    """Actions granted on one repository."""

    name: str
    actions: frozenset[str]


@dataclasses.dataclass(frozen=True)
class Denial:
    """Actions asked for on one repository and refused, and identity's reason."""

    name: str
    actions: frozenset[str]
    reason: str


@dataclasses.dataclass(frozen=True)
class AccessToken:
    token: str = dataclasses.field(repr=False)
    #: Unix seconds.
    issued_at: int
    expires_in: int


@dataclasses.dataclass(frozen=True)
class TokenClaims:
    subject: str
    key_id: str
    token_id: str
    issued_at: int
    expires_at: int
    grants: Mapping[str, frozenset[str]]
    denials: Mapping[str, tuple[frozenset[str], str]]
    #: Unix milliseconds at which the token's facts were read (its key authenticated, access decided).
    issued_at_ms: int = 0
    #: Granted `registry:catalog:*`: the catalog lists every repository the token's key may see.
    catalog: bool = False

    def allows(self, name: str, action: str) -> bool:
        return holds(self.grants.get(name, frozenset()), action)

    def denial(self, name: str, action: str) -> str | None:
        """Identity's reason when `action` on `name` was asked for and refused; None if never asked."""
        actions, reason = self.denials.get(name, (frozenset(), ""))
        return reason if action in actions else None


def key_thumbprint(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint of an Ed25519 key: a stable `kid` for rotation."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


class TokenIssuer:
    """Signs short-lived access tokens with the gateway's private key."""

    def __init__(
        self,
        private_key: Ed25519PrivateKey,
        ttl_seconds: int = 300,
        *,
        issuer: str = TOKEN_ISSUER,
        audience: str = TOKEN_AUDIENCE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = private_key
        self.ttl_seconds = ttl_seconds
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        self.kid = key_thumbprint(private_key.public_key())

    def now(self) -> float:
        """The issuer's wall clock (unix seconds): what `as_of` is measured on."""
        return self._clock()

    def issue(
        self,
        subject: str,
        key_id: str,
        grants: Iterable[Grant],
        denials: Iterable[Denial] = (),
        *,
        not_after: int = 0,
        as_of: float | None = None,
        catalog: bool = False,
    ) -> AccessToken:
        """A token for `subject` holding `grants`; it never outlives `not_after` (the key's expiry) if set.

        `as_of` (unix seconds, default now) is when the grants were read: the token counts as issued then,
        so a revocation that arrives while they are being decided still refuses it. `catalog` grants
        `registry:catalog:*`.
        """
        wall = self._clock()
        now = int(wall)
        read_at = wall if as_of is None else min(as_of, wall)
        expires_at = now + self.ttl_seconds
        if not_after:
            expires_at = max(now, min(expires_at, not_after))
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "iat": now,
            "iat_ms": int(read_at * 1000),
            "nbf": now,
            "exp": expires_at,
            "jti": uuid.uuid4().hex,
            "key_id": key_id,
            "access": [
                {"type": REPOSITORY, "name": g.name, "actions": sorted(g.actions)}
                for g in grants
                if g.actions
            ],
        }
        if catalog:
            claims["access"].append({"type": REGISTRY_RESOURCE, "name": CATALOG_NAME, "actions": ["*"]})
        refused = [
            {"type": REPOSITORY, "name": d.name, "actions": sorted(d.actions), "reason": d.reason}
            for d in denials
            if d.actions
        ]
        if refused:
            claims["denied"] = refused
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})
        return AccessToken(token=token, issued_at=now, expires_in=expires_at - now)


class TokenVerifier:
    """Checks a token's signature, issuer, audience and lifetime locally: no round trip to any service.

    A token is verified once: its claims are kept (keyed by the token's SHA-256, at most `max_entries`,
    least recently used out first) until it expires, so a client reusing its token (every request of a
    push or pull does) costs a hash and a lookup, not a signature check. Only successes are kept, and
    nothing about revocation is: callers check not-befores on every use (`Authenticator.token`).
    """

    def __init__(
        self,
        public_key: Ed25519PublicKey,
        *,
        issuer: str = TOKEN_ISSUER,
        audience: str = TOKEN_AUDIENCE,
        leeway: float = LEEWAY_SECONDS,
        max_entries: int = VERIFIED_CACHE_MAX_ENTRIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = public_key
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        self._max_entries = max_entries
        self._clock = clock
        self._verified: OrderedDict[bytes, TokenClaims] = OrderedDict()

    def verify(self, token: str) -> TokenClaims:
        """The token's claims; Unauthenticated (TOKEN_EXPIRED or TOKEN_INVALID) when it must not be used."""
        fingerprint = hashlib.sha256(token.encode()).digest()
        claims = self._verified.get(fingerprint)
        if claims is not None:
            # past its own expiry (leeway aside) a token is checked afresh, and refused once past the leeway
            if self._clock() < claims.expires_at:
                self._verified.move_to_end(fingerprint)
                return claims
            del self._verified[fingerprint]
        claims = self._verify(token)
        if self._max_entries > 0 and self._clock() < claims.expires_at:
            self._verified[fingerprint] = claims
            while len(self._verified) > self._max_entries:
                self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "nbf", "sub", "aud", "iss", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated(
                "the access token has expired; ask /token for a new one", code="TOKEN_EXPIRED"
            ) from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"the access token is not valid: {exc}", code="TOKEN_INVALID") from None
        try:
            return TokenClaims(
                subject=str(claims["sub"]),
                key_id=str(claims.get("key_id", "")),
                token_id=str(claims["jti"]),
                issued_at=int(claims["iat"]),
                expires_at=int(claims["exp"]),
                grants=_grants(claims.get("access", [])),
                denials=_denials(claims.get("denied", [])),
                issued_at_ms=_issued_at_ms(claims),
                catalog=_catalog_granted(claims.get("access", [])),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise Unauthenticated("the access token's claims are malformed", code="TOKEN_INVALID") from None


def _issued_at_ms(claims: Mapping[str, Any]) -> int:
    """`iat_ms`, never later than `iat`'s second; a token without it counts from the start of `iat`."""
    iat_ms = int(claims["iat"]) * 1000
    precise = claims.get("iat_ms")
    if isinstance(precise, int) and not isinstance(precise, bool):
        return min(precise, iat_ms + 999)
    return iat_ms


def _grants(entries: Any) -> dict[str, frozenset[str]]:
    grants: dict[str, frozenset[str]] = {}
    for entry in entries:
        if entry["type"] == REPOSITORY:
            name = str(entry["name"])
            grants[name] = grants.get(name, frozenset()) | expand_actions(map(str, entry["actions"]))
    return grants


def _catalog_granted(entries: Any) -> bool:
    return any(
        entry["type"] == REGISTRY_RESOURCE and entry["name"] == CATALOG_NAME and "*" in entry["actions"]
        for entry in entries
    )


def _denials(entries: Any) -> dict[str, tuple[frozenset[str], str]]:
    denials: dict[str, tuple[frozenset[str], str]] = {}
    for entry in entries:
        if entry["type"] == REPOSITORY:
            denials[str(entry["name"])] = (expand_actions(map(str, entry["actions"])), str(entry["reason"]))
    return denials


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in PEM file `path`; made (mode 0600) when the file does not exist.

    Creation is atomic and race-free: several replicas starting together all end up with the one key
    that was linked into place first.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
            with contextlib.suppress(FileExistsError):  # another replica won the race: use its key
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key
