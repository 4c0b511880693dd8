"""Token scopes and the mapping of OCI actions to identity capabilities."""

from __future__ import annotations

import pytest

from hangar.gateway.auth import (
    ACTIONS,
    Scope,
    actions_granted,
    capabilities_for,
    expand_actions,
    is_valid_name,
    parse_scope,
    parse_scopes,
)
from hangar.kit.errors import InvalidArgument


def test_a_repository_scope_names_the_repository_and_its_actions() -> None:
    assert parse_scope("repository:demo/hello:pull,push") == Scope(
        "repository", "demo/hello", frozenset({"pull", "push"})
    )


def test_star_stands_for_every_action() -> None:
    assert parse_scope("repository:demo/team/model:*").actions == ACTIONS


def test_unknown_actions_are_dropped_not_refused() -> None:
    assert parse_scope("repository:demo/hello:pull,fly").actions == frozenset({"pull"})


def test_a_resource_class_is_accepted() -> None:
    assert parse_scope("repository(plugin):demo/hello:pull").name == "demo/hello"


def test_other_resource_types_are_kept_for_the_caller_to_ignore() -> None:
    assert parse_scope("registry:catalog:*") == Scope("registry", "catalog", frozenset())


@pytest.mark.parametrize(
    "text",
    [
        "repository:demo/hello",
        "repository::pull",
        "demo/hello:pull",
        "repository:Demo/Hello:pull",
        "repository:demo/../etc:pull",
        "repository:demo/hello:pu ll",
        "Repository:demo/hello:pull",
        "repository:" + "a" * 2000 + ":pull",
    ],
)
def test_malformed_scopes_are_refused(text: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        parse_scope(text)
    assert refused.value.code == "SCOPE_INVALID"


def test_scope_parameters_may_list_several_scopes_and_repeats_merge() -> None:
    scopes = parse_scopes(["repository:demo/a:pull repository:demo/b:push", "repository:demo/a:push"])
    assert sorted(scopes, key=lambda s: s.name) == [
        Scope("repository", "demo/a", frozenset({"pull", "push"})),
        Scope("repository", "demo/b", frozenset({"push"})),
    ]


def test_a_scope_prints_as_the_challenge_writes_it() -> None:
    assert (
        str(Scope("repository", "demo/hello", frozenset({"push", "pull"})))
        == "repository:demo/hello:pull,push"
    )


def test_each_action_needs_its_capability() -> None:
    assert capabilities_for(["pull"]) == {"DOWNLOAD_ARTIFACTS"}
    assert capabilities_for(["push"]) == {"PUSH_ARTIFACTS"}
    assert capabilities_for(["delete"]) == {"DELETE_ARTIFACTS"}
    assert capabilities_for(["list"]) == {"VIEW_ARTIFACTS"}
    assert capabilities_for(["*"]) == {
        "DOWNLOAD_ARTIFACTS",
        "PUSH_ARTIFACTS",
        "DELETE_ARTIFACTS",
        "VIEW_ARTIFACTS",
    }


def test_only_actions_whose_capability_is_held_are_granted() -> None:
    assert actions_granted(["pull", "push"], ["DOWNLOAD_ARTIFACTS", "VIEW_ARTIFACTS"]) == {"pull"}
    assert actions_granted(["*"], ["DELETE_ARTIFACTS"]) == {"delete"}
    assert actions_granted(["pull"], []) == frozenset()


def test_expand_actions_ignores_unknown_names() -> None:
    assert expand_actions(["pull", "PUSH", "x"]) == {"pull"}


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("demo/hello", True),
        ("demo/vision/resnet-50", True),
        ("a/b__c/d.e/f--g", True),
        ("hello", True),
        ("Demo/hello", False),
        ("demo//hello", False),
        ("demo/hello/", False),
        ("/demo/hello", False),
        ("demo/.hidden", False),
        ("demo/../etc", False),
        ("demo/a___b", False),
        ("demo/" + "a" * 251, False),
        ("", False),
    ],
)
def test_repository_names_follow_the_oci_grammar(name: str, valid: bool) -> None:
    assert is_valid_name(name) is valid
