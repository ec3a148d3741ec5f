"""Session settings around DDL: lock_timeout."""

from __future__ import annotations

from pglast import ast

from migagent.tools.lint.locks import blocks, statement_locks
from migagent.tools.lint.rules.base import RuleContext, op_execute, rule
from migagent.tools.lint.statements import Statement

_DDL = (
    ast.AlterTableStmt,
    ast.IndexStmt,
    ast.DropStmt,
    ast.RenameStmt,
    ast.CreateStmt,
    ast.TruncateStmt,
    ast.ReindexStmt,
    ast.ClusterStmt,
    ast.VacuumStmt,
    ast.CreateTrigStmt,
    ast.AlterDomainStmt,
)


@rule(
    "missing-lock-timeout",
    "DDL that waits for a blocking lock without lock_timeout stalls all traffic queued behind it",
    *_DDL,
)
def missing_lock_timeout(stmt: Statement, c: RuleContext):
    if c.state.lock_timeout_flagged or c.lock_timeout_set(stmt):
        return
    for lock in statement_locks(stmt.node):
        if not blocks(lock.mode):
            continue
        table = lock.table.lower() if lock.table else None
        if table and c.created(table):
            continue
        c.state.lock_timeout_flagged = True
        yield c.finding(
            "missing-lock-timeout",
            f"{lock.mode} on {lock.table or lock.index or 'the tables using it'} is requested with no lock_timeout: while it"
            " waits behind a long query, every new query on the table queues behind it. Set"
            " lock_timeout first (and retry on timeout). Reported once per migration.",
            table=table,
            lock=lock.mode,
            severity="warning",
            fix=op_execute("SET lock_timeout = '5s'")
            + "  # first thing in upgrade(); SET LOCAL is lost at an autocommit_block()",
        )
        return
