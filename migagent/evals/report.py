"""Eval results and their three renderings: JSON (machines), JUnit (CI), Markdown (PRs).

Every case ends with one outcome, because a refusal and a wrong draft cost a
user very different things: `pass`; `refused` (no draft, the drafter asked
back); `wrong` (a draft that fails a check, or any draft for a refusal case);
`error` (the harness failed: a case file, the golden, a crash).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Literal

from pydantic import BaseModel, Field

CHECK_NAMES = ("applies", "schema_match", "data_match", "reversible", "safe", "spec_complete")

Outcome = Literal["pass", "refused", "wrong", "error"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "refused", "wrong", "error")


class CaseChecks(BaseModel):
    """The scored properties of one draft; all must hold for the case to pass."""

    applies: bool = False
    schema_match: bool = False
    data_match: bool = False
    reversible: bool = False
    safe: bool = False
    spec_complete: bool = False

    def failed(self) -> list[str]:
        return [name for name in CHECK_NAMES if not getattr(self, name)]


class CaseResult(BaseModel):
    id: str
    tags: list[str] = Field(default_factory=list)
    must_refuse: bool = False  # a refusal case: passing means no draft
    outcome: Outcome = "error"
    passed: bool = False  # outcome == "pass", kept for readers of the older JSON
    drafted: bool = False  # the drafter returned a migration
    checks: CaseChecks = Field(default_factory=CaseChecks)
    refusal: str | None = None  # the drafter's reason for not drafting
    error: str | None = None  # what failed in the harness (outcome "error")
    details: list[str] = Field(default_factory=list)  # why a check failed, in words
    seconds: float = 0.0

    def decide(self) -> None:
        """Set `outcome` and `passed` from what was recorded (see the module docstring)."""
        if self.error is not None:
            self.outcome = "error"
        elif self.must_refuse:
            self.outcome = "wrong" if self.drafted else "pass"
        elif not self.drafted:
            self.outcome = "refused"
        else:
            self.outcome = "wrong" if self.checks.failed() else "pass"
        self.passed = self.outcome == "pass"

    def why(self) -> str:
        """One line: what kept the case from passing (empty when it passed)."""
        if self.outcome == "error":
            return self.error or "harness error"
        if self.outcome == "refused":
            return f"refused: {self.refusal or 'no draft'}"
        if self.outcome == "wrong" and self.must_refuse:
            return "wrong: drafted a migration for a request that must be refused"
        if self.outcome == "wrong":
            return "wrong: failed " + ", ".join(self.checks.failed())
        return ""


class TagScore(BaseModel):
    passed: int = 0
    refused: int = 0
    wrong: int = 0
    errors: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def add(self, outcome: Outcome) -> None:
        self.total += 1
        if outcome == "pass":
            self.passed += 1
        elif outcome == "refused":
            self.refused += 1
        elif outcome == "wrong":
            self.wrong += 1
        else:
            self.errors += 1


class EvalReport(BaseModel):
    backend: str
    server_version: int
    pass_rate: float
    refused_rate: float = 0.0
    wrong_rate: float = 0.0
    passed: int
    refused: int = 0
    wrong: int = 0
    errors: int = 0
    total: int
    seconds: float
    cases: list[CaseResult]
    by_tag: dict[str, TagScore] = Field(default_factory=dict)

    @classmethod
    def build(
        cls, backend: str, server_version: int, cases: list[CaseResult], seconds: float
    ) -> EvalReport:
        tags: dict[str, TagScore] = defaultdict(TagScore)
        overall = TagScore()
        for case in cases:
            overall.add(case.outcome)
            for tag in case.tags:
                tags[tag].add(case.outcome)

        def rate(count: int) -> float:
            return round(count / len(cases), 4) if cases else 0.0

        return cls(
            backend=backend,
            server_version=server_version,
            pass_rate=rate(overall.passed),
            refused_rate=rate(overall.refused),
            wrong_rate=rate(overall.wrong),
            passed=overall.passed,
            refused=overall.refused,
            wrong=overall.wrong,
            errors=overall.errors,
            total=len(cases),
            seconds=round(seconds, 2),
            cases=sorted(cases, key=lambda c: c.id),
            by_tag=dict(sorted(tags.items())),
        )

    def summary(self) -> str:
        """One line of totals, as the console and the Markdown headline show them."""
        text = (
            f"{self.passed}/{self.total} passed ({self.pass_rate:.0%}), "
            f"{self.refused} refused ({self.refused_rate:.0%}), "
            f"{self.wrong} wrong ({self.wrong_rate:.0%})"
        )
        return text + (f", {self.errors} errors" if self.errors else "")

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    def to_junit(self) -> str:
        suite = ET.Element(
            "testsuite",
            name=f"migagent-eval-{self.backend}",
            tests=str(self.total),
            failures=str(self.refused + self.wrong),
            errors=str(self.errors),
            time=f"{self.seconds:.2f}",
        )
        properties = ET.SubElement(suite, "properties")
        for name in ("passed", "refused", "wrong", "errors", "pass_rate", "wrong_rate"):
            ET.SubElement(properties, "property", name=name, value=str(getattr(self, name)))
        for case in self.cases:
            node = ET.SubElement(
                suite,
                "testcase",
                classname="migagent.eval",
                name=case.id,
                time=f"{case.seconds:.2f}",
            )
            if case.outcome == "pass":
                continue
            tag = "error" if case.outcome == "error" else "failure"
            ET.SubElement(node, tag, type=case.outcome, message=case.why()).text = "\n".join(
                case.details
            )
        return ET.tostring(suite, encoding="unicode", xml_declaration=True)

    def to_markdown(self) -> str:
        mark = {True: "✅", False: "❌"}
        lines = [
            f"# migagent eval: `{self.backend}` backend",
            "",
            f"**{self.summary()}** in {self.seconds:.1f} s "
            f"on PostgreSQL {self.server_version // 10000}.",
            "",
            "## By case",
            "",
            "| case | outcome | " + " | ".join(CHECK_NAMES) + " | s |",
            "|---|---|" + "---|" * (len(CHECK_NAMES) + 1),
        ]
        for case in self.cases:
            if case.drafted and not case.must_refuse:
                cells = [mark[getattr(case.checks, name)] for name in CHECK_NAMES]
            else:  # no draft, or a draft that should not exist: nothing to check
                cells = ["—"] * len(CHECK_NAMES)
            lines.append(
                f"| {case.id} | {_OUTCOME_MARK[case.outcome]} | "
                + " | ".join(cells)
                + f" | {case.seconds:.1f} |"
            )
        lines += [
            "",
            "## By tag",
            "",
            "| tag | passed | refused | wrong | total | rate |",
            "|---|---|---|---|---|---|",
        ]
        for tag, score in self.by_tag.items():
            lines.append(
                f"| {tag} | {score.passed} | {score.refused} | {score.wrong} | {score.total} "
                f"| {score.rate:.0%} |"
            )
        for outcome, title in (
            ("wrong", "Wrong drafts"),
            ("error", "Harness errors"),
            ("refused", "Refused"),
        ):
            failures = [c for c in self.cases if c.outcome == outcome]
            if failures:
                lines += ["", f"## {title}", ""]
                for case in failures:
                    lines.append(f"- **{case.id}**: {_one_line(case.why())}")
                    lines += [f"  - {_one_line(d)}" for d in case.details[:5]]
        return "\n".join(lines) + "\n"


_OUTCOME_MARK: dict[Outcome, str] = {
    "pass": "✅ pass",
    "refused": "⏸ refused",
    "wrong": "❌ wrong",
    "error": "💥 error",
}


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
