"""Helm: a classic chart repository per org and team (`/helm/<org>[/<team>]/index.yaml` and its charts) over
the charts pushed to the registry, and chart archives uploaded through REST stored as `helm push` would.

- `chart`: reading and validating chart archives, Helm's config JSON and OCI manifest (no I/O).
- `index`: each namespace's index, built from registry and blobstore, cached until a change evicts it.
- `events`: registry events (core NATS) and this replica's own changes evict cached indexes.
- `access`: which charts a caller may list and download. `routes`: the /helm endpoint.
- `publish`: a chart archive stored as the OCI artifact `helm push` makes.
"""

from hangar.gateway.helm.access import HelmAccess
from hangar.gateway.helm.events import ChangeWatcher, Evictions, IndexEvents
from hangar.gateway.helm.index import INDEX_TTL_SECONDS, HelmIndexes
from hangar.gateway.helm.publish import ChartPublisher, Published
from hangar.gateway.helm.routes import PREFIX, HelmRepository, route_of

__all__ = [
    "INDEX_TTL_SECONDS",
    "PREFIX",
    "ChangeWatcher",
    "ChartPublisher",
    "Evictions",
    "HelmAccess",
    "HelmIndexes",
    "HelmRepository",
    "IndexEvents",
    "Published",
    "route_of",
]
