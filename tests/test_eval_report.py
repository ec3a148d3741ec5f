"""Eval reports: the JSON contract, JUnit for CI and Markdown for pull requests."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from migagent.evals.report import CHECK_NAMES, CaseChecks, CaseResult, EvalReport

ALL_TRUE = dict.fromkeys(CHECK_NAMES, True)


def _report() -> EvalReport:
    good = CaseResult(
        id="b_good", tags=["index", "small"], passed=True, checks=CaseChecks(**ALL_TRUE)
    )
    unsafe = CaseResult(
        id="a_unsafe",
        tags=["index", "large"],
        checks=CaseChecks(**{**ALL_TRUE, "safe": False}),
        details=["lint: index-not-concurrent: CREATE INDEX on orders (5,000,000 rows)"],
    )
    broken = CaseResult(id="c_broken", tags=["fk"], error="could not understand the request")
    return EvalReport.build("offline", 180006, [good, unsafe, broken], seconds=3.21)


def test_json_has_the_documented_keys() -> None:
    data = json.loads(_report().to_json())
    assert data["pass_rate"] == round(1 / 3, 4)
    assert [c["id"] for c in data["cases"]] == ["a_unsafe", "b_good", "c_broken"]
    first = data["cases"][0]
    assert {"id", "passed", "checks", "error"} <= first.keys()
    assert set(first["checks"]) == set(CHECK_NAMES)
    assert first["checks"]["safe"] is False and first["passed"] is False
    assert data["by_tag"]["index"] == {"passed": 1, "total": 2}


def test_junit_separates_failures_from_errors() -> None:
    suite = ET.fromstring(_report().to_junit())
    assert suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("errors") == "1"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["a_unsafe"].find("failure").get("message") == "failed: safe"
    assert cases["c_broken"].find("error").get("message") == "could not understand the request"
    assert cases["b_good"].find("failure") is None


def test_markdown_tables_by_case_and_tag_and_what_failed() -> None:
    md = _report().to_markdown()
    assert "**1/3 passed (33%)**" in md and "PostgreSQL 18" in md
    assert (
        "| case | applies | schema_match | data_match | reversible | safe | spec_complete |" in md
    )
    assert "| index | 1 | 2 | 50% |" in md
    failed = md.split("## What failed", 1)[1]
    assert "**a_unsafe**: failed: safe" in failed and "index-not-concurrent" in failed
    assert "**c_broken**: could not understand the request" in failed
    assert "b_good" not in failed
