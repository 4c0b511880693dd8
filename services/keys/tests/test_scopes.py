"""Service-key scopes: actions x entity types, narrowed to a team or a repository of the key's org."""

from __future__ import annotations

import pytest

from hangar.keys.domain import MAX_SCOPES_PER_KEY, KeyScope, validate_scope, validate_scopes
from hangar.kit.errors import InvalidArgument


def refused(scope: KeyScope, org: str = "acme") -> str:
    with pytest.raises(InvalidArgument) as caught:
        validate_scope(org, scope)
    assert caught.value.code == "SCOPE_INVALID"
    return caught.value.message


def test_actions_and_entity_types_are_deduplicated_in_canonical_order() -> None:
    scope = validate_scope("acme", KeyScope(("push", "get", "push", "list"), ("chart", "model", "chart")))

    assert scope == KeyScope(actions=("get", "list", "push"), entity_types=("model", "chart"))


def test_every_action_and_entity_type_is_known() -> None:
    scope = KeyScope(("get", "list", "push", "delete"), ("container", "model", "resource", "chart"))

    assert validate_scope("acme", scope) == scope


def test_no_entity_type_means_all() -> None:
    assert validate_scope("acme", KeyScope(("get",))).entity_types == ()


@pytest.mark.parametrize(
    ("scope", "why"),
    [
        (KeyScope(()), "grants no action"),
        (KeyScope(("read",)), "unknown action 'read'"),
        (KeyScope(("GET",)), "unknown action 'GET'"),
        (KeyScope(("get",), ("dataset",)), "unknown entity type 'dataset'"),
        (KeyScope("get"), "must be a list"),  # type: ignore[arg-type]
    ],
)
def test_unknown_or_missing_actions_and_entity_types_are_refused(scope: KeyScope, why: str) -> None:
    assert why in refused(scope)


def test_a_team_is_a_team_name_of_the_org() -> None:
    assert validate_scope("acme", KeyScope(("get",), team="vision")).team == "vision"
    # The qualified form is accepted and stored bare.
    assert validate_scope("acme", KeyScope(("get",), team="acme/vision")).team == "vision"


@pytest.mark.parametrize(
    ("team", "why"),
    [
        ("other/vision", "not in org acme"),
        ("Vision", "is not a team name"),
        ("v", "is not a team name"),
        ("x" * 65, "is not a team name"),
        ("vi--sion", "is not a team name"),
        ("acme/vision/extra", "is not a team name"),
    ],
)
def test_a_bad_team_is_refused(team: str, why: str) -> None:
    assert why in refused(KeyScope(("get",), team=team))


@pytest.mark.parametrize("repository", ["acme/bert", "acme/vision/bert", "acme/vision/my__model-v2.1"])
def test_a_repository_of_the_org_is_accepted(repository: str) -> None:
    assert validate_scope("acme", KeyScope(("get",), repository=repository)).repository == repository


@pytest.mark.parametrize(
    ("repository", "why"),
    [
        ("other/bert", "not in org acme"),
        ("other/vision/bert", "not in org acme"),
        ("bert", "must be acme/<name> or acme/<team>/<name>"),
        ("acme/a/b/c", "must be acme/<name>"),
        ("acme//bert", "must be acme/<name>"),
        ("acme/Bert", "must be lowercase"),
        ("acme/V/bert", "is not a team name"),
        ("acme/" + "b" * 260, "at most 255"),
    ],
)
def test_a_bad_repository_is_refused(repository: str, why: str) -> None:
    assert why in refused(KeyScope(("get",), repository=repository))


def test_a_repository_with_a_team_must_be_in_that_team() -> None:
    scope = KeyScope(("get",), team="vision", repository="acme/vision/bert")

    assert validate_scope("acme", scope) == scope
    assert "not in team acme/vision" in refused(KeyScope(("get",), team="vision", repository="acme/nlp/bert"))
    assert "not in team acme/vision" in refused(KeyScope(("get",), team="vision", repository="acme/bert"))


def test_a_service_key_needs_a_scope_and_at_most_64() -> None:
    with pytest.raises(InvalidArgument, match="at least one scope") as caught:
        validate_scopes("acme", [])
    assert caught.value.code == "SCOPE_INVALID"

    many = [KeyScope(("get",), repository=f"acme/r{i}") for i in range(MAX_SCOPES_PER_KEY + 1)]
    with pytest.raises(InvalidArgument, match="at most 64") as caught:
        validate_scopes("acme", many)
    assert caught.value.code == "SCOPE_INVALID"
    assert len(validate_scopes("acme", many[:MAX_SCOPES_PER_KEY])) == MAX_SCOPES_PER_KEY


def test_duplicate_scopes_are_dropped_and_the_order_kept() -> None:
    scopes = validate_scopes(
        "acme",
        [
            KeyScope(("push",), team="vision"),
            KeyScope(("get", "get")),
            KeyScope(("get",)),
            KeyScope(("push",)),
        ],
    )

    assert scopes == (KeyScope(("push",), team="vision"), KeyScope(("get",)), KeyScope(("push",)))


def test_the_refusal_names_the_scope_at_fault() -> None:
    with pytest.raises(InvalidArgument, match="scope 2 is invalid: unknown action 'pull'"):
        validate_scopes("acme", [KeyScope(("get",)), KeyScope(("pull",))])


def test_a_huge_value_is_not_echoed_whole() -> None:
    message = refused(KeyScope(("x" * 10_000,)))

    assert len(message) < 300
