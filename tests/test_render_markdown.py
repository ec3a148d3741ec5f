"""The spec rendered as the team's migration template."""

from __future__ import annotations

import re

from test_spec import full_spec

from migagent.render import render_markdown
from migagent.spec import CodeChange, MigrationSpec, drafted

# The template's section headings, in its order (from the team's migration template).
TEMPLATE_HEADINGS = [
    "Migration Purpose",
    "Schema Changes",
    "Current Schema",
    "Desired Schema",
    "Data Migration Required?",
    "Rollback Plan",
    "Performance Considerations",
    "Testing Strategy",
    "Dependencies",
    "Alembic Migration Details",
    "Code Changes Required",
    "Verification Queries",
    "Impact Analysis",
    "Breaking Changes",
    "Backward Compatibility",
    "Example Migration Template",
    "Risk Assessment",
    "Checklist Before Applying",
    "Post-Migration Actions",
]

TEMPLATE_SUBHEADINGS = [
    "Rollback Commands",
    "Test Commands",
    "Migration File Name",
    "Expected Alembic Commands",
    "Models (SQLAlchemy)",
    "Schemas (Pydantic)",
    "Services",
    "After Migration - Run These",
    "Affected Components",
    "High Risk Factors",
    "Mitigation Strategies",
]


def _outside_fences(md: str) -> list[str]:
    lines, fence = [], None
    for line in md.split("\n"):
        if fence is None and line.startswith("```"):
            fence = re.match(r"`+", line).group(0)
        elif fence is not None and line == fence:
            fence = None
        elif fence is None:
            lines.append(line)
    assert fence is None, "unclosed code fence"
    return lines


def _headings(md: str, level: int) -> list[str]:
    prefix = "#" * level + " "
    return [line[len(prefix) :] for line in _outside_fences(md) if line.startswith(prefix)]


def _section(md: str, heading: str) -> str:
    start = md.index(f"\n## {heading}\n")
    end = md.find("\n## ", start + 1)
    return md[start : end if end != -1 else len(md)]


def test_every_template_heading_in_order() -> None:
    md = render_markdown(full_spec())
    assert _headings(md, 2) == TEMPLATE_HEADINGS
    assert _headings(md, 3) == TEMPLATE_SUBHEADINGS
    assert md.startswith("# Database Migration: Add full-text search index to sections table\n")


def test_minimal_spec_still_renders_every_heading() -> None:
    spec = full_spec()
    minimal = MigrationSpec(purpose=spec.purpose, alembic=spec.alembic, meta=spec.meta)
    md = render_markdown(minimal)
    assert _headings(md, 2) == TEMPLATE_HEADINGS
    assert "No changes needed." in _section(md, "Code Changes Required")
    assert "- None listed" in _section(md, "Risk Assessment")


def test_checkboxes_follow_the_values() -> None:
    md = render_markdown(full_spec())
    changes = _section(md, "Schema Changes")
    assert "- [ ] Add table\n" in changes
    assert "- [x] Modify table (add/remove/alter columns) _(drafted)_\n" in changes
    assert "- [x] Add index _(measured: idx_sections_fts present after upgrade)_\n" in changes
    assert "- [x] No - pure schema change" in _section(md, "Data Migration Required?")
    assert "- [ ] Yes - describe data transformation needed" in md
    impact = _section(md, "Impact Analysis")
    assert "- [x] API endpoints: GET /search" in impact
    assert "- [ ] Background jobs: None" in impact
    assert "- [x] No\n" in _section(md, "Breaking Changes")
    assert "- [x] Large table (>1M rows) _(introspected: 5.1 M rows (pg_class))_" in md
    assert "- [ ] Backup created (for production)" in md
    boxes = [line for line in _outside_fences(md) if re.match(r"- \[[x ]\] ", line)]
    assert len(boxes) == 5 + 2 + 5 + 3 + 2 + 3 + 4 + 7 + 5


def test_provenance_is_shown_next_to_each_value() -> None:
    md = render_markdown(full_spec())
    perf = _section(md, "Performance Considerations")
    assert (
        "- Estimated migration time: ~21 s _(measured: 0.41 s on 100,000 rows; "
        "~21 s at the table's 5.1 M rows)_" in perf
    )
    assert "- Downtime required: No _(drafted)_" in perf
    assert (
        "- Large table impact: sections has 5.1 M rows (2.2 GB) _(introspected: pg_class.reltuples)_"
        in perf
    )
    assert "_Source: introspected: describe_table sections on docs@prod-replica._" in _section(
        md, "Current Schema"
    )
    assert "_Source: measured: schema of the scratch copy after upgrade._" in _section(
        md, "Desired Schema"
    )
    assert (
        "- Verify index created: 2 rows, idx_sections_fts among them _(measured: ran on the scratch copy)_"
        in md
    )
    assert "**Provenance:**" in md


def test_code_blocks_are_fenced_with_their_language() -> None:
    spec = full_spec()
    md = render_markdown(spec)
    assert "```sql\nCREATE TABLE sections (\n    id bigint PRIMARY KEY," in _section(
        md, "Current Schema"
    )
    assert "```bash\nalembic upgrade head\n\n# Rollback if needed\nalembic downgrade -1\n```" in md
    models = md[md.index("### Models (SQLAlchemy)") : md.index("### Schemas (Pydantic)")]
    assert "```python\n# app/models/section.py\nsearch_vector: Mapped" in models
    example = _section(md, "Example Migration Template")
    assert "```python\n" + spec.revision_source.strip("\n") + "\n```" in example
    queries = _section(md, "Verification Queries")
    assert "```sql\n-- Verify index created\nSELECT indexname, indexdef" in queries
    assert "\n\n-- Test query performance\nEXPLAIN ANALYZE\n" in queries


def test_code_containing_backticks_gets_a_longer_fence() -> None:
    spec = full_spec()
    spec.code_changes.services = [
        CodeChange(path="app/doc.py", code='DOC = """\n```sql\nx\n```\n"""')
    ]
    md = render_markdown(spec)
    assert '````python\n# app/doc.py\nDOC = """\n```sql\nx\n```\n"""\n````' in md
    assert _headings(md, 2) == TEMPLATE_HEADINGS  # the inner fence did not end the block


def test_failed_verification_is_a_warning_at_the_top() -> None:
    spec = full_spec(verification="failed")
    spec.meta.verification_detail = "downgrade left column sections.search_vector behind"
    md = render_markdown(spec)
    top = md[: md.index("## Migration Purpose")]
    assert "> [!CAUTION]\n> **VERIFICATION FAILED: do not apply this migration.**" in top
    assert "> downgrade left column sections.search_vector behind" in top
    assert "| Verification | failed: downgrade left column" in top
    assert "as verified" not in _section(md, "Example Migration Template")


def test_passed_and_unverified_specs() -> None:
    passed = render_markdown(full_spec(verification="passed"))
    assert "FAILED" not in passed and "Not verified" not in passed
    assert "| Verification | passed: upgrade, downgrade, upgrade: ok |" in passed
    assert (
        "| Drafted by | claude (claude-sonnet-4-5), 7 turns, 12,345 input / 2,345 output tokens |"
        in passed
    )
    unverified = render_markdown(full_spec(verification="not_run"))
    top = unverified[: unverified.index("## Migration Purpose")]
    assert "> **Not verified.**" in top


def test_rendering_survives_a_json_round_trip() -> None:
    spec = full_spec()
    spec.schema_changes.add_constraint = drafted(True)
    again = MigrationSpec.model_validate_json(spec.model_dump_json())
    assert render_markdown(again) == render_markdown(spec)


def test_no_runs_of_blank_lines_or_trailing_spaces_outside_code() -> None:
    md = render_markdown(full_spec())
    previous_blank, fence = False, None
    for number, line in enumerate(md.split("\n"), start=1):
        if fence is None and line.startswith("```"):
            fence = re.match(r"`+", line).group(0)
        elif fence is not None:
            fence = None if line == fence else fence
            continue
        assert line == line.rstrip(), f"line {number} ends in spaces"
        assert not (previous_blank and not line), f"line {number}: two blank lines"
        previous_blank = not line
    assert md.endswith("`.claude/architecture.md`.\n")
