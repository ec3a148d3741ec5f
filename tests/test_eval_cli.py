"""`migagent eval` end to end on a tiny case set: outcomes in every report, the gates.

Four cases built from one bundled case, run through the offline planner on the
embedded PostgreSQL: one it passes, one it refuses, one it drafts wrong (the
request names another column than the golden), and a must-be-refused case it
rightly refuses.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from migagent.evals.case import CASES_DIR

pytestmark = pytest.mark.slow  # runs `migagent eval` on temporary cases (~25 s)

SOURCE = CASES_DIR / "orders_customer_id_index"
NONSENSE = "please frobnicate the quux so the widgets feel happier"
EXPECTED = {
    "a_passes": "pass",
    "b_refused": "refused",
    "c_wrong": "wrong",
    "d_must_refuse": "pass",
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from migagent.cli import main; main()", "eval", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def _case(root: Path, name: str, toml: str, *, golden: bool = True) -> None:
    folder = root / name
    folder.mkdir()
    shutil.copy(SOURCE / "before.sql", folder / "before.sql")
    if golden:
        shutil.copy(SOURCE / "golden.py", folder / "golden.py")
    rows = "\n[rows]\ncustomers = 900000\norders = 12000000\n"
    (folder / "case.toml").write_text(toml + rows, encoding="utf-8")


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cases")
    _case(root, "a_passes", 'request = "idx orders.customer_id"\ntags = ["index"]\n')
    _case(root, "b_refused", f'request = "{NONSENSE}"\ntags = ["index"]\n')
    _case(root, "c_wrong", 'request = "idx orders.status"\ntags = ["index"]\n')
    _case(
        root,
        "d_must_refuse",
        f'request = "{NONSENSE} now"\nrefuse = "nonsense: no change is named"\n'
        'tags = ["refusal"]\n',
        golden=False,
    )
    return root


@pytest.fixture(scope="module")
def reports(suite: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("reports")
    result = run(
        "--cases", str(suite), "--workers", "2", "--max-wrong", "0",
        "--json", str(out / "eval.json"), "--junit", str(out / "eval.xml"),
        "--markdown", str(out / "eval.md"),
    )  # fmt: skip
    return result, out


def test_each_case_gets_its_outcome_in_json(reports) -> None:
    result, out = reports
    data = json.loads((out / "eval.json").read_text())
    assert {c["id"]: c["outcome"] for c in data["cases"]} == EXPECTED, result.stdout
    assert (data["passed"], data["refused"], data["wrong"], data["errors"]) == (2, 1, 1, 0)
    assert data["pass_rate"] == 0.5 and data["wrong_rate"] == 0.25
    cases = {c["id"]: c for c in data["cases"]}
    assert cases["b_refused"]["refusal"] and not cases["b_refused"]["drafted"]
    assert cases["c_wrong"]["drafted"] and not cases["c_wrong"]["checks"]["schema_match"]
    assert cases["d_must_refuse"]["must_refuse"] and cases["d_must_refuse"]["passed"]
    assert data["by_tag"]["index"] == {
        "passed": 1, "refused": 1, "wrong": 1, "errors": 0, "total": 3
    }  # fmt: skip


def test_junit_tells_refused_from_wrong(reports) -> None:
    _, out = reports
    suite = ET.parse(out / "eval.xml").getroot()
    assert suite.get("tests") == "4" and suite.get("failures") == "2"
    failure = {c.get("name"): c.find("failure") for c in suite.iter("testcase")}
    assert failure["a_passes"] is None and failure["d_must_refuse"] is None
    refused, wrong = failure["b_refused"], failure["c_wrong"]
    assert refused is not None and refused.get("type") == "refused"
    assert wrong is not None and wrong.get("type") == "wrong"
    assert "schema_match" in (wrong.get("message") or "")


def test_markdown_and_console_show_the_outcomes(reports) -> None:
    result, out = reports
    md = (out / "eval.md").read_text()
    assert "**2/4 passed (50%), 1 refused (25%), 1 wrong (25%)**" in md
    assert "| c_wrong | ❌ wrong |" in md and "| b_refused | ⏸ refused |" in md
    assert "## Wrong drafts" in md.split("## Refused")[0]
    assert "2/4 passed (50%), 1 refused (25%), 1 wrong (25%)" in result.stdout


def test_max_wrong_gates_the_run(reports, suite: Path) -> None:
    result, _ = reports
    assert result.returncode == 1
    assert "1 wrong drafts are more than --max-wrong 0" in result.stderr
    ok = run("--cases", str(suite), "--case", "c_wrong", "--max-wrong", "1")
    assert ok.returncode == 0, ok.stderr
    rate = run("--cases", str(suite), "--case", "c_wrong", "--max-wrong-rate", "0.5")
    assert rate.returncode == 1 and "above --max-wrong-rate 50.0%" in rate.stderr
