"""The gateway's ASGI application: /v2/ (OCI), /token, /healthz and /readyz over the service clients.

Stateless by construction: everything a request needs is in the request, the signed token, the short
caches, or the services — so any replica serves any request, including the next chunk of an upload.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from opentelemetry.trace import SpanKind, StatusCode
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hangar.gateway.auth import Authenticator, Authorizer, TokenIssuer, TokenVerifier
from hangar.gateway.clients import Services
from hangar.gateway.clients.cached import CachedRegistry
from hangar.gateway.events import EventListener, EventSettings, Revocations
from hangar.gateway.helm import PREFIX as HELM_PREFIX
from hangar.gateway.helm import (
    ChangeWatcher,
    ChartPublisher,
    Evictions,
    HelmAccess,
    HelmIndexes,
    HelmRepository,
    IndexEvents,
)
from hangar.gateway.helm import route_of as helm_route_of
from hangar.gateway.oci.access import AccessControl
from hangar.gateway.oci.api import OciApi
from hangar.gateway.oci.catalog import cursor_key
from hangar.gateway.oci.errors import OciError
from hangar.gateway.oci.routes import parse_path
from hangar.gateway.rest import MAX_BODY_BYTES, create_rest_app
from hangar.gateway.rest import PREFIX as REST_PREFIX
from hangar.gateway.rest import route_of as rest_route_of
from hangar.gateway.rest.charts import install_chart_uploads
from hangar.gateway.tokens import TokenService
from hangar.kit import tracing

log = logging.getLogger(__name__)

_PLAIN_ROUTES: Final = frozenset({"/token", "/healthz", "/readyz"})


class TracingMiddleware:
    """One server span per HTTP request, continuing the client's trace (W3C traceparent) if it sent one.

    Spans are named by route (`PUT /v2/{name}/manifests/{reference}`), never by credentials or bodies.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._tracer = tracing.tracer("hangar.gateway")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        method = scope["method"]
        route = route_of(scope["path"])
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        with self._tracer.start_as_current_span(
            f"{method} {route}", context=tracing.extract(headers), kind=SpanKind.SERVER
        ) as span:
            span.set_attribute("http.request.method", method)
            span.set_attribute("http.route", route)
            try:
                await self._app(scope, receive, send_and_record)
            finally:
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(StatusCode.ERROR)


def route_of(path: str) -> str:
    """The route template of a path, for span names: no repository names or digests in cardinality."""
    if path in _PLAIN_ROUTES:
        return path
    if path.startswith(REST_PREFIX + "/"):
        return rest_route_of(path)
    if path.startswith(HELM_PREFIX + "/"):
        return helm_route_of(path)
    try:
        target = parse_path(path)
    except OciError:
        return "/v2/{unknown}" if path.startswith("/v2") else "{unknown}"
    return {
        "base": "/v2/",
        "blob": "/v2/{name}/blobs/{digest}",
        "uploads": "/v2/{name}/blobs/uploads/",
        "upload": "/v2/{name}/blobs/uploads/{id}",
        "manifest": "/v2/{name}/manifests/{reference}",
        "tags": "/v2/{name}/tags/list",
        "referrers": "/v2/{name}/referrers/{digest}",
    }.get(target.resource, "/v2/{unknown}")


def create_app(
    services: Services,
    signing_key: Ed25519PrivateKey,
    *,
    public_url: str = "",
    token_ttl_seconds: int = 300,
    key_cache_seconds: float = 10.0,
    access_cache_seconds: float = 5.0,
    events: EventSettings | None = None,
    rest_max_body_bytes: int = MAX_BODY_BYTES,
    session_cache_seconds: float = 5.0,
    shared_blob_dir: Path | None = None,
) -> Starlette:
    """The application over `services`, signing tokens with `signing_key`.

    `public_url` (e.g. https://registry.example.com) makes the token realm; when empty it is derived from
    each request's scheme and Host. `app.state.authenticator` and `app.state.authorizer` are the caches
    the revocation events evict (`forget_key`, `forget_user`); with `events`, the lifespan runs that
    listener (`app.state.events`), and /readyz waits for it to have subscribed once. With
    `shared_blob_dir` (the filesystem blobstore's blob directory, shared), blob GETs read files from it.
    """
    issuer = TokenIssuer(signing_key, token_ttl_seconds)
    verifier = TokenVerifier(signing_key.public_key())
    authenticator = Authenticator(
        services.keys, verifier, cache_seconds=key_cache_seconds, token_lifetime_seconds=token_ttl_seconds
    )
    authorizer = Authorizer(services.identity, cache_seconds=access_cache_seconds)
    access = AccessControl(authenticator, authorizer, public_url=public_url)
    oci = OciApi(
        services.registry,
        services.blobstore,
        access,
        catalog_cursor_key=cursor_key(signing_key),
        shared_blob_dir=shared_blob_dir,
    )
    tokens = TokenService(authenticator, authorizer, issuer)
    rest = create_rest_app(
        services.identity,
        services.keys,
        authenticator,
        authorizer,
        max_body_bytes=rest_max_body_bytes,
        session_cache_seconds=session_cache_seconds,
        access_cache_seconds=access_cache_seconds,
        artifacts=services.artifacts,
        registry=services.registry,
        blobstore=services.blobstore,
    )
    # Helm chart repositories (/helm): indexes cached per namespace, evicted by registry events and by this
    # replica's own changes (docs/decisions/0024-helm-repository.md)
    helm_indexes: HelmIndexes | None = None
    evictions: Evictions | None = None
    helm_routes: list[Route] = []
    index_events: IndexEvents | None = None
    if services.artifacts is not None:
        helm_indexes = HelmIndexes(services.artifacts, services.registry, services.blobstore)
        # REST artifact changes link blobs and push manifests in the registry without passing through the
        # content cache: it hears of them as the Helm indexes do
        content_cache = services.registry if isinstance(services.registry, CachedRegistry) else None
        evictions = Evictions(helm_indexes, *([content_cache] if content_cache is not None else []))
        helm_access = HelmAccess(authenticator, authorizer)
        helm_routes = HelmRepository(
            helm_indexes, helm_access, services.artifacts, services.blobstore
        ).routes()
        publisher = ChartPublisher(
            services.registry, services.blobstore, services.artifacts, on_change=helm_indexes.changed
        )
        install_chart_uploads(rest, publisher, authenticator, authorizer)
        if events is not None:
            index_events = IndexEvents(evictions, events.nats_url, events.subject_prefix)
    # the REST API's caches (memberships, permissions) hear the revocations too
    revocations = Revocations(authenticator, authorizer, also=[rest.state.gate])
    listener = EventListener(revocations, events) if events else None

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        serving = await services.serving()
        # Until it has heard revocations once, a replica could honour a revoked token; a later NATS outage
        # keeps it ready (its caches are off, and on reconnect earlier tokens are refused).
        ready = all(serving.values()) and (listener is None or listener.ready)
        body: dict[str, Any] = {
            "status": "ready" if ready else "not ready",
            "services": {name: "SERVING" if up else "NOT_SERVING" for name, up in serving.items()},
        }
        if listener is not None:
            body["events"] = listener.status
        return JSONResponse(body, status_code=200 if ready else 503)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected error serving %s %s", request.method, request.url.path, exc_info=exc)
        body: dict[str, Any] = {"errors": [{"code": "UNKNOWN", "message": "internal error", "detail": None}]}
        return JSONResponse(body, status_code=500)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if listener is not None:
            await listener.start()
        if index_events is not None:
            await index_events.start()
        try:
            yield
        finally:
            await oci.close()
            if index_events is not None:
                await index_events.stop()
            if listener is not None:
                await listener.stop()

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            *tokens.routes(),
            *oci.routes(),
            Mount(REST_PREFIX, app=rest),
            *helm_routes,
        ],
        middleware=[
            # Without an exporter nothing is sampled: no span is worth its cost (hangar.kit.tracing).
            *([Middleware(TracingMiddleware)] if tracing.instrumented() else []),
            *([Middleware(ChangeWatcher, indexes=evictions)] if evictions is not None else []),
        ],
        exception_handlers={Exception: unexpected},
    )
    app.state.authenticator = authenticator
    app.state.authorizer = authorizer
    app.state.rest = rest
    app.state.events = listener
    app.state.helm_indexes = helm_indexes
    return app
