"""GET /metrics after real questions through the real app, and request ids in JSON log lines."""

from __future__ import annotations

import io
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bot.http.app import create_app
from bot.service import NewsdeskService
from bot.settings import Settings
from tests.bot.http.live_server import serve_in_thread
from tests.conftest import SEED_CORPUS, settings_for

SAID = "What did Blinken say about a multinational force?"


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics as (name, sorted labels) → value."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def client(built_index: Path, service: NewsdeskService) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(built_index), service=service)) as test_client:
        yield test_client


def test_metrics_move_with_questions_abstentions_and_errors(client: TestClient) -> None:
    said = client.post("/ask", json={"question": SAID})
    assert said.status_code == 200 and not said.json()["abstained"]
    nowhere = client.post("/ask", json={"question": SAID, "source": ["Nobody News"]})
    assert nowhere.json()["abstain_reason"] == "no_match"
    assert client.get("/coverage", params={"q": "Blinken"}).status_code == 200
    assert client.post("/ask", json={"question": ""}).status_code == 422
    assert client.get("/articles/no-such-article").status_code == 404
    assert client.get("/no/such/route").status_code == 404

    samples = scrape(client)
    requests = "newsdesk_http_requests_total"
    assert value(samples, requests, route="/ask", method="POST", status="200") == 2
    assert value(samples, requests, route="/ask", method="POST", status="422") == 1
    # the route template, never the article asked for: series stay few whatever clients send
    assert value(samples, requests, route="/articles/{article_id:path}", method="GET",
                 status="404") == 1  # fmt: skip
    assert value(samples, requests, route="unmatched", method="GET", status="404") == 1
    assert not any("no-such-article" in str(labels) for _, labels in samples)
    assert value(samples, "newsdesk_http_request_duration_seconds_count", route="/ask") == 3

    assert value(samples, "newsdesk_answers_total", kind="said") == 2
    assert value(samples, "newsdesk_answers_total", kind="coverage") == 1
    assert value(samples, "newsdesk_answers_total", kind="timeline") == 0  # listed from zero
    assert value(samples, "newsdesk_abstentions_total", reason="no_match") == 1
    assert value(samples, "newsdesk_abstentions_total", reason="weak_evidence") == 0
    for stage in ("encode", "search", "compose"):
        assert value(samples, "newsdesk_ask_stage_seconds_count", stage=stage) == 2, stage
        assert value(samples, "newsdesk_ask_stage_seconds_sum", stage=stage) > 0, stage

    assert value(samples, "newsdesk_index_loaded") == 1
    generations = [labels for name, labels in samples if name == "newsdesk_index_generation"]
    assert generations == [(("generation", client.get("/health").json()["generation"]),)]
    assert 0 <= value(samples, "newsdesk_index_age_seconds") < 24 * 3600
    assert value(samples, "newsdesk_index_articles") == client.get("/health").json()["articles"]
    assert value(samples, "newsdesk_sessions_active") >= 2


def test_each_app_counts_apart(built_index: Path, service: NewsdeskService) -> None:
    """Two apps in one process (two replicas, two tests) keep their own registries."""
    settings = settings_for(built_index)
    with (
        TestClient(create_app(settings, service=service)) as first,
        TestClient(create_app(settings, service=service)) as second,
    ):
        assert first.post("/ask", json={"question": SAID}).status_code == 200
        assert value(scrape(first), "newsdesk_answers_total", kind="said") == 1
        assert value(scrape(second), "newsdesk_answers_total", kind="said") == 0


def test_without_an_index_the_scrape_says_so(tmp_path: Path) -> None:
    with TestClient(create_app(settings_for(tmp_path / "none"))) as client:
        assert client.post("/ask", json={"question": SAID}).status_code == 503
        samples = scrape(client)
    assert value(samples, "newsdesk_index_loaded") == 0
    assert value(samples, "newsdesk_http_requests_total", route="/ask", method="POST",
                 status="503") == 1  # fmt: skip


def test_request_id_follows_the_question_into_the_pipeline_log(
    built_index: Path, service: NewsdeskService, json_log: io.StringIO
) -> None:
    """Over a real uvicorn server: the client's id is echoed, a bad one replaced, and the
    service's line about answering (written in a worker thread) carries the id."""
    import httpx

    app = create_app(settings_for(built_index), service=service)
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=60) as http:
        answered = http.post("/ask", json={"question": SAID}, headers={"X-Request-ID": "q-42"})
        assert answered.headers["X-Request-ID"] == "q-42"
        forged = http.post("/ask", json={"question": SAID},
                           headers={"X-Request-ID": "x\" injected"})  # fmt: skip
        made = forged.headers["X-Request-ID"]
        assert made != 'x" injected' and len(made) == 32
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    pipeline = [line for line in lines if line["message"].startswith("answered a said question")]
    assert [line["request_id"] for line in pipeline] == ["q-42", made]
    assert all(set(line) >= {"time", "level", "logger", "message"} for line in lines)
    assert "encode" in pipeline[0]["message"] and "compose" in pipeline[0]["message"]


def test_a_reindex_and_the_new_generation_it_loads_are_timed(
    built_index: Path, tmp_path: Path, embedder
) -> None:
    """POST /admin/reindex: its duration by outcome, and the load of the generation it made."""
    index_dir, corpus = tmp_path / "index", tmp_path / "corpus"
    shutil.copytree(built_index, index_dir, symlinks=True)
    shutil.copytree(SEED_CORPUS, corpus)
    record = {"id": "harbour", "title": "Quillfen harbour reopens", "source": "Test Wire",
              "date": "2023-11-20", "text": "The Quillfen harbour reopened on Monday."}  # fmt: skip
    (corpus / "harbour.json").write_text(json.dumps(record))
    settings = Settings(_env_file=None, index_dir=index_dir, corpus=corpus, admin_token="t-6c2f1")
    auth = {"Authorization": "Bearer t-6c2f1"}
    service = NewsdeskService(settings, embedder)
    with TestClient(create_app(settings, service=service)) as client:
        generation = client.get("/health").json()["generation"]
        assert client.post("/admin/reindex", headers=auth).status_code == 202
        deadline = time.monotonic() + 120
        while client.get("/admin/reindex", headers=auth).json()["state"] == "running":
            assert time.monotonic() < deadline, "the reindex did not finish"
            time.sleep(0.05)
        assert client.get("/admin/reindex", headers=auth).json()["state"] == "succeeded"
        samples = scrape(client)
        assert client.get("/health").json()["generation"] != generation
    reindexed = "newsdesk_reindex_duration_seconds"
    assert value(samples, f"{reindexed}_count", outcome="succeeded") == 1
    assert value(samples, f"{reindexed}_sum", outcome="succeeded") > 0
    assert value(samples, "newsdesk_index_load_duration_seconds_count") >= 1
    assert value(samples, "newsdesk_index_articles") == 2
