"""`newsdesk eval` as a user runs it: a small questions file (the format `load_questions` reads:
one JSON object per line with question, answer and optional date) over the newsroom index."""

from __future__ import annotations

import json
from pathlib import Path

from index.store import open_index
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


def who_said_files(tmp_path: Path, index_dir: Path) -> Path:
    """A two-question who-said set over the seed article, labelled by offsets into its text."""
    reader = open_index(index_dir)
    article_id = next(a.id for a in reader.articles.values() if a.source == "Bloomberg")
    text = reader.text(article_id)
    reader.close()
    said = "the possibility of a multinational force that could involve US troops"
    start = text.index(said)
    span = {"article_id": article_id, "content_start": start, "content_end": start + len(said)}
    questions = [
        {"kind": "said", "question": "What did Blinken say about a multinational force?",
         "as_of": "2023-11-04", "speaker": "Antony Blinken", "gold": [span], "traps": []},
        {"kind": "who_said", "question": "Who said a two-state solution was the only viable path "
         "forward?", "as_of": "2023-11-04", "speaker": "Antony Blinken"},
    ]  # fmt: skip
    statements = [span | {"speaker": "Antony Blinken", "kind": "reported"}]
    (tmp_path / "statements.jsonl").write_text(json.dumps(statements[0]) + "\n")
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in questions))
    return path


def test_eval_scores_the_who_said_set_and_its_labelled_statements(
    newsroom_env: dict[str, str], newsroom_index: Path, tmp_path: Path
) -> None:
    path = who_said_files(tmp_path, newsroom_index)
    plain = run_newsdesk("eval", str(path), env=newsroom_env)
    as_json = run_newsdesk("eval", str(path), "--json", env=newsroom_env)

    assert plain.returncode == 0 and as_json.returncode == 0, plain.stderr + as_json.stderr
    lines = plain.stdout.splitlines()
    assert lines[0] == "What did X say about Y (1 questions)"
    assert "1/1" in lines[1] and "target >= 0.85" in lines[1]  # Blinken's own words, first
    assert any(line.startswith("Who said") for line in lines)
    recall = next(line for line in lines if "speaker recall" in line)
    assert "1/1" in recall  # the labelled statement is stored with its speaker
    report = json.loads(as_json.stdout)
    said, who_said = report["figures"]["said"], report["figures"]["who_said"]
    assert (said[0]["passed"], said[0]["total"], who_said[0]["passed"]) == (1, 1, 1)
    assert report["statements_labelled"] == 1 and report["articles_missing"] == []


def test_eval_reports_abstention_on_an_unanswerable_set(
    newsroom_env: dict[str, str], tmp_path: Path
) -> None:
    questions = [
        {"kind": "general_knowledge", "question": "Who painted the Mona Lisa?",
         "date": "2023-11-04"},
        {"kind": "after_archive", "question": "Who won Eurovision 2024?", "date": "2024-05-20"},
        {"kind": "invented_claim", "date": "2023-11-04",
         "question": "What did Blinken say about the price of Norwegian salmon?"},
    ]  # fmt: skip
    path = tmp_path / "unanswerable.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in questions))
    plain = run_newsdesk("eval", str(path), env=newsroom_env)
    as_json = run_newsdesk("eval", str(path), "--json", env=newsroom_env)

    assert plain.returncode == 0 and as_json.returncode == 0, plain.stderr + as_json.stderr
    assert plain.stdout.startswith("Unanswerable questions: abstained 1.000")
    report = json.loads(as_json.stdout)
    assert report["by_kind"] == {
        "general_knowledge": [1, 1], "after_archive": [1, 1], "invented_claim": [1, 1],
    }  # fmt: skip
    assert report["abstain_reasons"]["after_archive"] == 1
    assert report["abstain_reasons"]["no_statement_by_speaker"] == 1
    assert report["answered"] == []
