"""The URL space of the artifact routes: collections, the org and team scopes, the path and query
parameters, and every route as the OpenAPI document names it."""

from __future__ import annotations

import re
from typing import Annotated, Final

from fastapi import Path, Query

from hangar.gateway.rest.artifact_schemas import REPOSITORY_NAME_PATTERN, VERSION_PATTERN
from hangar.gateway.rest.schemas import NAME_PATTERN

#: The collections of a namespace and the kind each holds.
COLLECTIONS: Final = {
    "models": "model",
    "resources": "resource",
    "charts": "chart",
    "containers": "container",
}
#: Collections whose repositories and versions are created over REST (charts come from a push or an upload).
CREATABLE: Final = ("models", "resources")
#: Collections with versions (containers have tags, at /v2).
VERSIONED: Final = ("models", "resources", "charts")
_SCOPES: Final = ("/orgs/{org}", "/orgs/{org}/teams/{team}")
MAX_PATH_CHARS: Final = 1024

OrgPath = Annotated[str, Path(min_length=2, max_length=64, pattern=NAME_PATTERN)]
TeamPath = Annotated[str, Path(min_length=2, max_length=64, pattern=NAME_PATTERN)]
NamePath = Annotated[str, Path(min_length=1, max_length=128, pattern=REPOSITORY_NAME_PATTERN)]
VersionPath = Annotated[str, Path(min_length=1, max_length=128, pattern=VERSION_PATTERN)]
FilePath = Annotated[str, Path(min_length=1, max_length=MAX_PATH_CHARS, description="Relative POSIX path")]
NamePattern = Annotated[
    str, Query(max_length=255, description="Shell-style pattern over full names, e.g. acme/vision/*")
]
Labels = Annotated[list[str], Query(max_length=16, description="Only repositories holding every label")]

#: Every route of this module, as the OpenAPI document names it.
ROUTES: Final = (
    "/orgs/{org}/repositories",
    *(
        scope + route.format(collection=collection)
        for scope in _SCOPES
        for collection in COLLECTIONS
        for route in ("/{collection}", "/{collection}/{{name}}")
    ),
    *(
        scope + route.format(collection=collection)
        for scope in _SCOPES
        for collection in VERSIONED
        for route in (
            "/{collection}/{{name}}/versions",
            "/{collection}/{{name}}/versions/{{version}}",
            "/{collection}/{{name}}/versions/{{version}}/files",
            "/{collection}/{{name}}/versions/{{version}}/files/{{path}}",
            "/{collection}/{{name}}/versions/{{version}}/archive",
            "/{collection}/{{name}}/latest",
        )
    ),
    *(
        scope + f"/{collection}/{{name}}/versions/{{version}}/commit"
        for scope in _SCOPES
        for collection in CREATABLE
    ),
)
#: Request paths whose bodies stream (file pieces): the JSON body limit does not apply to them.
STREAMED_BODY: Final = re.compile(
    r"/orgs/[^/]+(?:/teams/[^/]+)?/(?:models|resources)/[^/]+/versions/[^/]+/files/."
)
