"""Fuzz every route from the OpenAPI schema with schemathesis against a real server: valid and
invalid input alike must never produce a 5xx, and answers must match the documented schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from bot.http.app import create_app
from bot.service import NewsdeskService
from bot.settings import Settings
from tests.bot.http.live_server import serve_in_thread
from tests.conftest import settings_for

# Not `negative_data_rejection`: in a query string every value is text, so `source=false` is a
# valid one-element source list, yet the fuzzer counts it as schema-violating input accepted.
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


FUZZ_TOKEN = "fuzz-admin-token-e51d"


# The schema is static (no lifespan needed to produce it); the requests go to a live server.
# An admin token puts /admin/* in the schema; the fuzzer never learns it, so it probes the
# 401/403 paths and never starts a real reindex of the shared index.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(_env_file=None, admin_token=FUZZ_TOKEN)).openapi()
)


@pytest.fixture(scope="module")
def base_url(built_index: Path, service: NewsdeskService) -> Iterator[str]:
    app = create_app(settings_for(built_index, admin_token=FUZZ_TOKEN), service=service)
    with serve_in_thread(app) as url:
        yield url


@schema.parametrize()
@settings(FUZZ, max_examples=30)
def test_no_input_yields_a_server_error(case: schemathesis.Case, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, checks=CHECKS, timeout=30)


@pytest.mark.slow
@schema.parametrize()
@settings(FUZZ, max_examples=400, derandomize=False)
def test_no_input_yields_a_server_error_long_run(case: schemathesis.Case, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, checks=CHECKS, timeout=30)
