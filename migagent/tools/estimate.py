"""Estimate how long a revision's upgrade takes at the target's table sizes.

The upgrade is run on generated data (`tools.datagen`) at growing sizes, each
on a fresh clone of the starting schema, while a time budget lasts; a straight
line is fitted through (rows, seconds) by least squares and extrapolated to
the largest table the revision touches. The figures used are part of the
result, so the spec can show its evidence. The sandbox is usually faster
(no concurrent load, fsync off on the embedded server) than production, so
the estimate is a lower bound and says so.
"""

from __future__ import annotations

import time

from pydantic import BaseModel, Field

from migagent.errors import MigagentError
from migagent.tools.sandbox import Sandbox

DEFAULT_SIZES = (2_000, 10_000, 40_000, 160_000)
DEFAULT_BUDGET_S = 20.0


class EstimatePoint(BaseModel):
    rows: int
    seconds: float


class Estimate(BaseModel):
    points: list[EstimatePoint] = Field(default_factory=list)
    target_rows: int = 0
    target_table: str = ""
    slope_s_per_million: float = 0.0
    intercept_s: float = 0.0
    predicted_s: float = 0.0
    budget_s: float = DEFAULT_BUDGET_S
    summary: str = ""
    evidence: str = ""


def fit(points: list[EstimatePoint]) -> tuple[float, float]:
    """Least-squares (slope per row, intercept); slope >= 0."""
    n = len(points)
    if n == 0:
        return 0.0, 0.0
    if n == 1:
        p = points[0]
        return (p.seconds / p.rows if p.rows else 0.0), 0.0
    mx = sum(p.rows for p in points) / n
    my = sum(p.seconds for p in points) / n
    sxx = sum((p.rows - mx) ** 2 for p in points)
    if sxx == 0:
        return 0.0, my
    slope = sum((p.rows - mx) * (p.seconds - my) for p in points) / sxx
    slope = max(slope, 0.0)
    return slope, max(my - slope * mx, 0.0)


def _human(seconds: float) -> str:
    if seconds < 1:
        return "< 1 second"
    if seconds < 90:
        return f"~{seconds:.0f} s"
    if seconds < 5400:
        return f"~{seconds / 60:.0f} min"
    return f"~{seconds / 3600:.1f} h"


def touched_tables(source: str) -> set[str]:
    """Tables the upgrade's SQL names (qualified, lower case), from Alembic's offline SQL."""
    from pglast import ast
    from pglast.visitors import Visitor

    from migagent.tools.lint.revision import revision_statements

    try:
        captured = revision_statements(source, "estimate.py")
    except MigagentError:
        return set()
    found: set[str] = set()

    class _Tables(Visitor):
        def visit_RangeVar(self, _ancestors, node: ast.RangeVar) -> None:
            found.add(f"{node.schemaname or 'public'}.{node.relname}".lower())

    for stmt in captured.statements:
        _Tables()(stmt.node)
    return found


def sizes_of_touched(source: str, rows: dict[str, int]) -> dict[str, int]:
    """`rows` restricted to the tables the revision touches (all of `rows` when unknown)."""
    touched = touched_tables(source)
    if not touched:
        return dict(rows)

    def key(name: str) -> str:
        return (name if "." in name else f"public.{name}").lower()

    return {t: n for t, n in rows.items() if key(t) in touched}


def estimate_revision(
    source: str,
    template: str,
    *,
    rows: dict[str, int],
    sandbox: Sandbox | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
    sizes: tuple[int, ...] = DEFAULT_SIZES,
) -> Estimate:
    """Time `source`'s upgrade at growing generated sizes and extrapolate to `rows`.

    `template` is the sandbox template holding the starting schema; `rows` maps tables
    to their production sizes (the largest one the revision touches is the
    extrapolation target).
    """
    from migagent.tools.datagen import generate
    from migagent.tools.introspect import snapshot
    from migagent.tools.verify.revision import RevisionSource
    from migagent.tools.verify.runner import run_migration

    sandbox = sandbox or Sandbox.open()
    module = RevisionSource.from_text(source, name="estimate.py").load()
    touched = sizes_of_touched(source, rows)
    target_table, target = max(touched.items(), key=lambda kv: kv[1], default=("", 0))
    est = Estimate(target_rows=target, target_table=target_table, budget_s=budget_s)
    with sandbox.scratch(template) as db, db.connect() as conn:
        snap = snapshot(conn)
    started = time.perf_counter()
    for n in sizes:
        spent = time.perf_counter() - started
        if len(est.points) >= 2 and (
            spent > budget_s * 0.5 or est.points[-1].seconds * 4 + spent > budget_s
        ):
            break  # two points at least, then only while the budget lasts
        with sandbox.scratch(template) as db:
            with db.connect() as conn:
                generate(conn, snap, rows=n, only_empty=False)
                conn.execute("ANALYZE")
                conn.commit()
            t0 = time.perf_counter()
            try:
                run_migration(db, module, "upgrade", observe=False)
            except MigagentError as exc:
                raise MigagentError(f"the upgrade fails on {n:,} generated rows: {exc}") from exc
            est.points.append(EstimatePoint(rows=n, seconds=time.perf_counter() - t0))
    slope, intercept = fit(est.points)
    est.slope_s_per_million = slope * 1_000_000
    est.intercept_s = intercept
    est.predicted_s = intercept + slope * target
    pts = ", ".join(f"{p.seconds:.3f} s at {p.rows:,} rows" for p in est.points)
    est.evidence = (
        f"upgrade() timed on generated data: {pts}; linear fit {est.slope_s_per_million:.2f} s per "
        f"million rows + {intercept:.3f} s, extrapolated to {target:,} rows"
        + (f" of {target_table}" if target_table else "")
    )
    est.summary = (
        f"{_human(est.predicted_s)} at {target:,} rows"
        + (f" of {target_table.split('.')[-1]}" if target_table else "")
        + " (sandbox measurement, no concurrent load: treat as a lower bound)"
    )
    return est
