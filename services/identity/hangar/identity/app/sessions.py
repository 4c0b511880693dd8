"""Console and REST sessions: log in with email and password, verify a session token, log out.

A login costs the same whether or not the email is known (the password is checked against a dummy hash
when there is nothing to check it against) and fails with one message either way (LOGIN_FAILED).
Verifying a session is the hot path: one read of the read model, nothing written.
"""

from __future__ import annotations

from datetime import timedelta

from hangar.identity.app.base import AppBase, load_session, load_user, log, save
from hangar.identity.app.ports import StartedSession, VerifiedSession
from hangar.identity.domain import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    SESSION_SCHEME,
    Session,
    User,
    check_session,
    has_shape,
    issue_token,
    token_hash,
    validate_email,
)
from hangar.kit.errors import Unauthenticated
from hangar.kit.events import Aggregate
from hangar.kit.uow import retry_on_conflict

#: How long the read model keeps an expired session (its token answers SESSION_EXPIRED meanwhile, then
#: SESSION_INVALID); its events stay in the event store.
SESSION_RETENTION = timedelta(days=1)


def _login_failed() -> Unauthenticated:
    return Unauthenticated("the email or the password is wrong", code="LOGIN_FAILED")


def _invalid_session() -> Unauthenticated:
    return Unauthenticated("the session is not valid; log in again", code="SESSION_INVALID")


class Sessions(AppBase):
    async def login(self, email: str, password: str) -> StartedSession:
        """Check the email and password and start a session (SessionStarted); returns its token, once.

        A malformed email is InvalidArgument (it says nothing about who exists). A password outside the
        policy's lengths cannot be anyone's, and is refused without hashing, whoever the email names.
        """
        normalised = validate_email(email)
        async with self.uow(readonly=True) as uow:
            user = await uow.views.user_by_email(normalised)
            stored = await uow.views.password_hash_of(user.user_id) if user is not None else None
        if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
            raise _login_failed()
        matches = await self._passwords.verify(stored, password)
        if user is None or stored is None or not matches:
            raise _login_failed()
        account = user
        rehash = await self._passwords.hash(password) if self._passwords.needs_rehash(stored) else None
        issued = issue_token(SESSION_SCHEME)

        async def attempt() -> Session:
            async with self.uow() as uow:
                session = Session.start(self._new_id(), account.user_id, issued.token_hash, self._clock())
                changed: list[Aggregate] = [session]
                # Re-hash with today's parameters, unless the password changed since it was checked.
                if rehash is not None and await uow.views.password_hash_of(account.user_id) == stored:
                    holder: User = await load_user(uow, account.user_id)
                    holder.set_password(rehash)
                    changed.append(holder)
                await save(uow, *changed)
                await uow.commit()
                return session

        session = await retry_on_conflict(attempt)
        assert session.expires_at is not None
        log.info("session %s started for user %s", session.id, account.user_id)
        return StartedSession(session.id, session.expires_at, account, issued.token)

    async def verify_session(self, token: str) -> VerifiedSession:
        """The user of a live session token; Unauthenticated SESSION_INVALID (unknown, malformed, ended) or
        SESSION_EXPIRED. Read-only."""
        if not has_shape(SESSION_SCHEME, token):
            raise _invalid_session()
        async with self.uow(readonly=True) as uow:
            record = await uow.views.session_by_token_hash(token_hash(token))
        if record is None:
            raise _invalid_session()
        check_session(expires_at=record.expires_at, ended=record.ended, now=self._clock())
        return VerifiedSession(record.session_id, record.user, record.expires_at)

    async def logout(self, token: str) -> None:
        """End the session of `token` (SessionEnded). Ending an ended or expired session is not an error;
        an unknown token is Unauthenticated SESSION_INVALID."""
        if not has_shape(SESSION_SCHEME, token):
            raise _invalid_session()
        hashed = token_hash(token)

        async def attempt() -> None:
            async with self.uow() as uow:
                record = await uow.views.session_by_token_hash(hashed)
                if record is None:
                    raise _invalid_session()
                session = await load_session(uow, record.session_id)
                session.end()
                await save(uow, session)
                await uow.commit()

        await retry_on_conflict(attempt)

    async def forget_expired_sessions(self) -> int:
        """Drop from the read model the sessions that expired more than SESSION_RETENTION ago (a periodic
        sweep keeps the table the size of the live sessions); returns how many were dropped."""
        async with self.uow() as uow:
            dropped = await uow.views.forget_sessions_expired_before(self._clock() - SESSION_RETENTION)
            await uow.commit()
        return dropped
