"""`/orgs/{org}[/teams/{team}]/{models|resources|charts|containers}[/{name}[/versions[/{v}[/files/{path}]]]]`
and `/orgs/{org}/repositories`: repositories, versions and their files over REST (DESIGN §3).

A file upload goes to a blobstore upload session recorded on the version's file (BeginFile), so any gateway
replica takes the next piece: the session's size is the offset the next piece must start at, and the sha256
is checked by the blobstore when the last byte arrives (decision 0023). Bytes stream through; no file is
held whole, on the way in or out.

The package: `paths` (the URL space), `ranges` (what request headers say), the handlers by resource
(`listing`, `repositories`, `versions`, `files`, `archive`, over `base`) gathered in `handlers.Artifacts`,
and `routes` (the FastAPI router).
"""

from hangar.gateway.rest.artifacts.archive import TAR_BLOCK
from hangar.gateway.rest.artifacts.files import check_path
from hangar.gateway.rest.artifacts.handlers import Artifacts
from hangar.gateway.rest.artifacts.listing import NAMESPACES_PER_SEARCH
from hangar.gateway.rest.artifacts.paths import (
    COLLECTIONS,
    CREATABLE,
    MAX_PATH_CHARS,
    ROUTES,
    STREAMED_BODY,
    VERSIONED,
)
from hangar.gateway.rest.artifacts.ranges import Piece, expected_digest, parse_piece
from hangar.gateway.rest.artifacts.routes import router

__all__ = [
    "COLLECTIONS",
    "CREATABLE",
    "MAX_PATH_CHARS",
    "NAMESPACES_PER_SEARCH",
    "ROUTES",
    "STREAMED_BODY",
    "TAR_BLOCK",
    "VERSIONED",
    "Artifacts",
    "Piece",
    "check_path",
    "expected_digest",
    "parse_piece",
    "router",
]
