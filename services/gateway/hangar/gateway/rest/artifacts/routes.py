"""The FastAPI routes of the artifact handlers, each under an org and a team scope."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import JSONResponse, Response

from hangar.gateway.rest.artifact_access import ArtifactCaller
from hangar.gateway.rest.artifact_schemas import (
    CreateRepositoryRequest,
    CreateVersionRequest,
    FilePage,
    Kind,
    RepositoryMetadataBody,
    RepositoryOut,
    RepositoryPage,
    SetLatestRequest,
    VersionOut,
    VersionPage,
)
from hangar.gateway.rest.artifacts.handlers import Artifacts
from hangar.gateway.rest.artifacts.paths import (
    _SCOPES,
    COLLECTIONS,
    CREATABLE,
    VERSIONED,
    FilePath,
    Labels,
    NamePath,
    NamePattern,
    OrgPath,
    TeamPath,
    VersionPath,
)
from hangar.gateway.rest.base import ERRORS, GuardedRoute
from hangar.gateway.rest.paging import DEFAULT_PAGE_SIZE, PageSize, PageToken


def _with_team(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """The org-scope twin of a team-scope handler: the same parameters less `team`, which is ""."""

    async def org_scoped(**values: Any) -> Any:
        return await handler(team="", **values)

    signature = inspect.signature(handler)
    parameters = [p for p in signature.parameters.values() if p.name != "team"]
    org_scoped.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    org_scoped.__doc__ = handler.__doc__
    return org_scoped


def router(handlers: Artifacts) -> APIRouter:
    api = APIRouter(route_class=GuardedRoute, responses=ERRORS, tags=["artifacts"])
    authenticated = Depends(handlers.caller)
    h = handlers

    def add(
        suffix: str,
        method: str,
        handler: Callable[..., Awaitable[Any]],
        name: str,
        *,
        status_code: int | None = None,
        response_class: type[Response] | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
    ) -> None:
        extra: dict[str, Any] = {}
        if status_code is not None:
            extra["status_code"] = status_code
        if response_class is not None:
            extra["response_class"] = response_class
        if responses is not None:
            extra["responses"] = responses
        api.add_api_route(_SCOPES[1] + suffix, handler, methods=[method], name=f"{name}_in_team", **extra)
        api.add_api_route(_SCOPES[0] + suffix, _with_team(handler), methods=[method], name=name, **extra)

    @api.get("/orgs/{org}/repositories")
    async def search_repositories(
        org: OrgPath,
        caller: ArtifactCaller = authenticated,
        kind: Kind | None = None,
        q: NamePattern = "",
        label: Labels = [],  # noqa: B006 - FastAPI copies defaults
        team: Annotated[str, Query(max_length=64, pattern=r"^([a-z0-9]+([._-][a-z0-9]+)*)?$")] = "",
        page_size: PageSize = DEFAULT_PAGE_SIZE,
        page_token: PageToken = "",
    ) -> RepositoryPage:
        """Repositories of every kind in the org that the caller may see (the org's own with an org role,
        a team's with a role in it, all with ORG_OWNER), each with the caller's permission."""
        return await h.search(
            caller,
            org,
            kind=kind or "",
            q=q,
            labels=label,
            team=team,
            page_size=page_size,
            page_token=page_token,
        )

    for collection, kind in COLLECTIONS.items():
        _collection_routes(add, h, authenticated, collection, kind)
    return api


def _full(org: str, team: str, name: str) -> str:
    return f"{org}/{team}/{name}" if team else f"{org}/{name}"


def _collection_routes(
    add: Callable[..., None], h: Artifacts, authenticated: Any, collection: str, kind: str
) -> None:
    title = collection.rstrip("s")

    async def list_repositories(
        org: OrgPath,
        team: TeamPath,
        caller: ArtifactCaller = authenticated,
        q: NamePattern = "",
        label: Labels = [],  # noqa: B006 - FastAPI copies defaults
        page_size: PageSize = DEFAULT_PAGE_SIZE,
        page_token: PageToken = "",
    ) -> RepositoryPage:
        return await h.list_in(
            caller, org, team, kind, q=q, labels=label, page_size=page_size, page_token=page_token
        )

    list_repositories.__doc__ = f"The {collection} of the namespace (by name), with the caller's permission."
    add(f"/{collection}", "GET", list_repositories, f"list_{collection}")

    async def get_repository(
        org: OrgPath, team: TeamPath, name: NamePath, caller: ArtifactCaller = authenticated
    ) -> RepositoryOut:
        return await h.get_repository(caller, _full(org, team, name), org, kind)

    get_repository.__doc__ = f"One {title} repository with its metadata and summary."
    add(f"/{collection}/{{name}}", "GET", get_repository, f"get_{title}")

    if collection in CREATABLE:

        async def create_repository(
            org: OrgPath,
            team: TeamPath,
            body: CreateRepositoryRequest,
            caller: ArtifactCaller = authenticated,
        ) -> RepositoryOut:
            return await h.create_repository(caller, org, team, kind, body)

        create_repository.__doc__ = f"Create a {title} repository with its metadata (REGISTRY_USER and up)."
        add(f"/{collection}", "POST", create_repository, f"create_{title}", status_code=201)

    if collection not in VERSIONED:
        return

    async def update_repository(
        org: OrgPath,
        team: TeamPath,
        name: NamePath,
        body: RepositoryMetadataBody,
        caller: ArtifactCaller = authenticated,
    ) -> RepositoryOut:
        return await h.update_repository(caller, _full(org, team, name), org, kind, body)

    update_repository.__doc__ = f"Change the metadata fields sent of a {title} repository; the others stay."
    add(f"/{collection}/{{name}}", "PATCH", update_repository, f"update_{title}")

    async def set_latest(
        org: OrgPath,
        team: TeamPath,
        name: NamePath,
        body: SetLatestRequest,
        caller: ArtifactCaller = authenticated,
    ) -> RepositoryOut:
        return await h.set_latest(caller, _full(org, team, name), org, kind, body)

    set_latest.__doc__ = (
        'Point latest at a committed version ({"version"}), or let each commit move it ({"auto"}).'
    )
    add(f"/{collection}/{{name}}/latest", "PUT", set_latest, f"set_latest_{title}")

    async def list_versions(
        org: OrgPath,
        team: TeamPath,
        name: NamePath,
        caller: ArtifactCaller = authenticated,
        order: Literal["semver", "created"] = "semver",
        include_pending: bool = False,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
        page_token: PageToken = "",
    ) -> VersionPage:
        return await h.list_versions(
            caller,
            _full(org, team, name),
            org,
            kind,
            order=order,
            include_pending=include_pending,
            page_size=page_size,
            page_token=page_token,
        )

    list_versions.__doc__ = (
        "Versions, newest semver first (non-semver names after) or newest first; no files."
    )
    add(f"/{collection}/{{name}}/versions", "GET", list_versions, f"list_{title}_versions")

    async def get_version(
        org: OrgPath,
        team: TeamPath,
        name: NamePath,
        version: VersionPath,
        caller: ArtifactCaller = authenticated,
    ) -> VersionOut:
        return await h.get_version(caller, _full(org, team, name), org, kind, version)

    get_version.__doc__ = "A version (or latest) with its files and, while uploading, the bytes received."
    add(f"/{collection}/{{name}}/versions/{{version}}", "GET", get_version, f"get_{title}_version")

    async def delete_version(
        org: OrgPath,
        team: TeamPath,
        name: NamePath,
        version: VersionPath,
        caller: ArtifactCaller = authenticated,
    ) -> Response:
        await h.delete_version(caller, _full(org, team, name), org, kind, version)
        return Response(status_code=204)

    delete_version.__doc__ = "Delete a version, pending or committed (REGISTRY_ADMIN)."
    add(
        f"/{collection}/{{name}}/versions/{{version}}",
        "DELETE",
        delete_version,
        f"delete_{title}_version",
        status_code=204,
        response_class=Response,
    )

    async def list_files(
        org: OrgPath,
        team: TeamPath,
        name: NamePath,
        version: VersionPath,
        caller: ArtifactCaller = authenticated,
    ) -> FilePage:
        return await h.list_files(caller, _full(org, team, name), org, kind, version)

    list_files.__doc__ = "The version's files: path, size (received so far while uploading), digest, status."
    add(f"/{collection}/{{name}}/versions/{{version}}/files", "GET", list_files, f"list_{title}_files")

    file_route = f"/{collection}/{{name}}/versions/{{version}}/files/{{path:path}}"

    async def get_file(
        request: Request,
        org: OrgPath,
        team: TeamPath,
        name: NamePath,
        version: VersionPath,
        path: FilePath,
        caller: ArtifactCaller = authenticated,
    ) -> Response:
        return await h.get_file(request, caller, _full(org, team, name), org, kind, version, path)

    get_file.__doc__ = "Download one file; honours `Range: bytes=a-b` (206, or 416 outside the file)."
    binary = {200: {"content": {"application/octet-stream": {}}, "description": "The file's bytes"}}
    add(file_route, "GET", get_file, f"get_{title}_file", response_class=Response, responses=binary)

    async def head_file(
        org: OrgPath,
        team: TeamPath,
        name: NamePath,
        version: VersionPath,
        path: FilePath,
        caller: ArtifactCaller = authenticated,
    ) -> Response:
        return await h.head_file(caller, _full(org, team, name), org, kind, version, path)

    head_file.__doc__ = (
        "How much of a file has arrived (Upload-Offset, Range: bytes=0-<last>) and its status "
        "(X-Upload-Status: UPLOADING or COMPLETE); a complete file's Content-Length and ETag."
    )
    add(file_route, "HEAD", head_file, f"head_{title}_file", response_class=Response)

    async def archive(
        org: OrgPath,
        team: TeamPath,
        name: NamePath,
        version: VersionPath,
        caller: ArtifactCaller = authenticated,
    ) -> Response:
        return await h.archive(caller, _full(org, team, name), org, kind, version)

    archive.__doc__ = "Every file of the version as one tar (pax), streamed."
    tar = {200: {"content": {"application/x-tar": {}}, "description": "A tar of the version's files"}}
    add(
        f"/{collection}/{{name}}/versions/{{version}}/archive",
        "GET",
        archive,
        f"get_{title}_archive",
        response_class=Response,
        responses=tar,
    )

    if collection not in CREATABLE:
        return

    async def create_version(
        org: OrgPath,
        team: TeamPath,
        name: NamePath,
        body: CreateVersionRequest,
        caller: ArtifactCaller = authenticated,
    ) -> VersionOut:
        return await h.create_version(caller, org, team, _full(org, team, name), kind, body)

    create_version.__doc__ = (
        f"Open a version (UPLOAD_PENDING) with its metadata, optionally starting with a committed version's "
        f"files; the {title} repository is created on its first version."
    )
    add(
        f"/{collection}/{{name}}/versions", "POST", create_version, f"create_{title}_version", status_code=201
    )

    async def put_file(
        request: Request,
        org: OrgPath,
        team: TeamPath,
        name: NamePath,
        version: VersionPath,
        path: FilePath,
        caller: ArtifactCaller = authenticated,
    ) -> Response:
        return await h.put_file(request, caller, _full(org, team, name), org, kind, version, path)

    put_file.__doc__ = (
        "Upload a file whole (201), or a piece of it with `Content-Range: bytes <a>-<b>/<total>` (202 until "
        "the last piece, then 201), resumable from the offset HEAD reports. The sha256 is checked when the "
        "last byte arrives: give it as `X-Checksum-Sha256: <hex>` (required with pieces); a mismatch records "
        "nothing. `Content-Range: bytes */<total>` finishes an upload whose bytes have all arrived."
    )
    add(file_route, "PUT", put_file, f"put_{title}_file", response_class=JSONResponse, status_code=201)

    async def delete_file(
        org: OrgPath,
        team: TeamPath,
        name: NamePath,
        version: VersionPath,
        path: FilePath,
        caller: ArtifactCaller = authenticated,
    ) -> Response:
        await h.delete_file(caller, _full(org, team, name), org, kind, version, path)
        return Response(status_code=204)

    delete_file.__doc__ = "Remove a file (uploaded, uploading or inherited) from a pending version."
    add(file_route, "DELETE", delete_file, f"delete_{title}_file", status_code=204, response_class=Response)

    async def commit(
        org: OrgPath,
        team: TeamPath,
        name: NamePath,
        version: VersionPath,
        caller: ArtifactCaller = authenticated,
    ) -> VersionOut:
        return await h.commit(caller, _full(org, team, name), org, kind, version)

    commit.__doc__ = (
        "Commit a pending version: every file must be complete; it becomes an immutable OCI manifest tagged "
        "with the version name (oras pull works), and latest moves when the policy is auto."
    )
    add(f"/{collection}/{{name}}/versions/{{version}}/commit", "POST", commit, f"commit_{title}_version")
