"""tools.estimate: a linear fit through measured points, extrapolated, with its figures."""

from __future__ import annotations

import pytest

from migagent.tools.estimate import EstimatePoint, estimate_revision, fit

# slow: times a revision on growing generated data
pytestmark = pytest.mark.slow

REVISION = """
from alembic import op

revision = "e1"
down_revision = None


def upgrade():
    op.execute("CREATE INDEX items_name_idx ON items (name)")


def downgrade():
    op.execute("DROP INDEX items_name_idx")
"""


def test_fit_is_least_squares_and_never_negative():
    slope, intercept = fit(
        [EstimatePoint(rows=1000, seconds=1.0), EstimatePoint(rows=3000, seconds=3.0)]
    )
    assert abs(slope - 0.001) < 1e-9 and abs(intercept) < 1e-9
    slope, _ = fit([EstimatePoint(rows=1000, seconds=2.0), EstimatePoint(rows=2000, seconds=1.0)])
    assert slope == 0.0


def test_estimate_runs_growing_sizes_and_reports_figures(sandbox):
    template = sandbox.template_from_sql(
        "CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL);"
    )
    est = estimate_revision(
        REVISION,
        template,
        rows={"public.items": 5_000_000},
        sandbox=sandbox,
        budget_s=10,
        sizes=(500, 2_000, 8_000),
    )
    assert len(est.points) >= 2
    assert [p.rows for p in est.points] == sorted(p.rows for p in est.points)
    assert est.target_rows == 5_000_000 and est.predicted_s >= 0
    assert "rows" in est.evidence and "5,000,000" in est.summary
