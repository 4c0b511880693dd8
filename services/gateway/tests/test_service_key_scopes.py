"""Service keys on /v2: their scopes (actions x entity types, narrowed to a team or a repository, within their
org) are the whole answer, and a denial says what was missing."""

from __future__ import annotations

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hangar.gateway.app import create_app
from hangar.gateway.auth import Authorizer, Scope
from hangar.gateway.auth.service_scopes import CONTAINER, MODEL, grant
from hangar.gateway.clients import KeyInfo, KeyScope
from hangar.gateway.clients.fakes import FakeIdentity
from hangar.gateway.testing import basic, bearer, fake_world

ALL = frozenset({"pull", "push", "delete"})


def scope(actions: str, entity_types: str = "", team: str = "", repository: str = "") -> KeyScope:
    return KeyScope(
        actions=frozenset(actions.split(",")) if actions else frozenset(),
        entity_types=frozenset(entity_types.split(",")) if entity_types else frozenset(),
        team=team,
        repository=repository,
    )


def service_key(*scopes: KeyScope, org: str = "acme", services: str = "registry") -> KeyInfo:
    return KeyInfo(
        key_id="svc-1",
        org=org,
        user_id="",
        services=frozenset(services.split(",")),
        prefix="hgr_svc00001",
        key_type="SERVICE",
        scopes=scopes,
    )


# (scopes, repository, asked, granted): one row per rule.
GRANT_TABLE = [
    # actions: pull -> get, push -> push, delete -> delete; `list` grants no OCI action
    ([scope("get")], "acme/app", ALL, {"pull"}),
    ([scope("push")], "acme/app", ALL, {"push"}),
    ([scope("delete")], "acme/app", ALL, {"delete"}),
    ([scope("list")], "acme/app", ALL, set()),
    ([scope("get,push,delete,list")], "acme/app", ALL, ALL),
    ([scope("get"), scope("push")], "acme/app", ALL, {"pull", "push"}),
    ([scope("*")], "acme/app", ALL, ALL),
    # entity types: /v2 repositories are containers; empty or "all" means every type
    ([scope("get", "container")], "acme/app", ALL, {"pull"}),
    ([scope("get", "container,model")], "acme/app", ALL, {"pull"}),
    ([scope("get", "model")], "acme/app", ALL, set()),
    ([scope("get", "model,chart,resource")], "acme/app", ALL, set()),
    ([scope("get", "all")], "acme/app", ALL, {"pull"}),
    ([scope("get", "model"), scope("get", "container")], "acme/app", ALL, {"pull"}),
    ([scope("get,push", "model"), scope("get", "container")], "acme/app", ALL, {"pull"}),
    # the whole org (no narrowing): org repositories and its teams' repositories
    ([scope("get")], "acme/vision/app", ALL, {"pull"}),
    # narrowed to a team: org/team/* only
    ([scope("get", team="vision")], "acme/vision/app", ALL, {"pull"}),
    ([scope("get", team="acme/vision")], "acme/vision/app", ALL, {"pull"}),
    ([scope("get", team="vision")], "acme/app", ALL, set()),
    ([scope("get", team="vision")], "acme/audio/app", ALL, set()),
    ([scope("get", team="vision")], "acme/visionary/app", ALL, set()),
    # narrowed to a repository: that one only (named in full, or relative to the org)
    ([scope("get", repository="acme/app")], "acme/app", ALL, {"pull"}),
    ([scope("get", repository="app")], "acme/app", ALL, {"pull"}),
    ([scope("get", repository="acme/app")], "acme/app2", ALL, set()),
    ([scope("get", repository="acme/vision/app")], "acme/vision/app", ALL, {"pull"}),
    ([scope("get", team="vision", repository="acme/vision/app")], "acme/vision/app", ALL, {"pull"}),
    ([scope("get", team="audio", repository="acme/vision/app")], "acme/vision/app", ALL, set()),
    # narrowings add up across scopes
    ([scope("get"), scope("push", team="vision")], "acme/vision/app", ALL, {"pull", "push"}),
    ([scope("get"), scope("push", team="vision")], "acme/app", ALL, {"pull"}),
    ([scope("get,push,delete", repository="acme/app"), scope("get")], "acme/other", ALL, {"pull"}),
    # the org must match, whatever the scopes say
    ([scope("get,push,delete")], "other/app", ALL, set()),
    ([scope("get", repository="other/app")], "other/app", ALL, set()),
    ([scope("get")], "acme", ALL, set()),
    # only what was asked is granted
    ([scope("get,push,delete")], "acme/app", {"pull"}, {"pull"}),
    ([], "acme/app", ALL, set()),
]


@pytest.mark.parametrize(("scopes", "repository", "asked", "granted"), GRANT_TABLE)
def test_the_grant_table(
    scopes: list[KeyScope], repository: str, asked: frozenset[str], granted: set[str]
) -> None:
    result = grant(
        scopes, key_org="acme", key_label="hgr_svc00001", repository=repository, kind=CONTAINER, asked=asked
    )
    assert result.granted == granted
    assert result.denied == asked - granted
    assert bool(result.reason) == bool(result.denied)


@pytest.mark.parametrize(
    ("entity_types", "kind", "granted"),
    [("container", CONTAINER, True), ("container", MODEL, False), ("model", MODEL, True), ("", MODEL, True)],
)
def test_the_entity_type_is_the_repositorys_kind(entity_types: str, kind: str, granted: bool) -> None:
    result = grant(
        [scope("get", entity_types)],
        key_org="acme",
        key_label="hgr_svc00001",
        repository="acme/llm",
        kind=kind,
        asked={"pull"},
    )
    assert (result.granted == {"pull"}) is granted


def test_a_denial_for_a_missing_action_says_missing_scope() -> None:
    result = grant(
        [scope("get")],
        key_org="acme",
        key_label="hgr_svc00001",
        repository="acme/app",
        kind=CONTAINER,
        asked={"push"},
    )
    assert result.reason.startswith("missing scope:") and "push" in result.reason
    assert "hgr_svc00001" in result.reason


def test_a_denial_for_another_entity_type_says_wrong_entity_type() -> None:
    result = grant(
        [scope("get,push", "model,chart")],
        key_org="acme",
        key_label="hgr_svc00001",
        repository="acme/app",
        kind=CONTAINER,
        asked={"pull", "push"},
    )
    assert result.reason.startswith("wrong entity type:")
    assert "chart, model" in result.reason and "container" in result.reason


def test_a_denial_outside_the_keys_org_says_so_without_naming_repositories() -> None:
    result = grant(
        [scope("get")],
        key_org="acme",
        key_label="hgr_svc00001",
        repository="other/app",
        kind=CONTAINER,
        asked={"pull"},
    )
    assert "service key of org acme" in result.reason
    assert "other/app" not in result.reason


async def test_the_authorizer_decides_service_keys_from_their_scopes_without_identity() -> None:
    identity = FakeIdentity()
    decision = await Authorizer(identity).decide(
        service_key(scope("get", "container", team="vision")),
        Scope("repository", "acme/vision/app", frozenset({"pull", "push"})),
    )
    assert decision.granted == {"pull"} and decision.denied == {"push"}
    assert decision.reason.startswith("missing scope:")
    assert identity.check_access_calls == 0


async def test_a_service_key_without_the_registry_service_is_denied_whatever_its_scopes() -> None:
    decision = await Authorizer(FakeIdentity()).decide(
        service_key(scope("get"), services="admin"), Scope("repository", "acme/app", frozenset({"pull"}))
    )
    assert decision.granted == frozenset() and "registry service" in decision.reason


class Kinds:
    """A repository-kind lookup as registry will provide it."""

    async def kind_of(self, repository: str) -> str:
        return MODEL if repository.endswith("-model") else CONTAINER


async def test_a_repository_kind_lookup_plugs_into_the_authorizer() -> None:
    authorizer = Authorizer(FakeIdentity(), kinds=Kinds())
    key = service_key(scope("get", "model"))
    model = await authorizer.decide(key, Scope("repository", "acme/llm-model", frozenset({"pull"})))
    container = await authorizer.decide(key, Scope("repository", "acme/app", frozenset({"pull"})))
    assert model.granted == {"pull"}
    assert container.granted == frozenset() and container.reason.startswith("wrong entity type:")


SERVICE_SECRET = "hgr_svc00001_serviceKeySecretServiceKey"


async def test_token_grants_a_service_key_its_scopes_and_v2_says_why_it_refuses() -> None:
    world = fake_world()
    world.keys.add(SERVICE_SECRET, service_key(scope("get", "container", team="vision"), org="demo"))
    app = create_app(world.services(), Ed25519PrivateKey.generate())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://registry.test"
    ) as http:
        response = await http.get(
            "/token",
            params=[("service", "hangar"), ("scope", "repository:demo/vision/app:pull,push")],
            headers=basic(SERVICE_SECRET),
        )
        assert response.status_code == 200, response.text
        token = response.json()["token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["sub"] == "key:svc-1" and claims["key_id"] == "svc-1"
        assert claims["access"] == [{"type": "repository", "name": "demo/vision/app", "actions": ["pull"]}]

        pulled = await http.get("/v2/demo/vision/app/tags/list", headers=bearer(token))
        assert pulled.status_code == 404  # allowed: the repository simply has no tags
        pushed = await http.post("/v2/demo/vision/app/blobs/uploads/", headers=bearer(token))
        assert pushed.status_code == 403
        error = pushed.json()["errors"][0]
        assert error["code"] == "DENIED" and error["detail"]["reason"].startswith("missing scope:")

        raw = await http.get("/v2/demo/app/tags/list", headers=bearer(SERVICE_SECRET))
        assert raw.status_code == 403 and "missing scope" in raw.json()["errors"][0]["detail"]["reason"]
