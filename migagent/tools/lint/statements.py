"""SQL statements to lint, parsed by pglast, with where they come from.

A `Statement` is one parsed SQL statement plus its location (file, 1-based
line and column: the statement in a `.sql` file, the `op.*` call in a
revision), whether it runs inside a transaction block, and the suppression
comments that apply to it. `.sql` text is split here; Alembic revisions are
turned into statements by `migagent.tools.lint.revision`.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from pglast import ast
from pglast.enums import TransactionStmtKind
from pglast.parser import ParseError, scan

from migagent.errors import UsageError
from migagent.tools.sqlparse import parse_sql

#: `migagent: ignore[rule-a, rule-b] reason` inside a `--`/`/* */` or `#` comment.
_DIRECTIVE = re.compile(r"migagent:\s*ignore\[([^\]]*)\]\s*(.*)")


@dataclass
class Statement:
    """One SQL statement as the linter sees it."""

    sql: str
    node: ast.Node
    file: str | None = None
    line: int = 1
    column: int = 1
    end_line: int = 1
    in_transaction: bool = True
    txn: int = 0  # transaction number: same number = same transaction block
    suppressions: dict[str, str] = field(default_factory=dict)  # rule id (or "all") -> reason
    op: Any = None  # the Alembic MigrateOperation that emitted it, if any
    op_name: str | None = None  # e.g. "create_index", "execute"
    synthetic: bool = False  # COMMIT/BEGIN that Alembic emits around autocommit_block()

    @property
    def location(self) -> str:
        return f"{self.file or '<sql>'}:{self.line}:{self.column}"


def parse_directives(comment: str) -> dict[str, str]:
    """Rule ids -> reason from one comment's text (empty when it has no directive)."""
    m = _DIRECTIVE.search(comment)
    if not m:
        return {}
    reason = m.group(2).strip().rstrip("*/").strip()
    return {r.strip(): reason for r in m.group(1).split(",") if r.strip()}


class _Lines:
    def __init__(self, text: str) -> None:
        self.starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def pos(self, offset: int) -> tuple[int, int]:
        """0-based char offset -> 1-based (line, column)."""
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1


def parse_error(exc: ParseError, sql: str, file: str | None, line_base: int = 0) -> UsageError:
    """A pglast ParseError as a one-line UsageError with file:line:column."""
    message = exc.args[0] if exc.args else str(exc)
    offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
    line, col = _Lines(sql).pos(max(0, min(offset, len(sql))))
    where = f"{file or '<sql>'}:{line + line_base}:{col}"
    return UsageError(
        f"{where}: PostgreSQL cannot parse this SQL: {message}",
        "fix the statement (migagent lints only what PostgreSQL's parser accepts)",
    )


def split_sql(
    sql: str,
    file: str | None = None,
    *,
    line_base: int = 0,
) -> list[Statement]:
    """Parse `sql` into statements with locations and `--` suppression comments.

    `line_base` is added to every line (for SQL embedded in another file).
    Raises `UsageError` with PostgreSQL's parser message on a syntax error."""
    try:
        raws = parse_sql(sql)
    except ParseError as exc:
        raise parse_error(exc, sql, file, line_base) from None
    lines = _Lines(sql)
    out: list[Statement] = []
    for raw in raws:
        start = raw.stmt_location or 0
        length = raw.stmt_len or (len(sql) - start)
        text = sql[start : start + length].strip()
        line, col = lines.pos(start)
        end_line, _ = lines.pos(max(start, start + length - 1))
        out.append(
            Statement(
                sql=text,
                node=raw.stmt,
                file=file,
                line=line + line_base,
                column=col,
                end_line=end_line + line_base,
            )
        )
    if "migagent:" in sql and out:
        _attach_sql_comments(sql, out, lines, line_base)
    return out


def _attach_sql_comments(sql: str, stmts: list[Statement], lines: _Lines, line_base: int) -> None:
    try:
        tokens = scan(sql)
    except ParseError:  # pragma: no cover - parse_sql already accepted it
        return
    for tok in tokens:
        if tok.name not in ("SQL_COMMENT", "C_COMMENT"):
            continue
        directives = parse_directives(sql[tok.start : tok.end + 1])
        if not directives:
            continue
        cline = lines.pos(tok.start)[0] + line_base
        attach_by_line(stmts, cline, directives)


def attach_by_line(stmts: list[Statement], cline: int, directives: dict[str, str]) -> None:
    """Give `directives` (found on line `cline`) to the statements spanning that line,
    or else to the next statement when the comment sits between statements."""
    hit = False
    for s in stmts:
        if s.line <= cline <= s.end_line:
            s.suppressions.update(directives)
            hit = True
    if hit:
        return
    prev_end = 0
    for s in stmts:
        if prev_end < cline < s.line:
            s.suppressions.update(directives)
            return
        prev_end = max(prev_end, s.end_line)


def assign_transactions(stmts: list[Statement], in_transaction: bool) -> None:
    """Mark each statement with whether it runs in a transaction block and which.

    Starts inside a transaction when `in_transaction` (as Alembic runs a
    revision on PostgreSQL); BEGIN/START TRANSACTION opens one, COMMIT/END/
    ROLLBACK/PREPARE TRANSACTION closes it. Outside a block every statement is
    its own transaction."""
    txn = 0
    inside = in_transaction
    for s in stmts:
        node = s.node
        if isinstance(node, ast.TransactionStmt):
            kind = node.kind
            if kind in (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START):
                if not inside:
                    txn += 1
                inside = True
                s.in_transaction, s.txn = True, txn
                continue
            if kind in (
                TransactionStmtKind.TRANS_STMT_COMMIT,
                TransactionStmtKind.TRANS_STMT_ROLLBACK,
                TransactionStmtKind.TRANS_STMT_PREPARE,
            ):
                s.in_transaction, s.txn = inside, txn
                inside = False
                txn += 1
                continue
        if not inside:
            txn += 1
        s.in_transaction, s.txn = inside, txn
        if not inside:
            txn += 1
