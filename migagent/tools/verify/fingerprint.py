"""Data fingerprints: per table its row count, per column its non-null count and a checksum.

The checksum is the sum of `hashtext(value::text)` over the column (an int8),
so it ignores row order and physical layout (a rewrite keeps it) but changes
when any value changes. All tables are read in one query.

Comparing the fingerprint taken before the upgrade with the one after the
downgrade measures what the round trip could not bring back (`data_loss`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from migagent.tools.verify.report import RISKS, DataLoss, DataLossFinding, Risk

TABLES_SQL = """
SELECT c.oid::int8, n.nspname, c.relname,
       coalesce(array_agg(a.attname ORDER BY a.attnum) FILTER (WHERE a.attnum IS NOT NULL), '{}')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
GROUP BY c.oid, n.nspname, c.relname
ORDER BY n.nspname, c.relname
"""

#: Risk thresholds on the largest fraction lost (see DataLoss).
LOW_MAX = 0.01
MEDIUM_MAX = 0.25


@dataclass
class ColumnPrint:
    nonnull: int
    checksum: int


@dataclass
class TablePrint:
    rows: int
    columns: dict[str, ColumnPrint] = field(default_factory=dict)


Fingerprint = dict[str, TablePrint]


def fingerprint(conn: psycopg.Connection) -> Fingerprint:
    """Row count and per-column (non-null count, checksum) of every user table."""
    tables = conn.execute(TABLES_SQL).fetchall()
    if not tables:
        return {}
    parts = []
    for i, (_oid, schema, name, columns) in enumerate(tables):
        counts = [sql.SQL("count({})").format(sql.Identifier(c)) for c in columns]
        sums = [
            sql.SQL("coalesce(sum(hashtext({}::text)), 0)").format(sql.Identifier(c))
            for c in columns
        ]
        parts.append(
            sql.SQL(
                "SELECT {i}, count(*), ARRAY[{counts}]::int8[], ARRAY[{sums}]::int8[] FROM {t}"
            ).format(
                i=sql.Literal(i),
                counts=sql.SQL(", ").join(counts),
                sums=sql.SQL(", ").join(sums),
                t=sql.Identifier(schema, name),
            )
        )
    query = sql.SQL(" UNION ALL ").join(parts)
    out: Fingerprint = {}
    for i, rows, counts, sums in conn.execute(query).fetchall():
        _oid, schema, name, columns = tables[i]
        out[f"{schema}.{name}"] = TablePrint(
            rows=rows,
            columns={
                c: ColumnPrint(int(n), int(s))
                for c, n, s in zip(columns, counts, sums, strict=True)
            },
        )
    return out


def dump(prints: Fingerprint) -> dict:
    """JSON-ready form (kept with cached data templates)."""
    return {
        t: [p.rows, {c: [cp.nonnull, cp.checksum] for c, cp in p.columns.items()}]
        for t, p in prints.items()
    }


def load(data: dict) -> Fingerprint:
    return {
        t: TablePrint(rows=rows, columns={c: ColumnPrint(n, s) for c, (n, s) in cols.items()})
        for t, (rows, cols) in data.items()
    }


def compare(
    before: Fingerprint,
    after: Fingerprint,
    *,
    touched_tables: set[str] | None = None,
    touched_columns: set[str] | None = None,
) -> DataLoss:
    """What changed in the data between two fingerprints, as data-loss findings.

    Differences in tables (and columns, `schema.table.column`) the migration
    touched are findings; differences anywhere else are `untouched_changed`
    (something changed data it had no business changing). With no touched
    sets given, every difference is a finding.
    """
    findings: list[DataLossFinding] = []
    untouched: list[str] = []

    def touched(table: str, column: str | None = None) -> bool:
        if touched_tables is None:
            return True
        if table in touched_tables:
            return True
        return column is not None and f"{table}.{column}" in (touched_columns or set())

    for table, old in before.items():
        new = after.get(table)
        if new is None:
            if old.rows:
                findings.append(
                    DataLossFinding(
                        table=table,
                        kind="table lost",
                        amount=old.rows,
                        baseline=old.rows,
                        detail=f"{table} is gone with its {old.rows} rows",
                    )
                )
            continue
        rows_lost = max(0, old.rows - new.rows)
        table_findings: list[DataLossFinding] = []
        if rows_lost:
            table_findings.append(
                DataLossFinding(
                    table=table,
                    kind="rows lost",
                    amount=rows_lost,
                    baseline=old.rows,
                    detail=f"{rows_lost} of {old.rows} rows lost in {table}",
                )
            )
        elif new.rows > old.rows:
            extra = new.rows - old.rows
            table_findings.append(
                DataLossFinding(
                    table=table,
                    kind="rows added",
                    amount=extra,
                    baseline=old.rows,
                    detail=f"{extra} rows left behind in {table} (not there before the upgrade)",
                )
            )
        for column, oc in old.columns.items():
            nc = new.columns.get(column)
            if nc is None:
                continue  # a schema difference, reported by the schema comparison
            lost = max(0, oc.nonnull - nc.nonnull - rows_lost)
            if lost:
                table_findings.append(
                    DataLossFinding(
                        table=table,
                        column=column,
                        kind="values lost",
                        amount=lost,
                        baseline=oc.nonnull,
                        detail=f"{lost} of {oc.nonnull} values lost in {table}.{column} (now NULL)",
                    )
                )
            elif not rows_lost and new.rows == old.rows and oc.checksum != nc.checksum:
                table_findings.append(
                    DataLossFinding(
                        table=table,
                        column=column,
                        kind="values changed",
                        amount=oc.nonnull,
                        baseline=oc.nonnull,
                        detail=(
                            f"values in {table}.{column} differ from before the upgrade"
                            f" (checksum; up to {oc.nonnull} values)"
                        ),
                    )
                )
        for f in table_findings:
            if touched(table, f.column):
                findings.append(f)
            else:
                untouched.append(f.detail)
    return DataLoss(risk=risk_of(findings), findings=findings, untouched_changed=untouched)


def upgrade_changes(before: Fingerprint, after: Fingerprint) -> list[str]:
    """What an upgrade did to the rows of tables that existed before it, in words.

    A data migration changes these and nothing in the schema; the proof counts
    it as a change (not as "the upgrade did nothing").
    """
    out: list[str] = []
    for table, old in before.items():
        new = after.get(table)
        if new is None:
            continue  # a dropped table is a schema change
        if new.rows != old.rows:
            verb = "added to" if new.rows > old.rows else "deleted from"
            out.append(f"{abs(new.rows - old.rows)} rows {verb} {table}")
        for column, oc in old.columns.items():
            nc = new.columns.get(column)
            if nc is None or (nc.nonnull == oc.nonnull and nc.checksum == oc.checksum):
                continue
            if nc.nonnull > oc.nonnull and new.rows == old.rows:
                out.append(f"{nc.nonnull - oc.nonnull} NULL values filled in {table}.{column}")
            elif nc.nonnull < oc.nonnull and new.rows == old.rows:
                out.append(f"{oc.nonnull - nc.nonnull} values of {table}.{column} set to NULL")
            else:
                out.append(f"values of {table}.{column} changed (up to {nc.nonnull} rows)")
    return out


def risk_of(findings: list[DataLossFinding]) -> Risk:
    """None / Low (<= 1% of any baseline) / Medium (<= 25%) / High (more, or a table)."""
    if not findings:
        return RISKS[0]
    losses = [f for f in findings if f.kind != "rows added"]
    if not losses:
        return "Low"
    worst = max(1.0 if f.kind == "table lost" else f.fraction for f in losses)
    if worst <= LOW_MAX:
        return "Low"
    if worst <= MEDIUM_MAX:
        return "Medium"
    return "High"
