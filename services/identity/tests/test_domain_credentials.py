"""Specification of invitations, passwords, sessions, tokens and leaving a team: pure domain, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hangar.identity.domain import (
    INVITATION_LIFETIME,
    INVITATION_SCHEME,
    SESSION_LIFETIME,
    SESSION_SCHEME,
    Invitation,
    InvitationAccepted,
    InvitationStatus,
    Org,
    PasswordSet,
    Role,
    RolesChanged,
    Session,
    SessionEnded,
    SessionStarted,
    User,
    UserInvited,
    UserRemoved,
    UserRemovedFromTeam,
    check_session,
    has_shape,
    issue_token,
    redact,
    token_hash,
    validate_password,
)
from hangar.kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    Unauthenticated,
)

R = Role
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
HASH = "a" * 64


def acme() -> Org:
    """Org acme with team vision, owned by u-ada; u-bob holds REGISTRY_READ in vision."""
    org = Org.create("o1", "acme", "Acme")
    org.create_team("vision")
    org.set_roles("u-ada", None, {R.ORG_OWNER})
    org.set_roles("u-bob", "vision", {R.REGISTRY_READ})
    org.collect()
    return org


def invite(org: Org | None = None, **overrides: object) -> Invitation:
    arguments: dict[str, object] = {
        "invitation_id": "i1",
        "org": org or acme(),
        "team": "vision",
        "email": " Carol@Example.com",
        "display_name": "Carol",
        "roles": {R.REGISTRY_USER},
        "invited_by": "u-ada",
        "token_hash": HASH,
        "now": NOW,
    }
    arguments.update(overrides)
    return Invitation.invite(**arguments)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------------
# Inviting
# --------------------------------------------------------------------------------------------------------


def test_an_invitation_records_scope_roles_inviter_token_hash_and_a_seven_day_expiry() -> None:
    invitation = invite()

    assert invitation.collect() == [
        UserInvited(
            invitation_id="i1",
            org_id="o1",
            org="acme",
            team="vision",
            email="carol@example.com",
            display_name="Carol",
            roles=("REGISTRY_USER",),
            invited_by="u-ada",
            token_hash=HASH,
            expires_at=NOW + timedelta(days=7),
        )
    ]
    assert timedelta(days=7) == INVITATION_LIFETIME
    assert invitation.stream_id == "invitation-i1"
    assert invitation.status(NOW) is InvitationStatus.PENDING


def test_an_invitation_without_a_display_name_names_the_invitee_after_the_email() -> None:
    assert invite(display_name="  ").display_name == "carol"


def test_an_org_level_invitation_may_make_an_owner_while_there_is_room() -> None:
    invitation = invite(team=None, roles={R.ORG_OWNER})

    assert invitation.team is None
    assert invitation.roles == {R.ORG_OWNER}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": ""}, "name@example.com"),
        ({"email": "carol"}, "name@example.com"),
        ({"email": "c" * 250 + "@example.com"}, "too long"),
        ({"email": "x" * 10_000}, "at most 254"),
        ({"roles": set()}, "at least one role"),
        ({"roles": {R.USER_READ}}, "must include REGISTRY_READ, REGISTRY_USER or USER_ADMIN"),
        ({"roles": {R.ORG_OWNER}}, "org scope only"),
        ({"team": "Vision"}, "lowercase"),
        ({"display_name": "x" * 129}, "at most 128"),
        ({"display_name": "bad\x00name"}, "control characters"),
        ({"invited_by": "u" * 129}, "invited_by"),
        ({"token_hash": "not-a-hash"}, "SHA-256"),
    ],
)
def test_bad_input_to_an_invitation_is_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        invite(**overrides)


def test_an_invitation_to_a_team_that_does_not_exist_is_refused() -> None:
    with pytest.raises(NotFound, match="acme/robotics"):
        invite(team="robotics")


def test_someone_already_holding_a_role_at_that_scope_is_not_invited_there_again() -> None:
    with pytest.raises(AlreadyExists, match="already a member of team acme/vision") as refused:
        invite(invitee_user_id="u-bob")

    assert refused.value.code == "ALREADY_MEMBER"
    # At another scope of the same org the invitation is fine.
    assert invite(team=None, invitee_user_id="u-bob").team is None


def test_an_owner_invitation_beyond_the_owner_limit_is_refused() -> None:
    org = acme()
    org.set_roles("u-cid", None, {R.ORG_OWNER})

    with pytest.raises(LimitExceeded, match="2 owners"):
        invite(org, team=None, roles={R.ORG_OWNER})


def test_times_given_to_the_domain_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        invite(now=datetime(2030, 1, 1))


# --------------------------------------------------------------------------------------------------------
# Accepting
# --------------------------------------------------------------------------------------------------------


def loaded(invitation: Invitation) -> Invitation:
    return Invitation.rehydrate(invitation.id, invitation.collect())


def test_an_invitation_is_accepted_once() -> None:
    invitation = loaded(invite())

    invitation.accept("u-carol", NOW + timedelta(days=1))
    assert invitation.collect() == [
        InvitationAccepted(
            invitation_id="i1",
            org_id="o1",
            org="acme",
            team="vision",
            user_id="u-carol",
            email="carol@example.com",
        )
    ]
    assert invitation.status(NOW) is InvitationStatus.ACCEPTED
    with pytest.raises(FailedPrecondition, match="already been accepted") as refused:
        invitation.accept("u-carol", NOW + timedelta(days=1))
    assert refused.value.code == "INVITATION_USED"


def test_an_invitation_expires_after_seven_days() -> None:
    invitation = loaded(invite())
    expiry = NOW + timedelta(days=7)

    assert invitation.status(expiry - timedelta(microseconds=1)) is InvitationStatus.PENDING
    assert invitation.status(expiry) is InvitationStatus.EXPIRED
    with pytest.raises(FailedPrecondition, match="expired at 2030-01-08T12:00:00") as refused:
        invitation.accept("u-carol", expiry)
    assert refused.value.code == "INVITATION_EXPIRED"
    assert invitation.collect() == []


def test_a_used_invitation_says_used_even_after_its_expiry() -> None:
    invitation = loaded(invite())
    invitation.accept("u-carol", NOW)

    with pytest.raises(FailedPrecondition) as refused:
        invitation.accept("u-carol", NOW + timedelta(days=30))
    assert refused.value.code == "INVITATION_USED"


# --------------------------------------------------------------------------------------------------------
# Passwords
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["x" * 12, "correct horse battery", "ü" * 256, " " * 12])
def test_passwords_of_12_to_256_characters_are_allowed(password: str) -> None:
    assert validate_password(password) == password


@pytest.mark.parametrize("password", ["", "short", "x" * 11, "x" * 257, "y" * 10_000])
def test_shorter_or_longer_passwords_are_refused_without_being_repeated(password: str) -> None:
    with pytest.raises(InvalidArgument, match="12 to 256 characters") as refused:
        validate_password(password)

    assert refused.value.code == "PASSWORD_INVALID"
    assert f"has {len(password)}" in refused.value.message
    if password:
        assert password not in refused.value.message


def test_a_user_records_the_hash_of_a_new_password() -> None:
    user = User.register("u1", "ada@example.com", "Ada")
    assert not user.has_password

    user.set_password("$argon2id$hash")
    assert user.collect()[-1] == PasswordSet(user_id="u1", password_hash="$argon2id$hash")
    assert user.has_password
    with pytest.raises(InvalidArgument):
        user.set_password("")


# --------------------------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------------------------


def test_a_session_lasts_twelve_hours() -> None:
    session = Session.start("s1", "u1", HASH, NOW)

    assert session.collect() == [
        SessionStarted(session_id="s1", user_id="u1", token_hash=HASH, expires_at=NOW + timedelta(hours=12))
    ]
    assert timedelta(hours=12) == SESSION_LIFETIME
    check_session(expires_at=NOW + SESSION_LIFETIME, ended=False, now=NOW + timedelta(hours=11, minutes=59))


def test_an_expired_session_is_refused_as_expired() -> None:
    with pytest.raises(Unauthenticated, match="expired at 2030-01-02T00:00:00") as refused:
        check_session(expires_at=NOW + SESSION_LIFETIME, ended=False, now=NOW + SESSION_LIFETIME)
    assert refused.value.code == "SESSION_EXPIRED"


def test_an_ended_session_is_refused_as_invalid() -> None:
    with pytest.raises(Unauthenticated) as refused:
        check_session(expires_at=NOW + SESSION_LIFETIME, ended=True, now=NOW)
    assert refused.value.code == "SESSION_INVALID"


def test_ending_a_session_twice_records_one_end() -> None:
    session = Session.rehydrate("s1", Session.start("s1", "u1", HASH, NOW).collect())

    session.end()
    session.end()
    assert session.collect() == [SessionEnded(session_id="s1", user_id="u1")]


# --------------------------------------------------------------------------------------------------------
# Leaving a team
# --------------------------------------------------------------------------------------------------------


def test_removing_a_user_from_a_team_keeps_their_org_membership() -> None:
    org = acme()
    org.set_roles("u-bob", None, {R.REGISTRY_READ})
    org.collect()

    org.remove_from_team("u-bob", "vision")
    assert org.collect() == [UserRemovedFromTeam(org_id="o1", org="acme", team="vision", user_id="u-bob")]
    assert [m.team for m in org.memberships_of("u-bob")] == [None]


def test_leaving_the_last_team_of_an_org_is_leaving_the_org() -> None:
    org = acme()

    org.remove_from_team("u-bob", "vision")
    assert org.collect() == [
        UserRemovedFromTeam(org_id="o1", org="acme", team="vision", user_id="u-bob"),
        UserRemoved(org_id="o1", org="acme", user_id="u-bob"),
    ]
    assert "u-bob" not in org.members()


def test_removal_from_a_team_needs_the_team_and_a_membership_of_it() -> None:
    org = acme()

    with pytest.raises(NotFound, match="acme/robotics"):
        org.remove_from_team("u-bob", "robotics")
    with pytest.raises(NotFound, match="u-ada has no role in team acme/vision"):
        org.remove_from_team("u-ada", "vision")
    with pytest.raises(InvalidArgument):
        org.remove_from_team("u-bob", "Vision")


def test_team_removals_replay_to_the_same_memberships() -> None:
    history = [
        RolesChanged(org_id="o1", org="acme", team=None, user_id="u-ada", roles=("ORG_OWNER",)),
        RolesChanged(org_id="o1", org="acme", team="vision", user_id="u-bob", roles=("REGISTRY_READ",)),
        UserRemovedFromTeam(org_id="o1", org="acme", team="vision", user_id="u-bob"),
    ]
    replayed = Org.rehydrate("o1", [*acme_creation(), *history])

    assert replayed.memberships_of("u-bob") == []
    assert replayed.owners() == {"u-ada"}


def acme_creation() -> list[object]:
    org = Org.create("o1", "acme", "Acme")
    org.create_team("vision")
    return list(org.collect())


# --------------------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", [INVITATION_SCHEME, SESSION_SCHEME])
def test_tokens_carry_256_random_bits_and_are_stored_as_their_sha256(scheme: str) -> None:
    token, hashed = issue_token(scheme)

    assert token.startswith(f"{scheme}_")
    assert len(token) == 4 + 43
    assert has_shape(scheme, token)
    assert hashed == token_hash(token)
    assert len(hashed) == 64
    assert token not in repr(issue_token(scheme))
    assert issue_token(scheme).token != token


def test_a_token_of_the_other_kind_or_a_bad_shape_is_not_taken() -> None:
    token = issue_token(INVITATION_SCHEME).token

    assert not has_shape(SESSION_SCHEME, token)
    assert not has_shape(INVITATION_SCHEME, token[:-10])
    assert not has_shape(INVITATION_SCHEME, token + "!")
    assert not has_shape(INVITATION_SCHEME, "hgi_" + "a" * 10_000)


def test_a_redacted_token_keeps_the_scheme_and_four_characters() -> None:
    token = issue_token(INVITATION_SCHEME).token

    assert redact(token) == token[:8] + "…"
    assert token[8:] not in redact(token)
