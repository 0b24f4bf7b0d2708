"""Fixtures the edges' tests share."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import JsonFormatter, RequestIdFilter


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The JSON lines the bot's loggers write, at DEBUG, as `NEWSDESK_LOG_FORMAT=json` does."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("bot")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
