"""Specification of the identity domain: names, capability matrix, scopes, grants, Org and User aggregates."""

from __future__ import annotations

import pytest

from hangar.identity.domain import (
    CAPABILITIES,
    AccessDecision,
    Capability,
    Membership,
    Org,
    OrgCreated,
    RepositoryPath,
    Role,
    RolesChanged,
    TeamCreated,
    User,
    UserRegistered,
    UserRemoved,
    capabilities_of,
    check_grant,
    decide,
    decide_org,
    repository_scope,
    validate_display_name,
    validate_email,
    validate_org_name,
    validate_team_name,
)
from hangar.kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    PermissionDenied,
)

C = Capability
R = Role


def org_role(*roles: Role, org: str = "acme") -> Membership:
    return Membership(org=org, team=None, roles=frozenset(roles))


def team_role(team: str, *roles: Role, org: str = "acme") -> Membership:
    return Membership(org=org, team=team, roles=frozenset(roles))


# --------------------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------------------

VALID_NAMES = ["ab", "acme", "a1", "00", "nv-ai", "a.b", "a_b", "a-b.c_d", "x" * 64]
INVALID_NAMES = [
    "",
    "a",
    "x" * 65,
    "Acme",
    "ACME",
    "-acme",
    "acme-",
    ".acme",
    "acme_",
    "ac--me",
    "ac..me",
    "ac_-me",
    "ac me",
    "acme/vision",
    "acmé",
    "ac:me",
]


@pytest.mark.parametrize("name", VALID_NAMES)
def test_org_name_accepts_lowercase_letters_and_digits_joined_by_single_separators(name: str) -> None:
    assert validate_org_name(name) == name


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_org_name_rejects_anything_else(name: str) -> None:
    with pytest.raises(InvalidArgument):
        validate_org_name(name)


@pytest.mark.parametrize("name", VALID_NAMES)
def test_team_name_accepts_the_same_names_as_org_names(name: str) -> None:
    assert validate_team_name(name) == name


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_team_name_rejects_the_same_names_as_org_names(name: str) -> None:
    with pytest.raises(InvalidArgument):
        validate_team_name(name)


def test_name_error_says_which_kind_of_name_and_what_is_wrong() -> None:
    with pytest.raises(InvalidArgument) as too_short:
        validate_team_name("v")
    with pytest.raises(InvalidArgument) as uppercase:
        validate_org_name("Acme")
    assert "team name 'v'" in str(too_short.value) and "2-64" in str(too_short.value)
    assert "org name 'Acme'" in str(uppercase.value) and "lowercase" in str(uppercase.value)


def test_email_is_trimmed_and_lowercased() -> None:
    assert validate_email("  Ada.Lovelace+ml@Example.COM ") == "ada.lovelace+ml@example.com"


@pytest.mark.parametrize("email", ["ops@localhost", "a@b.co", "first.last@sub.example.org"])
def test_ordinary_emails_are_accepted(email: str) -> None:
    assert validate_email(email) == email


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ada",
        "@example.com",
        "ada@",
        "ada@@example.com",
        "ada lovelace@example.com",
        "ada@exa mple.com",
        ".ada@example.com",
        "ada..l@example.com",
        "ada@-example.com",
        "ada@example..com",
        "a" * 65 + "@example.com",
    ],
)
def test_malformed_emails_are_refused(email: str) -> None:
    with pytest.raises(InvalidArgument):
        validate_email(email)


def test_display_name_is_trimmed_and_must_be_printable_and_non_empty() -> None:
    assert validate_display_name("  Ada Lovelace ") == "Ada Lovelace"
    for bad in ["", "   ", "Ada\nLovelace", "x" * 129]:
        with pytest.raises(InvalidArgument):
            validate_display_name(bad)


# --------------------------------------------------------------------------------------------------------
# Capability matrix (written out independently of the code, from DESIGN.md §1)
# --------------------------------------------------------------------------------------------------------

EXPECTED_MATRIX: dict[Role, set[Capability]] = {
    R.ORG_OWNER: set(Capability),
    R.REGISTRY_ADMIN: {
        C.VIEW_ARTIFACTS,
        C.DOWNLOAD_ARTIFACTS,
        C.PUSH_ARTIFACTS,
        C.EDIT_ARTIFACTS,
        C.DELETE_ARTIFACTS,
        C.VIEW_USERS,
        C.VIEW_ORG,
    },
    R.REGISTRY_USER: {C.VIEW_ARTIFACTS, C.DOWNLOAD_ARTIFACTS, C.PUSH_ARTIFACTS, C.EDIT_ARTIFACTS, C.VIEW_ORG},
    R.REGISTRY_READ: {C.VIEW_ARTIFACTS, C.DOWNLOAD_ARTIFACTS, C.VIEW_ORG},
    R.USER_ADMIN: {C.VIEW_ARTIFACTS, C.VIEW_USERS, C.ADD_USERS, C.ADD_TEAMS, C.VIEW_ORG},
    R.USER_READ: {C.VIEW_ORG},
}


@pytest.mark.parametrize("capability", list(Capability), ids=lambda c: c.value)
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_capability_matrix(role: Role, capability: Capability) -> None:
    assert (capability in CAPABILITIES[role]) == (capability in EXPECTED_MATRIX[role])


def test_capabilities_of_several_roles_is_their_union() -> None:
    assert capabilities_of([R.REGISTRY_READ, R.USER_ADMIN]) == {
        C.VIEW_ARTIFACTS,
        C.DOWNLOAD_ARTIFACTS,
        C.VIEW_USERS,
        C.ADD_USERS,
        C.ADD_TEAMS,
        C.VIEW_ORG,
    }


def test_role_and_capability_values_are_their_stable_names() -> None:
    assert [role.value for role in Role] == [
        "ORG_OWNER",
        "REGISTRY_ADMIN",
        "REGISTRY_USER",
        "REGISTRY_READ",
        "USER_ADMIN",
        "USER_READ",
    ]
    assert all(capability.value == capability.name for capability in Capability)


# --------------------------------------------------------------------------------------------------------
# Memberships
# --------------------------------------------------------------------------------------------------------


def test_membership_with_only_user_read_is_invalid() -> None:
    with pytest.raises(InvalidArgument, match="REGISTRY_READ, REGISTRY_USER or USER_ADMIN"):
        org_role(R.USER_READ)


def test_membership_with_only_registry_admin_is_invalid() -> None:
    with pytest.raises(InvalidArgument):
        team_role("vision", R.REGISTRY_ADMIN)


@pytest.mark.parametrize("anchor", [R.REGISTRY_READ, R.REGISTRY_USER, R.USER_ADMIN])
def test_membership_including_read_user_or_user_admin_is_valid(anchor: Role) -> None:
    assert team_role("vision", anchor, R.USER_READ).roles == {anchor, R.USER_READ}


def test_membership_without_roles_is_invalid() -> None:
    with pytest.raises(InvalidArgument):
        org_role()


def test_org_owner_alone_is_a_valid_org_membership() -> None:
    assert org_role(R.ORG_OWNER).roles == {R.ORG_OWNER}


def test_org_owner_is_refused_at_team_scope() -> None:
    with pytest.raises(InvalidArgument, match="org scope only"):
        team_role("vision", R.ORG_OWNER, R.REGISTRY_READ)


def test_membership_scope_names_org_or_team() -> None:
    assert org_role(R.REGISTRY_READ).scope == "org acme"
    assert team_role("vision", R.REGISTRY_READ).scope == "team acme/vision"


# --------------------------------------------------------------------------------------------------------
# Repository paths
# --------------------------------------------------------------------------------------------------------


def test_two_part_repository_lives_at_org_scope() -> None:
    path = RepositoryPath.parse("acme/resnet")
    assert (path.org, path.team, path.name) == ("acme", None, "resnet")
    assert repository_scope("acme/resnet") == ("acme", None)


def test_three_part_repository_lives_in_a_team() -> None:
    assert repository_scope("acme/vision/resnet-50") == ("acme", "vision")
    assert str(RepositoryPath.parse("acme/vision/resnet-50")) == "acme/vision/resnet-50"


@pytest.mark.parametrize(
    "path",
    [
        "acme",
        "acme/",
        "/resnet",
        "acme//resnet",
        "acme/vision/v2/resnet",
        "acme/Resnet",
        "Acme/resnet",
        "acme/v/-x",
        "acme/res net",
        "acme/" + "r" * 251,
    ],
)
def test_malformed_repository_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidArgument):
        RepositoryPath.parse(path)


def test_repository_names_follow_oci_component_rules() -> None:
    assert RepositoryPath.parse("acme/my__model--v2.onnx").name == "my__model--v2.onnx"


# --------------------------------------------------------------------------------------------------------
# Access decisions on repositories
# --------------------------------------------------------------------------------------------------------

ARTIFACT_CAPABILITIES = [
    C.VIEW_ARTIFACTS,
    C.DOWNLOAD_ARTIFACTS,
    C.PUSH_ARTIFACTS,
    C.EDIT_ARTIFACTS,
    C.DELETE_ARTIFACTS,
]


def test_org_scope_role_covers_the_orgs_own_repositories() -> None:
    decision = decide([org_role(R.REGISTRY_USER)], "acme/resnet", [C.PUSH_ARTIFACTS])
    assert decision == AccessDecision(granted=frozenset({C.PUSH_ARTIFACTS}), denial_reason="")


def test_org_scope_role_does_not_reach_team_repositories() -> None:
    decision = decide([org_role(R.REGISTRY_ADMIN, R.REGISTRY_USER)], "acme/vision/resnet", [C.VIEW_ARTIFACTS])
    assert decision.granted == frozenset()
    assert decision.denial_reason == "no role in team acme/vision"


def test_team_scope_role_covers_that_teams_repositories() -> None:
    decision = decide([team_role("vision", R.REGISTRY_READ)], "acme/vision/resnet", ARTIFACT_CAPABILITIES)
    assert decision.granted == {C.VIEW_ARTIFACTS, C.DOWNLOAD_ARTIFACTS}


def test_team_scope_role_does_not_reach_another_team() -> None:
    decision = decide(
        [team_role("vision", R.REGISTRY_ADMIN, R.REGISTRY_USER)], "acme/speech/whisper", [C.VIEW_ARTIFACTS]
    )
    assert decision.denied
    assert decision.denial_reason == "no role in team acme/speech"


def test_team_scope_role_does_not_reach_the_orgs_own_repositories() -> None:
    decision = decide(
        [team_role("vision", R.REGISTRY_ADMIN, R.REGISTRY_USER)], "acme/resnet", [C.VIEW_ARTIFACTS]
    )
    assert decision.denial_reason == "no role in org acme"


def test_org_owner_reaches_every_team() -> None:
    decision = decide([org_role(R.ORG_OWNER)], "acme/vision/resnet", ARTIFACT_CAPABILITIES)
    assert decision.granted == set(ARTIFACT_CAPABILITIES)
    assert not decision.denied


def test_roles_in_another_org_do_not_count() -> None:
    decision = decide([org_role(R.ORG_OWNER, org="globex")], "acme/resnet", [C.VIEW_ARTIFACTS])
    assert decision.denial_reason == "no role in org acme"


def test_user_admin_may_view_artifacts_but_not_download_them() -> None:
    decision = decide([org_role(R.USER_ADMIN)], "acme/resnet", [C.VIEW_ARTIFACTS, C.DOWNLOAD_ARTIFACTS])
    assert decision.allows(C.VIEW_ARTIFACTS)
    assert not decision.allows(C.DOWNLOAD_ARTIFACTS)


def test_denial_names_the_role_the_scope_and_the_refused_action() -> None:
    decision = decide([org_role(R.REGISTRY_READ)], "acme/resnet", [C.PUSH_ARTIFACTS])
    assert decision.denial_reason == "role REGISTRY_READ in org acme does not allow push"


def test_denial_lists_every_refused_action_in_one_sentence() -> None:
    decision = decide(
        [team_role("vision", R.REGISTRY_READ, R.USER_READ)],
        "acme/vision/resnet",
        [C.DELETE_ARTIFACTS, C.PUSH_ARTIFACTS, C.DOWNLOAD_ARTIFACTS],
    )
    assert decision.granted == {C.DOWNLOAD_ARTIFACTS}
    assert decision.denial_reason == (
        "roles REGISTRY_READ, USER_READ in team acme/vision do not allow push or delete artifacts"
    )


def test_denial_for_invisible_team_repository_does_not_mention_the_repository() -> None:
    decision = decide(
        [org_role(R.REGISTRY_ADMIN, R.REGISTRY_USER)], "acme/vision/secret-model", [C.VIEW_ARTIFACTS]
    )
    assert "secret-model" not in decision.denial_reason
    assert decision.denial_reason


def test_denial_reason_is_the_same_whatever_the_repository_name() -> None:
    memberships = [org_role(R.REGISTRY_READ), team_role("speech", R.REGISTRY_READ)]
    reasons = {
        decide(memberships, f"acme/vision/{name}", [C.DOWNLOAD_ARTIFACTS]).denial_reason
        for name in ["resnet", "does-not-exist", "x"]
    }
    assert reasons == {"no role in team acme/vision"}


def test_roles_from_several_memberships_at_one_scope_add_up() -> None:
    memberships = [team_role("vision", R.REGISTRY_READ), team_role("vision", R.USER_ADMIN)]
    decision = decide(memberships, "acme/vision/resnet", [C.DOWNLOAD_ARTIFACTS, C.VIEW_USERS])
    assert decision.granted == {C.DOWNLOAD_ARTIFACTS, C.VIEW_USERS}


def test_nothing_wanted_is_nothing_granted_and_nothing_denied() -> None:
    assert decide([], "acme/resnet", []) == AccessDecision(granted=frozenset())


def test_deciding_on_a_malformed_repository_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgument):
        decide([org_role(R.ORG_OWNER)], "acme/vision/v2/resnet", [C.VIEW_ARTIFACTS])


# --------------------------------------------------------------------------------------------------------
# Access decisions on org and team management
# --------------------------------------------------------------------------------------------------------


def test_org_user_admin_manages_users_of_every_team() -> None:
    for capability in [C.VIEW_USERS, C.ADD_USERS, C.VIEW_ORG]:
        assert decide_org([org_role(R.USER_ADMIN)], "acme", "vision", capability).allows(capability)


def test_team_user_admin_manages_only_its_team() -> None:
    memberships = [team_role("vision", R.USER_ADMIN)]
    assert decide_org(memberships, "acme", "vision", C.ADD_USERS).allows(C.ADD_USERS)
    assert (
        decide_org(memberships, "acme", "speech", C.ADD_USERS).denial_reason == "no role in team acme/speech"
    )
    assert decide_org(memberships, "acme", None, C.ADD_USERS).denial_reason == "no role in org acme"


def test_team_user_admin_cannot_add_teams() -> None:
    decision = decide_org([team_role("vision", R.USER_ADMIN)], "acme", "vision", C.ADD_TEAMS)
    assert not decision.allows(C.ADD_TEAMS)
    assert decision.denial_reason == "no role in org acme"


def test_org_user_admin_can_add_teams() -> None:
    assert decide_org([org_role(R.USER_ADMIN)], "acme", None, C.ADD_TEAMS).allows(C.ADD_TEAMS)


def test_org_registry_admin_cannot_see_a_teams_users() -> None:
    decision = decide_org([org_role(R.REGISTRY_ADMIN, R.REGISTRY_USER)], "acme", "vision", C.VIEW_USERS)
    assert decision.denial_reason == "no role in team acme/vision"


def test_org_user_admin_reach_into_teams_is_named_in_the_denial() -> None:
    decision = decide_org([org_role(R.USER_ADMIN, R.REGISTRY_READ)], "acme", "vision", C.ADD_TEAMS)
    assert decision.allows(C.ADD_TEAMS)
    decision = decide_org(
        [org_role(R.USER_ADMIN), team_role("vision", R.REGISTRY_READ)], "acme", "vision", C.DELETE_ARTIFACTS
    )
    assert decision.denial_reason == (
        "role REGISTRY_READ in team acme/vision and role USER_ADMIN in org acme do not allow delete artifacts"
    )


def test_user_read_may_view_org_details_but_not_its_users() -> None:
    memberships = [org_role(R.REGISTRY_READ, R.USER_READ)]
    assert decide_org(memberships, "acme", None, C.VIEW_ORG).allows(C.VIEW_ORG)
    assert decide_org(memberships, "acme", None, C.VIEW_USERS).denial_reason == (
        "roles REGISTRY_READ, USER_READ in org acme do not allow view users"
    )


def test_org_owner_may_manage_every_team() -> None:
    for capability in Capability:
        assert decide_org([org_role(R.ORG_OWNER)], "acme", "vision", capability).allows(capability)


# --------------------------------------------------------------------------------------------------------
# Granting roles
# --------------------------------------------------------------------------------------------------------


def test_org_owner_may_grant_anything() -> None:
    check_grant([org_role(R.ORG_OWNER)], "acme", None, [R.ORG_OWNER, R.REGISTRY_ADMIN])
    check_grant([org_role(R.ORG_OWNER)], "acme", "vision", list(Role)[1:])


def test_user_admin_may_grant_roles_it_holds() -> None:
    check_grant([team_role("vision", R.USER_ADMIN, R.REGISTRY_USER)], "acme", "vision", [R.REGISTRY_USER])


def test_user_admin_cannot_grant_a_role_it_lacks() -> None:
    with pytest.raises(PermissionDenied, match="lacks REGISTRY_ADMIN"):
        check_grant(
            [team_role("vision", R.USER_ADMIN, R.REGISTRY_USER)], "acme", "vision", [R.REGISTRY_ADMIN]
        )


def test_user_admin_cannot_grant_org_owner() -> None:
    with pytest.raises(PermissionDenied):
        check_grant([org_role(R.USER_ADMIN, R.REGISTRY_ADMIN)], "acme", None, [R.ORG_OWNER])


def test_org_user_admin_grants_its_org_roles_in_any_team() -> None:
    check_grant([org_role(R.USER_ADMIN, R.REGISTRY_ADMIN)], "acme", "vision", [R.REGISTRY_ADMIN])


def test_team_user_admin_combines_its_team_and_org_roles() -> None:
    granter = [org_role(R.REGISTRY_READ), team_role("vision", R.USER_ADMIN)]
    check_grant(granter, "acme", "vision", [R.REGISTRY_READ, R.USER_ADMIN])


def test_team_user_admin_cannot_grant_in_another_team() -> None:
    with pytest.raises(PermissionDenied, match="team acme/speech"):
        check_grant([team_role("vision", R.USER_ADMIN)], "acme", "speech", [R.USER_ADMIN])


def test_team_user_admin_cannot_grant_at_org_scope() -> None:
    with pytest.raises(PermissionDenied):
        check_grant([team_role("vision", R.USER_ADMIN)], "acme", None, [R.USER_ADMIN])


@pytest.mark.parametrize("role", [R.REGISTRY_ADMIN, R.REGISTRY_USER, R.USER_READ])
def test_roles_without_user_admin_cannot_grant_at_all(role: Role) -> None:
    with pytest.raises(PermissionDenied, match="only ORG_OWNER or USER_ADMIN"):
        check_grant([org_role(role, R.REGISTRY_READ)], "acme", None, [R.REGISTRY_READ])


def test_user_admin_in_another_org_cannot_grant() -> None:
    with pytest.raises(PermissionDenied):
        check_grant([org_role(R.ORG_OWNER, org="globex")], "acme", None, [R.REGISTRY_READ])


def test_user_admin_cannot_revoke_a_role_it_lacks() -> None:
    with pytest.raises(PermissionDenied, match="lacks ORG_OWNER"):
        check_grant(
            [org_role(R.USER_ADMIN, R.REGISTRY_READ)],
            "acme",
            None,
            [R.REGISTRY_READ],
            current_roles=[R.ORG_OWNER, R.REGISTRY_READ],
        )


def test_user_admin_may_change_roles_within_those_it_holds() -> None:
    check_grant(
        [org_role(R.USER_ADMIN, R.REGISTRY_USER, R.REGISTRY_READ)],
        "acme",
        None,
        [R.REGISTRY_READ],
        current_roles=[R.REGISTRY_USER],
    )


# --------------------------------------------------------------------------------------------------------
# Org aggregate
# --------------------------------------------------------------------------------------------------------


def new_org() -> Org:
    org = Org.create("o-1", "acme", "ACME Corp")
    org.create_team("vision")
    org.create_team("speech")
    org.collect()
    return org


def test_creating_an_org_records_org_created() -> None:
    org = Org.create("o-1", "acme", "  ACME Corp ")
    assert org.collect() == [OrgCreated(org_id="o-1", name="acme", display_name="ACME Corp")]
    assert (org.stream_id, org.name, org.display_name, org.version) == ("org-o-1", "acme", "ACME Corp", 1)


def test_org_display_name_defaults_to_its_name() -> None:
    assert Org.create("o-1", "acme", "").display_name == "acme"


def test_an_org_with_an_invalid_name_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        Org.create("o-1", "ACME", "ACME Corp")


def test_creating_a_team_records_team_created() -> None:
    org = Org.create("o-1", "acme", "ACME")
    org.collect()
    org.create_team("vision")
    assert org.collect() == [TeamCreated(org_id="o-1", team="vision")]
    assert org.teams == {"vision"}


def test_team_names_are_unique_in_their_org() -> None:
    org = new_org()
    with pytest.raises(AlreadyExists, match="acme/vision"):
        org.create_team("vision")


def test_a_team_with_an_invalid_name_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        new_org().create_team("Vision")


def test_setting_roles_records_roles_changed_in_canonical_order() -> None:
    org = new_org()
    org.set_roles("u-1", "vision", [R.USER_READ, R.REGISTRY_READ, R.USER_ADMIN])
    assert org.collect() == [
        RolesChanged(
            org_id="o-1",
            org="acme",
            team="vision",
            user_id="u-1",
            roles=("REGISTRY_READ", "USER_ADMIN", "USER_READ"),
        )
    ]
    assert org.memberships_of("u-1") == [team_role("vision", R.REGISTRY_READ, R.USER_ADMIN, R.USER_READ)]


def test_roles_at_an_unknown_team_are_refused() -> None:
    with pytest.raises(NotFound, match="acme/robotics"):
        new_org().set_roles("u-1", "robotics", [R.REGISTRY_READ])


def test_an_invalid_membership_is_refused_by_the_org() -> None:
    org = new_org()
    with pytest.raises(InvalidArgument):
        org.set_roles("u-1", None, [R.USER_READ])
    with pytest.raises(InvalidArgument):
        org.set_roles("u-1", "vision", [R.ORG_OWNER])
    assert org.collect() == []


def test_third_owner_is_refused() -> None:
    org = new_org()
    org.set_roles("u-1", None, [R.ORG_OWNER])
    org.set_roles("u-2", None, [R.ORG_OWNER])
    with pytest.raises(LimitExceeded, match="2 owners"):
        org.set_roles("u-3", None, [R.ORG_OWNER, R.REGISTRY_READ])
    assert org.owners() == {"u-1", "u-2"}


def test_an_owner_keeps_ownership_when_its_other_roles_change_at_the_limit() -> None:
    org = new_org()
    org.set_roles("u-1", None, [R.ORG_OWNER])
    org.set_roles("u-2", None, [R.ORG_OWNER])
    org.set_roles("u-2", None, [R.ORG_OWNER, R.REGISTRY_ADMIN])
    assert org.memberships_of("u-2") == [org_role(R.ORG_OWNER, R.REGISTRY_ADMIN)]


def test_a_freed_owner_seat_can_be_taken() -> None:
    org = new_org()
    org.set_roles("u-1", None, [R.ORG_OWNER])
    org.set_roles("u-2", None, [R.ORG_OWNER])
    org.set_roles("u-2", None, [R.REGISTRY_READ])
    org.set_roles("u-3", None, [R.ORG_OWNER])
    assert org.owners() == {"u-1", "u-3"}


def test_the_last_owner_cannot_be_demoted() -> None:
    org = new_org()
    org.set_roles("u-1", None, [R.ORG_OWNER])
    with pytest.raises(FailedPrecondition, match="last ORG_OWNER"):
        org.set_roles("u-1", None, [R.REGISTRY_ADMIN, R.REGISTRY_READ])


def test_the_last_owner_cannot_be_removed() -> None:
    org = new_org()
    org.set_roles("u-1", None, [R.ORG_OWNER])
    with pytest.raises(FailedPrecondition):
        org.remove_user("u-1")


def test_empty_roles_end_the_membership_at_that_scope_only() -> None:
    org = new_org()
    org.set_roles("u-1", None, [R.REGISTRY_READ])
    org.set_roles("u-1", "vision", [R.REGISTRY_USER])
    org.collect()
    org.set_roles("u-1", "vision", [])
    assert org.collect() == [RolesChanged(org_id="o-1", org="acme", team="vision", user_id="u-1", roles=())]
    assert org.memberships_of("u-1") == [org_role(R.REGISTRY_READ)]


def test_ending_the_last_membership_leaves_the_org_without_the_user() -> None:
    org = new_org()
    org.set_roles("u-1", "vision", [R.REGISTRY_USER])
    org.set_roles("u-1", "vision", [])
    assert org.members() == set()


def test_ending_a_membership_that_does_not_exist_is_not_found() -> None:
    with pytest.raises(NotFound):
        new_org().set_roles("u-1", "vision", [])


def test_unchanged_roles_record_nothing() -> None:
    org = new_org()
    org.set_roles("u-1", None, [R.REGISTRY_READ])
    org.collect()
    org.set_roles("u-1", None, [R.REGISTRY_READ])
    assert org.collect() == []


def test_removing_a_user_ends_every_membership() -> None:
    org = new_org()
    org.set_roles("owner", None, [R.ORG_OWNER])
    org.set_roles("u-1", None, [R.REGISTRY_READ])
    org.set_roles("u-1", "vision", [R.REGISTRY_USER])
    org.collect()
    org.remove_user("u-1")
    assert org.collect() == [UserRemoved(org_id="o-1", org="acme", user_id="u-1")]
    assert org.memberships_of("u-1") == []
    assert org.members() == {"owner"}


def test_removing_a_non_member_is_not_found() -> None:
    with pytest.raises(NotFound, match="u-9"):
        new_org().remove_user("u-9")


def test_memberships_list_org_scope_first_then_teams_by_name() -> None:
    org = new_org()
    org.set_roles("u-1", "vision", [R.REGISTRY_READ])
    org.set_roles("u-1", "speech", [R.REGISTRY_READ])
    org.set_roles("u-1", None, [R.USER_ADMIN])
    assert [membership.team for membership in org.memberships_of("u-1")] == [None, "speech", "vision"]


def test_rehydrating_from_the_recorded_events_rebuilds_the_same_org() -> None:
    org = Org.create("o-1", "acme", "ACME")
    org.create_team("vision")
    org.set_roles("u-1", None, [R.ORG_OWNER])
    org.set_roles("u-2", "vision", [R.REGISTRY_USER])
    org.set_roles("u-3", None, [R.REGISTRY_READ])
    org.remove_user("u-3")
    events = org.collect()
    again = Org.rehydrate("o-1", events)
    assert (again.name, again.display_name, again.teams, again.memberships, again.version) == (
        org.name,
        org.display_name,
        org.teams,
        org.memberships,
        len(events),
    )
    assert again.pending == []


def test_an_orgs_memberships_drive_access_decisions() -> None:
    org = new_org()
    org.set_roles("u-1", "vision", [R.REGISTRY_USER])
    decision = decide(org.memberships_of("u-1"), "acme/vision/resnet", [C.PUSH_ARTIFACTS, C.DELETE_ARTIFACTS])
    assert decision.granted == {C.PUSH_ARTIFACTS}
    assert decision.denial_reason == "role REGISTRY_USER in team acme/vision does not allow delete artifacts"


# --------------------------------------------------------------------------------------------------------
# User aggregate
# --------------------------------------------------------------------------------------------------------


def test_registering_a_user_records_user_registered_with_a_normalised_email() -> None:
    user = User.register("u-1", " Ada@Example.com", "Ada Lovelace")
    assert user.collect() == [
        UserRegistered(user_id="u-1", email="ada@example.com", display_name="Ada Lovelace")
    ]
    assert (user.stream_id, user.email) == ("user-u-1", "ada@example.com")


def test_registering_with_a_malformed_email_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        User.register("u-1", "ada", "Ada Lovelace")


def test_registering_without_a_display_name_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        User.register("u-1", "ada@example.com", " ")


def test_rehydrating_a_user_restores_email_and_display_name() -> None:
    user = User.rehydrate("u-1", [UserRegistered(user_id="u-1", email="ada@example.com", display_name="Ada")])
    assert (user.email, user.display_name, user.version) == ("ada@example.com", "Ada", 1)
