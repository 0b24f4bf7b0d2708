"""A short run of the soak benchmark (bench/soak.py): the installed `newsdesk serve --telegram`
under mixed HTTP and Telegram load answers every request and every message, keeps its memory
flat after warm-up, and stops cleanly on SIGTERM."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def figure(output: str, label: str) -> str:
    match = re.search(rf"^{re.escape(label)}: (.+)$", output, re.MULTILINE)
    assert match, f"no {label!r} line in:\n{output}"
    return match.group(1)


@pytest.mark.slow
def test_short_soak_has_no_errors_no_lost_replies_and_a_clean_exit(model_cache: Path) -> None:
    done = subprocess.run(
        [sys.executable, "bench/soak.py", "--http", "2000", "--telegram", "200"]
        + ["--cache-dir", str(model_cache)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout
    assert done.returncode == 0, output + done.stderr
    assert figure(output, "HTTP errors") == "0"
    assert figure(output, "lost Telegram replies") == "0"
    assert re.search(r"^  total +2000 +\d+ +\d+ +0$", output, re.MULTILINE), output
    telegram = output.split("Telegram updates by kind")[1].split("Telegram update→reply")[0]
    rows = re.findall(r"^  (.+?) +(\d+) +(\d+) +(\d+) +(\d+)$", telegram, re.MULTILINE)
    assert sum(int(sent) for _, sent, *_ in rows) == 200
    assert all(sent == replied for _, sent, replied, _, _ in rows), telegram
    growth = float(figure(output, "RSS growth after warm-up").removesuffix(" %"))
    assert growth <= 10.0
    assert figure(output, "server exit status after SIGTERM").startswith(
        "0; traceback on stderr: no"
    )
    assert "targets:" in output and "MISSED" not in output
