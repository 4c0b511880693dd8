"""The REST edge as a whole: one error shape for every refusal, bounded JSON bodies, the audit log, and a
generated OpenAPI document that is valid and lists every route."""

from __future__ import annotations

import logging

import httpx
import pytest
import schemathesis

from hangar.gateway.app import route_of
from hangar.gateway.rest import ROUTES, RedactTokens
from hangar.gateway.testing import ADMIN_ONLY_KEY, ALICE, API, CAROL_KEY, DAVE_KEY, FakeWorld, bearer
from hangar.kit.errors import DomainError

OWNER = bearer(ADMIN_ONLY_KEY)


def assert_error_shape(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return dict(body["error"])


# -- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"", "body"),
        (b"{not json", "body"),
        (b"[]", "body"),
        (b'{"name": 42}', "body.name"),
        (b'{"name": ""}', "body.name"),
        (b'{"name": "ok", "extra": 1}', "body.extra"),
    ],
)
async def test_a_body_that_does_not_fit_is_400_naming_the_field(
    client: httpx.AsyncClient, fakes: FakeWorld, content: bytes, field: str
) -> None:
    teams = set(fakes.identity.teams["demo"])
    response = await client.post(
        f"{API}/orgs/demo/teams", content=content, headers={**OWNER, "Content-Type": "application/json"}
    )
    error = assert_error_shape(response, 400, "REQUEST_INVALID")
    assert str(error["message"]).startswith(field)
    assert fakes.identity.teams["demo"] == teams


async def test_a_missing_body_is_400_saying_a_json_object_is_required(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/sessions")
    error = assert_error_shape(response, 400, "REQUEST_INVALID")
    assert error["message"] == "body: is required (a JSON object)"


async def test_a_bool_is_not_a_string_nor_a_string_a_bool(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/sessions", json={"email": "a@b.c", "password": True})
    assert_error_shape(response, 400, "REQUEST_INVALID")


async def test_a_body_over_64_kib_is_413_unread(client: httpx.AsyncClient, fakes: FakeWorld) -> None:
    big = b'{"name": "' + b"a" * (64 * 1024) + b'"}'
    response = await client.post(
        f"{API}/orgs/demo/teams", content=big, headers={**OWNER, "Content-Type": "application/json"}
    )
    assert_error_shape(response, 413, "REQUEST_TOO_LARGE")
    assert fakes.identity.check_org_access_calls == 0


async def test_a_chunked_body_over_the_limit_is_413_too(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(80):
            yield b"x" * 1024

    response = await client.post(
        f"{API}/orgs/demo/teams", content=chunks(), headers={**OWNER, "Content-Type": "application/json"}
    )
    assert_error_shape(response, 413, "REQUEST_TOO_LARGE")


async def test_a_body_that_is_not_json_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/orgs/demo/teams", content=b"name=robotics", headers={**OWNER, "Content-Type": "text/plain"}
    )
    assert_error_shape(response, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_an_out_of_range_page_size_is_400(client: httpx.AsyncClient) -> None:
    for size in ("0", "1001", "ten"):
        response = await client.get(f"{API}/orgs/demo/users", params={"page_size": size}, headers=OWNER)
        error = assert_error_shape(response, 400, "REQUEST_INVALID")
        assert str(error["message"]).startswith("query.page_size")


async def test_an_unknown_route_is_404_and_a_wrong_method_405_in_the_same_shape(
    client: httpx.AsyncClient,
) -> None:
    assert_error_shape(await client.get(f"{API}/nowhere", headers=OWNER), 404, "NOT_FOUND")
    wrong = await client.put(f"{API}/orgs/demo", headers=OWNER)
    error = assert_error_shape(wrong, 405, "METHOD_NOT_ALLOWED")
    assert wrong.headers["Allow"] == "GET" and "allowed: GET" in str(error["message"])


# -- service failures --------------------------------------------------------------------------------------


async def test_an_unavailable_service_is_503_with_retry_after(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    async def down(*args: object, **kwargs: object) -> None:
        raise DomainError("connection refused", code="UNAVAILABLE")

    fakes.identity.list_teams = down  # type: ignore[assignment, method-assign]
    response = await client.get(f"{API}/orgs/demo/teams", headers=OWNER)
    assert_error_shape(response, 503, "UNAVAILABLE")
    assert response.headers["Retry-After"] == "1"
    assert "refused" not in response.text


async def test_an_unexpected_error_is_a_500_in_the_same_shape_and_says_nothing(
    client: httpx.AsyncClient, fakes: FakeWorld
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    fakes.identity.list_teams = broken  # type: ignore[assignment, method-assign]
    response = await client.get(f"{API}/orgs/demo/teams", headers=OWNER)
    assert_error_shape(response, 500, "INTERNAL")
    assert "secret internals" not in response.text


async def test_every_answer_is_marked_no_store(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get(f"{API}/orgs/demo", headers=OWNER),
        await client.get(f"{API}/orgs/demo"),
    ):
        assert response.headers["Cache-Control"] == "no-store"


# -- audit log ---------------------------------------------------------------------------------------------


async def test_the_audit_log_lists_the_orgs_events_with_their_actor(client: httpx.AsyncClient) -> None:
    await client.post(f"{API}/orgs/demo/teams", json={"name": "robotics"}, headers=OWNER)
    await client.put(
        f"{API}/orgs/demo/users/user-bob/roles", json={"roles": ["REGISTRY_USER"]}, headers=OWNER
    )
    response = await client.get(f"{API}/orgs/demo/events", headers=bearer(CAROL_KEY))
    assert response.status_code == 200
    events = response.json()["items"]
    assert [e["type"] for e in events] == [
        "hangar.identity.v1.TeamCreated",
        "hangar.identity.v1.RolesChanged",
    ]
    assert {e["actor"] for e in events} == {ALICE}
    assert events[0]["payload"] == {"team": "robotics"} and events[0]["time"].endswith("Z")


async def test_the_audit_log_filters_by_type_actor_and_time(client: httpx.AsyncClient) -> None:
    await client.post(f"{API}/orgs/demo/teams", json={"name": "robotics"}, headers=OWNER)
    await client.post(f"{API}/orgs/demo/teams", json={"name": "graphics"}, headers=bearer(CAROL_KEY))
    by_type = await client.get(f"{API}/orgs/demo/events", params={"type": "TeamCreated"}, headers=OWNER)
    assert len(by_type.json()["items"]) == 2
    by_actor = await client.get(f"{API}/orgs/demo/events", params={"actor": ALICE}, headers=OWNER)
    assert [e["payload"]["team"] for e in by_actor.json()["items"]] == ["robotics"]
    later = await client.get(
        f"{API}/orgs/demo/events", params={"since": "2999-01-01T00:00:00Z"}, headers=OWNER
    )
    assert later.json() == {"items": [], "next_page_token": None}


async def test_the_audit_log_is_for_those_who_may_view_users(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{API}/orgs/demo/events", headers=bearer(DAVE_KEY))).status_code == 403


# -- the document ------------------------------------------------------------------------------------------


async def test_the_openapi_document_is_valid_and_lists_every_route(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = response.json()
    schemathesis.openapi.from_dict(document).validate()
    assert set(document["paths"]) == set(ROUTES)
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["servers"] == [{"url": API}]


async def test_every_operation_documents_its_errors(client: httpx.AsyncClient) -> None:
    document = (await client.get(f"{API}/openapi.json")).json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert {"400", "401", "403", "404"} <= set(operation["responses"]), f"{method} {path}"


def test_spans_are_named_by_rest_route_templates_never_by_ids_or_tokens() -> None:
    assert route_of("/api/v1/orgs/demo/users/u-123/roles") == "/api/v1/orgs/{org}/users/{user_id}/roles"
    assert route_of("/api/v1/invitations/hgi_secret/accept") == "/api/v1/invitations/{token}/accept"
    assert route_of("/api/v1/users/me/keys") == "/api/v1/users/me/keys"
    assert route_of("/api/v1/no/such/thing") == "/api/v1/{unknown}"


def test_access_logs_never_show_an_invitation_token() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5555", "POST", "/api/v1/invitations/hgi_topsecret/accept", "1.1", 200),
        None,
    )
    assert RedactTokens().filter(record)
    assert "hgi_topsecret" not in record.getMessage()
    assert "/api/v1/invitations/<redacted>/accept" in record.getMessage()
