"""Run the installed `newsdesk` console script the way a user does: a child process with only
environment variables and arguments, stopped with a signal, its exit status and stderr checked."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

NEWSDESK = Path(sys.executable).with_name("newsdesk")


def user_env(**variables: str | Path) -> dict[str, str]:
    """The environment a user's shell would give: PATH and HOME, offline hub, no NEWSDESK_
    variables except the ones given (so nothing leaks in from the test run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1")
    env.update({f"NEWSDESK_{name.upper()}": str(value) for name, value in variables.items()})
    return env


@dataclass(frozen=True)
class Finished:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


FINISHED: list[Finished] = []
"""Every command these helpers ran in this test session, once it ended (tests/cli/
test_no_traceback.py reads their stderr)."""


def run_newsdesk(
    *args: str,
    env: dict[str, str],
    input: str | None = None,
    timeout: float = 180,
    cwd=None,
    prefix: Sequence[str] = (),
) -> Finished:
    """Run `newsdesk ARGS…` to completion (under `prefix`, e.g. a command that drops
    privileges, when given)."""
    done = subprocess.run(
        [*prefix, str(NEWSDESK), *args],
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )
    finished = Finished(tuple(args), done.returncode, done.stdout, done.stderr)
    FINISHED.append(finished)
    return finished


def healthy(base_url: str) -> bool:
    """Whether a started `newsdesk serve` answers /health with 200 yet."""
    try:
        return httpx.get(f"{base_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def free_port() -> int:
    """A TCP port nothing listens on: bound by the kernel's choice, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RunningCommand:
    """A long-running `newsdesk` command (serve, telegram) whose stderr is collected to a file."""

    def __init__(self, args: tuple[str, ...], env: dict[str, str], log_dir: Path) -> None:
        self.args = args
        self.stderr_path = log_dir / f"stderr-{os.getpid()}-{time.monotonic_ns()}.log"
        self._stderr = self.stderr_path.open("w")
        self.process = subprocess.Popen(
            [str(NEWSDESK), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_until(self, condition: Callable[[], bool], timeout: float = 120) -> None:
        """Wait for `condition()`; fail early (with its stderr) if the command exits instead."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"newsdesk {' '.join(self.args)} exited with {self.process.returncode}:\n"
                    + self.stderr()
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"newsdesk {' '.join(self.args)}: not ready in {timeout} s")
            time.sleep(0.05)

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, as an operator or a service manager stops it; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self._stderr.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._stderr.close()


@contextmanager
def running_newsdesk(*args: str, env: dict[str, str], log_dir: Path) -> Iterator[RunningCommand]:
    """Start `newsdesk ARGS…`; it is killed if the block leaves it running."""
    command = RunningCommand(args, env, log_dir)
    try:
        yield command
    except BaseException:
        print(f"stderr of newsdesk {' '.join(args)}:\n{command.stderr()}")  # shown on failure
        raise
    finally:
        command.kill()
        FINISHED.append(Finished(args, command.process.returncode, "", command.stderr()))
