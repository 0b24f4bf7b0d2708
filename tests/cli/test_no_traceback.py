"""No user ever sees a traceback: checked over the stderr of every `newsdesk` command the process
tests ran in this session (tests/cli/process.py records each one when it ends, whether it
finished, failed or was stopped by a signal). tests/cli/conftest.py runs this test last."""

from __future__ import annotations

from tests.cli.process import FINISHED


def test_no_command_printed_a_traceback() -> None:
    assert FINISHED, "no newsdesk command ran before this test: run it with the rest of tests/cli"
    with_traceback = [
        f"newsdesk {' '.join(command.args)} (status {command.returncode}):\n{command.stderr}"
        for command in FINISHED
        if "Traceback" in command.stderr
    ]
    assert not with_traceback, "\n\n".join(with_traceback)
