"""`/users/me/keys[/{id}]` (+ `/rotate`) and `/users/me/legacy-key`: the caller's own API keys.

A key that is not the caller's answers 404 exactly like one that does not exist. A caller who came with a key
cannot give a new key services its own key lacks. Secrets appear once, in the answer that made them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Final

from fastapi import APIRouter, Body, Depends, Path, Query
from starlette.responses import Response

from hangar.gateway.clients.model import KeyInfo
from hangar.gateway.rest.access import Caller
from hangar.gateway.rest.base import ERRORS, GuardedRoute, Rest
from hangar.gateway.rest.paging import DEFAULT_PAGE_SIZE, PageSize, PageToken, cut
from hangar.gateway.rest.schemas import (
    CreatePersonalKeyRequest,
    IssuedKeyOut,
    KeyOut,
    KeyPage,
    LegacyKeyRequest,
    UpdateKeyRequest,
    key_out,
    key_status,
)
from hangar.kit.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

KeyPath = Annotated[str, Path(min_length=1, max_length=128, description="A key id")]
IncludeDead = Annotated[bool, Query(description="Also list revoked and expired keys")]

USER_KEY_TYPES: Final = frozenset({"PERSONAL", "LEGACY"})
#: A legacy key acts with all of the user's roles, through every service.
LEGACY_SERVICES: Final = ("admin", "registry")


def key_not_found(key_id: str) -> NotFound:
    """The one answer for a key that does not exist or is not the caller's to see."""
    return NotFound(f"API key {key_id} not found", code="KEY_NOT_FOUND")


def check_services(caller: Caller, services: Iterable[str]) -> None:
    """A key caller may not hand a new or changed key services its own key lacks."""
    allowed = caller.services
    lacking = sorted(set(services) - allowed) if allowed is not None else []
    if lacking:
        raise PermissionDenied(
            f"the API key of this request lacks the {', '.join(lacking)} service; it cannot give it to a key",
            code="KEY_SERVICE_MISSING",
        )


def router(rest: Rest) -> APIRouter:
    api = APIRouter(route_class=GuardedRoute, responses=ERRORS, tags=["keys"])
    authenticated = Depends(rest.caller)

    async def own_key(caller: Caller, key_id: str) -> KeyInfo:
        try:
            key = await rest.keys.get_key(key_id)
        except NotFound:
            raise key_not_found(key_id) from None
        if key.user_id != caller.user_id or key.key_type not in USER_KEY_TYPES:
            raise key_not_found(key_id)
        return key

    def issued(key: KeyInfo, secret: str) -> IssuedKeyOut:
        return IssuedKeyOut(key=key_out(key, rest.wall_clock()), secret=secret)

    @api.get("/users/me/keys")
    async def list_keys(
        caller: Caller = authenticated,
        include_dead: IncludeDead = False,
        page_size: PageSize = DEFAULT_PAGE_SIZE,
        page_token: PageToken = "",
    ) -> KeyPage:
        """The caller's personal and legacy keys, oldest first (metadata only)."""
        now = rest.wall_clock()
        keys = [
            key
            for key in await rest.keys.list_keys(caller.user_id)
            if key.key_type in USER_KEY_TYPES
            and (include_dead or key_status(key, now) in ("active", "inactive"))
        ]
        items, token = cut(keys, page_size, page_token)
        return KeyPage(items=[key_out(key, now) for key in items], next_page_token=token)

    @api.post("/users/me/keys", status_code=201)
    async def create_key(body: CreatePersonalKeyRequest, caller: Caller = authenticated) -> IssuedKeyOut:
        """Issue a personal key (at most 8 per user); its secret is in this answer and nowhere else."""
        check_services(caller, body.services)
        org = await rest.gate.resolve_org(caller, body.org)
        issued_key = await rest.keys.issue_personal_key(
            org, caller.user_id, body.name, sorted(set(body.services)), body.expires_in_seconds or 0
        )
        return issued(issued_key.key, issued_key.secret)

    @api.get("/users/me/keys/{key_id}")
    async def get_key(key_id: KeyPath, caller: Caller = authenticated) -> KeyOut:
        return key_out(await own_key(caller, key_id), rest.wall_clock())

    @api.patch("/users/me/keys/{key_id}")
    async def update_key(key_id: KeyPath, body: UpdateKeyRequest, caller: Caller = authenticated) -> KeyOut:
        """Rename a personal key, replace its services, or (de)activate it."""
        if body.name is None and body.services is None and body.active is None:
            raise InvalidArgument("nothing to change: give name, services or active", code="REQUEST_INVALID")
        key = await own_key(caller, key_id)
        if key.key_type == "LEGACY":
            raise _legacy_refuses("changed")
        if body.services is not None:
            check_services(caller, body.services)
        if body.name is not None or body.services is not None:
            services = sorted(set(body.services)) if body.services is not None else None
            key = await rest.keys.update_key(key_id, name=body.name, services=services)
        if body.active is not None:
            key = await rest.keys.set_key_active(key_id, body.active)
        rest.gate.key_changed(key_id)
        return key_out(key, rest.wall_clock())

    @api.delete("/users/me/keys/{key_id}", status_code=204, response_class=Response)
    async def delete_key(key_id: KeyPath, caller: Caller = authenticated) -> Response:
        """Revoke the key at once and remove it from listings."""
        await own_key(caller, key_id)
        await rest.keys.delete_key(key_id)
        rest.gate.key_changed(key_id, final=True)
        return Response(status_code=204)

    @api.post("/users/me/keys/{key_id}/rotate")
    async def rotate_key(key_id: KeyPath, caller: Caller = authenticated) -> IssuedKeyOut:
        """A new secret for the key (same id); the old secret stops working at once."""
        key = await own_key(caller, key_id)
        if key.key_type == "LEGACY":
            raise _legacy_refuses("rotated (regenerate it instead)")
        rotated = await rest.keys.rotate_key(key_id)
        rest.gate.key_changed(key_id)
        return issued(rotated.key, rotated.secret)

    @api.post("/users/me/legacy-key", status_code=201)
    async def regenerate_legacy_key(
        body: Annotated[LegacyKeyRequest | None, Body()] = None, caller: Caller = authenticated
    ) -> IssuedKeyOut:
        """(Re)generate the caller's one legacy key in the org; the previous one stops working at once."""
        check_services(caller, LEGACY_SERVICES)
        org = await rest.gate.resolve_org(caller, body.org if body else None)
        previous = [
            key.key_id
            for key in await rest.keys.list_keys(caller.user_id)
            if key.key_type == "LEGACY" and key.org == org
        ]
        issued_key = await rest.keys.issue_legacy_key(org, caller.user_id)
        for key_id in previous:
            rest.gate.key_changed(key_id, final=True)
        return issued(issued_key.key, issued_key.secret)

    return api


def _legacy_refuses(what: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"a legacy key cannot be {what}; it can be regenerated or deleted", code="LEGACY_KEY_UNSUPPORTED"
    )
