"""Keeps invitation tokens (which travel in the path of `/invitations/{token}/accept`) out of access logs."""

from __future__ import annotations

import logging
import re
from typing import Final

_INVITATION_TOKEN: Final = re.compile(r"(/invitations/)[^/?\s]+")


def redact_path(path: str) -> str:
    return _INVITATION_TOKEN.sub(r"\1<redacted>", path)


class RedactTokens(logging.Filter):
    """Rewrites the path of uvicorn's access log records (and any message) so no token is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact_path(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str) and "/invitations/" in record.msg:
            record.msg = redact_path(record.msg)
        return True
