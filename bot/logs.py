"""Log lines an operator's tools can read: JSON lines (`NEWSDESK_LOG_FORMAT=json`) and a
request id that follows a question from the edge that received it into the pipeline's lines.

The id lives in a context variable: the HTTP middleware sets it from `X-Request-ID` (or makes
one) and the Telegram bot from the update's id; worker threads started with `asyncio.to_thread`
or anyio inherit it, so a line the service logs while answering carries the id of the question
it answers. The filter copies it onto every record, for either format.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

_request_id: ContextVar[str | None] = ContextVar("newsdesk_request_id", default=None)
# What a client may send as its id: short and plain, so it cannot forge log lines or headers.
ACCEPTED_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def request_id() -> str | None:
    """The id of the request being handled here, if any."""
    return _request_id.get()


def set_request_id(value: str | None) -> None:
    """Name the request handled from here on in this context (a task or thread)."""
    _request_id.set(value)


def accepted_or_new(sent: str | None) -> str:
    """The client's `X-Request-ID` when it is a plain token, else a new random id."""
    if sent and ACCEPTED_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (None outside a request) to every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, and
    the traceback as `exc_info` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _request_id.get(),
        }
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def use_format(handler: logging.Handler, log_format: str) -> None:
    """Give `handler` the JSON formatter (for `json`) and the request-id filter."""
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
