"""`newsdesk serve` as an operator runs it in production: JSON log lines carrying the request
id (NEWSDESK_LOG_FORMAT=json), and /metrics readable by Prometheus."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.cli.process import free_port, healthy, running_newsdesk, user_env

SEED = "What did Blinken say about a multinational force?"


def test_serve_logs_json_lines_with_the_request_id_and_serves_metrics(
    built_index: Path, model_cache: Path, tmp_path: Path
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = user_env(index_dir=built_index, cache_dir=model_cache, port=port, log_format="json")
    with running_newsdesk("-v", "serve", env=env, log_dir=tmp_path) as server:
        server.wait_until(lambda: healthy(base_url))
        asked = httpx.post(f"{base_url}/ask", json={"question": SEED},
                           headers={"X-Request-ID": "desk-7"}, timeout=30)  # fmt: skip
        server.wait_until(lambda: "desk-7" in server.stderr(), timeout=10)
        metrics = httpx.get(f"{base_url}/metrics", timeout=10)
        exit_status = server.terminate()
        stderr = server.stderr()

    assert asked.status_code == 200 and asked.headers["X-Request-ID"] == "desk-7"
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]  # all JSON
    assert {"time", "level", "logger", "message", "request_id"} <= set(lines[0])
    [access] = [line for line in lines if line["logger"] == "uvicorn.access"
                and line["request_id"] == "desk-7"]  # fmt: skip
    assert "POST /ask" in access["message"] and access["level"] == "INFO"
    assert any(line["message"].startswith("Finished server process") for line in lines)
    assert exit_status == 0, stderr

    assert metrics.status_code == 200
    assert 'newsdesk_answers_total{kind="said"} 1.0' in metrics.text
    assert 'newsdesk_http_requests_total{method="POST",route="/ask",status="200"} 1.0' in (
        metrics.text
    )
