"""Shared fixtures: real PostgreSQL servers, never mocks.

Every test that takes `sandbox` runs on the embedded PostgreSQL 18 and, when
MIGAGENT_TEST_SERVER_URL is set (CI sets it to the PostgreSQL 15 server), once
more on that server.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import LiteralString, cast

import pytest

from migagent.tools.introspect.model import SchemaSnapshot
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


@pytest.fixture(scope="session")
def schema_snapshot(sandbox: Sandbox) -> Callable[[str], SchemaSnapshot]:
    """Factory: the introspected snapshot of a schema, read once per schema and server.

    Planner and lowering tests only read the snapshot, so building and
    introspecting the same database for each test (0.7-1 s) buys nothing. Each
    call returns a deep copy: a test that changes it cannot leak into another.
    """
    from migagent.tools.introspect import snapshot

    cache: dict[str, SchemaSnapshot] = {}

    def read(schema_sql: str) -> SchemaSnapshot:
        if schema_sql not in cache:
            template = sandbox.template_from_sql(schema_sql)
            with sandbox.scratch(template) as db, db.connect() as conn:
                cache[schema_sql] = snapshot(conn)
        return cache[schema_sql].model_copy(deep=True)

    return read


TARGET_ENV = "MIGAGENT_TEST_SERVER_URL"


@contextlib.contextmanager
def _target_databases():
    import secrets

    from psycopg import sql

    from migagent.tools import pgurl

    admin_url = os.environ.get(TARGET_ENV) or Sandbox.open().url
    made: list[str] = []

    def make(sql_text: str) -> str:
        name = f"migagent_target_{secrets.token_hex(4)}"
        with pgurl.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        made.append(name)
        url = pgurl.with_database(pgurl.libpq_url(admin_url), name)
        with pgurl.connect(url, autocommit=True) as conn:
            conn.execute(cast("LiteralString", sql_text))  # the test's own schema and rows
            conn.execute("ANALYZE")
        return url

    try:
        yield make
    finally:
        with pgurl.connect(admin_url, autocommit=True) as conn:
            for name in made:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@pytest.fixture
def target_db():
    """Factory: a *target* database with real rows, on the PostgreSQL 15 server when CI has
    one (MIGAGENT_TEST_SERVER_URL), else on the embedded server; the sandbox stays the
    embedded server, so target-facing paths cross servers and major versions.

    `target_db(sql)` runs `sql` (schema and rows) in a fresh database, ANALYZEs it and
    returns its URL; the database is dropped after the test.
    """
    with _target_databases() as make:
        yield make


@pytest.fixture(scope="module")
def module_target_db():
    """`target_db` whose databases live for the whole test module (suites of read-only probes)."""
    with _target_databases() as make:
        yield make
