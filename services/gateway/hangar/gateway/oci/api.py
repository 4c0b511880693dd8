"""The /v2/ endpoint: parse the path, check the method, authorize, run the handler, map errors — once.

Order matters: a malformed path or an unsupported method is answered before any credential is looked at
(it reveals nothing), then the caller must hold the action the method needs on the repository.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from hangar.gateway.auth import DELETE, LIST, PULL, PUSH
from hangar.gateway.clients import BlobstorePort, RegistryPort
from hangar.gateway.oci import routes
from hangar.gateway.oci.access import AccessControl, Caller
from hangar.gateway.oci.base import version_check
from hangar.gateway.oci.blobs import Blobs
from hangar.gateway.oci.catalog import Catalog
from hangar.gateway.oci.errors import API_VERSION_HEADER, OciError, error_response, from_domain
from hangar.gateway.oci.manifests import Manifests
from hangar.gateway.oci.referrers import Referrers
from hangar.gateway.oci.routes import Target, parse_path
from hangar.gateway.oci.shared_files import SharedBlobFiles
from hangar.gateway.oci.shared_uploads import SharedUploadFiles
from hangar.gateway.oci.tags import Tags
from hangar.gateway.oci.uploads import Uploads
from hangar.kit import context
from hangar.kit.errors import DomainError

log = logging.getLogger(__name__)

Handler = Callable[[Request, Target, Caller], Awaitable[Response]]
METHODS: Final = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
REQUEST_ID_HEADER: Final = "x-request-id"


class OciApi:
    """The distribution API over the registry and blobstore clients, behind access control."""

    def __init__(
        self,
        registry: RegistryPort,
        blobstore: BlobstorePort,
        access: AccessControl,
        *,
        catalog_cursor_key: bytes | None = None,
        shared_blob_dir: Path | None = None,
    ) -> None:
        self._access = access
        files = SharedBlobFiles(blobstore, shared_blob_dir) if shared_blob_dir is not None else None
        blobs = Blobs(registry, blobstore, files=files)
        uploads = Uploads(
            registry,
            blobstore,
            access,
            files=SharedUploadFiles(shared_blob_dir) if shared_blob_dir is not None else None,
            blob_files=files,
        )
        self._spares = uploads.spares
        manifests = Manifests(registry, blobstore)
        tags = Tags(registry)
        referrers = Referrers(registry)
        self._catalog = Catalog(registry, access, cursor_key=catalog_cursor_key)
        # resource -> method -> (action needed, handler)
        self._table: dict[str, dict[str, tuple[str, Handler]]] = {
            # A blob DELETE needs `delete` like a manifest DELETE (REGISTRY_ADMIN, ORG_OWNER, or a service key
            # with the delete scope; docs/decisions/0017)
            routes.BLOB: {
                "GET": (PULL, blobs.get),
                "HEAD": (PULL, blobs.head),
                "DELETE": (DELETE, blobs.delete),
            },
            routes.UPLOADS: {"POST": (PUSH, uploads.start)},
            routes.UPLOAD: {
                "GET": (PUSH, uploads.status),
                "PATCH": (PUSH, uploads.patch),
                "PUT": (PUSH, uploads.put),
                "DELETE": (PUSH, uploads.cancel),
            },
            routes.MANIFEST: {
                "GET": (PULL, manifests.get),
                "HEAD": (PULL, manifests.head),
                "PUT": (PUSH, manifests.put),
                "DELETE": (DELETE, manifests.delete),
            },
            routes.TAGS: {"GET": (LIST, tags.list)},
            routes.REFERRERS: {"GET": (LIST, referrers.list)},
        }

    async def close(self) -> None:
        """Cancel the upload sessions opened ahead and not taken (`SpareUploads`)."""
        await self._spares.close()

    def routes(self) -> list[Route]:
        return [
            Route("/v2", self.endpoint, methods=METHODS),
            Route("/v2/{path:path}", self.endpoint, methods=METHODS),
        ]

    async def endpoint(self, request: Request) -> Response:
        head = request.method == "HEAD"
        target: Target | None = None
        try:
            target = parse_path(request.scope["path"])  # request.url would be built (host, query) for nothing
            if target.resource == routes.BASE:
                if request.method not in ("GET", "HEAD"):
                    raise _unsupported(request.method, ["GET", "HEAD"])
                return await version_check(request, self._access)
            if target.resource == routes.CATALOG:
                if request.method != "GET":
                    raise _unsupported(request.method, ["GET"])
                return await self._list_catalog(request)
            methods = self._table[target.resource]
            if request.method not in methods:
                raise _unsupported(request.method, list(methods))
            action, handler = methods[request.method]
            caller = await self._access.require(request, target.name, action)
            call = context.CallContext(
                actor=caller.subject,
                correlation_id=request.headers.get(REQUEST_ID_HEADER, "")[:128] or uuid.uuid4().hex,
            )
            with context.bound(call):
                response = await handler(request, target, caller)
        except OciError as error:
            return error_response(error, head=head)
        except DomainError as error:
            return error_response(from_domain(error, target.resource if target else ""), head=head)
        except ClientDisconnect:
            log.info("client went away during %s %s", request.method, request.url.path)
            return Response(status_code=400)
        response.headers.update(API_VERSION_HEADER)
        return response

    async def _list_catalog(self, request: Request) -> Response:
        """The catalog needs a credential only: each repository is then shown if the caller may list it."""
        caller = await self._access.catalog_caller(request)
        call = context.CallContext(
            actor=caller.subject,
            correlation_id=request.headers.get(REQUEST_ID_HEADER, "")[:128] or uuid.uuid4().hex,
        )
        with context.bound(call):
            response = await self._catalog.list(request, caller)
        response.headers.update(API_VERSION_HEADER)
        return response


def _unsupported(method: str, allowed: list[str]) -> OciError:
    if not allowed:
        return OciError("UNSUPPORTED", "this registry does not serve this endpoint yet", status=404)
    return OciError(
        "UNSUPPORTED",
        f"{method} is not supported here; allowed: {', '.join(allowed)}",
        status=405,
        headers={"Allow": ", ".join(allowed)},
    )
