"""`/helm/<org>[/<team>]/index.yaml` and `/helm/<org>[/<team>]/charts/<name>-<version>.tgz`: a classic Helm
chart repository per org and per team, over the charts pushed to that namespace (by `helm push`, or as a
.tgz through REST).

No credential, or a refused one: 401 with `WWW-Authenticate: Basic realm="hangar"` (what `helm repo add
--username '$oauthtoken' --password <key>` answers). A namespace the caller may see nothing of is 404, like
one that does not exist; a chart not in the caller's index is 404; one they may list but not download
(USER_ADMIN) is 403.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from hangar.gateway.clients.artifacts import UPLOAD_COMPLETE, ArtifactsPort
from hangar.gateway.clients.ports import BlobstorePort
from hangar.gateway.helm.access import HelmAccess, HelmCaller
from hangar.gateway.helm.chart import NAME_COMPONENT, is_semver, tag_of
from hangar.gateway.helm.index import HelmIndexes, IndexEntry, entry_fields, rfc3339
from hangar.kit.errors import DomainError, Unauthenticated

log = logging.getLogger(__name__)

PREFIX: Final = "/helm"
CHALLENGE: Final = {"WWW-Authenticate": 'Basic realm="hangar"'}
INDEX_MEDIA_TYPE: Final = "application/x-yaml"
CHART_MEDIA_TYPE: Final = "application/gzip"
#: Org and team names (DESIGN §1).
_SCOPE_NAME: Final = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
_FILE: Final = re.compile(r"[A-Za-z0-9._+-]{1,300}\.tgz")
#: A chart file name is split at one of its dashes; at most this many are tried.
MAX_SPLITS: Final = 8


class HelmError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def _scope_name(name: str) -> bool:
    return 2 <= len(name) <= 64 and _SCOPE_NAME.fullmatch(name) is not None


def parse_helm_path(path: str) -> tuple[str, str] | None:
    """(namespace, file) of a /helm path: file is `index.yaml` or a chart file name; None if malformed."""
    parts = path.removeprefix(PREFIX + "/").split("/")
    if len(parts) in (2, 3) and parts[-1] == "index.yaml":
        scope, file = parts[:-1], parts[-1]
    elif len(parts) in (3, 4) and parts[-2] == "charts" and _FILE.fullmatch(parts[-1]):
        scope, file = parts[:-2], parts[-1]
    else:
        return None
    if not all(_scope_name(part) for part in scope):
        return None
    return "/".join(scope), file


def route_of(path: str) -> str:
    """The route template of a /helm path, for span names."""
    parsed = parse_helm_path(path)
    if parsed is None:
        return PREFIX + "/{unknown}"
    namespace, file = parsed
    scope = "{org}/{team}" if "/" in namespace else "{org}"
    return f"{PREFIX}/{scope}/index.yaml" if file == "index.yaml" else f"{PREFIX}/{scope}/charts/{{file}}"


def candidates(file_name: str) -> list[tuple[str, str]]:
    """The (chart name, version) pairs a `<name>-<version>.tgz` file name may stand for."""
    stem = file_name.removesuffix(".tgz")
    found = []
    for index, char in enumerate(stem):
        if char == "-" and NAME_COMPONENT.fullmatch(stem[:index]) and is_semver(stem[index + 1 :]):
            found.append((stem[:index], stem[index + 1 :]))
            if len(found) >= MAX_SPLITS:
                break
    return found


class HelmRepository:
    """The /helm endpoint over the cached indexes, access decisions and the blobstore."""

    def __init__(
        self, indexes: HelmIndexes, access: HelmAccess, artifacts: ArtifactsPort, blobstore: BlobstorePort
    ) -> None:
        self._indexes = indexes
        self._access = access
        self._artifacts = artifacts
        self._blobstore = blobstore

    def routes(self) -> list[Route]:
        return [Route(PREFIX + "/{path:path}", self.endpoint, methods=["GET", "HEAD"])]

    async def endpoint(self, request: Request) -> Response:
        head = request.method == "HEAD"
        try:
            parsed = parse_helm_path(request.url.path)
            if parsed is None:
                raise HelmError(404, "NOT_FOUND", "no such chart repository or chart")
            namespace, file = parsed
            try:
                caller = await self._access.identify(request.headers.get("authorization"))
            except Unauthenticated as refused:
                raise HelmError(401, refused.code, refused.message, CHALLENGE) from None
            if file == "index.yaml":
                response = await self._index(namespace, caller)
            else:
                response = await self._chart(namespace, file, caller)
        except HelmError as error:
            return _error(error, head)
        except DomainError as error:
            if error.code == "UNAVAILABLE" or error.kind == "unavailable":
                return _error(HelmError(503, "UNAVAILABLE", "a backing service is unavailable; retry"), head)
            if error.kind == "unauthenticated":
                return _error(HelmError(401, error.code, error.message, CHALLENGE), head)
            log.error("helm repository: %s failed: %s %s", request.url.path, error.code, error)
            return _error(HelmError(500, "INTERNAL", "internal error"), head)
        if head and isinstance(response, StreamingResponse):
            return Response(status_code=response.status_code, headers=dict(response.headers))
        return response

    async def _index(self, namespace: str, caller: HelmCaller) -> Response:
        if await self._access.namespace_hidden(caller, namespace):
            raise _missing_namespace(namespace)
        index = await self._indexes.get(namespace)
        visible = await self._access.visible(caller, namespace, index.repositories)
        if visible is None:
            raise _missing_namespace(namespace)
        body = index.render(visible)
        return Response(
            body,
            media_type=INDEX_MEDIA_TYPE,
            headers={"Cache-Control": "private, no-cache"},
        )

    async def _chart(self, namespace: str, file: str, caller: HelmCaller) -> Response:
        if await self._access.namespace_hidden(caller, namespace):
            raise _missing_namespace(namespace)
        index = await self._indexes.get(namespace)
        entry = index.entry(file) or await self._resolve(namespace, file)
        if entry is None:
            await self._refuse_missing(namespace, caller, file)
            raise _missing_chart(namespace, file)
        listing, download = await self._access.may_download(caller, entry.repository)
        if not listing.allowed:
            await self._refuse_missing(namespace, caller, file)
            raise _missing_chart(namespace, file)
        if not download.allowed:
            raise HelmError(403, "DENIED", f"you may not download {entry.repository}: {download.reason}")
        chunks = self._blobstore.read(entry.chart_digest, 0, 0)
        first = await anext(chunks, b"")  # a blob the store cannot serve is an error, not a truncated 200
        return StreamingResponse(
            _stream(first, chunks),
            media_type=CHART_MEDIA_TYPE,
            headers={
                "Content-Length": str(entry.chart_size),
                "ETag": f'"{entry.chart_digest}"',
                "Cache-Control": "private, max-age=300",
            },
        )

    async def _refuse_missing(self, namespace: str, caller: HelmCaller, file: str) -> None:
        """A namespace the caller may see nothing of answers as a missing one (checked before 'no chart')."""
        if await self._access.visible(caller, namespace, ()) is None:
            raise _missing_namespace(namespace)

    async def _resolve(self, namespace: str, file: str) -> IndexEntry | None:
        """A chart the cached index does not list yet (pushed a moment ago through another replica): look
        the version up directly; when it exists, this namespace's index is stale and is forgotten."""
        for name, version in candidates(file):
            repository = f"{namespace}/{name}"
            try:
                found = await self._artifacts.get_version(repository, tag_of(version))
            except DomainError as error:
                if error.kind in ("not_found", "invalid_argument"):
                    continue
                raise
            if found.status != UPLOAD_COMPLETE or not found.manifest_digest:
                continue
            manifest = await self._indexes.chart_manifest(repository, found.manifest_digest)
            if manifest is None:
                continue
            metadata = await self._indexes.chart_metadata(manifest.config_digest)
            if str(metadata.get("version") or version) != version:
                continue
            self._indexes.forget(namespace)
            fields = entry_fields(
                metadata,
                name=name,
                version=version,
                created=rfc3339(found.committed_at_ms),
                digest=manifest.chart_digest,
            )
            return IndexEntry(
                repository, name, version, found.version, manifest.chart_digest, manifest.chart_size, fields
            )
        return None


def _missing_namespace(namespace: str) -> HelmError:
    return HelmError(404, "NOT_FOUND", f"chart repository {namespace} not found")


def _missing_chart(namespace: str, file: str) -> HelmError:
    return HelmError(404, "CHART_UNKNOWN", f"chart {file} not found in {namespace}")


def _error(error: HelmError, head: bool) -> Response:
    body: dict[str, Any] = {"error": {"code": error.code, "message": error.message, "detail": None}}
    headers = {"Cache-Control": "no-store", **error.headers}
    if head:
        return Response(status_code=error.status, headers=headers)
    return JSONResponse(body, status_code=error.status, headers=headers)


async def _stream(first: bytes, rest: Any) -> Any:
    try:
        if first:
            yield first
        async for chunk in rest:
            yield chunk
    finally:
        aclose = getattr(rest, "aclose", None)
        if aclose is not None:
            await aclose()
