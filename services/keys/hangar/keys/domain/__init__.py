"""Keys domain: secrets, key types and services, scopes, limits and expiry, events and the ApiKey aggregate.

Pure rules, no I/O, no clock reads (time is passed in). Error codes raised here (each with its kit error):
KEY_MALFORMED, KEY_INVALID, KEY_REVOKED, KEY_EXPIRED, KEY_INACTIVE (Unauthenticated, when a secret is
presented); KEY_NOT_FOUND (NotFound); KEY_TYPE_MISMATCH, KEY_REVOKED, KEY_EXPIRED (FailedPrecondition, when
a key is changed); PERSONAL_KEY_LIMIT, SERVICE_KEY_LIMIT, LEGACY_KEY_LIMIT (LimitExceeded); KEY_NAME_INVALID,
KEY_SERVICE_UNKNOWN, KEY_SERVICES_EMPTY, KEY_EXPIRY_TOO_SHORT, KEY_EXPIRY_INVALID, REVOCATION_REASON_INVALID,
SCOPE_INVALID, PAGE_SIZE_INVALID, PAGE_TOKEN_INVALID (InvalidArgument).
"""

from hangar.keys.domain.events import (
    KeyActivated,
    KeyDeactivated,
    KeyDeleted,
    KeyExpired,
    KeyIssued,
    KeyRenamed,
    KeyRevoked,
    KeyRotated,
    KeyScopesUpdated,
    KeyServicesUpdated,
)
from hangar.keys.domain.key import (
    DELETED,
    LEGACY_KEY_NAME,
    LEGACY_KEY_SERVICES,
    REGENERATED,
    ApiKey,
    KeyView,
)
from hangar.keys.domain.limits import (
    LEGACY_KEYS_PER_USER,
    MIN_KEY_LIFETIME,
    MIN_PERSONAL_KEY_LIFETIME,
    PERSONAL_KEYS_PER_USER,
    SERVICE_KEYS_PER_ORG,
    check_legacy_key_limit,
    check_personal_key_limit,
    check_service_key_limit,
    key_expiry,
    lifetime_of,
    personal_key_expiry,
)
from hangar.keys.domain.listing import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PageCursor,
    listing_query,
    page_limit,
)
from hangar.keys.domain.scopes import (
    MAX_SCOPES_PER_KEY,
    EntityType,
    KeyScope,
    ScopeAction,
    validate_scope,
    validate_scopes,
)
from hangar.keys.domain.secrets import (
    ID_PART_LENGTH,
    KEY_SCHEME,
    PREFIX_LENGTH,
    RANDOM_BYTES,
    GeneratedSecret,
    KeySecret,
)
from hangar.keys.domain.vocabulary import (
    NAME_MAX_LENGTH,
    REASON_MAX_LENGTH,
    KeyService,
    KeyStatus,
    KeyType,
    validate_key_name,
    validate_services,
)

#: Every event of a key's stream, in the order the codec registers them.
KEY_EVENTS = (
    KeyIssued,
    KeyRevoked,
    KeyExpired,
    KeyRotated,
    KeyActivated,
    KeyDeactivated,
    KeyRenamed,
    KeyServicesUpdated,
    KeyScopesUpdated,
    KeyDeleted,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "DELETED",
    "ID_PART_LENGTH",
    "KEY_EVENTS",
    "KEY_SCHEME",
    "LEGACY_KEYS_PER_USER",
    "LEGACY_KEY_NAME",
    "LEGACY_KEY_SERVICES",
    "MAX_PAGE_SIZE",
    "MAX_SCOPES_PER_KEY",
    "MIN_KEY_LIFETIME",
    "MIN_PERSONAL_KEY_LIFETIME",
    "NAME_MAX_LENGTH",
    "PERSONAL_KEYS_PER_USER",
    "PREFIX_LENGTH",
    "RANDOM_BYTES",
    "REASON_MAX_LENGTH",
    "REGENERATED",
    "SERVICE_KEYS_PER_ORG",
    "ApiKey",
    "EntityType",
    "GeneratedSecret",
    "KeyActivated",
    "KeyDeactivated",
    "KeyDeleted",
    "KeyExpired",
    "KeyIssued",
    "KeyRenamed",
    "KeyRevoked",
    "KeyRotated",
    "KeyScope",
    "KeyScopesUpdated",
    "KeySecret",
    "KeyService",
    "KeyServicesUpdated",
    "KeyStatus",
    "KeyType",
    "KeyView",
    "PageCursor",
    "ScopeAction",
    "check_legacy_key_limit",
    "check_personal_key_limit",
    "check_service_key_limit",
    "key_expiry",
    "lifetime_of",
    "listing_query",
    "page_limit",
    "personal_key_expiry",
    "validate_key_name",
    "validate_scope",
    "validate_scopes",
    "validate_services",
]
