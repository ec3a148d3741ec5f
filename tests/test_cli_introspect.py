"""`migagent introspect` end to end, as a subprocess: output formats and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from migagent.tools.introspect.model import SchemaSnapshot
from migagent.tools.sandbox import Sandbox

pytestmark = pytest.mark.slow  # introspects databases through the CLI (~30 s)

DEMO = Path(__file__).resolve().parents[1] / "migagent" / "data" / "demo.sql"
URL_ENVS = ("MIGAGENT_DATABASE_URL", "DATABASE_URL", "MIGAGENT_SANDBOX_URL")


def run(
    *args: str, cwd: Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in URL_ENVS}
    return subprocess.run(
        [sys.executable, "-m", "migagent", "introspect", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, **(env or {})},
        timeout=120,
    )


def _sandbox_args(sandbox: Sandbox) -> list[str]:
    return [] if sandbox.embedded else ["--sandbox-url", sandbox.url]


def test_demo_schema_file_as_ddl(sandbox: Sandbox, tmp_path: Path) -> None:
    proc = run("--schema-file", str(DEMO), *_sandbox_args(sandbox), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("-- Schema of demo.sql (PostgreSQL ")
    assert "CREATE TABLE public.documents (\n    id uuid DEFAULT gen_random_uuid() NOT NULL," in out
    assert (
        "    title character varying(255) NOT NULL,\n    version character varying(50) NOT NULL,"
        in out
    )
    assert "-- public.sections: ~2,400 rows, " in out
    assert "-- public.documents: ~300 rows, " in out
    assert "REFERENCES public.documents(id) ON DELETE CASCADE" in out
    assert "CREATE TRIGGER trg_sections_updated_at" in out
    assert proc.stderr == ""


def test_json_table_filter_and_no_stats(sandbox: Sandbox, tmp_path: Path) -> None:
    proc = run("--schema-file", str(DEMO), *_sandbox_args(sandbox), "--json", "--table", "sections")
    assert proc.returncode == 0, proc.stderr
    snap = SchemaSnapshot.model_validate(json.loads(proc.stdout))
    assert list(snap.tables) == ["public.sections"]
    assert snap.tables["public.sections"].row_estimate == 2400
    assert "public.document_status" in snap.enums
    bare = run(
        "--schema-file",
        str(DEMO),
        *_sandbox_args(sandbox),
        "--json",
        "--no-stats",
        "-t",
        "documents",
    )
    snap = SchemaSnapshot.model_validate_json(bare.stdout)
    assert list(snap.tables) == ["public.documents"]
    assert snap.tables["public.documents"].row_estimate == 0
    assert snap.tables["public.documents"].total_bytes == 0


def test_db_url_env_and_alembic_ini(make_db, tmp_path: Path) -> None:
    db = make_db(
        "CREATE TABLE things (id int PRIMARY KEY, name text NOT NULL); CREATE TABLE other (x int);"
    )
    proc = run("--db", db.url, "--table", "things", "--no-stats", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (
        "CREATE TABLE public.things (\n    id integer NOT NULL,\n    name text NOT NULL,"
        in proc.stdout
    )
    assert "other" not in proc.stdout
    assert "rows" not in proc.stdout
    via_env = run(
        cwd=tmp_path, env={"DATABASE_URL": db.url.replace("postgresql://", "postgres://")}
    )
    assert via_env.returncode == 0, via_env.stderr
    assert "CREATE TABLE public.other" in via_env.stdout
    (tmp_path / "alembic.ini").write_text(f"[alembic]\nsqlalchemy.url = {db.sqlalchemy_url}\n")
    via_ini = run("--json", cwd=tmp_path)
    assert via_ini.returncode == 0, via_ini.stderr
    assert set(json.loads(via_ini.stdout)["tables"]) == {"public.things", "public.other"}


def test_markdown(sandbox: Sandbox, tmp_path: Path) -> None:
    proc = run("--schema-file", str(DEMO), *_sandbox_args(sandbox), "--markdown", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "sections" in proc.stdout
    assert "CREATE TABLE" not in proc.stdout


def _embedded_with(user: str = "postgres", database: str = "postgres") -> str:
    url = Sandbox.open().url  # postgresql://postgres:@/postgres?host=...
    return url.replace("postgres:@/postgres", f"{user}@/{database}")


BAD_INPUT = {
    "closed port": (["--db", "postgresql://postgres@127.0.0.1:1/postgres"], "Connection refused"),
    "unknown host": (["--db", "postgresql://postgres@no-such-host.invalid/db"], "cannot connect"),
    "unknown role": (["--db", "ROLE"], 'role "no_such_role" does not exist'),
    "unknown database": (["--db", "DATABASE"], 'database "no_such_db" does not exist'),
    "not postgres": (["--db", "mysql://root@127.0.0.1/app"], "'mysql' is not a PostgreSQL URL"),
    "missing schema file": (["--schema-file", "MISSING"], "does not exist"),
    "schema fails to load": (["--schema-file", "BAD"], 'line 2: relation "missing" does not exist'),
    "unknown table": (
        ["--schema-file", str(DEMO), "--table", "nope"],
        "table nope is not in the schema",
    ),
    "both sources": (["--db", "postgresql://x@h/d", "--schema-file", str(DEMO)], "not both"),
    "nothing to read": ([], "no database to introspect"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_line_exit_2(case: str, tmp_path: Path) -> None:
    args, message = BAD_INPUT[case]
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE TABLE a (id int);\nSELECT * FROM missing;\n")
    replace = {
        "ROLE": _embedded_with(user="no_such_role"),
        "DATABASE": _embedded_with(database="no_such_db"),
        "MISSING": str(tmp_path / "missing.sql"),
        "BAD": str(bad),
    }
    proc = run(*[replace.get(a, a) for a in args], cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
