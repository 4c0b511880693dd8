"""Invitations, passwords and sessions over a real SQLite database: events, read models, outbox, logs."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from hangar.api.identity.v1 import events_pb2
from hangar.identity.app import App
from hangar.identity.domain import Membership, Role
from hangar.identity.notifier import LoggingNotifier
from hangar.identity.passwords import Argon2Passwords
from hangar.identity.testing import RecordingNotifier, SettableClock, cheap_passwords
from hangar.kit import context, schema
from hangar.kit.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unauthenticated,
)
from hangar.kit.uow import UnitOfWorkFactory

R = Role
PASSWORD = "correct horse battery staple"


async def outbox_subjects(app: App) -> list[str]:
    async with app.uow(readonly=True) as uow:
        rows = await uow.session.execute(select(schema.outbox.c.subject).order_by(schema.outbox.c.id))
        return [subject.rsplit(".", 1)[-1] for (subject,) in rows]


async def event_count(app: App) -> int:
    async with app.uow(readonly=True) as uow:
        return int((await uow.session.execute(select(func.count()).select_from(schema.events))).scalar_one())


async def acme(app: App) -> str:
    """Org acme (team vision) owned by ada@example.com, who has no password; returns her user id."""
    created = await app.create_org("acme", "Acme", "ada@example.com", "Ada")
    await app.create_team("acme", "vision")
    return created.owner_user_id


async def join(app: App, email: str = "carol@example.com", password: str = PASSWORD) -> str:
    """Invite `email` to acme/vision as REGISTRY_USER and accept; returns the user id."""
    issued = await app.invite_user("acme", "vision", email, "Carol", [R.REGISTRY_USER], invited_by="u-ada")
    return (await app.accept_invitation(issued.token, password)).user.user_id


async def refused(call: Any) -> DomainError:
    with pytest.raises(DomainError) as raised:
        await call
    return raised.value


# ---------------------------------------------------------------------------------------------------------
# The whole way: invite -> accept -> login -> verify -> logout
# ---------------------------------------------------------------------------------------------------------


async def test_an_invitee_accepts_logs_in_is_recognised_and_logs_out(
    app: App, notifier: RecordingNotifier, clock: SettableClock
) -> None:
    ada = await acme(app)

    issued = await app.invite_user(
        "acme", "vision", "Carol@Example.com", "Carol", [R.REGISTRY_USER], invited_by=ada
    )
    invitation = issued.invitation
    assert issued.token.startswith("hgi_")
    assert (invitation.org, invitation.team, invitation.email) == ("acme", "vision", "carol@example.com")
    assert (invitation.roles, invitation.invited_by, invitation.status) == ({R.REGISTRY_USER}, ada, "pending")
    assert invitation.expires_at == clock.now + timedelta(days=7)
    assert notifier.sent == [(invitation, issued.token)]
    assert issued.token not in repr(issued)

    accepted = await app.accept_invitation(issued.token, PASSWORD, display_name="Carol C.")
    carol = accepted.user
    assert (carol.email, carol.display_name) == ("carol@example.com", "Carol C.")
    assert accepted.memberships == (Membership("acme", "vision", frozenset({R.REGISTRY_USER})),)
    assert (await app.get_user(user_id=carol.user_id)).memberships == accepted.memberships

    started = await app.login(" CAROL@example.com", PASSWORD)
    assert started.token.startswith("hgs_")
    assert started.user == carol
    assert started.expires_at == clock.now + timedelta(hours=12)
    assert started.token not in repr(started)

    verified = await app.verify_session(started.token)
    assert (verified.session_id, verified.user, verified.expires_at) == (
        started.session_id,
        carol,
        started.expires_at,
    )

    await app.logout(started.token)
    error = await refused(app.verify_session(started.token))
    assert (type(error), error.code) == (Unauthenticated, "SESSION_INVALID")
    await app.logout(started.token)  # again: nothing to end, not an error

    assert (await outbox_subjects(app))[4:] == [
        "UserInvited",
        "UserRegistered",
        "PasswordSet",
        "RolesChanged",
        "InvitationAccepted",
        "SessionStarted",
        "SessionEnded",
    ]


async def test_an_invitation_token_is_redeemed_once(app: App) -> None:
    await acme(app)
    issued = await app.invite_user("acme", None, "carol@example.com", "", [R.REGISTRY_READ])
    await app.accept_invitation(issued.token, PASSWORD)
    written = await event_count(app)

    error = await refused(app.accept_invitation(issued.token, PASSWORD))
    assert (type(error), error.code) == (FailedPrecondition, "INVITATION_USED")
    assert await event_count(app) == written


async def test_two_acceptances_racing_for_one_token_yield_one_user(app: App) -> None:
    await acme(app)
    issued = await app.invite_user("acme", "vision", "carol@example.com", "Carol", [R.REGISTRY_READ])

    results = await asyncio.gather(
        *(app.accept_invitation(issued.token, PASSWORD) for _ in range(3)), return_exceptions=True
    )

    accepted = [r for r in results if not isinstance(r, BaseException)]
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(accepted) == 1
    assert [getattr(f, "code", f) for f in failures] == ["INVITATION_USED"] * 2
    assert (await outbox_subjects(app)).count("InvitationAccepted") == 1


async def test_an_expired_invitation_is_refused_and_nothing_is_written(
    app: App, clock: SettableClock
) -> None:
    await acme(app)
    issued = await app.invite_user("acme", "vision", "carol@example.com", "Carol", [R.REGISTRY_READ])
    written = await event_count(app)

    clock.advance(timedelta(days=7))
    error = await refused(app.accept_invitation(issued.token, PASSWORD))

    assert (type(error), error.code) == (FailedPrecondition, "INVITATION_EXPIRED")
    assert await event_count(app) == written
    with pytest.raises(NotFound):
        await app.get_user(email="carol@example.com")


@pytest.mark.parametrize("token", ["", "hgi_", "hgs_" + "a" * 43, "hgi_" + "a" * 43, "x" * 5000])
async def test_a_token_that_is_not_an_invitation_is_invalid(app: App, token: str) -> None:
    await acme(app)

    error = await refused(app.accept_invitation(token, PASSWORD))
    assert (type(error), error.code, error.message) == (
        NotFound,
        "INVITATION_INVALID",
        "the invitation token is not valid",
    )


async def test_accepting_adds_the_invited_roles_to_those_held_meanwhile(app: App) -> None:
    await acme(app)
    first = await app.invite_user("acme", None, "carol@example.com", "Carol", [R.REGISTRY_READ])
    carol = (await app.accept_invitation(first.token, PASSWORD)).user
    issued = await app.invite_user("acme", "vision", "carol@example.com", "", [R.REGISTRY_USER])
    await app.add_user("acme", "vision", "carol@example.com", "", [R.REGISTRY_READ, R.USER_READ])

    accepted = await app.accept_invitation(issued.token, PASSWORD)

    assert accepted.user == carol
    assert accepted.memberships == (
        Membership("acme", None, frozenset({R.REGISTRY_READ})),
        Membership("acme", "vision", frozenset({R.REGISTRY_READ, R.REGISTRY_USER, R.USER_READ})),
    )


async def test_owner_invitations_respect_the_owner_limit_when_accepted(app: App) -> None:
    await acme(app)
    first = await app.invite_user("acme", None, "bob@example.com", "Bob", [R.ORG_OWNER])
    second = await app.invite_user("acme", None, "cid@example.com", "Cid", [R.ORG_OWNER])
    await app.accept_invitation(first.token, PASSWORD)

    error = await refused(app.accept_invitation(second.token, PASSWORD))
    assert error.code == "LIMIT_EXCEEDED"
    error = await refused(app.invite_user("acme", None, "dan@example.com", "Dan", [R.ORG_OWNER]))
    assert error.code == "LIMIT_EXCEEDED"


# ---------------------------------------------------------------------------------------------------------
# Accounts that already exist
# ---------------------------------------------------------------------------------------------------------


async def test_someone_already_in_that_scope_is_not_invited(app: App) -> None:
    await acme(app)
    await join(app)

    error = await refused(app.invite_user("acme", "vision", "carol@example.com", "", [R.REGISTRY_READ]))
    assert (type(error), error.code) == (AlreadyExists, "ALREADY_MEMBER")
    assert await app.invite_user("acme", None, "carol@example.com", "", [R.REGISTRY_READ])


async def test_an_account_with_a_password_accepts_with_that_password_and_keeps_it(app: App) -> None:
    await acme(app)
    await app.create_org("globex", "", "gus@example.com", "Gus")
    carol = await join(app)
    issued = await app.invite_user("globex", None, "carol@example.com", "", [R.REGISTRY_READ])

    error = await refused(app.accept_invitation(issued.token, "someone else's guess"))
    assert (type(error), error.code) == (Unauthenticated, "PASSWORD_MISMATCH")

    accepted = await app.accept_invitation(issued.token, PASSWORD)
    assert accepted.user.user_id == carol
    assert (await outbox_subjects(app)).count("PasswordSet") == 1
    assert (await app.login("carol@example.com", PASSWORD)).user.user_id == carol


async def test_an_account_holding_roles_without_a_password_is_not_taken_over(app: App) -> None:
    await acme(app)  # ada owns acme and has never set a password
    issued = await app.invite_user("acme", "vision", "ada@example.com", "", [R.REGISTRY_READ])
    written = await event_count(app)

    error = await refused(app.accept_invitation(issued.token, "the inviter's choice!"))

    assert (type(error), error.code) == (FailedPrecondition, "PASSWORD_NOT_SET")
    assert await event_count(app) == written
    with pytest.raises(Unauthenticated):
        await app.login("ada@example.com", "the inviter's choice!")


async def test_an_account_without_roles_or_password_gets_its_password_from_an_invitation(app: App) -> None:
    await acme(app)
    await app.create_team("acme", "audio")
    carol = await app.add_user("acme", "audio", "carol@example.com", "Carol", [R.REGISTRY_READ])
    await app.remove_user("acme", carol.user_id)
    issued = await app.invite_user("acme", "vision", "carol@example.com", "", [R.REGISTRY_READ])

    accepted = await app.accept_invitation(issued.token, PASSWORD, display_name="Ignored")

    assert accepted.user == carol  # an existing user keeps their display name
    assert (await app.login("carol@example.com", PASSWORD)).user == carol


# ---------------------------------------------------------------------------------------------------------
# Login
# ---------------------------------------------------------------------------------------------------------


class CountingPasswords:
    """The real (cheap) hasher, counting how often a password was checked and against what."""

    def __init__(self) -> None:
        self.inner = cheap_passwords()
        self.checked: list[str | None] = []

    async def hash(self, password: str) -> str:
        return await self.inner.hash(password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        self.checked.append(password_hash)
        return await self.inner.verify(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self.inner.needs_rehash(password_hash)


async def test_a_wrong_password_and_an_unknown_email_fail_alike_after_the_same_work(
    uow: UnitOfWorkFactory[Any], clock: SettableClock
) -> None:
    passwords = CountingPasswords()
    app = App(uow, passwords=passwords, notifier=RecordingNotifier(), clock=clock)
    await acme(app)
    await join(app)
    passwords.checked.clear()
    written = await event_count(app)

    failures = [
        await refused(app.login("carol@example.com", "not the password")),
        await refused(app.login("nobody@example.com", PASSWORD)),
        await refused(app.login("ada@example.com", PASSWORD)),  # known, but has no password
    ]

    assert {(type(e), e.code, e.message) for e in failures} == {
        (Unauthenticated, "LOGIN_FAILED", "the email or the password is wrong")
    }
    assert len(passwords.checked) == 3  # one argon2 verification each, a dummy one when nothing is stored
    assert passwords.checked[0] is not None
    assert passwords.checked[1:] == [None, None]
    assert await event_count(app) == written


@pytest.mark.parametrize("password", ["", "x" * 11, "x" * 257, "x" * 100_000])
async def test_a_password_no_policy_allows_fails_login_without_hashing(
    uow: UnitOfWorkFactory[Any], password: str
) -> None:
    passwords = CountingPasswords()
    app = App(uow, passwords=passwords, notifier=RecordingNotifier())
    await acme(app)

    error = await refused(app.login("ada@example.com", password))
    assert error.code == "LOGIN_FAILED"
    assert passwords.checked == []


@pytest.mark.parametrize("email", ["", "not-an-email", "x" * 400])
async def test_a_malformed_email_is_invalid_argument_at_login(app: App, email: str) -> None:
    error = await refused(app.login(email, PASSWORD))
    assert isinstance(error, InvalidArgument)


async def test_a_login_rehashes_a_password_made_with_old_parameters(
    uow: UnitOfWorkFactory[Any], app: App
) -> None:
    await acme(app)
    carol = await join(app)
    stronger = Argon2Passwords(time_cost=2, memory_cost=8 * 1024, parallelism=1)
    upgraded = App(uow, passwords=stronger, notifier=RecordingNotifier())

    await upgraded.login("carol@example.com", PASSWORD)
    await upgraded.login("carol@example.com", PASSWORD)

    assert (await outbox_subjects(app)).count("PasswordSet") == 2  # the acceptance's, then one rehash
    async with app.uow(readonly=True) as unit:
        stored = await unit.views.password_hash_of(carol)
    assert stored is not None
    assert stored.startswith("$argon2id$v=19$m=8192,t=2,p=1$")


# ---------------------------------------------------------------------------------------------------------
# Sessions
# ---------------------------------------------------------------------------------------------------------


async def test_a_session_expires_after_twelve_hours(app: App, clock: SettableClock) -> None:
    await acme(app)
    await join(app)
    started = await app.login("carol@example.com", PASSWORD)

    clock.advance(timedelta(hours=11, minutes=59))
    assert (await app.verify_session(started.token)).user == started.user
    clock.advance(timedelta(minutes=1))
    error = await refused(app.verify_session(started.token))
    assert (type(error), error.code) == (Unauthenticated, "SESSION_EXPIRED")


@pytest.mark.parametrize("token", ["", "hgs_", "hgi_" + "a" * 43, "hgs_" + "a" * 43, "Bearer x"])
async def test_tokens_that_are_no_session_are_invalid(app: App, token: str) -> None:
    for call in (app.verify_session(token), app.logout(token)):
        error = await refused(call)
        assert (type(error), error.code) == (Unauthenticated, "SESSION_INVALID")


async def test_verifying_a_session_writes_nothing(app: App) -> None:
    await acme(app)
    await join(app)
    started = await app.login("carol@example.com", PASSWORD)
    written = await event_count(app)

    for _ in range(3):
        await app.verify_session(started.token)
    assert await event_count(app) == written


async def test_long_expired_sessions_are_swept_from_the_read_model(app: App, clock: SettableClock) -> None:
    await acme(app)
    await join(app)
    old = await app.login("carol@example.com", PASSWORD)
    clock.advance(timedelta(hours=12, days=1, seconds=1))
    fresh = await app.login("carol@example.com", PASSWORD)

    assert await app.forget_expired_sessions() == 1
    assert (await refused(app.verify_session(old.token))).code == "SESSION_INVALID"
    assert (await app.verify_session(fresh.token)).session_id == fresh.session_id


# ---------------------------------------------------------------------------------------------------------
# Secrets stay secret
# ---------------------------------------------------------------------------------------------------------


async def test_tokens_and_passwords_never_reach_a_log(
    uow: UnitOfWorkFactory[Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = App(uow, passwords=cheap_passwords(), notifier=LoggingNotifier())
    await acme(app)

    issued = await app.invite_user("acme", "vision", "carol@example.com", "Carol", [R.REGISTRY_USER])
    await app.accept_invitation(issued.token, PASSWORD)
    started = await app.login("carol@example.com", PASSWORD)
    await app.verify_session(started.token)
    await app.logout(started.token)
    await refused(app.login("carol@example.com", PASSWORD + "!"))

    logged = caplog.text
    for secret in (issued.token, issued.token[8:], started.token, started.token[8:], PASSWORD):
        assert secret not in logged
    assert f"/api/v1/invitations/{issued.token[:8]}…/accept" in logged


async def test_a_failing_notifier_leaves_the_invitation_and_logs_no_token(
    app: App, notifier: RecordingNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    await acme(app)
    notifier.fail = True

    issued = await app.invite_user("acme", "vision", "carol@example.com", "Carol", [R.REGISTRY_USER])

    assert "the notifier failed" in caplog.text
    assert issued.token[4:] not in caplog.text
    assert (await app.accept_invitation(issued.token, PASSWORD)).user.email == "carol@example.com"


async def test_no_column_of_any_table_holds_a_token_or_a_password_in_clear(app: App) -> None:
    await acme(app)
    issued = await app.invite_user("acme", "vision", "carol@example.com", "Carol", [R.REGISTRY_USER])
    await app.accept_invitation(issued.token, PASSWORD)
    started = await app.login("carol@example.com", PASSWORD)
    await app.verify_session(started.token)

    secrets = [issued.token, issued.token[4:], started.token, started.token[4:], PASSWORD]
    cells = 0
    async with app.uow(readonly=True) as uow:
        tables = await uow.session.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
        for (table,) in tables.all():
            for row in (await uow.session.execute(text(f'SELECT * FROM "{table}"'))).all():  # noqa: S608
                for value in row:
                    cells += 1
                    blob = value if isinstance(value, bytes) else str(value).encode()
                    for secret in secrets:
                        assert secret.encode() not in blob, f"{table} holds a secret in clear"
        stored = await uow.views.password_hash_of(started.user.user_id)
    assert cells > 100
    assert stored is not None and stored.startswith("$argon2id$")


async def test_token_and_password_hashes_stay_in_the_event_store_and_are_never_published(app: App) -> None:
    await acme(app)
    issued = await app.invite_user("acme", "vision", "carol@example.com", "Carol", [R.REGISTRY_USER])
    await app.accept_invitation(issued.token, PASSWORD)
    await app.login("carol@example.com", PASSWORD)
    private = {"UserInvited": "token_hash", "PasswordSet": "password_hash", "SessionStarted": "token_hash"}

    async with app.uow(readonly=True) as uow:
        published = {
            row.subject.rsplit(".", 1)[-1]: row.payload
            for row in (await uow.session.execute(select(schema.outbox))).all()
        }
        stored = {
            row.type.rsplit(".", 1)[-1]: row.payload
            for row in (await uow.session.execute(select(schema.events))).all()
        }
    for name, field in private.items():
        message = getattr(events_pb2, name)
        assert getattr(message.FromString(stored[name]), field), f"{name}.{field} is kept in the store"
        public = message.FromString(published[name])
        assert getattr(public, field) == "", f"{name}.{field} must not be published"
        assert public.ListFields(), f"{name} still carries its public fields"


# ---------------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------------

BAD_INVITATIONS = [
    pytest.param({"email": ""}, id="empty email"),
    pytest.param({"email": "   "}, id="blank email"),
    pytest.param({"email": "carol@" + "x" * 300 + ".com"}, id="oversized email"),
    pytest.param({"email": "carol@example.com" * 1000}, id="huge email"),
    pytest.param({"roles": []}, id="no roles"),
    pytest.param({"roles": [R.USER_READ]}, id="roles without an anchor"),
    pytest.param({"team": "vision", "roles": [R.ORG_OWNER]}, id="owner of a team"),
    pytest.param({"team": "Vision!"}, id="bad team name"),
    pytest.param({"org": "A"}, id="bad org name"),
    pytest.param({"display_name": "x" * 200}, id="oversized display name"),
]


@pytest.mark.parametrize("overrides", BAD_INVITATIONS)
async def test_bad_invitations_are_invalid_argument_and_nothing_is_written(
    app: App, notifier: RecordingNotifier, overrides: dict[str, Any]
) -> None:
    await acme(app)
    written = await event_count(app)
    arguments: dict[str, Any] = {
        "org": "acme",
        "team": None,
        "email": "carol@example.com",
        "display_name": "Carol",
        "roles": [R.REGISTRY_READ],
        **overrides,
    }

    with pytest.raises(InvalidArgument):
        await app.invite_user(**arguments)
    assert await event_count(app) == written
    assert notifier.sent == []


@pytest.mark.parametrize(
    ("password", "display_name"),
    [("", ""), ("short", ""), ("x" * 11, ""), ("x" * 257, ""), (PASSWORD, "x" * 129), (PASSWORD, "a\nb")],
)
async def test_bad_acceptances_are_invalid_argument_and_nothing_is_written(
    app: App, password: str, display_name: str
) -> None:
    await acme(app)
    issued = await app.invite_user("acme", "vision", "carol@example.com", "Carol", [R.REGISTRY_READ])
    written = await event_count(app)

    error = await refused(app.accept_invitation(issued.token, password, display_name))
    assert isinstance(error, InvalidArgument)
    if not display_name:
        assert error.code == "PASSWORD_INVALID"
    assert await event_count(app) == written
    assert (await app.accept_invitation(issued.token, PASSWORD)).user.display_name == "Carol"


async def test_unknown_orgs_and_teams_are_not_found(app: App) -> None:
    await acme(app)

    for org, team in (("globex", None), ("acme", "audio")):
        error = await refused(app.invite_user(org, team, "carol@example.com", "", [R.REGISTRY_READ]))
        assert isinstance(error, NotFound)


async def test_the_inviter_defaults_to_the_caller(app: App) -> None:
    await acme(app)

    with context.bound(context.CallContext(actor="u-admin", correlation_id="c-1")):
        issued = await app.invite_user("acme", None, "carol@example.com", "", [R.REGISTRY_READ])
    assert issued.invitation.invited_by == "u-admin"
