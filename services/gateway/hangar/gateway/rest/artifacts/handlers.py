"""The artifact handlers gathered over one set of ports: listings, repositories, versions, files, archives."""

from hangar.gateway.rest.artifacts.archive import Archives
from hangar.gateway.rest.artifacts.files import Files
from hangar.gateway.rest.artifacts.listing import Listings
from hangar.gateway.rest.artifacts.repositories import Repositories
from hangar.gateway.rest.artifacts.versions import Versions


class Artifacts(Listings, Repositories, Versions, Files, Archives):
    """The handlers, over the artifacts, registry and blobstore ports and the artifact gate."""
