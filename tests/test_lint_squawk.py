"""squawk as a test oracle: on a corpus covering each of squawk's lock-related rules,
migagent flags every problem squawk flags, or this file says why not."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from migagent.tools.lint import LintContext, lint_file

CORPUS = Path(__file__).parent / "lint_corpus"
SQUAWK = shutil.which("squawk") or str(Path(__file__).resolve().parents[1] / ".venv/bin/squawk")

#: squawk rule -> migagent rules, any of which covers it
COVERS: dict[str, set[str]] = {
    "require-concurrent-index-creation": {"index-not-concurrent"},
    "require-concurrent-index-deletion": {"drop-index-not-concurrent"},
    "require-concurrent-reindex": {"reindex-not-concurrent"},
    "require-concurrent-partition-detach": {"detach-partition-not-concurrent"},
    "ban-concurrent-index-creation-in-transaction": {"concurrently-in-transaction"},
    # squawk also says this for UNIQUE / PRIMARY KEY, where NOT VALID does not exist;
    # the real problem there is the index build, which migagent reports
    "constraint-missing-not-valid": {
        "constraint-without-not-valid",
        "unique-constraint-builds-index",
    },
    "adding-foreign-key-constraint": {"constraint-without-not-valid"},
    "adding-field-with-default": {"add-column-volatile-default", "add-column-default-before-11"},
    "adding-not-nullable-field": {"set-not-null-scan"},
    "adding-required-field": {"add-column-not-null-without-default"},
    "adding-serial-primary-key-field": {"add-column-rewrite", "unique-constraint-builds-index"},
    "disallowed-unique-constraint": {"unique-constraint-builds-index"},
    "changing-column-type": {"column-type-rewrite"},
    "renaming-column": {"rename-column"},
    "renaming-table": {"rename-table"},
    "ban-drop-column": {"drop-column"},
    "ban-drop-table": {"drop-table"},
    "ban-truncate-cascade": {"truncate"},
    "ban-alter-domain-with-add-constraint": {"domain-constraint"},
    "require-lock-timeout": {"missing-lock-timeout"},
    "prefer-repack": {"vacuum-full", "cluster"},
}

#: squawk rules about style or robustness, not about locks: out of scope for the oracle
NOT_LOCK_RELATED = {
    "prefer-robust-stmts",
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-identity",
    "prefer-text-field",
    "prefer-timestamp-tz",
    "ban-char-field",
    "require-enum-value-ordering",
}

#: squawk rules migagent deliberately does not follow anywhere
NEVER: dict[str, str] = {
    "require-statement-timeout": (
        "a statement_timeout aborts legitimately long CONCURRENTLY builds and batched "
        "backfills; migagent judges duration from table size instead"
    ),
}

#: (corpus file, squawk rule) pairs where squawk is wrong or migagent intentionally differs
INTENTIONAL: dict[tuple[str, str], str] = {
    ("varchar-growth.sql", "changing-column-type"): (
        "true negative: varchar(100) -> varchar(200) is binary-coercible, no rewrite "
        "(migagent knows the current type from the context)"
    ),
    ("ban-create-domain-with-constraint.sql", "ban-create-domain-with-constraint"): (
        "creating a domain locks and scans nothing; only ALTER DOMAIN ADD CONSTRAINT does"
    ),
    ("ban-create-domain-with-constraint.sql", "require-lock-timeout"): (
        "CREATE DOMAIN takes no lock on an existing table"
    ),
    ("ban-add-enum-value.sql", "require-lock-timeout"): (
        "ADD VALUE locks the enum type, not a table: reads and writes are not blocked"
    ),
    ("ban-concurrent-index-creation-in-transaction.sql", "require-lock-timeout"): (
        "CREATE INDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE, which blocks no reads or "
        "writes (and the statement fails in a transaction anyway, reported as an error)"
    ),
    ("ban-drop-not-null.sql", "ban-drop-not-null"): (
        "DROP NOT NULL is a catalog-only change that blocks nothing for long and loses no "
        "data; migagent's rules are about locks, rewrites and breaking running code"
    ),
}

#: what migagent knows about the corpus database (as --db would tell it)
CTX = LintContext(
    rows={"orders": 5_000_000, "customers": 100_000, "measurements": 1_000_000},
    column_types={"orders": {"number": "character varying(100)", "total": "integer"}},
)


@pytest.fixture(scope="module")
def squawk_results() -> dict[str, set[str]]:
    files = sorted(CORPUS.glob("*.sql"))
    proc = subprocess.run(
        [SQUAWK, "--reporter", "json", *map(str, files)], capture_output=True, text=True
    )
    assert proc.returncode in (0, 1), proc.stderr
    out: dict[str, set[str]] = {f.name: set() for f in files}
    for item in json.loads(proc.stdout):
        out[Path(item["file"]).name].add(item["rule_name"])
    return out


def test_corpus_covers_every_lock_related_squawk_rule(squawk_results):
    fired = set().union(*squawk_results.values()) - NOT_LOCK_RELATED - set(NEVER)
    intentional_only = {rule for (_f, rule) in INTENTIONAL}
    assert set(COVERS) - {"prefer-repack"} <= fired | intentional_only
    assert fired <= set(COVERS) | intentional_only, fired - set(COVERS)


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.sql")))
def test_migagent_flags_what_squawk_flags(name, squawk_results):
    report = lint_file(CORPUS / name, CTX)
    ours = report.rules() | {f.rule for f in report.suppressed}
    for rule in sorted(squawk_results[name] - NOT_LOCK_RELATED - set(NEVER)):
        if (name, rule) in INTENTIONAL:
            # keep the list honest: squawk flags it and migagent does not
            assert not (COVERS.get(rule, set()) & ours), (name, rule, ours)
            continue
        assert rule in COVERS, f"{name}: squawk rule {rule} has no mapping"
        assert COVERS[rule] & ours, f"{name}: squawk flags {rule}, migagent found {ours}"


def test_intentional_differences_still_hold(squawk_results):
    for (name, rule), _reason in INTENTIONAL.items():
        assert rule in squawk_results[name], f"squawk no longer flags {rule} in {name}"


def test_migagent_catches_what_squawk_misses(squawk_results):
    """VACUUM FULL and CLUSTER rewrite the table; squawk (by default) is silent."""
    assert not (squawk_results["prefer-repack.sql"] & {"prefer-repack"})
    assert "vacuum-full" in lint_file(CORPUS / "prefer-repack.sql", CTX).rules()
    assert "cluster" in lint_file(CORPUS / "prefer-repack-cluster.sql", CTX).rules()
