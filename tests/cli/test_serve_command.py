"""`newsdesk serve` as a user starts it: the installed script, environment variables only, a real
question over HTTP on 127.0.0.1, stopped with SIGTERM."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx

from tests.cli.process import running_newsdesk, user_env

SEED = "What did Blinken say about a multinational force?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_command_answers_and_exits_0_on_sigterm(
    built_index: Path, model_cache: Path, tmp_path: Path
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = user_env(index_dir=built_index, cache_dir=model_cache, port=port)
    with running_newsdesk("serve", env=env, log_dir=tmp_path) as server:
        server.wait_until(lambda: healthy(base_url))
        answer = httpx.post(f"{base_url}/ask", json={"question": SEED}, timeout=30)
        status = server.terminate()
        stderr = server.stderr()
    assert answer.status_code == 200
    assert "multinational force" in answer.json()["answer"]
    assert status == 0, stderr  # not 143 (-15): a clean stop, like `newsdesk telegram`
    assert "Traceback" not in stderr
    assert "Application shutdown complete" in stderr
