"""`/orgs/{org}[/teams/{team}]/{models|resources|charts|containers}[/{name}[/versions[/{v}[/files/{path}]]]]`
and `/orgs/{org}/repositories`: repositories, versions and their files over REST (DESIGN §3).

A file upload goes to a blobstore upload session recorded on the version's file (BeginFile), so any gateway
replica takes the next piece: the session's size is the offset the next piece must start at, and the sha256
is checked by the blobstore when the last byte arrives (decision 0023). Bytes stream through; no file is
held whole, on the way in or out.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import hashlib
import inspect
import logging
import re
import tarfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from hangar.gateway.auth import DELETE, LIST, PULL, PUSH
from hangar.gateway.clients.artifacts import (
    FILE_COMPLETE,
    FILE_UPLOADING,
    UPLOAD_PENDING,
    ArtifactsPort,
    RepositoryInfo,
    VersionFileInfo,
    VersionInfo,
)
from hangar.gateway.clients.ports import BlobstorePort, IdentityPort, RegistryPort
from hangar.gateway.rest.artifact_access import (
    ArtifactCaller,
    ArtifactGate,
    permission_of,
    repository_not_found,
)
from hangar.gateway.rest.artifact_schemas import (
    REPOSITORY_NAME_PATTERN,
    VERSION_PATTERN,
    CreateRepositoryRequest,
    CreateVersionRequest,
    FilePage,
    Kind,
    Permission,
    RepositoryMetadataBody,
    RepositoryOut,
    RepositoryPage,
    SetLatestRequest,
    VersionOut,
    VersionPage,
    file_out,
    repository_out,
    version_out,
)
from hangar.gateway.rest.base import ERRORS, REQUEST_ID_HEADER, GuardedRoute
from hangar.gateway.rest.errors import ApiError
from hangar.gateway.rest.paging import DEFAULT_PAGE_SIZE, PageSize, PageToken, next_token
from hangar.gateway.rest.schemas import NAME_PATTERN
from hangar.kit import context
from hangar.kit.errors import DomainError, FailedPrecondition, InvalidArgument, NotFound
from hangar.kit.paging import decode_page_token, encode_page_token

log = logging.getLogger(__name__)

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
#: `bytes <start>-<end>/<total|*>`, or `bytes */<total>` (no bytes: finish an upload whose bytes all arrived).
_CONTENT_RANGE: Final = re.compile(
    r"bytes (?:(?P<start>\d{1,19})-(?P<end>\d{1,19})|\*)/(?P<total>\d{1,19}|\*)"
)
_RANGE: Final = re.compile(r"bytes=(?P<start>\d{0,19})-(?P<end>\d{0,19})")
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
TAR_BLOCK: Final = 512
#: The most namespaces one SearchRepositories takes (the registry's limit).
NAMESPACES_PER_SEARCH: Final = 100
_GROUPS: Final = "namespace-groups"

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


def check_path(path: str) -> None:
    """A file path inside a version: relative POSIX, no empty, `.` or `..` parts, printable (400)."""
    parts = path.split("/")
    if (
        not path
        or len(path) > MAX_PATH_CHARS
        or path.startswith("/")
        or "\\" in path
        or not path.isprintable()
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise InvalidArgument(
            f"file path {path[:80]!r} must be a relative POSIX path without '.', '..' or empty parts",
            code="PATH_INVALID",
        )


@dataclasses.dataclass(frozen=True)
class Piece:
    """A PUT's Content-Range: bytes `start`..`end` (inclusive) of `total` (None: unknown).

    `start` None: no bytes (`bytes */<total>`, finishing an upload whose bytes have all arrived)."""

    start: int | None
    end: int
    total: int | None

    @property
    def length(self) -> int:
        return 0 if self.start is None else self.end - self.start + 1


def parse_piece(header: str | None) -> Piece | None:
    if header is None:
        return None
    match = _CONTENT_RANGE.fullmatch(header.strip())
    if match is None:
        raise InvalidArgument(
            "Content-Range must be `bytes <start>-<end>/<total or *>` or `bytes */<total>`",
            code="RANGE_INVALID",
        )
    total = None if match["total"] == "*" else int(match["total"])
    if match["start"] is None:
        if total is None:
            raise InvalidArgument("`bytes */*` names nothing", code="RANGE_INVALID")
        return Piece(None, total - 1, total)
    start, end = int(match["start"]), int(match["end"])
    if end < start or (total is not None and end >= total):
        raise ApiError(
            416, "RANGE_INVALID", f"Content-Range {start}-{end}/{match['total']} is not a range of the file"
        )
    return Piece(start, end, total)


def expected_digest(request: Request) -> str | None:
    """The sha256 the client says the whole file has: `X-Checksum-Sha256: <hex>` (or `sha256:<hex>`),
    `Digest: sha-256=<base64>` (RFC 3230) or `Repr-Digest: sha-256=:<base64>:` (RFC 9530)."""
    headers = request.headers
    value = headers.get("x-checksum-sha256")
    if value is not None:
        hex_digest = value.strip().lower().removeprefix("sha256:")
        if not _HEX64.fullmatch(hex_digest):
            raise InvalidArgument("X-Checksum-Sha256 must be 64 hex digits", code="DIGEST_INVALID")
        return "sha256:" + hex_digest
    for name in ("repr-digest", "digest"):
        value = headers.get(name)
        if value is None:
            continue
        for item in value.split(","):
            algorithm, _, encoded = item.strip().partition("=")
            if algorithm.strip().lower() != "sha-256":
                continue
            try:
                raw = base64.b64decode(encoded.strip().strip(":"), validate=True)
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) != 32:
                raise InvalidArgument(f"{name} sha-256 must be 32 bytes in base64", code="DIGEST_INVALID")
            return "sha256:" + raw.hex()
    return None


def _upload_headers(received: int, status: str, declared: int | None = None) -> dict[str, str]:
    headers = {"Upload-Offset": str(received), "X-Upload-Status": status}
    if received:
        headers["Range"] = f"bytes=0-{received - 1}"
    if declared:
        headers["Upload-Length"] = str(declared)
    return headers


def _tar_header(file: VersionFileInfo, mtime: int) -> bytes:
    info = tarfile.TarInfo(file.path)
    info.size = file.size
    info.mode = 0o644
    info.mtime = mtime
    return info.tobuf(format=tarfile.PAX_FORMAT, encoding="utf-8")


def _padding(size: int) -> int:
    return -size % TAR_BLOCK


def _with_team(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """The org-scope twin of a team-scope handler: the same parameters less `team`, which is ""."""

    async def org_scoped(**values: Any) -> Any:
        return await handler(team="", **values)

    signature = inspect.signature(handler)
    parameters = [p for p in signature.parameters.values() if p.name != "team"]
    org_scoped.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    org_scoped.__doc__ = handler.__doc__
    return org_scoped


class Artifacts:
    """The handlers, over the artifacts, registry and blobstore ports and the artifact gate."""

    def __init__(
        self,
        artifacts: ArtifactsPort,
        registry: RegistryPort,
        blobstore: BlobstorePort,
        identity: IdentityPort,
        gate: ArtifactGate,
    ) -> None:
        self.artifacts = artifacts
        self.registry = registry
        self.blobstore = blobstore
        self.identity = identity
        self.gate = gate

    async def caller(self, request: Request) -> AsyncIterator[ArtifactCaller]:
        caller = await self.gate.caller(request.headers.get("authorization"))
        actor = caller.user_id or (caller.key.key_id if caller.key else "")
        correlation = request.headers.get(REQUEST_ID_HEADER, "")[:128] or uuid.uuid4().hex
        with context.bound(context.CallContext(actor=actor, correlation_id=correlation)):
            yield caller

    # -- shared steps --------------------------------------------------------------------------------------

    async def _team_exists(self, org: str, team: str) -> None:
        if team and team not in {t.name for t in await self.identity.list_teams(org)}:
            raise NotFound(f"team {org}/{team} not found", code="TEAM_NOT_FOUND")

    async def _repository(self, name: str, kind: str) -> RepositoryInfo:
        """The repository, which must be of `kind` (a model addressed as a chart is not found)."""
        try:
            repository = await self.artifacts.get_repository(name)
        except DomainError as error:
            if error.code == "NAME_UNKNOWN":
                raise repository_not_found(name) from None
            raise
        if repository.kind != kind:
            raise repository_not_found(name)
        return repository

    async def _received(self, name: str, files: Sequence[VersionFileInfo]) -> dict[str, int]:
        """Bytes received so far by each uploading file's session."""
        uploading = [f for f in files if f.status == FILE_UPLOADING]

        async def size_of(file: VersionFileInfo) -> int:
            try:
                return (await self.blobstore.query_write_status(file.upload_id, owner=name)).committed_size
            except DomainError:
                return 0

        sizes = await asyncio.gather(*(size_of(f) for f in uploading))
        return {f.path: size for f, size in zip(uploading, sizes, strict=True)}

    async def _version(self, name: str, version: str) -> VersionInfo:
        return await self.artifacts.get_version(name, version)

    # -- listings ------------------------------------------------------------------------------------------

    async def _rows(
        self,
        caller: ArtifactCaller,
        namespaces: dict[str, str],
        *,
        kind: str,
        q: str,
        labels: Sequence[str],
        page_size: int,
        page_token: str,
    ) -> RepositoryPage:
        if not namespaces:
            return RepositoryPage(items=[], next_page_token=None)
        # the registry searches at most NAMESPACES_PER_SEARCH namespaces at once: more are walked a group
        # at a time, the token saying which group and the registry's token within it
        groups = [
            sorted(namespaces)[i : i + NAMESPACES_PER_SEARCH]
            for i in range(0, len(namespaces), NAMESPACES_PER_SEARCH)
        ]
        group, inner = 0, page_token
        if len(groups) > 1:
            cursor = decode_page_token(page_token, _GROUPS) or {}
            group, inner = cursor.get("group", 0), cursor.get("token", "")
            if not isinstance(group, int) or not 0 <= group < len(groups) or not isinstance(inner, str):
                raise InvalidArgument("page_token is not one this API handed out", code="PAGE_TOKEN_INVALID")
        rows, token = await self.artifacts.search_repositories(
            namespaces=groups[group],
            kind=kind,
            name_pattern=q,
            labels=labels,
            page_size=page_size,
            page_token=inner,
        )
        if len(groups) > 1 and (token or group + 1 < len(groups)):
            token = encode_page_token({"group": group + (0 if token else 1), "token": token}, _GROUPS)
        items: list[RepositoryOut] = []
        for row in rows:
            permission = namespaces.get(row.name.rsplit("/", 1)[0], "")
            if caller.is_service_key:
                actions = await self.gate.actions(caller, row.name, row.kind)
                if LIST not in actions:
                    continue
                permission = permission_of(actions)
            items.append(repository_out(row, _permission(permission)))
        return RepositoryPage(items=items, next_page_token=next_token(token))

    async def search(
        self,
        caller: ArtifactCaller,
        org: str,
        *,
        kind: str,
        q: str,
        labels: Sequence[str],
        team: str,
        page_size: int,
        page_token: str,
    ) -> RepositoryPage:
        await self.gate.require_org(caller, org)
        if team:
            await self._team_exists(org, team)
            teams = [team]
        else:
            teams = [t.name for t in await self.identity.list_teams(org)]
        namespaces = await self.gate.visible_namespaces(caller, org, teams)
        if team:
            namespaces.pop(org, None)
        return await self._rows(
            caller, namespaces, kind=kind, q=q, labels=labels, page_size=page_size, page_token=page_token
        )

    async def list_in(
        self,
        caller: ArtifactCaller,
        org: str,
        team: str,
        kind: str,
        *,
        q: str,
        labels: Sequence[str],
        page_size: int,
        page_token: str,
    ) -> RepositoryPage:
        actions = await self.gate.require_namespace(caller, org, team, kind)
        namespace = f"{org}/{team}" if team else org
        return await self._rows(
            caller,
            {namespace: permission_of(actions)},
            kind=kind,
            q=q,
            labels=labels,
            page_size=page_size,
            page_token=page_token,
        )

    # -- repositories --------------------------------------------------------------------------------------

    async def create_repository(
        self, caller: ArtifactCaller, org: str, team: str, kind: str, body: CreateRepositoryRequest
    ) -> RepositoryOut:
        name = "/".join(p for p in (org, team, body.name) if p)
        actions = await self.gate.require(caller, org, name, kind, PUSH)
        await self._team_exists(org, team)
        created = await self.artifacts.create_repository(
            name, kind, body.metadata.info(), latest_policy=body.latest_policy
        )
        return repository_out(created, _permission(permission_of(actions)))

    async def get_repository(self, caller: ArtifactCaller, name: str, org: str, kind: str) -> RepositoryOut:
        actions = await self.gate.require(caller, org, name, kind, LIST)
        return repository_out(await self._repository(name, kind), _permission(permission_of(actions)))

    async def update_repository(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, body: RepositoryMetadataBody
    ) -> RepositoryOut:
        actions = await self.gate.require(caller, org, name, kind, PUSH)
        await self._repository(name, kind)
        fields = sorted(body.model_fields_set)
        if not fields:
            raise InvalidArgument("name at least one metadata field to change", code="REQUEST_INVALID")
        updated = await self.artifacts.update_repository(name, body.info(), fields)
        return repository_out(updated, _permission(permission_of(actions)))

    async def set_latest(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, body: SetLatestRequest
    ) -> RepositoryOut:
        actions = await self.gate.require(caller, org, name, kind, PUSH)
        await self._repository(name, kind)
        if body.auto == (body.version is not None):
            raise InvalidArgument('send either {"version": "<v>"} or {"auto": true}', code="REQUEST_INVALID")
        updated = await self.artifacts.set_latest(name, body.version or "", auto=body.auto)
        return repository_out(updated, _permission(permission_of(actions)))

    # -- versions ------------------------------------------------------------------------------------------

    async def list_versions(
        self,
        caller: ArtifactCaller,
        name: str,
        org: str,
        kind: str,
        *,
        order: str,
        include_pending: bool,
        page_size: int,
        page_token: str,
    ) -> VersionPage:
        await self.gate.require(caller, org, name, kind, LIST)
        await self._repository(name, kind)
        versions, token = await self.artifacts.list_versions(
            name, order=order, page_size=page_size, page_token=page_token, include_pending=include_pending
        )
        items = [version_out(v, with_files=False) for v in versions]
        return VersionPage(items=items, next_page_token=next_token(token))

    async def create_version(
        self, caller: ArtifactCaller, org: str, team: str, name: str, kind: str, body: CreateVersionRequest
    ) -> VersionOut:
        await self.gate.require(caller, org, name, kind, PUSH)
        await self._team_exists(org, team)
        created = await self.artifacts.create_version(
            name,
            body.version,
            metadata=body.metadata.info(),
            base_version=body.base_version,
            create_kind=kind,
            created_by=caller.user_id or (caller.key.key_id if caller.key else ""),
        )
        return version_out(created)

    async def get_version(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, version: str
    ) -> VersionOut:
        await self.gate.require(caller, org, name, kind, LIST)
        await self._repository(name, kind)
        found = await self._version(name, version)
        return version_out(found, received=await self._received(name, found.files))

    async def delete_version(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, version: str
    ) -> None:
        await self.gate.require(caller, org, name, kind, DELETE)
        await self._repository(name, kind)
        found = await self._version(name, version)
        await self.artifacts.delete_version(name, found.version)
        for file in found.files:
            if file.status == FILE_UPLOADING:
                await self._cancel(name, file.upload_id)

    async def list_files(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, version: str
    ) -> FilePage:
        await self.gate.require(caller, org, name, kind, LIST)
        await self._repository(name, kind)
        found = await self._version(name, version)
        received = await self._received(name, found.files)
        return FilePage(items=[file_out(f, received.get(f.path)) for f in found.files])

    async def commit(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, version: str
    ) -> VersionOut:
        """Store the version's config blob (once), link it, then commit: the version becomes its manifest."""
        await self.gate.require(caller, org, name, kind, PUSH)
        await self._repository(name, kind)
        config = await self.artifacts.get_version_config(name, version)
        try:
            await self.blobstore.stat_blob(config.digest)
        except DomainError as error:
            if error.kind != "not_found":
                raise
            upload_id = await self.blobstore.start_upload(name)
            await self.blobstore.write(upload_id, 0, _once(config.content), owner=name)
            await self.blobstore.commit_upload(upload_id, config.digest, owner=name)
        await self.registry.link_blob(name, config.digest, len(config.content))
        committed = await self.artifacts.commit_version(name, version, config.digest)
        return version_out(committed.version)

    # -- files ---------------------------------------------------------------------------------------------

    async def _cancel(self, name: str, upload_id: str) -> None:
        try:
            await self.blobstore.cancel_upload(upload_id, owner=name)
        except DomainError as error:
            log.info("upload %s of %s was already gone: %s", upload_id, name, error.code)

    async def _forget_file(self, name: str, version: str, path: str, upload_id: str) -> None:
        """Undo a file whose upload failed its digest: nothing of it stays recorded."""
        await self._cancel(name, upload_id)
        try:
            await self.artifacts.remove_file(name, version, path)
        except DomainError as error:
            log.info("file %s of %s:%s was already gone: %s", path, name, version, error.code)

    async def _file(self, name: str, version: str, path: str) -> tuple[VersionInfo, VersionFileInfo]:
        found = await self._version(name, version)
        file = found.file(path)
        if file is None:
            raise NotFound(f"{name}:{found.version} has no file {path}", code="FILE_UNKNOWN")
        return found, file

    async def put_file(
        self,
        request: Request,
        caller: ArtifactCaller,
        name: str,
        org: str,
        kind: str,
        version: str,
        path: str,
    ) -> Response:
        check_path(path)
        await self.gate.require(caller, org, name, kind, PUSH)
        await self._repository(name, kind)
        piece = parse_piece(request.headers.get("content-range"))
        digest = expected_digest(request)
        length_header = request.headers.get("content-length")
        length = int(length_header) if length_header and length_header.isdigit() else None
        if piece is not None and length is not None and length != piece.length:
            raise InvalidArgument(
                f"Content-Length {length} is not the {piece.length} bytes Content-Range names",
                code="RANGE_INVALID",
            )
        whole = piece is None
        total = length if piece is None else piece.total
        final = whole or (total is not None and piece is not None and piece.end + 1 == total)
        if final and not whole and digest is None:
            raise InvalidArgument(
                "the last piece of a file must give its sha256 "
                "(X-Checksum-Sha256: <hex>, or Digest: sha-256=<base64>)",
                code="DIGEST_REQUIRED",
            )
        current = await self._version(name, version)
        if current.status != UPLOAD_PENDING:
            raise FailedPrecondition(
                f"version {name}:{current.version} is committed and cannot change", code="VERSION_COMMITTED"
            )
        file = current.file(path)
        if file is not None and file.status == FILE_COMPLETE:
            raise FailedPrecondition(
                f"file {path} was already uploaded to {name}:{version}; delete it first", code="FILE_EXISTS"
            )
        if piece is not None and piece.start != 0 and (file is None or file.status != FILE_UPLOADING):
            raise _wrong_offset(path, 0, total)  # nothing has arrived: refused before a session is made
        upload_id, received = await self._session(
            name, version, path, file, restart=whole, declared=total or 0
        )
        start = received if piece is None or piece.start is None else piece.start
        if start != received or (piece is not None and piece.start is None and received != piece.total):
            raise _wrong_offset(path, received, total)
        hasher = hashlib.sha256() if whole else None
        limit = None if piece is None else piece.length
        size = await self.blobstore.write(upload_id, received, _body(request, limit, hasher), owner=name)
        if piece is not None and size != received + piece.length:
            raise InvalidArgument(
                f"the body ended after {size - received} of the {piece.length} bytes Content-Range names; "
                f"resume from {size}",
                code="RANGE_INCOMPLETE",
                detail=str(size),
            )
        if whole and length is not None and size != length:
            raise InvalidArgument(
                f"the body is {size} bytes, not Content-Length {length}", code="RANGE_INCOMPLETE"
            )
        if not final:
            body = file_out(VersionFileInfo(path, FILE_UPLOADING, size=total or 0), size).model_dump(
                mode="json"
            )
            return JSONResponse(body, status_code=202, headers=_upload_headers(size, FILE_UPLOADING, total))
        if hasher is not None:
            actual = "sha256:" + hasher.hexdigest()
            if digest is not None and digest != actual:
                await self._forget_file(name, version, path, upload_id)
                raise _mismatch(path, digest, actual)
            digest = actual
        assert digest is not None
        try:
            blob = await self.blobstore.commit_upload(upload_id, digest, owner=name)
        except DomainError as error:
            if error.kind != "invalid_argument":
                raise
            await self._forget_file(name, version, path, upload_id)
            raise _mismatch(path, digest, "") from None
        done = await self.artifacts.complete_file(name, version, path, upload_id, blob.digest, blob.size)
        headers = {"ETag": f'"{blob.digest}"', **_upload_headers(blob.size, done.status)}
        return JSONResponse(file_out(done).model_dump(mode="json"), status_code=201, headers=headers)

    async def _session(
        self,
        name: str,
        version: str,
        path: str,
        file: VersionFileInfo | None,
        *,
        restart: bool,
        declared: int,
    ) -> tuple[str, int]:
        """The upload session of the file and the bytes it holds: the one recorded (unless a whole-file PUT
        restarts it), else a new one recorded with BeginFile (or the one another replica recorded first)."""
        if file is not None and file.status == FILE_UPLOADING:
            try:
                status = await self.blobstore.query_write_status(file.upload_id, owner=name)
            except DomainError as error:
                if error.kind != "not_found":
                    raise
                status = None
            if status is not None and not (restart and status.committed_size):
                return file.upload_id, status.committed_size
            await self._forget_file(name, version, path, file.upload_id)
        upload_id = await self.blobstore.start_upload(name)
        begun = await self.artifacts.begin_file(name, version, path, upload_id, size=declared)
        if begun.started:
            return upload_id, 0
        await self._cancel(name, upload_id)
        status = await self.blobstore.query_write_status(begun.file.upload_id, owner=name)
        return begun.file.upload_id, status.committed_size

    async def head_file(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, version: str, path: str
    ) -> Response:
        check_path(path)
        await self.gate.require(caller, org, name, kind, LIST)
        await self._repository(name, kind)
        _, file = await self._file(name, version, path)
        if file.status == FILE_UPLOADING:
            received = (await self._received(name, [file])).get(path, 0)
            return Response(status_code=200, headers=_upload_headers(received, file.status, file.size))
        headers = {
            **_upload_headers(file.size, file.status),
            "Content-Length": str(file.size),
            "Accept-Ranges": "bytes",
            "ETag": f'"{file.digest}"',
            "X-Checksum-Sha256": file.digest.removeprefix("sha256:"),
        }
        return Response(status_code=200, headers=headers, media_type="application/octet-stream")

    async def get_file(
        self,
        request: Request,
        caller: ArtifactCaller,
        name: str,
        org: str,
        kind: str,
        version: str,
        path: str,
    ) -> Response:
        check_path(path)
        await self.gate.require(caller, org, name, kind, PULL)
        await self._repository(name, kind)
        _, file = await self._file(name, version, path)
        if file.status == FILE_UPLOADING:
            raise FailedPrecondition(f"file {path} is still being uploaded", code="FILE_INCOMPLETE")
        headers = {
            "Accept-Ranges": "bytes",
            "ETag": f'"{file.digest}"',
            "X-Checksum-Sha256": file.digest.removeprefix("sha256:"),
            "Content-Disposition": f'attachment; filename="{path.rsplit("/", 1)[-1]}"',
        }
        first, last = _byte_range(request.headers.get("range"), file.size)
        status = 200
        if (first, last) != (0, file.size - 1):
            status = 206
            headers["Content-Range"] = f"bytes {first}-{last}/{file.size}"
        count = last - first + 1
        headers["Content-Length"] = str(count)
        chunks = await _started(self.blobstore.read(file.digest, first, count) if count else _nothing())
        return StreamingResponse(
            chunks, status_code=status, headers=headers, media_type="application/octet-stream"
        )

    async def delete_file(
        self, caller: ArtifactCaller, name: str, org: str, kind: str, version: str, path: str
    ) -> None:
        check_path(path)
        await self.gate.require(caller, org, name, kind, PUSH)
        await self._repository(name, kind)
        _, file = await self._file(name, version, path)
        await self.artifacts.remove_file(name, version, path)
        if file.status == FILE_UPLOADING:
            await self._cancel(name, file.upload_id)

    async def archive(self, caller: ArtifactCaller, name: str, org: str, kind: str, version: str) -> Response:
        """Every file of the version in one tar (POSIX pax), streamed file after file."""
        await self.gate.require(caller, org, name, kind, PULL)
        await self._repository(name, kind)
        found = await self._version(name, version)
        incomplete = [f.path for f in found.files if f.status == FILE_UPLOADING]
        if incomplete:
            raise FailedPrecondition(
                f"{name}:{found.version} has files still uploading: {', '.join(incomplete)}",
                code="FILES_INCOMPLETE",
            )
        mtime = (found.committed_at_ms or found.created_at_ms) // 1000
        headers_of = [(_tar_header(f, mtime), f) for f in found.files]
        length = sum(len(h) + f.size + _padding(f.size) for h, f in headers_of) + 2 * TAR_BLOCK
        blobstore = self.blobstore

        async def stream() -> AsyncIterator[bytes]:
            for header, file in headers_of:
                yield header
                if file.size:
                    async for chunk in blobstore.read(file.digest, 0, file.size):
                        yield chunk
                yield b"\0" * _padding(file.size)
            yield b"\0" * (2 * TAR_BLOCK)

        filename = f"{name.rsplit('/', 1)[-1]}-{found.version}.tar"
        headers = {"Content-Length": str(length), "Content-Disposition": f'attachment; filename="{filename}"'}
        return StreamingResponse(stream(), headers=headers, media_type="application/x-tar")


def _permission(value: str) -> Permission:
    return value if value in ("view", "read", "write", "admin") else "view"  # type: ignore[return-value]


def _wrong_offset(path: str, received: int, total: int | None) -> ApiError:
    return ApiError(
        416,
        "RANGE_INVALID",
        f"{received} bytes of {path} have arrived: the next piece starts at {received}",
        headers=_upload_headers(received, FILE_UPLOADING, total),
        detail={"offset": received},
    )


def _mismatch(path: str, expected: str, actual: str) -> InvalidArgument:
    found = f" (its content is {actual})" if actual else ""
    return InvalidArgument(
        f"file {path} is not {expected}{found}: nothing was recorded; upload the file again",
        code="DIGEST_MISMATCH",
    )


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # pragma: no cover - makes this an async generator


async def _started(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`chunks` with its first item already read, so a missing blob fails before the response starts."""
    first = await anext(chunks, None)

    async def chained() -> AsyncIterator[bytes]:
        if first is not None:
            yield first
        async for chunk in chunks:
            yield chunk

    return chained()


async def _body(request: Request, limit: int | None, hasher: Any) -> AsyncIterator[bytes]:
    """The request body as it arrives: refused past `limit` bytes (413), hashed when `hasher` is given."""
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if limit is not None and received > limit:
            raise ApiError(
                413, "RANGE_INVALID", f"the body is longer than the {limit} bytes Content-Range names"
            )
        if hasher is not None:
            hasher.update(chunk)
        yield chunk


def _byte_range(header: str | None, size: int) -> tuple[int, int]:
    """The inclusive byte range a `Range` header asks of a file of `size` bytes (the whole file when absent
    or when it asks for several ranges); 416 when it is outside the file."""
    whole = (0, size - 1)
    if header is None or "," in header:
        return whole
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match["start"] and not match["end"]):
        raise ApiError(
            416,
            "RANGE_INVALID",
            "Range must be bytes=<first>-[<last>] or bytes=-<suffix>",
            headers={"Content-Range": f"bytes */{size}"},
        )
    if not match["start"]:
        suffix = int(match["end"])
        if suffix == 0 or size == 0:
            raise ApiError(
                416, "RANGE_INVALID", "an empty suffix range", headers={"Content-Range": f"bytes */{size}"}
            )
        return max(size - suffix, 0), size - 1
    first = int(match["start"])
    last = min(int(match["end"]), size - 1) if match["end"] else size - 1
    if first >= size or last < first:
        raise ApiError(
            416, "RANGE_INVALID", f"the file has {size} bytes", headers={"Content-Range": f"bytes */{size}"}
        )
    return first, last


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
