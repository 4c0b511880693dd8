"""Credentials, scopes, signed access tokens and the (cached) decisions of who may do what.

- `credentials`: parse `Authorization` (Basic `$oauthtoken:<key>`, Bearer `hgr_...` key, Bearer token).
- `scopes`: `repository:<name>:<actions>` and the OCI action -> identity capability mapping.
- `signing`: Ed25519-signed JWT access tokens: issue, verify, key file.
- `principals`: key authentication and access decisions behind short, bounded caches.
"""

from hangar.gateway.auth.credentials import (
    API_KEY_PREFIX,
    OAUTH_USERNAME,
    ApiKeyCredential,
    Credential,
    TokenCredential,
    parse_authorization,
)
from hangar.gateway.auth.principals import Authenticator, Authorizer, Decision, TtlCache
from hangar.gateway.auth.scopes import (
    ACTIONS,
    CAPABILITY_BY_ACTION,
    DELETE,
    LIST,
    PULL,
    PUSH,
    REPOSITORY,
    Scope,
    actions_granted,
    capabilities_for,
    expand_actions,
    holds,
    is_valid_name,
    parse_scope,
    parse_scopes,
)
from hangar.gateway.auth.signing import (
    SERVICE,
    AccessToken,
    Denial,
    Grant,
    TokenClaims,
    TokenIssuer,
    TokenVerifier,
    load_or_create_signing_key,
)

__all__ = [
    "ACTIONS",
    "API_KEY_PREFIX",
    "CAPABILITY_BY_ACTION",
    "DELETE",
    "LIST",
    "OAUTH_USERNAME",
    "PULL",
    "PUSH",
    "REPOSITORY",
    "SERVICE",
    "AccessToken",
    "ApiKeyCredential",
    "Authenticator",
    "Authorizer",
    "Credential",
    "Decision",
    "Denial",
    "Grant",
    "Scope",
    "TokenClaims",
    "TokenCredential",
    "TokenIssuer",
    "TokenVerifier",
    "TtlCache",
    "actions_granted",
    "capabilities_for",
    "expand_actions",
    "holds",
    "is_valid_name",
    "load_or_create_signing_key",
    "parse_authorization",
    "parse_scope",
    "parse_scopes",
]
