"""Domain errors: the one vocabulary every service raises, mapped to gRPC status codes in one table."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A rule of the domain refused a command. `code` is a stable machine-readable reason."""

    code: ClassVar[str] = "INTERNAL"
    kind: ClassVar[str] = "internal"

    def __init__(self, message: str, *, code: str | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class InvalidArgument(DomainError):
    """The input is malformed (a bad name, digest, size...)."""

    code = "INVALID_ARGUMENT"
    kind = "invalid_argument"


class NotFound(DomainError):
    """The thing asked for does not exist (or the caller may not know it does)."""

    code = "NOT_FOUND"
    kind = "not_found"


class AlreadyExists(DomainError):
    """Creating something that already exists."""

    code = "ALREADY_EXISTS"
    kind = "already_exists"


class FailedPrecondition(DomainError):
    """The command is valid but the current state refuses it."""

    code = "FAILED_PRECONDITION"
    kind = "failed_precondition"


class LimitExceeded(DomainError):
    """A count limit of the domain (keys per user, owners per org...) would be exceeded."""

    code = "LIMIT_EXCEEDED"
    kind = "resource_exhausted"


class PermissionDenied(DomainError):
    """The principal is known but may not do this."""

    code = "DENIED"
    kind = "permission_denied"


class Unauthenticated(DomainError):
    """The credential is missing, unknown, expired, revoked or inactive."""

    code = "UNAUTHORIZED"
    kind = "unauthenticated"


class ConcurrencyConflict(DomainError):
    """An append to an event stream raced another and lost (expected version mismatch)."""

    code = "CONFLICT"
    kind = "aborted"


class OutOfRange(DomainError):
    """An offset or range does not fit the data (an upload chunk at the wrong offset...)."""

    code = "OUT_OF_RANGE"
    kind = "out_of_range"


ERROR_KINDS: dict[str, type[DomainError]] = {
    cls.kind: cls
    for cls in (
        InvalidArgument,
        NotFound,
        AlreadyExists,
        FailedPrecondition,
        LimitExceeded,
        PermissionDenied,
        Unauthenticated,
        ConcurrencyConflict,
        OutOfRange,
        DomainError,
    )
}
