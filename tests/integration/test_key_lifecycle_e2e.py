"""API keys, limits, grants and bad input end to end: REST, `/token` and `/v2` of one real `hangar up`.

DESIGN §1 "API keys" and decisions 0009, 0010 and 0012: a rotated secret, a deactivated or deleted key and a
replaced legacy key are refused on the very next request; limits (8 personal keys, 50 service keys, 2 owners)
refuse the next one with a clear message and create nothing; a USER_ADMIN grants only roles it holds; a
membership needs an anchoring role; bad input gets `{"error": {"code", "message"}}` and changes nothing.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import Any, Final

import pytest
from hangar_client import TOKEN_RETRIES, Answer, Client, Member, Registry, push_image, table
from hangar_harness import Hangar

REPOSITORY: Final = "demo/lifecycle"
PULL: Final = f"repository:{REPOSITORY}:pull"
#: How long a reactivated key may take to work again before the test gives up (and reports the delay).
REACTIVATION_PATIENCE_SECONDS: Final = 15.0
ROTATIONS: Final = 5


@pytest.fixture(scope="module")
def client(hangar: Hangar) -> Client:
    client = Client(hangar.url)
    created = client.api("POST", "/orgs/demo/teams", token=hangar.key, body={"name": "vision"})
    assert created.status == 201, created.shown()
    push_image(Registry(client, hangar.key), REPOSITORY, "1")
    return client


def join(client: Client, hangar: Hangar, roles: list[str], team: str | None = None) -> Member:
    return client.join(
        hangar.key, f"{'-'.join(roles).lower()}-{uuid.uuid4().hex[:8]}@example.com", roles, team
    )


def pulls(client: Client, token: str) -> Answer:
    __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
    return client.v2("GET", f"{REPOSITORY}/tags/list", token=token)


def token_that_pulls(client: Client, secret: str) -> str:
    """An access token for the key that pulls now. A token minted just before the gateway hears an event
    about its user or key (a new member's roles, a rotation) may be refused (decision 0008); ask again, a
    few times. `test_the_first_token_of_a_rotated_secret_pulls` holds the gateway to the first one."""
    __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
    for _ in range(TOKEN_RETRIES):
        token = client.access_token(secret, PULL)
        answer = pulls(client, token)
        if answer.status == 200:
            return token
        if answer.reason not in ("TOKEN_REVOKED", "KEY_REVOKED"):
            break
        time.sleep(0.05)
    raise AssertionError(f"a fresh token does not pull: {answer.shown()}")


def refused_because(answer: Answer, reason: str) -> bool:
    return answer.status == 401 and answer.reason == reason


def own_keys(client: Client, session: str) -> list[dict[str, Any]]:
    __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
    answer = client.api("GET", "/users/me/keys", token=session)
    assert answer.status == 200, answer.shown()
    return list(answer.json["items"])


def service_keys(client: Client, key: str) -> list[dict[str, Any]]:
    __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
    answer = client.api("GET", "/orgs/demo/service-keys?page_size=1000", token=key)
    assert answer.status == 200, answer.shown()
    assert answer.json["next_page_token"] is None
    return list(answer.json["items"])


def members(client: Client, key: str) -> dict[str, Any]:
    """Every member of demo and their memberships, by user id."""
    __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
    answer = client.api("GET", "/orgs/demo/users?page_size=1000", token=key)
    assert answer.status == 200, answer.shown()
    assert answer.json["next_page_token"] is None
    return {m["user"]["id"]: m["memberships"] for m in answer.json["items"]}


def invited_emails(client: Client, key: str) -> set[str]:
    """The emails of every invitation in demo's audit log (bounded pages)."""
    __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
    emails: set[str] = set()
    token = ""
    for _ in range(50):
        answer = client.api("GET", f"/orgs/demo/events?page_size=1000&page_token={token}", token=key)
        assert answer.status == 200, answer.shown()
        for event in answer.json["items"]:
            if event["type"].endswith("UserInvited"):
                emails.add(event["payload"].get("email", ""))
        token = answer.json["next_page_token"] or ""
        if not token:
            return emails
    raise AssertionError("the audit log did not end within 50 pages")


def state(client: Client, key: str) -> dict[str, Any]:
    """What a refused request must leave as it was: teams, members, the caller's keys, service keys."""
    __tracebackhide__ = True  # its arguments hold secrets: keep them out of tracebacks
    teams = client.api("GET", "/orgs/demo/teams?page_size=1000", token=key)
    assert teams.status == 200, teams.shown()
    volatile = ("last_used_at",)
    return {
        "teams": teams.json["items"],
        "members": members(client, key),
        "keys": [{k: v for k, v in item.items() if k not in volatile} for item in own_keys(client, key)],
        "service keys": [
            {k: v for k, v in item.items() if k not in volatile} for item in service_keys(client, key)
        ],
        "invitations": invited_emails(client, key),
    }


def assert_status(answer: Answer, status: int, why: str = "") -> None:
    """Assert outside the caller's expression, so that pytest's explanation shows no secret."""
    if answer.status != status:
        raise AssertionError(f"{why or 'unexpected answer'}: expected {status}, got {answer.shown()}")


def is_rest_error(answer: Answer, status: int | tuple[int, ...]) -> bool:
    statuses = (status,) if isinstance(status, int) else status
    error = answer.rest_error
    return answer.status in statuses and bool(error.get("code")) and bool(error.get("message"))


# -- rotation, deactivation, deletion ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class KeyUnderTest:
    """A personal key (managed by its user, in a session) or a service key (managed by the owner)."""

    kind: str
    key_id: str
    secret: str = dataclasses.field(repr=False)
    path: str = ""  # where it is managed
    manager: str = dataclasses.field(default="", repr=False)  # the credential that manages it


def make_key(client: Client, hangar: Hangar, kind: str) -> KeyUnderTest:
    if kind == "personal":
        member = join(client, hangar, ["REGISTRY_USER"])
        return KeyUnderTest(
            kind, member.key_id, member.key, f"/users/me/keys/{member.key_id}", member.session
        )
    created = client.service_key(hangar.key, f"lifecycle {uuid.uuid4().hex[:6]}", [{"actions": ["get"]}])
    assert created.status == 201, created.shown()
    key_id = created.json["key"]["id"]
    return KeyUnderTest(kind, key_id, created.json["secret"], f"/orgs/demo/service-keys/{key_id}", hangar.key)


def listed(client: Client, key: KeyUnderTest) -> list[str]:
    if key.kind == "personal":
        return [k["id"] for k in own_keys(client, key.manager)]
    return [k["id"] for k in service_keys(client, key.manager)]


KINDS: Final = ["personal", "service"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_rotated_keys_old_secret_is_refused_on_the_very_next_request(
    client: Client, hangar: Hangar, kind: str
) -> None:
    key = make_key(client, hangar, kind)
    old_token = token_that_pulls(client, key.secret)

    rotated = client.api("POST", f"{key.path}/rotate", token=key.manager)
    assert rotated.status == 200, rotated.shown()
    rotated_id, new_secret = rotated.json["key"]["id"], rotated.json["secret"]
    assert rotated_id == key.key_id
    changed = new_secret != key.secret  # (no secret in an assertion's explanation)
    assert changed, "rotation kept the secret"

    refused = client.token(key.secret, PULL)
    assert refused_because(refused, "KEY_INVALID"), refused.shown()
    refused = client.api("GET", "/users/me", token=key.secret)
    assert is_rest_error(refused, 401), refused.shown()
    refused = pulls(client, old_token)
    assert refused.status == 401, f"an access token of the old secret still works: {refused.shown()}"

    token_that_pulls(client, new_secret)
    if kind == "personal":
        assert_status(client.api("GET", "/users/me", token=new_secret), 200)


@pytest.mark.parametrize("kind", KINDS)
def test_the_first_token_of_a_rotated_secret_pulls(client: Client, hangar: Hangar, kind: str) -> None:
    """A client rotates its key, logs in with the new secret and pulls: docker and skopeo do not ask /token
    again when the token they were just given is refused. Repeated, since the refusal is a race."""
    key = make_key(client, hangar, kind)
    token_that_pulls(client, key.secret)
    refused = []
    for attempt in range(1, ROTATIONS + 1):
        rotated = client.api("POST", f"{key.path}/rotate", token=key.manager)
        assert rotated.status == 200, rotated.shown()
        answer = pulls(client, client.access_token(rotated.json["secret"], PULL))
        if answer.status != 200:
            refused.append(f"rotation {attempt}: GET /v2/{REPOSITORY}/tags/list -> {answer.shown(200)}")
    assert not refused, (
        f"the first access token of a new secret was refused after {len(refused)} of {ROTATIONS} rotations:\n"
        + "\n".join(refused)
    )


@pytest.mark.parametrize("kind", KINDS)
def test_a_deactivated_key_is_refused_at_once_and_works_again_once_reactivated(
    client: Client, hangar: Hangar, kind: str
) -> None:
    key = make_key(client, hangar, kind)
    old_token = token_that_pulls(client, key.secret)

    off = client.api("PATCH", key.path, token=key.manager, body={"active": False})
    assert off.status == 200 and off.json["status"] == "inactive", off.shown()
    refused = client.token(key.secret, PULL)
    assert refused_because(refused, "KEY_INACTIVE"), refused.shown()
    assert "inactive" in refused.oci_error["message"], refused.shown()
    refused = client.api("GET", "/users/me", token=key.secret)
    assert is_rest_error(refused, 401) and "inactive" in refused.rest_error["message"], refused.shown()
    assert_status(pulls(client, old_token), 401, "an access token minted before deactivation still works")

    on = client.api("PATCH", key.path, token=key.manager, body={"active": True})
    assert on.status == 200 and on.json["status"] == "active", on.shown()
    started = time.monotonic()
    first = client.token(key.secret, PULL)
    if first.status != 200:  # measure how long it takes, to report it, then fail
        while time.monotonic() - started < REACTIVATION_PATIENCE_SECONDS:
            time.sleep(0.2)
            if client.token(key.secret, PULL).status == 200:
                break
        waited = time.monotonic() - started
        raise AssertionError(
            f"reactivated key refused on the next request ({first.shown()}); worked after {waited:.1f}s"
        )
    assert_status(pulls(client, first.json["token"]), 200, "the first token after reactivation")


@pytest.mark.parametrize("kind", KINDS)
def test_a_deleted_key_is_refused_at_once_and_leaves_the_listing(
    client: Client, hangar: Hangar, kind: str
) -> None:
    key = make_key(client, hangar, kind)
    old_token = token_that_pulls(client, key.secret)

    deleted = client.api("DELETE", key.path, token=key.manager)
    assert deleted.status == 204, deleted.shown()
    refused = client.token(key.secret, PULL)
    assert refused_because(refused, "KEY_REVOKED"), refused.shown()
    assert_status(pulls(client, old_token), 401, "an access token minted before deletion still works")
    assert key.key_id not in listed(client, key)
    missing = client.api("GET", key.path, token=key.manager)
    assert is_rest_error(missing, 404), missing.shown()


def test_regenerating_the_legacy_key_refuses_the_first_at_once(client: Client, hangar: Hangar) -> None:
    member = join(client, hangar, ["REGISTRY_READ"])
    first = client.api("POST", "/users/me/legacy-key", token=member.session)
    assert first.status == 201, first.shown()
    first_token = token_that_pulls(client, first.json["secret"])

    second = client.api("POST", "/users/me/legacy-key", token=member.session)
    assert second.status == 201, second.shown()
    refused = client.token(first.json["secret"], PULL)
    assert refused_because(refused, "KEY_REVOKED"), refused.shown()
    assert_status(pulls(client, first_token), 401, "an access token of the replaced legacy key still works")
    token_that_pulls(client, second.json["secret"])
    second_id = second.json["key"]["id"]
    legacy = [k["id"] for k in own_keys(client, member.session) if k["type"] == "legacy"]
    assert legacy == [second_id]


# -- limits ------------------------------------------------------------------------------------------------


def test_a_ninth_personal_key_is_refused_and_nothing_is_created(client: Client, hangar: Hangar) -> None:
    member = join(client, hangar, ["REGISTRY_READ"])  # holds one key already
    for n in range(2, 9):
        created = client.create_key(member.session, f"key {n}", ["registry"])
        assert created.status == 201, f"key {n}: {created.shown()}"
    before = own_keys(client, member.session)
    assert len(before) == 8

    refused = client.create_key(member.session, "key 9", ["registry"])
    assert is_rest_error(refused, 409), refused.shown()
    assert refused.rest_error["code"] == "PERSONAL_KEY_LIMIT" and "8" in refused.rest_error["message"], (
        refused.shown()
    )
    assert [k["id"] for k in own_keys(client, member.session)] == [k["id"] for k in before]


def test_a_fifty_first_service_key_is_refused_and_nothing_is_created(client: Client, hangar: Hangar) -> None:
    existing = len(service_keys(client, hangar.key))
    made = []
    try:
        for n in range(existing, 50):
            created = client.service_key(hangar.key, f"bulk {n}", [{"actions": ["get"]}])
            assert created.status == 201, f"service key {n + 1}: {created.shown()}"
            made.append(created.json["key"]["id"])
        before = service_keys(client, hangar.key)
        assert len(before) == 50

        refused = client.service_key(hangar.key, "one too many", [{"actions": ["get"]}])
        assert is_rest_error(refused, 409), refused.shown()
        assert refused.rest_error["code"] == "SERVICE_KEY_LIMIT" and "50" in refused.rest_error["message"], (
            refused.shown()
        )
        after = service_keys(client, hangar.key)
        assert [k["id"] for k in after] == [k["id"] for k in before]
        assert "one too many" not in [k["name"] for k in after]
    finally:
        for key_id in made:
            client.api("DELETE", f"/orgs/demo/service-keys/{key_id}", token=hangar.key)


def test_a_third_org_owner_is_refused_and_nothing_changes(client: Client, hangar: Hangar) -> None:
    owners = [
        u for u, ms in members(client, hangar.key).items() if any("ORG_OWNER" in m["roles"] for m in ms)
    ]
    if len(owners) < 2:
        join(client, hangar, ["ORG_OWNER"])
    reader = join(client, hangar, ["REGISTRY_READ"])
    before = state(client, hangar.key)
    assert sum(any("ORG_OWNER" in m["roles"] for m in ms) for ms in before["members"].values()) == 2

    email = f"third-owner-{uuid.uuid4().hex[:8]}@example.com"
    refused = client.invite(hangar.key, email, ["ORG_OWNER"])
    assert is_rest_error(refused, 409) and "2" in refused.rest_error["message"], refused.shown()
    promoted = client.api(
        "PUT", f"/orgs/demo/users/{reader.user_id}/roles", token=hangar.key, body={"roles": ["ORG_OWNER"]}
    )
    assert is_rest_error(promoted, 409) and "2" in promoted.rest_error["message"], promoted.shown()
    after = state(client, hangar.key)
    assert after == before


# -- grants ------------------------------------------------------------------------------------------------


def test_a_user_admin_cannot_grant_registry_admin_it_lacks(client: Client, hangar: Hangar) -> None:
    admin = join(client, hangar, ["USER_ADMIN"])
    reader = join(client, hangar, ["REGISTRY_READ"])
    before = state(client, hangar.key)

    email = f"would-be-admin-{uuid.uuid4().hex[:8]}@example.com"
    invited = client.invite(admin.key, email, ["REGISTRY_ADMIN", "REGISTRY_READ"])
    assert is_rest_error(invited, 403) and "REGISTRY_ADMIN" in invited.rest_error["message"], invited.shown()
    raised = client.api(
        "PUT",
        f"/orgs/demo/users/{reader.user_id}/roles",
        token=admin.key,
        body={"roles": ["REGISTRY_ADMIN", "REGISTRY_READ"]},
    )
    assert is_rest_error(raised, 403) and "REGISTRY_ADMIN" in raised.rest_error["message"], raised.shown()
    added = client.api(
        "POST",
        "/orgs/demo/teams/vision/users",
        token=admin.key,
        body={"user_id": reader.user_id, "roles": ["REGISTRY_ADMIN", "REGISTRY_READ"]},
    )
    assert is_rest_error(added, 403) and "REGISTRY_ADMIN" in added.rest_error["message"], added.shown()
    after = state(client, hangar.key)
    assert after == before


def test_a_membership_of_only_user_read_is_refused(client: Client, hangar: Hangar) -> None:
    reader = join(client, hangar, ["REGISTRY_READ"])
    before = state(client, hangar.key)

    attempts = {
        "invite": client.invite(hangar.key, f"reader-only-{uuid.uuid4().hex[:8]}@example.com", ["USER_READ"]),
        "invite to team": client.invite(
            hangar.key, f"team-{uuid.uuid4().hex[:8]}@example.com", ["USER_READ"], "vision"
        ),
        "set roles": client.api(
            "PUT", f"/orgs/demo/users/{reader.user_id}/roles", token=hangar.key, body={"roles": ["USER_READ"]}
        ),
        "add to team": client.api(
            "POST",
            "/orgs/demo/teams/vision/users",
            token=hangar.key,
            body={"user_id": reader.user_id, "roles": ["USER_READ"]},
        ),
    }
    wrong = {
        what: answer.shown()
        for what, answer in attempts.items()
        if not (is_rest_error(answer, 400) and "REGISTRY_READ" in answer.rest_error["message"])
    }
    assert not wrong, wrong
    after = state(client, hangar.key)
    assert after == before


# -- bad input ---------------------------------------------------------------------------------------------

MIB: Final = 1024 * 1024
BAD_INPUT: Final[list[tuple[str, str, str, dict[str, Any], int]]] = [
    # (what, method, path, request, expected status)
    ("team name with capitals", "POST", "/orgs/demo/teams", {"body": {"name": "Bad_Name"}}, 400),
    ("team name of one character", "POST", "/orgs/demo/teams", {"body": {"name": "x"}}, 400),
    ("team name starting with a dash", "POST", "/orgs/demo/teams", {"body": {"name": "-lead"}}, 400),
    ("team name of 65 characters", "POST", "/orgs/demo/teams", {"body": {"name": "a" * 65}}, 400),
    ("team name with a slash", "POST", "/orgs/demo/teams", {"body": {"name": "a/b"}}, 400),
    (
        "unknown role in an invitation",
        "POST",
        "/orgs/demo/users",
        {"body": {"email": "u@x.io", "roles": ["ROOT"]}},
        400,
    ),
    ("no role in an invitation", "POST", "/orgs/demo/users", {"body": {"email": "u@x.io", "roles": []}}, 400),
    (
        "unknown scope action",
        "POST",
        "/orgs/demo/service-keys",
        {"body": {"name": "s", "scopes": [{"actions": ["own"]}]}},
        400,
    ),
    (
        "unknown entity type",
        "POST",
        "/orgs/demo/service-keys",
        {"body": {"name": "s", "scopes": [{"actions": ["get"], "entity_types": ["video"]}]}},
        400,
    ),
    ("empty body for a team", "POST", "/orgs/demo/teams", {"raw": b""}, 400),
    ("empty body for a key", "POST", "/users/me/keys", {"raw": b""}, 400),
    ("empty object for an invitation", "POST", "/orgs/demo/users", {"body": {}}, 400),
    ("1 MiB body for a team", "POST", "/orgs/demo/teams", {"large": b'{"name": "' + b"a" * MIB + b'"}'}, 413),
    ("1 MiB body for a key", "POST", "/users/me/keys", {"large": b'{"name": "' + b"k" * MIB + b'"}'}, 413),
    ("team name as a number", "POST", "/orgs/demo/teams", {"body": {"name": 5}}, 400),
    (
        "roles as a string",
        "POST",
        "/orgs/demo/users",
        {"body": {"email": "u@x.io", "roles": "REGISTRY_READ"}},
        400,
    ),
    ("services as a string", "POST", "/users/me/keys", {"body": {"name": "k", "services": "registry"}}, 400),
    (
        "lifetime as a string",
        "POST",
        "/users/me/keys",
        {"body": {"name": "k", "expires_in_seconds": "3600"}},
        400,
    ),
    ("active as a string", "PATCH", "/users/me/keys/{key_id}", {"body": {"active": "false"}}, 400),
    (
        "scope actions as a string",
        "POST",
        "/orgs/demo/service-keys",
        {"body": {"name": "s", "scopes": [{"actions": "get"}]}},
        400,
    ),
    ("an array for an object", "POST", "/orgs/demo/teams", {"body": [{"name": "fine"}]}, 400),
    ("null for an object", "POST", "/orgs/demo/teams", {"body": None}, 400),
    ("an unknown field", "POST", "/orgs/demo/teams", {"body": {"name": "fine", "owner": "me"}}, 400),
    ("malformed JSON", "POST", "/orgs/demo/teams", {"raw": b'{"name": "fine"'}, 400),
    (
        "text instead of JSON",
        "POST",
        "/orgs/demo/teams",
        {"raw": b"name=fine", "content_type": "text/plain"},
        415,
    ),
    (
        "a key lifetime under an hour",
        "POST",
        "/users/me/keys",
        {"body": {"name": "k", "expires_in_seconds": 60}},
        400,
    ),
]


def test_bad_input_gets_a_clear_error_and_changes_nothing(client: Client, hangar: Hangar) -> None:
    key_id = own_keys(client, hangar.key)[0]["id"]
    mismatches = []
    for what, method, path, request, expected in BAD_INPUT:
        before = state(client, hangar.key)
        if "large" in request:  # read the early 413 as curl does (urllib fails with a broken pipe)
            answer = client.api_large(method, path, token=hangar.key, raw=request["large"])
        else:
            answer = client.api(method, path.format(key_id=key_id), token=hangar.key, **request)
        problems = []
        if not is_rest_error(answer, expected):
            problems.append(f"expected {expected} with error.code and error.message")
        if state(client, hangar.key) != before:
            problems.append("state changed")
        if problems:
            mismatches.append((what, method, path, expected, answer.shown(120), "; ".join(problems)))
    shown = table(("input", "method", "path", "expected", "got", "problem"), mismatches)
    assert not mismatches, f"{len(mismatches)} of {len(BAD_INPUT)} bad inputs mishandled:\n{shown}"
