"""The REST application (`/api/v1`): FastAPI over the identity and keys clients, its body limits, and the
route templates request spans are named by. Its OpenAPI document is generated, at `/api/v1/openapi.json`."""

from __future__ import annotations

import re
from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hangar.gateway.auth import Authenticator, Authorizer
from hangar.gateway.clients.artifacts import ArtifactsPort
from hangar.gateway.clients.ports import BlobstorePort, IdentityPort, KeysPort, RegistryPort
from hangar.gateway.rest import artifacts as artifact_routes
from hangar.gateway.rest import audit, keys, members, org_keys, orgs, sessions
from hangar.gateway.rest.access import ACCESS_CACHE_SECONDS, SESSION_CACHE_SECONDS, Gatekeeper
from hangar.gateway.rest.artifact_access import ArtifactGate
from hangar.gateway.rest.base import Rest
from hangar.gateway.rest.errors import EXCEPTION_HANDLERS, ApiError, error_response

PREFIX: Final = "/api/v1"
VERSION: Final = "1.0.0"
#: JSON bodies larger than this are refused unread (413).
MAX_BODY_BYTES: Final = 64 * 1024

#: Every route, as FastAPI names it (a test keeps this list and the application in step).
ROUTES: Final = (
    "/sessions",
    "/sessions/current",
    "/invitations/{token}/accept",
    "/users/me",
    "/users/me/keys",
    "/users/me/keys/{key_id}",
    "/users/me/keys/{key_id}/rotate",
    "/users/me/legacy-key",
    "/orgs/{org}",
    "/orgs/{org}/teams",
    "/orgs/{org}/teams/{team}",
    "/orgs/{org}/teams/{team}/users",
    "/orgs/{org}/teams/{team}/users/{user_id}",
    "/orgs/{org}/users",
    "/orgs/{org}/users/{user_id}",
    "/orgs/{org}/users/{user_id}/roles",
    "/orgs/{org}/keys",
    "/orgs/{org}/keys/{key_id}",
    "/orgs/{org}/service-keys",
    "/orgs/{org}/service-keys/{key_id}",
    "/orgs/{org}/service-keys/{key_id}/rotate",
    "/orgs/{org}/events",
    *artifact_routes.ROUTES,
)
#: Request bodies that stream to the services instead of being read whole as JSON (file uploads).
STREAMED_BODIES: Final = (artifact_routes.STREAMED_BODY,)
#: Chart archives uploaded as they are (rest/charts.py reads them, up to its own limit).
CHART_UPLOADS: Final = re.compile(r"/orgs/[^/]+(?:/teams/[^/]+)?/charts$")
_TEMPLATES: Final = [
    (re.compile("^" + re.sub(r"\{[a-z_]+\}", "[^/]+", route.replace("{path}", ".+")) + "$"), PREFIX + route)
    for route in ROUTES
]


def route_of(path: str) -> str:
    """The route template of a REST path, for span names: no names, ids or tokens in them."""
    relative = path.removeprefix(PREFIX)
    for pattern, template in _TEMPLATES:
        if pattern.match(relative):
            return template
    return PREFIX + "/{unknown}"


class BodyLimit:
    """Reads a request's body before the application does: at most `max_bytes` (else 413), and JSON (else
    415) when there is one. Nothing is handled, so nothing is written, for a body refused here."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self._app = app
        self._max = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if scope["method"] == "PUT" and any(p.search(scope["path"]) for p in STREAMED_BODIES):
            await self._app(scope, receive, send)
            return
        if scope["method"] == "POST" and CHART_UPLOADS.search(scope["path"]):
            await self._app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self._max:
            await self._refuse(scope, receive, send, _too_large(self._max))
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
            if len(body) > self._max:
                await self._refuse(scope, receive, send, _too_large(self._max))
                return
        if body and not _is_json(headers.get("content-type", "")):
            refusal = ApiError(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                "the body must be JSON: send it as Content-Type: application/json",
            )
            await self._refuse(scope, receive, send, refusal)
            return
        await self._app(scope, _replay(bytes(body), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, error: ApiError) -> None:
        await error_response(error)(scope, receive, send)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "REQUEST_TOO_LARGE", f"the body is larger than {limit // 1024} KiB")


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class NoStore:
    """Every REST answer is the caller's own (and some carry secrets shown once): caches keep none."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"cache-control", b"no-store")]
            await send(message)

        await self._app(scope, receive, send_no_store if scope["type"] == "http" else send)


def _document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, without FastAPI's 422 answers: request validation errors here are 400s."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
            servers=app.servers,
        )
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        schemas = document.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = document
    return app.openapi_schema


def create_rest_app(
    identity: IdentityPort,
    keys_port: KeysPort,
    authenticator: Authenticator,
    authorizer: Authorizer | None = None,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    session_cache_seconds: float = SESSION_CACHE_SECONDS,
    access_cache_seconds: float = ACCESS_CACHE_SECONDS,
    artifacts: ArtifactsPort | None = None,
    registry: RegistryPort | None = None,
    blobstore: BlobstorePort | None = None,
) -> FastAPI:
    """The REST application, to mount at `/api/v1`. `app.state.gate` holds its caches, which revocation
    events evict (`forget_user`, `forget_key`, `forget_everything`)."""
    gate = Gatekeeper(
        identity,
        authenticator,
        authorizer,
        session_cache_seconds=session_cache_seconds,
        access_cache_seconds=access_cache_seconds,
    )
    rest = Rest(identity=identity, keys=keys_port, gate=gate)
    app = FastAPI(
        title="Hangar",
        version=VERSION,
        summary="Orgs, teams, users, invitations, sessions, API keys and the audit log of a Hangar registry",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        generate_unique_id_function=lambda route: route.name,
    )
    for module in (sessions, orgs, members, keys, org_keys, audit):
        app.include_router(module.router(rest))
    if artifacts is not None and registry is not None and blobstore is not None and authorizer is not None:
        artifact_gate = ArtifactGate(gate, authenticator, authorizer)
        handlers = artifact_routes.Artifacts(artifacts, registry, blobstore, identity, artifact_gate)
        app.include_router(artifact_routes.router(handlers))
    app.openapi = lambda: _document(app)  # type: ignore[method-assign]
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(NoStore)
    app.state.gate = gate
    return app
