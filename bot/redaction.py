"""Keep the tokens out of every log line, whoever writes it.

The Telegram token is part of every Bot API URL, and libraries log URLs (httpx logs each request
at INFO) and put them in exception messages. Filters on one logger miss its children, so the
edges that hold a secret call `protect(...)`, which installs (once) a log-record factory that
rewrites any record whose message, traceback or stack mentions a protected secret, before any
handler sees it.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

REDACTED = "[redacted]"
MIN_SECRET_CHARS = 6  # shorter strings are too common to replace safely (and too weak to matter)

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()
_original_factory: Callable[..., logging.LogRecord] | None = None


def protect(*values: SecretStr | str | None) -> None:
    """Redact these secrets (and a Telegram token's secret half) from all later log records."""
    global _secrets, _original_factory
    found = set()
    for value in values:
        text = value.get_secret_value() if isinstance(value, SecretStr) else (value or "")
        text = text.strip()
        found.add(text)
        bot_id, colon, secret_half = text.partition(":")
        if colon and bot_id.isdigit():
            found.add(secret_half)
    found = {text for text in found if len(text) >= MIN_SECRET_CHARS}
    with _lock:
        # Longest first, so a token is replaced whole before its secret half is looked for.
        _secrets = tuple(sorted(set(_secrets) | found, key=len, reverse=True))
        if _original_factory is None and _secrets:
            _original_factory = logging.getLogRecordFactory()
            logging.setLogRecordFactory(_redacting_factory)


def redact(text: str) -> str:
    """`text` with every protected secret replaced by [redacted]."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    assert _original_factory is not None
    record = _original_factory(*args, **kwargs)
    if _secrets:
        _scrub(record)
    return record


def _scrub(record: logging.LogRecord) -> None:
    """Rewrite the parts of `record` that mention a secret; leave the rest (and its args) alone."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string is the logging module's to report
        return
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        # What logging.Formatter.formatException would print; a set exc_text is used as is.
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        cleaned = redact(text)
        if cleaned != text:
            record.exc_text = cleaned
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
