"""Notifiers of invitations (implement `app.Notifier`). The default logs; a deployment may send mail."""

from __future__ import annotations

import logging

from hangar.identity.app import InvitationView
from hangar.identity.domain import redact, role_names

log = logging.getLogger(__name__)

#: Where the gateway accepts an invitation (DESIGN.md §3): POST with the new password in the body.
ACCEPT_PATH = "/api/v1/invitations/{token}/accept"


def acceptance_path(token: str) -> str:
    return ACCEPT_PATH.format(token=token)


class LoggingNotifier:
    """Development notifier: logs who was invited and the acceptance link with the token redacted
    (`hgi_AbCd…`). The whole token is never logged: the inviter received it in InviteUser's answer."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or log

    async def invitation_created(self, invitation: InvitationView, token: str) -> None:
        scope = invitation.org if invitation.team is None else f"{invitation.org}/{invitation.team}"
        self._log.info(
            "invitation %s: %s is invited to %s as %s until %s; accept with POST %s",
            invitation.invitation_id,
            invitation.email,
            scope,
            ", ".join(role_names(invitation.roles)),
            invitation.expires_at.isoformat(timespec="seconds"),
            acceptance_path(redact(token)),
        )
