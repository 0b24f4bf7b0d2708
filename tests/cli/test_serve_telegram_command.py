"""`newsdesk serve --telegram` as a user starts it: one process answering over HTTP and in
Telegram (long polling against the stand-in Bot API on 127.0.0.1), stopped with SIGTERM."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.cli.process import free_port, healthy, running_newsdesk, user_env
from tests.telegram_standin import StandInServer

SEED = "What did Blinken say about a multinational force?"


def test_serve_with_telegram_answers_both_ways_and_stops_cleanly_on_sigterm(
    built_index: Path, model_cache: Path, tmp_path: Path
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with StandInServer() as bot_api:
        api = bot_api.api
        env = user_env(
            index_dir=built_index,
            cache_dir=model_cache,
            port=port,
            telegram_token=api.token,
            telegram_base_url=bot_api.base_url,
        )
        with running_newsdesk("serve", "--telegram", env=env, log_dir=tmp_path) as server:
            # Polling has begun (the stand-in records a getUpdates only once its long poll ends).
            server.wait_until(
                lambda: "The Telegram bot started" in server.stderr() and healthy(base_url)
            )
            api.push(api.user_message(4343, SEED))
            over_http = httpx.post(f"{base_url}/ask", json={"question": SEED}, timeout=30)
            server.wait_until(lambda: len(api.sent(4343)) == 1, timeout=60)
            status = server.terminate()
            stderr = server.stderr()

    assert over_http.status_code == 200
    answer = over_http.json()
    assert "multinational force" in answer["answer"] and answer["citations"]
    in_telegram = api.sent(4343)[0].text
    assert answer["citations"][0]["quote"][:40] in in_telegram
    assert "Bloomberg, 2023-11-03" in in_telegram
    assert status == 0, stderr
    assert "Traceback" not in stderr
    assert "The Telegram bot stopped" in stderr and "Finished server process" in stderr
    assert api.pending_updates() == 0
