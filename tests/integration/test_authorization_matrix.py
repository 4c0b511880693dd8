"""Who may do what, end to end (DESIGN §1 roles, capability matrix, scope rules, service-key scopes).

One real `hangar up`. The owner makes teams `vision` and `audio` and one image (tag `1`) in each of
`demo/shared` (org), `demo/vision/model` and `demo/audio/model`, then invites one user per role and scope
(org, team `vision`), each of whom accepts, logs in and makes a personal key (services registry+admin), and
makes service keys of various scopes. Every principal then tries every action on every repository through
/token and /v2, and every management capability through REST; each test compares the outcomes with the
expected table computed here from DESIGN and prints every mismatch.

Denials must say why and must not tell an invisible repository (or team) from a missing one: each denied
request is repeated on a repository that does not exist in the same scope, and the two answers must be the
same once the names are swapped.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import pytest
from hangar_client import Answer, Client, Image, Registry, manifest, push_image, redact, retag, sha256, table
from hangar_harness import Hangar, skopeo, skopeo_available

SHARED: Final = "demo/shared"
VISION: Final = "demo/vision/model"
AUDIO: Final = "demo/audio/model"
#: Each repository and its scope (None: the org's own).
REPOSITORIES: Final[dict[str, str | None]] = {SHARED: None, VISION: "vision", AUDIO: "audio"}
#: A repository that does not exist, in each scope.
GHOSTS: Final[dict[str | None, str]] = {
    None: "demo/ghost",
    "vision": "demo/vision/ghost",
    "audio": "demo/audio/ghost",
}
MISSING_TEAM: Final = "ghost-team"

# DESIGN §1 capability matrix (deny everything not listed; ORG_OWNER may do all).
ADD_TEAMS, ADD_USERS, VIEW_USERS = "ADD_TEAMS", "ADD_USERS", "VIEW_USERS"
DELETE, EDIT, VIEW, DOWNLOAD, PUSH = "DELETE", "EDIT", "VIEW", "DOWNLOAD", "PUSH"
#: Not rows of the matrix: seeing the org (any member: it is where they are) and a team (a role in it, or
#: the org's USER_ADMIN, who manages the users of every team).
VIEW_ORG, VIEW_TEAM = "VIEW_ORG", "VIEW_TEAM"
CAPABILITIES: Final[dict[str, frozenset[str]]] = {
    "REGISTRY_ADMIN": frozenset({VIEW_USERS, DELETE, EDIT, VIEW, DOWNLOAD, PUSH}),
    "REGISTRY_USER": frozenset({EDIT, VIEW, DOWNLOAD, PUSH}),
    "USER_ADMIN": frozenset({ADD_TEAMS, ADD_USERS, VIEW_USERS, VIEW}),
    "REGISTRY_READ": frozenset({VIEW, DOWNLOAD}),
    "USER_READ": frozenset(),
}
#: What an org-scope USER_ADMIN may do in every team: manage its users, nothing of its content.
ORG_USER_ADMIN_IN_TEAMS: Final = frozenset({VIEW_USERS, ADD_USERS, VIEW_TEAM})
#: A membership must include REGISTRY_READ, REGISTRY_USER or USER_ADMIN: REGISTRY_ADMIN and USER_READ come
#: with REGISTRY_READ.
ROLE_SETS: Final[dict[str, tuple[str, ...]]] = {
    "REGISTRY_ADMIN": ("REGISTRY_ADMIN", "REGISTRY_READ"),
    "REGISTRY_USER": ("REGISTRY_USER",),
    "REGISTRY_READ": ("REGISTRY_READ",),
    "USER_ADMIN": ("USER_ADMIN",),
    "USER_READ": ("USER_READ", "REGISTRY_READ"),
}
#: The capability each /v2 action needs.
CAPABILITY_OF: Final = {"pull": DOWNLOAD, "push": PUSH, "delete": DELETE, "list": VIEW}
#: The service-key scope action each /v2 action needs (DESIGN: "a service key with list can list").
SCOPE_ACTION_OF: Final = {"pull": "get", "push": "push", "delete": "delete", "list": "list"}
#: The status a permitted /v2 action answers with.
ALLOWED_STATUS: Final = {"pull": 200, "push": 201, "delete": 202, "list": 200}


@dataclasses.dataclass(frozen=True)
class Profile:
    """Roles held at one scope (team None: the org)."""

    roles: tuple[str, ...]
    team: str | None

    @property
    def label(self) -> str:
        return f"{self.team or 'org'}:{'+'.join(self.roles)}"

    def may(self, capability: str, scope: str | None) -> bool:
        """Whether DESIGN lets this holder use `capability` at `scope` (None: the org, else a team)."""
        if "ORG_OWNER" in self.roles:
            return True
        if capability == VIEW_ORG:
            return True
        held = (
            frozenset(c for role in self.roles for c in CAPABILITIES[role])
            if scope == self.team
            else frozenset()
        )
        if scope is not None and self.team == scope:
            held |= {VIEW_TEAM}
        if scope is not None and self.team is None and "USER_ADMIN" in self.roles:
            held |= ORG_USER_ADMIN_IN_TEAMS
        if capability == ADD_TEAMS and scope is not None:
            return False
        return capability in held


@dataclasses.dataclass(frozen=True)
class Scopes:
    """A service key's scopes and services, and what DESIGN says they allow on /v2."""

    scopes: tuple[dict[str, Any], ...]
    services: tuple[str, ...] = ("registry",)

    def may(self, action: str, repository: str) -> bool | None:
        """None when DESIGN does not decide (listing with `get` but not `list`)."""
        if "registry" not in self.services:
            return False
        reaching = [s for s in self.scopes if _covers(s, repository)]
        container = [s for s in reaching if not s.get("entity_types") or "container" in s["entity_types"]]
        if any(SCOPE_ACTION_OF[action] in s["actions"] for s in container):
            return True
        if action == "list" and any("get" in s["actions"] for s in container):
            return None
        return False


def _covers(scope: dict[str, Any], repository: str) -> bool:
    if scope.get("repository"):
        return bool(scope["repository"] == repository)
    if scope.get("team"):
        return repository.startswith(f"demo/{scope['team']}/")
    return repository.startswith("demo/")


@dataclasses.dataclass(frozen=True)
class Principal:
    """Someone calling /v2 with a key: a user (by profile) or a service key (by scopes)."""

    label: str
    slug: str
    key: str = dataclasses.field(repr=False)
    registry: Registry = dataclasses.field(repr=False)
    profile: Profile | None = None
    scopes: Scopes | None = None

    @property
    def decides_by_scope(self) -> bool:
        """Whether this principal's decisions depend only on a repository's org or team, so that a missing
        repository of that scope must be refused alike (not so for a key narrowed to one repository)."""
        return self.scopes is None or not any(s.get("repository") for s in self.scopes.scopes)

    def may(self, action: str, repository: str) -> bool | None:
        if self.profile is not None:
            return self.profile.may(CAPABILITY_OF[action], REPOSITORIES.get(repository))
        assert self.scopes is not None
        return self.scopes.may(action, repository)


SERVICE_KEYS: Final[dict[str, Scopes]] = {
    "org-all": Scopes(({"actions": ["get", "list", "push", "delete"]},)),
    "org-get": Scopes(({"actions": ["get"]},)),
    "vision-get-push": Scopes(({"actions": ["get", "push"], "team": "vision"},)),
    "shared-get-delete": Scopes(({"actions": ["get", "delete"], "repository": SHARED},)),
    "vision-container-delete": Scopes(
        ({"actions": ["delete"], "entity_types": ["container"], "team": "vision"},)
    ),
    "audio-two-scopes": Scopes(
        ({"actions": ["get"], "repository": AUDIO}, {"actions": ["push"], "team": "audio"})
    ),
    "model-only": Scopes(({"actions": ["get", "list", "push", "delete"], "entity_types": ["model"]},)),
    "list-only": Scopes(({"actions": ["list"]},)),
    "admin-service-only": Scopes(({"actions": ["get", "list", "push", "delete"]},), services=("admin",)),
}


@dataclasses.dataclass
class World:
    client: Client
    owner_key: str = dataclasses.field(repr=False)
    owner: Registry = dataclasses.field(repr=False)
    images: dict[str, Image]
    users: list[Principal]
    service_keys: list[Principal]

    @property
    def everyone(self) -> list[Principal]:
        return [*self.users, *self.service_keys]


@pytest.fixture(scope="module")
def world(hangar: Hangar) -> World:
    client = Client(hangar.url)
    owner = Registry(client, hangar.key)
    for team in ("vision", "audio"):
        created = client.api("POST", "/orgs/demo/teams", token=hangar.key, body={"name": team})
        assert created.status == 201, created.shown()
    images = {repository: push_image(owner, repository, "1") for repository in REPOSITORIES}

    owner_profile = Profile(("ORG_OWNER",), None)
    users = [Principal("owner", "owner", hangar.key, owner, profile=owner_profile)]
    for team in (None, "vision"):
        for name, roles in ROLE_SETS.items():
            profile = Profile(roles, team)
            slug = f"{team or 'org'}-{name.lower().replace('_', '-')}"
            member = client.join(hangar.key, f"{slug}@example.com", roles, team)
            users.append(
                Principal(profile.label, slug, member.key, Registry(client, member.key), profile=profile)
            )

    service_keys = []
    for name, scopes in SERVICE_KEYS.items():
        created = client.service_key(hangar.key, name, list(scopes.scopes), scopes.services)
        assert created.status == 201, f"service key {name}: {created.shown()}"
        secret = str(created.json["secret"])
        service_keys.append(
            Principal(f"service:{name}", f"sk-{name}", secret, Registry(client, secret), scopes=scopes)
        )
    return World(client, hangar.key, owner, images, users, service_keys)


# -- running one action ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Refs:
    """What one attempt addresses: a manifest by tag and by digest, a blob, what a push sends."""

    tag: str = ""
    digest: str = ""
    blob: bytes = b""
    manifest: bytes = b""


def attempt(action: str, registry: Registry, repository: str, refs: Refs) -> list[Answer]:
    """The requests an action makes, one answer each."""
    if action == "pull":
        return [
            registry.pull_manifest(repository, refs.tag),
            registry.pull_blob(repository, sha256(refs.blob)),
        ]
    if action == "push":
        return [
            registry.push_blob(repository, refs.blob),
            registry.push_manifest(repository, refs.tag, refs.manifest),
        ]
    if action == "delete":
        return [
            registry.delete_manifest(repository, refs.tag),
            registry.delete_manifest(repository, refs.digest),
        ]
    if action == "list":
        return [registry.list_tags(repository)]
    raise AssertionError(action)


@dataclasses.dataclass(frozen=True)
class Row:
    who: str
    repository: str
    action: str
    expected: bool | None
    got: str
    problem: str


def prepare(world: World, action: str, who: Principal, repository: str) -> Refs:
    image = world.images[repository]
    if action == "pull":
        return Refs(tag="1", blob=image.layer)
    if action == "push":
        blob = f"pushed by {who.slug} {uuid.uuid4()}".encode()
        return Refs(tag=f"p-{who.slug}", blob=blob, manifest=manifest(image.config, blob, who.slug))
    if action == "delete":  # two manifests of the owner's, one to delete by tag, one by digest
        tag = f"d-{who.slug}"
        retag(world.owner, image, tag, f"{who.slug} by tag")
        digest = retag(world.owner, image, f"{tag}-digest", f"{who.slug} by digest")
        return Refs(tag=tag, digest=digest)
    return Refs()


def after_allowed(world: World, action: str, repository: str, refs: Refs, answers: list[Answer]) -> str:
    """What a permitted action must have done, checked by the owner; "" when it did."""
    image = world.images[repository]
    if action == "pull" and (answers[0].raw != image.manifest or answers[1].raw != image.layer):
        return "pulled content differs from what was pushed"
    if action == "list" and "1" not in ((answers[0].json or {}).get("tags") or []):
        return f"tag 1 missing from the list: {answers[0].shown()}"
    if action == "push" and world.owner.pull_manifest(repository, refs.tag).status != 200:
        return "the pushed tag cannot be pulled"
    if action == "delete":
        left = [
            ref for ref in (refs.tag, refs.digest) if world.owner.pull_manifest(repository, ref).status != 404
        ]
        if left:
            return f"still there after delete: {left}"
    return ""


def after_denied(world: World, action: str, repository: str, refs: Refs) -> str:
    """What a refused action must have left alone; "" when it did."""
    if action == "push" and world.owner.pull_manifest(repository, refs.tag).status != 404:
        return "a refused push left a tag behind"
    if action == "delete":
        gone = [
            ref for ref in (refs.tag, refs.digest) if world.owner.pull_manifest(repository, ref).status != 200
        ]
        if gone:
            return f"a refused delete removed {gone}"
    return ""


def denial_problem(answer: Answer) -> str:
    """A denial must be 401/403 with an OCI error saying why."""
    if answer.status not in (401, 403):
        return f"expected 401/403, got {answer.shown(160)}"
    error = answer.oci_error
    if error.get("code") not in ("DENIED", "UNAUTHORIZED") or not answer.reason or not error.get("message"):
        return f"denial without a reason: {answer.shown(160)}"
    return ""


def same_as_missing(answer: Answer, repository: str, ghost: Answer, ghost_name: str) -> bool:
    mine = answer.raw.replace(repository.encode(), b"<repository>")
    theirs = ghost.raw.replace(ghost_name.encode(), b"<repository>")
    return answer.status == ghost.status and mine == theirs


def run(world: World, principals: Sequence[Principal], action: str) -> list[Row]:
    rows = []
    for who in principals:
        for repository, scope in REPOSITORIES.items():
            expected = who.may(action, repository)
            refs = prepare(world, action, who, repository)
            answers = attempt(action, who.registry, repository, refs)
            got = "/".join(str(a.status) for a in answers)
            problem = ""
            if expected is None:
                pass
            elif expected:
                bad = [a for a in answers if a.status != ALLOWED_STATUS[action]]
                problem = f"expected {ALLOWED_STATUS[action]}: {bad[0].shown(160)}" if bad else ""
                problem = problem or after_allowed(world, action, repository, refs, answers)
            else:
                problem = next((p for p in map(denial_problem, answers) if p), "")
                problem = problem or after_denied(world, action, repository, refs)
                if not problem and who.decides_by_scope:
                    ghost = GHOSTS[scope]
                    for answer, missing in zip(
                        answers, attempt(action, who.registry, ghost, refs), strict=True
                    ):
                        if not same_as_missing(answer, repository, missing, ghost):
                            problem = (
                                f"differs from missing {ghost}: {answer.shown(120)} vs {missing.shown(120)}"
                            )
                            break
            rows.append(Row(who.label, repository, action, expected, got, problem))
    return rows


def assert_matrix(rows: list[Row]) -> None:
    mismatches = [r for r in rows if r.problem]
    shown = table(
        ("principal", "repository", "action", "expected", "got", "problem"),
        [(r.who, r.repository, r.action, _yes_no(r.expected), r.got, r.problem) for r in mismatches],
    )
    assert not mismatches, f"{len(mismatches)} of {len(rows)} rows differ from DESIGN:\n{shown}"


def _yes_no(expected: bool | None) -> str:
    return "n/a" if expected is None else ("allow" if expected else "deny")


# -- users (personal keys) -------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["pull", "push"])
def test_users_pull_and_push_as_their_roles_and_scopes_allow(world: World, action: str) -> None:
    assert_matrix(run(world, world.users, action))


def test_users_list_tags_when_their_roles_let_them_view_artifacts(world: World) -> None:
    assert_matrix(run(world, world.users, "list"))


# -- service keys ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["pull", "push"])
def test_service_keys_pull_and_push_as_their_scopes_allow(world: World, action: str) -> None:
    assert_matrix(run(world, world.service_keys, action))


def test_service_keys_list_tags_as_their_scopes_allow(world: World) -> None:
    """DESIGN: "A service key with `list` can list" (tags), without `get`."""
    assert_matrix(run(world, world.service_keys, "list"))


def test_a_model_scoped_key_is_refused_on_a_container_repository_for_its_entity_type(world: World) -> None:
    key = next(p for p in world.service_keys if p.slug == "sk-model-only")
    for repository in REPOSITORIES:
        for answer in (key.registry.pull_manifest(repository, "1"), key.registry.push_blob(repository, b"x")):
            assert answer.status == 403, answer.shown()
            assert "entity type" in answer.reason, answer.shown()


def test_service_keys_cannot_use_the_management_api(world: World) -> None:
    for key in world.service_keys:
        answer = world.client.api("GET", "/orgs/demo", token=key.key)
        assert answer.status in (401, 403), f"{key.label}: {answer.shown()}"
        assert answer.rest_error.get("code") and answer.rest_error.get("message"), answer.shown()


# -- management through REST -----------------------------------------------------------------------------

#: A management call by a principal on a team (the scope's, or a missing one standing in for it).
Call = Callable[[Client, Principal, str], Answer]


def _invite(team: str | None) -> Call:
    def call(client: Client, who: Principal, team_name: str) -> Answer:
        email = f"invited-by-{who.slug}-{team or 'org'}-{uuid.uuid4().hex[:6]}@example.com"
        return client.invite(who.key, email, ["USER_ADMIN"], team_name or None)

    return call


def _add_team(client: Client, who: Principal, _: str) -> Answer:
    return client.api(
        "POST", "/orgs/demo/teams", token=who.key, body={"name": f"t-{who.slug}-{uuid.uuid4().hex[:6]}"}
    )


#: (capability, scope, call); a Principal's repr holds no secret, so tracebacks through these show none.
MANAGEMENT: Final[list[tuple[str, str | None, Call]]] = [
    (VIEW_ORG, None, lambda c, who, t: c.api("GET", "/orgs/demo", token=who.key)),
    *[
        (VIEW_TEAM, team, lambda c, who, t: c.api("GET", f"/orgs/demo/teams/{t}", token=who.key))
        for team in ("vision", "audio")
    ],
    (VIEW_USERS, None, lambda c, who, t: c.api("GET", "/orgs/demo/users", token=who.key)),
    *[
        (VIEW_USERS, team, lambda c, who, t: c.api("GET", f"/orgs/demo/teams/{t}/users", token=who.key))
        for team in ("vision", "audio")
    ],
    *[(ADD_USERS, team, _invite(team)) for team in (None, "vision", "audio")],
    (ADD_TEAMS, None, _add_team),
]


def test_management_capabilities_follow_the_matrix_at_org_and_team_scope(world: World) -> None:
    rows = []
    for who in world.users:
        assert who.profile is not None
        for capability, scope, call in MANAGEMENT:
            expected = who.profile.may(capability, scope)
            answer = call(world.client, who, scope or "")
            problem = ""
            if expected and not answer.ok:
                problem = f"expected 2xx: {answer.shown(160)}"
            elif not expected:
                error = answer.rest_error
                if answer.status not in (403, 404) or not error.get("code") or not error.get("message"):
                    problem = f"expected 403/404 saying why: {answer.shown(160)}"
                elif scope is not None and not who.profile.may(VIEW_TEAM, scope):
                    missing = call(world.client, who, MISSING_TEAM)
                    mine = answer.raw.replace(scope.encode(), b"<team>")
                    if (missing.status, missing.raw.replace(MISSING_TEAM.encode(), b"<team>")) != (
                        answer.status,
                        mine,
                    ):
                        problem = f"differs from a missing team: {answer.shown(120)} vs {missing.shown(120)}"
            rows.append((who.label, capability, scope or "org", _yes_no(expected), answer.status, problem))
    mismatches = [r for r in rows if r[-1]]
    shown = table(("user", "capability", "scope", "expected", "got", "problem"), mismatches)
    assert not mismatches, f"{len(mismatches)} of {len(rows)} rows differ from DESIGN:\n{shown}"


# -- a real client ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not skopeo_available(), reason="skopeo is not installed")
def test_skopeo_pulls_what_the_role_allows_and_is_refused_the_rest(
    world: World, hangar: Hangar, work: Path
) -> None:
    reader = next(p for p in world.users if p.slug == "vision-registry-read")
    auth = base64.b64encode(f"$oauthtoken:{reader.key}".encode()).decode()
    (work / "auth.json").write_text(json.dumps({"auths": {hangar.registry: {"auth": auth}}}))  # not in argv
    image = world.images[VISION]
    copied = skopeo(
        work,
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        f"docker://{hangar.registry}/{VISION}:1",
        f"oci:{work / 'layout'}:1",
        timeout=120,
    )
    assert copied.returncode == 0, redact(copied.stderr)
    index = json.loads((work / "layout" / "index.json").read_text())
    assert index["manifests"][0]["digest"] == image.digest

    refused = skopeo(
        work, "inspect", "--raw", "--tls-verify=false", f"docker://{hangar.registry}/{AUDIO}:1", timeout=120
    )
    assert refused.returncode != 0
    assert "no role in team demo/audio" in refused.stderr or "denied" in refused.stderr.lower(), redact(
        refused.stderr
    )


# -- deletes (last: they remove what the rows above read) ------------------------------------------------


def test_users_delete_as_their_roles_and_scopes_allow(world: World) -> None:
    assert_matrix(run(world, world.users, "delete"))


def test_service_keys_delete_as_their_scopes_allow(world: World) -> None:
    assert_matrix(run(world, world.service_keys, "delete"))


def test_every_original_image_survives_the_refused_deletes(world: World) -> None:
    for repository, image in world.images.items():
        answer = world.owner.pull_manifest(repository, "1")
        assert answer.status == 200 and answer.raw == image.manifest, f"{repository}:1 {answer.shown()}"
