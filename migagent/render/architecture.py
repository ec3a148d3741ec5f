"""Render `.claude/architecture.md` from an introspected schema.

Projects describe their schema to the drafting backend in this file; generated
from a `SchemaSnapshot` it is exact and carries the row estimates that decide
which lock-safe pattern a migration needs. The `introspect --markdown` command
calls `render_architecture`; the layout is `prompts/architecture.md.j2`.
"""

from __future__ import annotations

from migagent.prompts import template
from migagent.render.markdown import tidy
from migagent.tools.introspect.model import SchemaSnapshot, Table

LARGE_TABLE_ROWS = 1_000_000
"""Rows from which a table counts as large (the template's "Large table (>1M rows)")."""
LARGE_TABLE_BYTES = 1024**3
"""Size from which a table counts as large whatever its row count (conventions.md)."""


def is_large(table: Table) -> bool:
    """Whether the conventions require online patterns (concurrent, NOT VALID, batched) on it."""
    return table.row_estimate > LARGE_TABLE_ROWS or table.total_bytes > LARGE_TABLE_BYTES


def render_architecture(snapshot: SchemaSnapshot) -> str:
    """Markdown describing every table (columns, constraints, indexes, size), view and type."""
    tables = sorted(snapshot.tables.values(), key=lambda t: t.qualified_name)
    text = template("architecture.md.j2").render(
        snap=snapshot, tables=tables, large={t.qualified_name for t in tables if is_large(t)}
    )
    return tidy(text)
