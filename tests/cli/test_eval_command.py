"""`newsdesk eval` as a user runs it: a small questions file (the format `load_questions` reads:
one JSON object per line with question, answer and optional date) over the newsroom index."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.process import run_newsdesk

QUESTIONS = [
    {"question": "How many people did Hamas kill on Oct. 7?", "answer": "1,400",
     "date": "2023-11-03"},
    {"question": "Where did Arab foreign ministers meet Blinken?", "answer": "Amman",
     "date": "2023-11-04"},
    {"question": "What price did Brent crude fall to?", "answer": "$84.60"},
]  # fmt: skip


def questions_file(tmp_path: Path) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in QUESTIONS))
    return path


def test_eval_prints_metrics_plain_and_as_json(
    newsroom_env: dict[str, str], tmp_path: Path
) -> None:
    path = questions_file(tmp_path)
    plain = run_newsdesk("eval", str(path), env=newsroom_env)
    as_json = run_newsdesk("eval", str(path), "--k", "1,5", "--json", env=newsroom_env)

    assert plain.returncode == 0 and as_json.returncode == 0, plain.stderr + as_json.stderr
    assert plain.stdout.startswith("Questions 3; answerable (answer_in_results) 3")
    for mode in ("hybrid", "lexical", "dense"):
        assert f"\n{mode} " in plain.stdout
    assert "Answer string in composed answer:" in plain.stdout
    report = json.loads(as_json.stdout)
    assert (report["questions"], report["answerable"]) == (3, 3)
    assert set(report["modes"]) == {"hybrid", "lexical", "dense"}
    assert set(report["modes"]["hybrid"]["recall"]) == {"1", "5"}
    assert report["modes"]["hybrid"]["recall"]["5"] == 1.0  # eight articles: each is found
    assert report["answer_in_text"] > 0 and report["median_latency_ms"] > 0
