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
from migagent.tools.policy import LARGE_BYTES as LARGE_TABLE_BYTES
from migagent.tools.policy import LARGE_ROWS as LARGE_TABLE_ROWS
from migagent.tools.policy import is_large as is_large_size

__all__ = ["LARGE_TABLE_BYTES", "LARGE_TABLE_ROWS", "is_large", "is_large_size"]


def is_large(table: Table) -> bool:
    """Whether the one size policy (`migagent.tools.policy`) requires online patterns
    (concurrent, NOT VALID, batched) on it."""
    return is_large_size(table.row_estimate, table.total_bytes)


def render_architecture(snapshot: SchemaSnapshot) -> str:
    """Markdown describing every table (columns, constraints, indexes, size), view and type."""
    tables = sorted(snapshot.tables.values(), key=lambda t: t.qualified_name)
    text = template("architecture.md.j2").render(
        snap=snapshot, tables=tables, large={t.qualified_name for t in tables if is_large(t)}
    )
    return tidy(text)
