"""Eval reports: the JSON contract, JUnit for CI and Markdown for pull requests."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from migagent.evals.report import CHECK_NAMES, CaseChecks, CaseResult, EvalReport

ALL_TRUE = dict.fromkeys(CHECK_NAMES, True)


def _decided(result: CaseResult) -> CaseResult:
    result.decide()
    return result


def _report() -> EvalReport:
    good = CaseResult(
        id="b_good", tags=["index", "small"], drafted=True, checks=CaseChecks(**ALL_TRUE)
    )
    unsafe = CaseResult(
        id="a_unsafe",
        tags=["index", "large"],
        drafted=True,
        checks=CaseChecks(**{**ALL_TRUE, "safe": False}),
        details=["lint: index-not-concurrent: CREATE INDEX on orders (5,000,000 rows)"],
    )
    refused = CaseResult(id="c_refused", tags=["fk"], refusal="could not understand the request")
    broken = CaseResult(id="d_broken", tags=["fk"], error="the golden's upgrade fails: boom")
    asked_back = CaseResult(id="e_asked_back", tags=["refusal"], must_refuse=True)
    drafted = CaseResult(id="f_drafted", tags=["refusal"], must_refuse=True, drafted=True)
    cases = [good, unsafe, refused, broken, asked_back, drafted]
    return EvalReport.build("offline", 180006, [_decided(c) for c in cases], seconds=3.21)


def test_outcomes_follow_from_what_happened() -> None:
    outcomes = {c.id: c.outcome for c in _report().cases}
    assert outcomes == {
        "a_unsafe": "wrong",
        "b_good": "pass",
        "c_refused": "refused",
        "d_broken": "error",
        "e_asked_back": "pass",
        "f_drafted": "wrong",
    }


def test_json_has_the_documented_keys() -> None:
    data = json.loads(_report().to_json())
    assert data["pass_rate"] == round(2 / 6, 4) and data["wrong_rate"] == round(2 / 6, 4)
    assert data["refused_rate"] == round(1 / 6, 4)
    assert (data["passed"], data["refused"], data["wrong"], data["errors"]) == (2, 1, 2, 1)
    assert [c["id"] for c in data["cases"]][:3] == ["a_unsafe", "b_good", "c_refused"]
    first = data["cases"][0]
    assert {"id", "outcome", "passed", "checks", "error", "refusal", "must_refuse"} <= first.keys()
    assert set(first["checks"]) == set(CHECK_NAMES)
    assert first["checks"]["safe"] is False and first["passed"] is False
    assert data["by_tag"]["index"] == {
        "passed": 1, "refused": 0, "wrong": 1, "errors": 0, "total": 2
    }  # fmt: skip
    assert data["by_tag"]["fk"]["refused"] == 1 and data["by_tag"]["fk"]["errors"] == 1


def test_junit_separates_failures_from_errors() -> None:
    suite = ET.fromstring(_report().to_junit())
    assert suite.get("tests") == "6" and suite.get("failures") == "3" and suite.get("errors") == "1"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["refused"] == "1" and props["wrong"] == "2"
    cases = {c.get("name"): c for c in suite.iter("testcase")}

    def child(name: str, tag: str) -> ET.Element:
        node = cases[name].find(tag)
        assert node is not None, f"{name} has no <{tag}>"
        return node

    assert child("a_unsafe", "failure").get("type") == "wrong"
    assert child("a_unsafe", "failure").get("message") == "wrong: failed safe"
    assert child("c_refused", "failure").get("type") == "refused"
    assert "could not understand" in (child("c_refused", "failure").get("message") or "")
    assert child("d_broken", "error").get("message") == "the golden's upgrade fails: boom"
    assert child("f_drafted", "failure").get("type") == "wrong"
    for name in ("b_good", "e_asked_back"):
        assert cases[name].find("failure") is None and cases[name].find("error") is None


def test_markdown_tables_by_case_and_tag_and_what_failed() -> None:
    md = _report().to_markdown()
    assert "**2/6 passed (33%), 1 refused (17%), 2 wrong (33%), 1 errors**" in md
    assert "PostgreSQL 18" in md
    header = "| case | outcome | applies | schema_match | data_match | reversible | safe |"
    assert header in md
    assert "| index | 1 | 0 | 1 | 2 | 50% |" in md
    assert "| c_refused | ⏸ refused | — |" in md and "| a_unsafe | ❌ wrong | ✅ |" in md
    wrong = md.split("## Wrong drafts", 1)[1].split("## Harness errors", 1)[0]
    assert "**a_unsafe**: wrong: failed safe" in wrong and "index-not-concurrent" in wrong
    assert "**f_drafted**: wrong: drafted a migration" in wrong
    refused = md.split("## Refused", 1)[1]
    assert "**c_refused**: refused: could not understand the request" in refused
    assert "b_good" not in md.split("## By tag", 1)[1]
