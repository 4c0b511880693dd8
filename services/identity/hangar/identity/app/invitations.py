"""Invitations: invite someone by email to an org or a team, and redeem the invitation once.

The token is made here, handed once to the caller (InviteUser's answer) and to the `Notifier`, and stored
only as its SHA-256. Accepting registers the invitee if the email is new, sets the console password (argon2id,
hashed through the `Passwords` port before the write transaction opens), grants the invited roles and marks
the invitation used: one transaction.

An email that already has an account is not taken over by whoever holds the token (the inviter sees it):
- the account has a password: accepting requires that password (PASSWORD_MISMATCH otherwise) and keeps it;
- the account has none and holds no role anywhere: accepting sets it, as for a new user;
- the account has none but holds roles (an org's first owner, a user added directly): refused
  (PASSWORD_NOT_SET), since setting its password would hand those roles to the token's holder.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime

from hangar.identity.app.base import AppBase, load_invitation, load_org, load_user, log, save, validate_scope
from hangar.identity.app.ports import AcceptedInvitation, InvitationView, IssuedInvitation, UserView
from hangar.identity.domain import (
    INVITATION_SCHEME,
    Invitation,
    Membership,
    Role,
    User,
    has_shape,
    issue_token,
    token_hash,
    validate_display_name,
    validate_email,
    validate_password,
)
from hangar.kit import context
from hangar.kit.errors import (
    ConcurrencyConflict,
    FailedPrecondition,
    NotFound,
    Unauthenticated,
)
from hangar.kit.uow import retry_on_conflict


def _invalid_invitation() -> NotFound:
    # One answer for a token of the wrong shape and an unknown one: nothing tells them apart.
    return NotFound("the invitation token is not valid", code="INVITATION_INVALID")


@dataclasses.dataclass(frozen=True)
class _Acceptance:
    """What an acceptance decided before its transaction, re-checked inside it."""

    invitation_id: str
    #: The account of the invitation's email, None if the email is new.
    user_id: str | None
    #: That account's password hash when it was read (None: no password).
    stored_hash: str | None
    #: The hash to record as the user's password; None when the user keeps theirs.
    new_hash: str | None


def invitation_view(invitation: Invitation, now: datetime) -> InvitationView:
    assert invitation.expires_at is not None
    return InvitationView(
        invitation_id=invitation.id,
        org=invitation.org,
        team=invitation.team,
        email=invitation.email,
        display_name=invitation.display_name,
        roles=invitation.roles,
        invited_by=invitation.invited_by,
        expires_at=invitation.expires_at,
        status=invitation.status(now),
    )


class Invitations(AppBase):
    async def invite_user(
        self,
        org: str,
        team: str | None,
        email: str,
        display_name: str,
        roles: Iterable[Role],
        *,
        invited_by: str = "",
    ) -> IssuedInvitation:
        """Invite `email` to the org (`team` None) or a team with `roles`; returns the one-time token.

        `invited_by` defaults to the caller's actor. The notifier is called after the commit; if it fails the
        invitation stands (the caller holds the token) and the failure is logged without the token.
        """
        validate_scope(org, team)
        normalised = validate_email(email)
        wanted = frozenset(roles)
        Membership(org=org, team=team, roles=wanted)  # bad roles are bad input, whatever the org holds
        inviter = invited_by or context.current().actor
        issued = issue_token(INVITATION_SCHEME)

        async def attempt() -> Invitation:
            async with self.uow() as uow:
                aggregate = await load_org(uow, org)
                known = await uow.views.user_by_email(normalised)
                invitation = Invitation.invite(
                    self._new_id(),
                    aggregate,
                    team,
                    normalised,
                    display_name,
                    wanted,
                    invited_by=inviter,
                    token_hash=issued.token_hash,
                    now=self._clock(),
                    invitee_user_id=known.user_id if known is not None else None,
                )
                await save(uow, invitation)
                await uow.commit()
                return invitation

        invitation = await retry_on_conflict(attempt)
        view = invitation_view(invitation, self._clock())
        log.info("invitation %s to %s created by %r", invitation.id, invitation.scope, inviter)
        try:
            await self._notifier.invitation_created(view, issued.token)
        except Exception as exc:  # the invitation is made and the caller has the token: report, go on
            log.warning(
                "the notifier failed for invitation %s (%s); the inviter holds its token",
                invitation.id,
                type(exc).__name__,
            )
        return IssuedInvitation(view, issued.token)

    async def accept_invitation(
        self, token: str, password: str, display_name: str = ""
    ) -> AcceptedInvitation:
        """Redeem an invitation once: register the invitee if new, set the password, grant the roles.

        Raises NotFound INVITATION_INVALID (unknown token), FailedPrecondition INVITATION_USED /
        INVITATION_EXPIRED / PASSWORD_NOT_SET, InvalidArgument PASSWORD_INVALID, Unauthenticated
        PASSWORD_MISMATCH (see the module's docstring). The roles granted are added to any the user already
        holds at that scope (accepting never takes a role away). `display_name` names a new user only.
        """
        validate_password(password)
        new_name = validate_display_name(display_name) if display_name.strip() else ""
        if not has_shape(INVITATION_SCHEME, token):
            raise _invalid_invitation()
        hashed = token_hash(token)

        async def attempt() -> AcceptedInvitation:
            plan = await self._plan_acceptance(hashed, password)
            async with self.uow() as uow:
                invitation = await load_invitation(uow, plan.invitation_id)
                known = await uow.views.user_by_email(invitation.email)
                stored = await uow.views.password_hash_of(known.user_id) if known is not None else None
                held = await uow.views.memberships_of(known.user_id) if known is not None else []
                if (known.user_id if known else None) != plan.user_id or stored != plan.stored_hash:
                    raise ConcurrencyConflict("the invitee's account changed during the acceptance")
                if known is not None and stored is None and held:
                    raise ConcurrencyConflict("the invitee's account gained roles during the acceptance")
                user: User | None = None
                if known is None:
                    user = User.register(
                        self._new_id(), invitation.email, new_name or invitation.display_name
                    )
                    account = UserView(user.id, user.email, user.display_name)
                else:
                    account = known
                    if plan.new_hash is not None:
                        user = await load_user(uow, known.user_id)
                if plan.new_hash is not None:
                    assert user is not None
                    user.set_password(plan.new_hash)
                org = await load_org(uow, invitation.org)
                current = org.roles_of(account.user_id, invitation.team)
                org.set_roles(account.user_id, invitation.team, current | invitation.roles)
                invitation.accept(account.user_id, self._clock())
                await save(uow, user, org, invitation)
                await uow.commit()
            log.info("invitation %s accepted by user %s", invitation.id, account.user_id)
            return AcceptedInvitation(account, tuple(org.memberships_of(account.user_id)))

        return await retry_on_conflict(attempt)

    async def _plan_acceptance(self, hashed: str, password: str) -> _Acceptance:
        """Read what the acceptance depends on, refuse early, and do the slow password work outside any
        write transaction (an argon2 hash takes tens of milliseconds; SQLite writers queue on one lock)."""
        async with self.uow(readonly=True) as uow:
            invitation_id = await uow.views.invitation_by_token_hash(hashed)
            if invitation_id is None:
                raise _invalid_invitation()
            invitation = await load_invitation(uow, invitation_id)
            invitation.check_redeemable(self._clock())
            known = await uow.views.user_by_email(invitation.email)
            stored = await uow.views.password_hash_of(known.user_id) if known is not None else None
            held = await uow.views.memberships_of(known.user_id) if known is not None else []
        user_id = known.user_id if known is not None else None
        if stored is not None:
            if not await self._passwords.verify(stored, password):
                raise Unauthenticated(
                    f"{invitation.email} already has a Hangar account: accept with its current password",
                    code="PASSWORD_MISMATCH",
                )
            return _Acceptance(invitation_id, user_id, stored, None)
        if known is not None and held:
            raise FailedPrecondition(
                f"{invitation.email} already has a Hangar account that holds roles but has no password;"
                " an invitation cannot set it. Ask an administrator to add this account instead",
                code="PASSWORD_NOT_SET",
            )
        return _Acceptance(invitation_id, user_id, None, await self._passwords.hash(password))
