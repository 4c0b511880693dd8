"""`POST /orgs/{org}/charts` and `POST /orgs/{org}/teams/{team}/charts`: upload a chart archive (.tgz).

The upload is the same artifact as `helm push`: Chart.yaml's fields as Helm's config JSON, the archive as
the chart layer, an OCI manifest with Helm's media types tagged with the chart's version at
`org[/team]/<chart name>` (helm/publish.py). The body is the archive itself (Content-Type application/gzip
or application/octet-stream), at most 10 MiB; it is validated whole before anything is stored.

Answers: 201 with the version stored; 200 when this very archive was already that version; 400 for an
archive that is not a valid chart; 409 when the version exists with other content; 404 for a namespace the
caller may not see; 403 unless the caller may push there (REGISTRY_USER and up, or a service key with
`push` on charts).
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, FastAPI, Path, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict

from hangar.gateway.auth import PUSH, Authenticator, Authorizer
from hangar.gateway.helm.chart import MAX_ARCHIVE_BYTES, MiB
from hangar.gateway.helm.publish import ChartPublisher, Published
from hangar.gateway.rest.artifact_access import ArtifactGate
from hangar.gateway.rest.base import ERRORS, GuardedRoute, bearer
from hangar.gateway.rest.errors import ApiError
from hangar.gateway.rest.schemas import NAME_PATTERN
from hangar.kit import context
from hangar.kit.errors import PermissionDenied

CHART_KIND: Final = "chart"
#: Content types a chart archive may be sent as.
ARCHIVE_TYPES: Final = frozenset(
    {"application/gzip", "application/x-gzip", "application/octet-stream", "application/x-compressed-tar"}
)
#: Routes whose body this module reads itself (the REST body limit and JSON rule do not apply).
RAW_BODY_ROUTES: Final = (r"/orgs/[^/]+/charts", r"/orgs/[^/]+/teams/[^/]+/charts")

OrgPath = Annotated[str, Path(min_length=2, max_length=64, pattern=NAME_PATTERN)]
TeamPath = Annotated[str, Path(min_length=2, max_length=64, pattern=NAME_PATTERN)]


class ChartVersionOut(BaseModel):
    """A chart version as stored: the same artifact `helm push` makes."""

    model_config = ConfigDict(extra="forbid")

    repository: str
    name: str
    version: str
    #: The OCI tag (the version with `+` written `_`, as helm push tags it).
    tag: str
    #: The OCI manifest's digest.
    digest: str
    #: The chart archive's digest (the index's `digest`, without `sha256:`).
    chart_digest: str
    size: int
    #: Whether this upload stored it (false: the same archive was that version already).
    created: bool


def _out(published: Published) -> ChartVersionOut:
    return ChartVersionOut(
        repository=published.repository,
        name=published.name,
        version=published.version,
        tag=published.tag,
        digest=published.manifest_digest,
        chart_digest=published.chart_digest,
        size=published.chart_size,
        created=published.created,
    )


async def read_archive(request: Request) -> bytes:
    """The body: a chart archive of at most MAX_ARCHIVE_BYTES (413 beyond, read no further)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ARCHIVE_TYPES:
        raise ApiError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the chart archive (.tgz) as Content-Type: application/gzip or application/octet-stream",
        )
    too_large = ApiError(
        413, "REQUEST_TOO_LARGE", f"the chart archive is larger than {MAX_ARCHIVE_BYTES // MiB} MiB"
    )
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_ARCHIVE_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_ARCHIVE_BYTES:
            raise too_large
    if not body:
        raise ApiError(400, "CHART_INVALID", "the body is empty: send the chart archive (.tgz)")
    return bytes(body)


def install_chart_uploads(
    app: FastAPI, publisher: ChartPublisher, authenticator: Authenticator, authorizer: Authorizer
) -> None:
    """Add the chart upload routes to the REST application (`create_rest_app`'s)."""
    app.include_router(router(publisher, ArtifactGate(app.state.gate, authenticator, authorizer)))


def router(publisher: ChartPublisher, gate: ArtifactGate) -> APIRouter:
    api = APIRouter(route_class=GuardedRoute, responses=ERRORS, tags=["charts"])
    body_doc = {
        "requestBody": {
            "required": True,
            "description": "The chart archive (.tgz), as `helm package` makes it; at most 10 MiB",
            "content": {
                "application/gzip": {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }

    async def upload(
        request: Request, org: str, team: str, authorization: HTTPAuthorizationCredentials | None
    ) -> JSONResponse:
        caller = await gate.caller(request.headers.get("authorization"))
        namespace = f"{org}/{team}" if team else org
        actions = await gate.require_namespace(caller, org, team, CHART_KIND)
        if not caller.is_service_key and PUSH not in actions:  # a user's roles hold namespace-wide
            reason = await gate.reason(caller, f"{namespace}/{CHART_KIND}", CHART_KIND, PUSH)
            raise PermissionDenied(reason or "access denied", code="DENIED")
        archive = await read_archive(request)
        chart = await publisher.validate(archive, namespace)
        repository = f"{namespace}/{chart.name}"
        await gate.require(caller, org, repository, CHART_KIND, PUSH)
        actor = caller.user_id or (f"key:{caller.key.key_id}" if caller.key else "")
        call = context.CallContext(actor=actor, correlation_id=request.headers.get("x-request-id", "")[:128])
        with context.bound(call):
            published = await publisher.publish(chart, namespace)
        status = 201 if published.created else 200
        return JSONResponse(_out(published).model_dump(), status_code=status)

    @api.post(
        "/orgs/{org}/charts",
        status_code=201,
        response_model=ChartVersionOut,
        openapi_extra=body_doc,
        responses={200: {"model": ChartVersionOut, "description": "This archive was that version already"}},
    )
    async def upload_org_chart(
        request: Request,
        org: OrgPath,
        authorization: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
    ) -> JSONResponse:
        """Upload a chart archive to the org's charts (`org/<chart name>`), as `helm push` would store it."""
        return await upload(request, org, "", authorization)

    @api.post(
        "/orgs/{org}/teams/{team}/charts",
        status_code=201,
        response_model=ChartVersionOut,
        openapi_extra=body_doc,
        responses={200: {"model": ChartVersionOut, "description": "This archive was that version already"}},
    )
    async def upload_team_chart(
        request: Request,
        org: OrgPath,
        team: TeamPath,
        authorization: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
    ) -> JSONResponse:
        """Upload a chart archive to a team's charts (`org/team/<chart name>`)."""
        return await upload(request, org, team, authorization)

    return api
