"""`newsdesk telegram` as a user starts it: the installed script, environment variables only,
long polling against the stand-in Bot API server on 127.0.0.1, stopped with SIGTERM."""

from __future__ import annotations

from pathlib import Path

from tests.cli.process import running_newsdesk, user_env
from tests.telegram_standin import StandInServer

SEED = "What did Blinken say about a multinational force?"


def test_telegram_command_answers_and_stops_cleanly_on_sigterm(
    built_index: Path, model_cache: Path, tmp_path: Path
) -> None:
    with StandInServer() as server:
        api = server.api
        env = user_env(
            index_dir=built_index,
            cache_dir=model_cache,
            telegram_token=api.token,
            telegram_base_url=server.base_url,
        )
        with running_newsdesk("telegram", env=env, log_dir=tmp_path) as bot:
            bot.wait_until(lambda: api.polls_waiting() > 0)  # polling has started
            api.push(api.user_message(4242, SEED))
            bot.wait_until(lambda: len(api.sent(4242)) == 1, timeout=60)
            answer = api.sent(4242)[0]
            assert "multinational force" in answer.text
            assert "Bloomberg, 2023-11-03" in answer.text
            status = bot.terminate()
            stderr = bot.stderr()
    assert status == 0, stderr
    assert "Traceback" not in stderr
    assert "stopped" in stderr.lower()
    assert api.pending_updates() == 0
