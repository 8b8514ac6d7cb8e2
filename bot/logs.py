"""Logging set-up, request context and error ids.

The entry point calls `setup_logging` once. Every record carries the Slack team, user and
request ids of the work in progress, taken from a context variable. A filter masks anything
shaped like a bearer token, a JWT or an OAuth parameter, as a second line of defence: the
code logs ids, never content or secrets.
"""

from __future__ import annotations

import contextvars
import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

_context: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "log_context", default=None
)

_SECRET_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[^\s\"']+"),
    re.compile(r"eyJ[\w-]{8,}\.[\w-]*\.?[\w-]*"),
    re.compile(
        r"(?i)((?:access_token|refresh_token|id_token|client_secret|code|code_verifier|state"
        r"|token)[\"']?\s*[=:]\s*[\"']?)[^\s&\"',}]+"
    ),
    re.compile(r"xox[abposr]-[\w-]+"),
]


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda match: (match.group(1) if match.groups() else "") + "***", text)
    return text


class ContextFilter(logging.Filter):
    """Adds the request context to each record and masks secrets in the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get() or {}
        record.ctx = " ".join(f"{key}={value}" for key, value in context.items())
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def setup_logging(level: str = "INFO") -> None:
    """Configure the root logger once; a second call only changes the level."""
    root = logging.getLogger()
    root.setLevel(level)
    if any(getattr(handler, "_onedrive_bot", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._onedrive_bot = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s [%(ctx)s]")
    )
    root.addHandler(handler)
    # These libraries log full URLs, request bodies or headers at DEBUG, and Bolt logs the
    # whole request body (with Slack's verification token) when a signature is invalid.
    for noisy in ("urllib3", "msal", "httpcore", "hpack", "slack_sdk", "aiohttp"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, root.level))
    # httpx logs every request URL at INFO, and pre-authenticated download and upload URLs
    # are credentials.
    for noisy in ("slack_bolt", "bot.slack.bolt", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


@contextmanager
def log_context(**ids: str | None) -> Iterator[None]:
    """Attach ids (team, user, request) to every record logged inside the block."""
    merged = {**(_context.get() or {}), **{key: value for key, value in ids.items() if value}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def new_error_id() -> str:
    """A short id shown to the person and written to the log next to the traceback."""
    return "E" + secrets.token_hex(4).upper()
