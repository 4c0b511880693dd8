"""The REST API at `/api/v1` (DESIGN §3): orgs, teams, users, invitations, sessions, API keys, audit log.

- `api`: the FastAPI application, body limits, route templates; `base`: what the resources share.
- `access`: callers (keys, sessions) and identity's decisions, cached; `errors`: the one error table.
- one module per resource: `sessions`, `orgs`, `members`, `keys`, `org_keys`, `audit`;
  `schemas` (pydantic models) and `paging`.
"""

from hangar.gateway.rest.access import Caller, Gatekeeper
from hangar.gateway.rest.api import MAX_BODY_BYTES, PREFIX, ROUTES, create_rest_app, route_of
from hangar.gateway.rest.redaction import RedactTokens, redact_path

__all__ = [
    "MAX_BODY_BYTES",
    "PREFIX",
    "ROUTES",
    "Caller",
    "Gatekeeper",
    "RedactTokens",
    "create_rest_app",
    "redact_path",
    "route_of",
]
