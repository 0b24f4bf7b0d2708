"""A damaged index and a full disk, as a user meets them: the installed `newsdesk` refuses in one
line naming the file and saying to rebuild, exits 1 without a traceback, and a rebuild repairs.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from index.layout import current_generation
from tests.cli.process import NEWSDESK, Finished, run_newsdesk, running_newsdesk, user_env
from tests.conftest import SEED_CORPUS

SEED = "What did Blinken say about a multinational force?"


def truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def spoil_page(path: Path) -> None:
    """Garbage over one SQLite page in the middle; the size stays the same."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2 // 4096 * 4096
    data[middle : middle + 4096] = b"\xff" * 4096
    path.write_bytes(bytes(data))


def spoil_header(path: Path) -> None:
    path.write_bytes(b"\x00" * 100 + path.read_bytes()[100:])


def future_format(path: Path) -> None:
    path.write_text(json.dumps(json.loads(path.read_text()) | {"format_version": 99}))


DAMAGES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "vectors truncated": ("vectors.faiss", truncate),
    "metadata page overwritten": ("meta.sqlite", spoil_page),
    "metadata header overwritten": ("meta.sqlite", spoil_header),
    "manifest missing": ("manifest.json", Path.unlink),
    "manifest from a future version": ("manifest.json", future_format),
    "vocabulary truncated": ("bm25/vocabulary.json", truncate),
    "term matrix truncated": ("bm25/term_frequencies.npz", truncate),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def damaged_copy(built_index: Path, tmp_path: Path, damage: str) -> tuple[Path, Path]:
    """A copy of the seed index (`current` still a symlink) with one file spoiled."""
    index_dir = tmp_path / "index"
    shutil.copytree(built_index, index_dir, symlinks=True)
    name, spoil = DAMAGES[damage]
    damaged = current_generation(index_dir) / name
    spoil(damaged)
    return index_dir, damaged


def assert_refused(run: Finished, damaged: Path, index_dir: Path) -> None:
    """Exit 1 and one line that names the file and the command that repairs it."""
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("Error: ") and str(damaged) in lines[0]
    assert f"`newsdesk index build --index-dir {index_dir}`" in lines[0]


def asks(env: dict[str, str], index_dir: Path, question: str = SEED) -> Finished:
    return run_newsdesk("ask", question, "--json", "--index-dir", str(index_dir), env=env)


@pytest.mark.parametrize("damage", DAMAGES)
def test_ask_and_serve_refuse_a_damaged_index(
    built_index: Path, model_cache: Path, tmp_path: Path, damage: str
) -> None:
    """`serve` too: it would otherwise answer 503 for a fault only a rebuild repairs."""
    index_dir, damaged = damaged_copy(built_index, tmp_path, damage)
    env = user_env(cache_dir=model_cache)
    serve = ("serve", "--port", str(free_port()), "--index-dir", str(index_dir))
    with ThreadPoolExecutor(2) as both:
        asked = both.submit(asks, env, index_dir)
        served = both.submit(run_newsdesk, *serve, env=env, timeout=60)
        assert_refused(asked.result(), damaged, index_dir)
        assert_refused(served.result(), damaged, index_dir)


def test_index_build_repairs_a_damaged_index(
    built_index: Path, model_cache: Path, tmp_path: Path
) -> None:
    """A full build reads nothing of the damaged generation, and removes it once replaced."""
    index_dir, damaged = damaged_copy(built_index, tmp_path, "metadata page overwritten")
    env = user_env(cache_dir=model_cache, corpus=SEED_CORPUS)
    built = run_newsdesk("index", "build", "--index-dir", str(index_dir), env=env)
    assert built.returncode == 0, built.stderr
    assert "3 embedded, 0 reused" in built.stdout
    assert not damaged.parent.exists()  # the damaged generation is gone
    answered = asks(env, index_dir)
    assert answered.returncode == 0, answered.stderr
    assert json.loads(answered.stdout)["citations"][0]["source"] == "Bloomberg"


def test_index_update_over_a_damaged_index_builds_it_in_full(
    built_index: Path, model_cache: Path, tmp_path: Path
) -> None:
    index_dir, damaged = damaged_copy(built_index, tmp_path, "term matrix truncated")
    env = user_env(cache_dir=model_cache, corpus=SEED_CORPUS)
    updated = run_newsdesk("index", "update", "--index-dir", str(index_dir), env=env)
    assert updated.returncode == 0, updated.stderr
    assert f"{damaged} is truncated" in updated.stderr and "doing a full build" in updated.stderr
    assert updated.stdout.startswith("Built ") and "0 reused" in updated.stdout
    assert asks(env, index_dir).returncode == 0


def test_serve_without_an_index_still_starts_and_answers_503(
    model_cache: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = user_env(index_dir=tmp_path / "nothing-yet", cache_dir=model_cache, port=port)

    def answers_503() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 503
        except httpx.HTTPError:
            return False

    with running_newsdesk("serve", env=env, log_dir=tmp_path) as server:
        server.wait_until(answers_503)
        detail = httpx.post(f"http://127.0.0.1:{port}/ask", json={"question": SEED}).json()
        assert server.terminate() == 0
    assert "newsdesk index build" in detail["detail"]


# --- a full disk during a build ---------------------------------------------------------------

FILE_SIZE_LIMIT = 32 * 1024


def build_under_file_size_limit(args: list[str], env: dict[str, str]) -> Finished:
    """`newsdesk ARGS…` with RLIMIT_FSIZE set in the child, as a full disk stops a write (the
    kernel sends SIGXFSZ, which Python ignores, and the write fails with EFBIG)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))

    done = subprocess.run(
        [str(NEWSDESK), *args], env=env, capture_output=True, text=True, timeout=180,
        preexec_fn=limit,
    )  # fmt: skip
    return Finished(tuple(args), done.returncode, done.stdout, done.stderr)


def test_a_build_that_runs_out_of_space_keeps_the_previous_index(
    built_index: Path, model_cache: Path, tmp_path: Path
) -> None:
    index_dir, corpus = tmp_path / "index", tmp_path / "corpus"
    shutil.copytree(built_index, index_dir, symlinks=True)
    shutil.copytree(SEED_CORPUS, corpus)
    for i in range(12):  # enough text that meta.sqlite outgrows the limit
        text = " ".join(f"Sentence {j} of report {i} on the Quillfen dam works." for j in range(60))
        record = {"id": f"dam-{i}", "title": f"Quillfen dam report {i}", "text": text,
                  "source": "Test Wire", "date": "2023-11-20"}  # fmt: skip
        (corpus / f"dam-{i}.json").write_text(json.dumps(record))
    before = current_generation(index_dir)
    env = user_env(cache_dir=model_cache, corpus=corpus, index_dir=index_dir)

    failed = build_under_file_size_limit(["index", "build"], env)
    assert failed.returncode == 1, (failed.returncode, failed.stderr)  # not killed by SIGXFSZ
    assert "Traceback" not in failed.stderr
    errors = [line for line in failed.stderr.splitlines() if line.startswith("Error:")]
    assert errors == [failed.stderr.strip().splitlines()[-1]]
    assert errors[0] == (
        "Error: File too large (the file size limit was reached) while writing meta.sqlite of the "
        f"new index in {index_dir}; the build was stopped and the previous index is still in "
        "use. Raise the limit (ulimit -f), then run the build again."
    )
    assert current_generation(index_dir) == before
    assert [p.name for p in index_dir.glob("gen-*")] == [before.name]
    still = asks(env, index_dir)
    assert still.returncode == 0, still.stderr
    assert json.loads(still.stdout)["citations"][0]["source"] == "Bloomberg"

    rebuilt = run_newsdesk("index", "build", env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "13 articles" in rebuilt.stdout
    assert not list(index_dir.glob("gen-*.partial"))
    found = asks(env, index_dir, "What are the Quillfen dam works?")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["citations"][0]["source"] == "Test Wire"
