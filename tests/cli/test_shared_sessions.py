"""Several `newsdesk serve` processes sharing conversations through Redis
(NEWSDESK_SESSIONS=redis://…), started as a user starts them: one conversation whose turns
alternate between two replicas is rewritten from its whole history, as one process would; it
goes on when one replica is killed, and when the only one is restarted. A Redis that cannot be
reached is one line at start."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.cli.process import free_port, healthy, run_newsdesk, running_newsdesk, user_env
from tests.cli.replica_conversation import CONVERSATION, MORE
from tests.conftest import settings_for
from tests.redis_server import redis_server_fixture  # noqa: F401 (the redis_server fixture)


def expected_turns(index_dir: Path, embedder) -> list[tuple[str | None, str]]:
    """(rewritten query, answer) for each turn, from one service keeping the session in memory."""
    from bot.service import NewsdeskService

    service = NewsdeskService(settings_for(index_dir), embedder)
    session_id, turns = None, []
    for question in CONVERSATION:
        if question == MORE:
            answer = service.more(session_id)
        else:
            answer = service.ask(question, session_id=session_id)
        session_id = answer.session_id
        turns.append((answer.rewritten_query, answer.answer))
    return turns


def turn(base_url: str, question: str, session_id: str | None) -> dict:
    if question == MORE:
        response = httpx.post(f"{base_url}/sessions/{session_id}/more", timeout=60)
    else:
        body = {"question": question, "session_id": session_id}
        response = httpx.post(f"{base_url}/ask", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def test_replicas_share_a_conversation_through_kills_and_restarts(
    redis_server, newsroom_index: Path, model_cache: Path, embedder, tmp_path: Path
):
    expected = expected_turns(newsroom_index, embedder)
    env = user_env(index_dir=newsroom_index, cache_dir=model_cache, sessions=redis_server.url)
    ports = free_port(), free_port()
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    got: list[tuple[str | None, str]] = []
    session_id = None
    with (
        running_newsdesk("serve", "--port", str(ports[0]), env=env, log_dir=tmp_path) as first,
        running_newsdesk("serve", "--port", str(ports[1]), env=env, log_dir=tmp_path) as second,
    ):
        first.wait_until(lambda: healthy(urls[0]))
        second.wait_until(lambda: healthy(urls[1]))
        for number, question in enumerate(CONVERSATION[:5]):  # alternating: 0, 1, 0, 1, 0
            answer = turn(urls[number % 2], question, session_id)
            session_id = answer["session_id"]
            got.append((answer["rewritten_query"], answer["answer"]))
        second.process.kill()  # SIGKILL mid-conversation: the first goes on alone
        second.process.wait()
        got.append(_as_pair(turn(urls[0], CONVERSATION[5], session_id)))
        assert first.terminate() == 0, first.stderr()  # the only replica restarts
    with running_newsdesk("serve", "--port", str(ports[0]), env=env, log_dir=tmp_path) as again:
        again.wait_until(lambda: healthy(urls[0]))
        got.append(_as_pair(turn(urls[0], CONVERSATION[6], session_id)))
        assert again.terminate() == 0
    assert got == expected
    assert expected[1][0] == "Who did Ding Liren beat?"  # the follow-ups did lean on history
    assert "Blinken" in expected[6][0] and expected[6][1] != expected[2][1]


def _as_pair(answer: dict) -> tuple[str | None, str]:
    return answer["rewritten_query"], answer["answer"]


def test_serve_with_an_unreachable_redis_refuses_to_start_in_one_line(
    newsroom_index: Path, model_cache: Path
):
    url = f"redis://127.0.0.1:{free_port()}/0"
    env = user_env(index_dir=newsroom_index, cache_dir=model_cache, sessions=url)
    done = run_newsdesk("serve", "--port", str(free_port()), env=env, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "session store" in lines[0] and url.removesuffix("/0") in lines[0]
