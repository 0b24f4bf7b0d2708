"""What the webhook process tests share: two `newsdesk serve --telegram --webhook-url …`
replicas started as a user starts them, sharing Redis and one stand-in Bot API, and a way to
post an update to one replica's webhook with the secret Telegram would send."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.cli.process import RunningCommand, free_port, healthy, running_newsdesk, user_env
from tests.telegram_standin import StandInBotApi, StandInServer

WEBHOOK_URL = "https://bot.example.org/telegram/hook"
SECRET = "webhook-secret-7Qx_2"


@dataclass(frozen=True)
class WebhookReplicas:
    """The stand-in Bot API both replicas talk to, the two processes (healthy) and the local
    URL of each one's webhook."""

    api: StandInBotApi
    first: RunningCommand
    second: RunningCommand
    hooks: tuple[str, str]


@contextmanager
def webhook_replicas(
    sessions: str, index_dir: Path, cache_dir: Path, log_dir: Path
) -> Iterator[WebhookReplicas]:
    """Two replicas on free ports sharing the session store at `sessions`, both healthy."""
    with StandInServer() as server:
        api = server.api
        env = user_env(
            index_dir=index_dir,
            cache_dir=cache_dir,
            sessions=sessions,
            telegram_token=api.token,
            telegram_base_url=server.base_url,
            telegram_webhook_secret=SECRET,
        )
        ports = free_port(), free_port()
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        args = ("serve", "--telegram", "--webhook-url", WEBHOOK_URL, "--port")
        with (
            running_newsdesk(*args, str(ports[0]), env=env, log_dir=log_dir) as first,
            running_newsdesk(*args, str(ports[1]), env=env, log_dir=log_dir) as second,
        ):
            first.wait_until(lambda: healthy(bases[0]))
            second.wait_until(lambda: healthy(bases[1]))
            hooks = (f"{bases[0]}/telegram/hook", f"{bases[1]}/telegram/hook")
            yield WebhookReplicas(api, first, second, hooks)


def post(url: str, update: dict, secret: str | None = SECRET) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return httpx.post(url, json=update, headers=headers, timeout=10)
