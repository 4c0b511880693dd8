"""The User aggregate (stream `user-<id>`) and the password policy.

The domain never sees a password's hash being made: the app hashes (argon2id) through a port and hands the
hash to `User.set_password`. The policy on the password itself (`validate_password`) is a pure rule.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Self

from hangar.identity.domain.names import validate_display_name, validate_email
from hangar.kit.errors import InvalidArgument
from hangar.kit.events import Aggregate, DomainEvent

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256


@dataclasses.dataclass(frozen=True)
class UserRegistered(DomainEvent):
    user_id: str
    email: str
    display_name: str


@dataclasses.dataclass(frozen=True)
class PasswordSet(DomainEvent):
    """The user's console password is now the one of `password_hash` (private: never published)."""

    user_id: str
    password_hash: str


def validate_password(password: str) -> str:
    """Return `password` if the policy allows it: 12 to 256 characters, any characters (NIST SP 800-63B).

    Raises InvalidArgument with code PASSWORD_INVALID; the message never repeats the password.
    """
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidArgument(
            f"a password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long;"
            f" this one has {len(password)}",
            code="PASSWORD_INVALID",
        )
    return password


class User(Aggregate):
    """A person who can sign in: identified by id, reached by email."""

    stream_prefix: ClassVar[str] = "user"

    def __init__(self, id: str) -> None:
        super().__init__(id)
        self.email = ""
        self.display_name = ""
        self.has_password = False

    @classmethod
    def register(cls, user_id: str, email: str, display_name: str) -> Self:
        if not user_id:
            raise InvalidArgument("user id must not be empty")
        event = UserRegistered(
            user_id=user_id, email=validate_email(email), display_name=validate_display_name(display_name)
        )
        user = cls(user_id)
        user.record(event)
        return user

    def set_password(self, password_hash: str) -> None:
        """Record the hash of the user's new password (made by the app's password hasher)."""
        if not password_hash:
            raise InvalidArgument("a password hash must not be empty")
        self.record(PasswordSet(user_id=self.id, password_hash=password_hash))

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, UserRegistered):
            self.email = event.email
            self.display_name = event.display_name
        elif isinstance(event, PasswordSet):
            self.has_password = True
