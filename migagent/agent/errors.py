"""Errors a planner raises when it will not guess.

Both exit with 1 ("ran fine, could not draft"): the request was read, but the
planner cannot turn it into a migration it can stand behind. The message lists
what it considered and suggests the ways forward (`--desired`, the Claude
backend, or a more precise request).
"""

from __future__ import annotations

from migagent.errors import MigagentError

SUGGESTION = (
    "rephrase the request naming table and column (e.g. 'orders.customer_id'), "
    "pass the target schema with --desired desired.sql, or use --backend claude"
)


class UnderstandingError(MigagentError):
    """The planner could not understand the request (or part of it)."""

    exit_code = 1

    def __init__(self, problem: str, considered: list[str] | None = None, fix: str | None = None):
        self.considered = list(considered or [])
        text = problem
        if self.considered:
            text += " (considered: " + "; ".join(self.considered) + ")"
        super().__init__(text, fix or SUGGESTION)


class AmbiguousRequest(UnderstandingError):
    """The request matches more than one object or change; candidates listed."""

    def __init__(self, problem: str, candidates: list[str], fix: str | None = None):
        self.candidates = list(candidates)
        super().__init__(problem, None, fix or SUGGESTION)
        self.problem = f"{self.problem} (candidates: {', '.join(candidates)})"
        self.args = (str(self),)
