"""The offline backend: a deterministic planner, no API key, no network.

`OfflineBackend().plan(request, facts)` reads the request against the live
schema (`planner.plan_request`) and returns a `DraftPlan`, or raises
`UnderstandingError` / `AmbiguousRequest` naming what it considered.
"""

from __future__ import annotations

from migagent.agent.offline.planner import plan_request
from migagent.agent.plan import DraftPlan, Facts


class OfflineBackend:
    """The deterministic request parser as a `Backend`."""

    name = "offline"

    def plan(self, request: str, facts: Facts) -> DraftPlan:
        return plan_request(request, facts)


__all__ = ["OfflineBackend", "plan_request"]
