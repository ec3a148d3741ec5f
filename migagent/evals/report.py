"""Eval results and their three renderings: JSON (machines), JUnit (CI), Markdown (PRs)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from pydantic import BaseModel, Field

CHECK_NAMES = ("applies", "schema_match", "data_match", "reversible", "safe", "spec_complete")


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
    passed: bool = False
    checks: CaseChecks = Field(default_factory=CaseChecks)
    error: str | None = None
    details: list[str] = Field(default_factory=list)  # why a check failed, in words
    seconds: float = 0.0


class TagScore(BaseModel):
    passed: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


class EvalReport(BaseModel):
    backend: str
    server_version: int
    pass_rate: float
    passed: int
    total: int
    seconds: float
    cases: list[CaseResult]
    by_tag: dict[str, TagScore] = Field(default_factory=dict)

    @classmethod
    def build(
        cls, backend: str, server_version: int, cases: list[CaseResult], seconds: float
    ) -> EvalReport:
        tags: dict[str, TagScore] = defaultdict(TagScore)
        for case in cases:
            for tag in case.tags:
                tags[tag].total += 1
                tags[tag].passed += case.passed
        passed = sum(c.passed for c in cases)
        return cls(
            backend=backend,
            server_version=server_version,
            pass_rate=round(passed / len(cases), 4) if cases else 0.0,
            passed=passed,
            total=len(cases),
            seconds=round(seconds, 2),
            cases=sorted(cases, key=lambda c: c.id),
            by_tag=dict(sorted(tags.items())),
        )

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    def to_junit(self) -> str:
        suite = ET.Element(
            "testsuite",
            name=f"migagent-eval-{self.backend}",
            tests=str(self.total),
            failures=str(sum(1 for c in self.cases if not c.passed and not c.error)),
            errors=str(sum(1 for c in self.cases if c.error)),
            time=f"{self.seconds:.2f}",
        )
        for case in self.cases:
            node = ET.SubElement(
                suite,
                "testcase",
                classname="migagent.eval",
                name=case.id,
                time=f"{case.seconds:.2f}",
            )
            if case.error:
                ET.SubElement(node, "error", message=case.error).text = "\n".join(case.details)
            elif not case.passed:
                failed = ", ".join(case.checks.failed())
                ET.SubElement(node, "failure", message=f"failed: {failed}").text = "\n".join(
                    case.details
                )
        return ET.tostring(suite, encoding="unicode", xml_declaration=True)

    def to_markdown(self) -> str:
        mark = {True: "✅", False: "❌"}
        lines = [
            f"# migagent eval: `{self.backend}` backend",
            "",
            f"**{self.passed}/{self.total} passed ({self.pass_rate:.0%})** in {self.seconds:.1f} s "
            f"on PostgreSQL {self.server_version // 10000}.",
            "",
            "## By case",
            "",
            "| case | " + " | ".join(CHECK_NAMES) + " | passed | s |",
            "|---|" + "---|" * (len(CHECK_NAMES) + 2),
        ]
        for case in self.cases:
            cells = [mark[getattr(case.checks, name)] for name in CHECK_NAMES]
            lines.append(
                f"| {case.id} | "
                + " | ".join(cells)
                + f" | {mark[case.passed]} | {case.seconds:.1f} |"
            )
        lines += ["", "## By tag", "", "| tag | passed | total | rate |", "|---|---|---|---|"]
        for tag, score in self.by_tag.items():
            lines.append(f"| {tag} | {score.passed} | {score.total} | {score.rate:.0%} |")
        failures = [c for c in self.cases if not c.passed]
        if failures:
            lines += ["", "## What failed", ""]
            for case in failures:
                what = case.error or "failed: " + ", ".join(case.checks.failed())
                lines.append(f"- **{case.id}**: {_one_line(what)}")
                lines += [f"  - {_one_line(d)}" for d in case.details[:5]]
        return "\n".join(lines) + "\n"


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
