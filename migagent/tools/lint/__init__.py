"""Migration linter: what a migration will do to a live, busy PostgreSQL database.

Public API (stable; used by the CLI, the planners, the Claude agent and evals):

- `lint_file(path, ctx=None, *, sql_in_transaction=False) -> LintReport`
  An Alembic revision (`.py`, rendered through Alembic's offline mode) or a
  `.sql` file (psql semantics: outside a transaction unless it says BEGIN, or
  `sql_in_transaction=True` when a runner wraps the file in one).
- `lint_files(paths, ctx=None, *, sql_in_transaction=False) -> LintReport`
- `lint_sql(sql, ctx=None, in_transaction=True, *, file=None) -> LintReport`
  SQL text; by default as Alembic would run it, inside one transaction.
- `lint_revision_source(source, ctx=None, *, file="<revision>") -> LintReport`
  A revision held as text (drafting backends).

`ctx` is a `LintContext` (table sizes, PostgreSQL version, the large-table
threshold); `context_from_db(url)` builds one from a live database and
`parse_rows(["orders=50M"])` parses `--rows`. All raise `UsageError` for
unreadable files and SQL PostgreSQL cannot parse.
"""

from __future__ import annotations

from pathlib import Path

from migagent.errors import UsageError
from migagent.tools.lint.context import (
    DEFAULT_LARGE_ROWS,
    DEFAULT_PG_VERSION,
    LintContext,
    context_from_db,
    parse_pg_version,
    parse_rows,
)
from migagent.tools.lint.engine import run_rules
from migagent.tools.lint.report import JSON_KEYS, LintFinding, LintReport
from migagent.tools.lint.revision import revision_statements
from migagent.tools.lint.rules import ALL_RULE_IDS, RULES
from migagent.tools.lint.statements import assign_transactions, split_sql

__all__ = [
    "ALL_RULE_IDS",
    "DEFAULT_LARGE_ROWS",
    "DEFAULT_PG_VERSION",
    "JSON_KEYS",
    "RULES",
    "LintContext",
    "LintFinding",
    "LintReport",
    "context_from_db",
    "lint_file",
    "lint_files",
    "lint_revision_source",
    "lint_sql",
    "parse_pg_version",
    "parse_rows",
]


def lint_sql(
    sql: str,
    ctx: LintContext | None = None,
    in_transaction: bool = True,
    *,
    file: str | None = None,
) -> LintReport:
    """Lint SQL text. `in_transaction`: whether it starts inside a transaction block
    (True = as Alembic runs a revision on PostgreSQL)."""
    ctx = ctx or LintContext()
    stmts = split_sql(sql, file)
    assign_transactions(stmts, in_transaction)
    return run_rules(stmts, ctx, files=[file] if file else [])


def lint_revision_source(
    source: str,
    ctx: LintContext | None = None,
    *,
    file: str = "<revision>",
) -> LintReport:
    """Lint an Alembic revision given as Python source: run its upgrade() offline."""
    ctx = ctx or LintContext()
    captured = revision_statements(source, file)
    extra = []
    if captured.stopped is not None:
        line, why = captured.stopped
        extra.append(
            LintFinding(
                rule="data-migration-not-linted",
                severity="info",
                message=(
                    "upgrade() uses op.get_bind() results, which Alembic's offline mode cannot"
                    f" provide ({why}); statements from line {line} on were not linted."
                ),
                statement="",
                file=file,
                line=line,
                column=1,
            )
        )
    return run_rules(captured.statements, ctx, files=[file], extra=extra)


def lint_file(
    path: str | Path,
    ctx: LintContext | None = None,
    *,
    sql_in_transaction: bool = False,
) -> LintReport:
    """Lint one `.py` Alembic revision or `.sql` file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{p}: no such file", "check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {p}: {exc}", "pass a readable UTF-8 file") from None
    if p.suffix == ".py":
        return lint_revision_source(text, ctx, file=str(p))
    if p.suffix == ".sql":
        return lint_sql(text, ctx, sql_in_transaction, file=str(p))
    raise UsageError(
        f"{p}: not a .py revision or a .sql file", "lint Alembic revision files or .sql files"
    )


def lint_files(
    paths: list[str | Path],
    ctx: LintContext | None = None,
    *,
    sql_in_transaction: bool = False,
) -> LintReport:
    """Lint several files (each its own migration) into one report."""
    ctx = ctx or LintContext()
    return (
        LintReport.merge([lint_file(p, ctx, sql_in_transaction=sql_in_transaction) for p in paths])
        if paths
        else LintReport(pg_version=ctx.pg_version, large_rows=ctx.large_rows)
    )
