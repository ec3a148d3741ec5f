"""Shared fixtures: real PostgreSQL servers, never mocks.

Every test that takes `sandbox` runs on the embedded PostgreSQL 18 and, when
MIGAGENT_TEST_SERVER_URL is set (CI sets it to the PostgreSQL 15 server), once
more on that server.
"""

from __future__ import annotations

import os

import pytest

from migagent.tools.sandbox import Sandbox

SERVERS = ["embedded"] + (["external"] if os.environ.get("MIGAGENT_TEST_SERVER_URL") else [])


@pytest.fixture(scope="session", params=SERVERS)
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    url = os.environ["MIGAGENT_TEST_SERVER_URL"] if request.param == "external" else None
    return Sandbox.open(url)


@pytest.fixture
def scratch(sandbox: Sandbox):
    """An empty scratch database on each server."""
    with sandbox.scratch() as db:
        yield db


@pytest.fixture
def make_db(sandbox: Sandbox):
    """Factory: a scratch database loaded with the given SQL (dropped after the test)."""
    with_blocks = []

    def make(schema_sql: str):
        cm = sandbox.scratch(sandbox.template_from_sql(schema_sql))
        with_blocks.append(cm)
        return cm.__enter__()

    yield make
    for cm in reversed(with_blocks):
        cm.__exit__(None, None, None)
