"""The migration spec model: provenance, completeness, JSON round trip, structured-output schema."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import anthropic
import jsonschema
import pytest
from pydantic import ValidationError

from migagent.spec import (
    SECTIONS,
    AlembicDetails,
    BackwardCompatibility,
    CodeChange,
    CodeChanges,
    DataMigration,
    Dependencies,
    Fact,
    ImpactAnalysis,
    MigrationSpec,
    Performance,
    Purpose,
    RiskAssessment,
    RiskFactors,
    RollbackPlan,
    SchemaChanges,
    SpecDraft,
    SpecMeta,
    TestingChecklist,
    TestingStrategy,
    TokenUsage,
    VerificationQuery,
    drafted,
    introspected,
    measured,
    spec_completeness,
    spec_json_schema,
)

REVISION_SOURCE = '''"""add full-text search to sections

Revision ID: a1f0c0de0002
Revises: a1f0c0de0001
Create Date: 2025-01-15 14:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a1f0c0de0002"
down_revision = "a1f0c0de0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")


def downgrade() -> None:
    op.drop_column("sections", "search_vector")
'''


def full_spec(verification: str = "passed") -> MigrationSpec:
    """A spec with every section filled, as a planner would after verify and estimate."""
    return MigrationSpec(
        purpose=Purpose(
            summary="Add full-text search index to sections table",
            ticket="DOC-42",
            migration_type="Schema change",
        ),
        schema_changes=SchemaChanges(
            modify_table=drafted(True),
            add_index=measured(True, "idx_sections_fts present after upgrade"),
            details=[
                "add generated column sections.search_vector tsvector",
                "add GIN index idx_sections_fts on sections (search_vector)",
            ],
        ),
        current_schema=introspected(
            "CREATE TABLE sections (\n    id bigint PRIMARY KEY,\n    title text,\n    content text\n);",
            "describe_table sections on docs@prod-replica",
        ),
        desired_schema=measured(
            "CREATE TABLE sections (\n    id bigint PRIMARY KEY,\n    title text,\n    content text,\n"
            "    search_vector tsvector GENERATED ALWAYS AS (...) STORED\n);",
            "schema of the scratch copy after upgrade",
        ),
        data_migration=DataMigration(required=False),
        rollback=RollbackPlan(
            procedure="Run `alembic downgrade -1`: drops the index, then the column.",
            data_loss_risk=drafted("None"),
            reversible=measured(
                True, "upgrade, downgrade, upgrade on a scratch copy; schemas equal"
            ),
            rollback_sql=measured(
                "DROP INDEX CONCURRENTLY idx_sections_fts;\n"
                "ALTER TABLE sections DROP COLUMN search_vector;",
                "alembic downgrade --sql",
            ),
        ),
        performance=Performance(
            estimated_time=measured(
                "~21 s", "0.41 s on 100,000 rows; ~21 s at the table's 5.1 M rows"
            ),
            downtime_required=drafted(False),
            index_building=measured(
                "Online", "CREATE INDEX CONCURRENTLY held SHARE UPDATE EXCLUSIVE"
            ),
            table_locking=measured(
                "ACCESS EXCLUSIVE on sections for the column rewrite (~18 s)",
                "pg_locks sampled during verify",
            ),
            large_table_impact=introspected(
                "sections has 5.1 M rows (2.2 GB)", "pg_class.reltuples"
            ),
        ),
        testing=TestingStrategy(
            checklist=TestingChecklist(
                sample_data=measured(True, "verify on 100,000 generated rows"),
                rollback_procedure=measured(True, "downgrade ran on the scratch copy"),
            ),
            test_commands="SELECT count(*) FROM sections WHERE search_vector IS NULL;",
        ),
        dependencies=Dependencies(required_before=["a1f0c0de0001"]),
        alembic=AlembicDetails(
            file_name="2025_01_15_1430_add_full_text_search_to_sections.py",
            revision="a1f0c0de0002",
            down_revision="a1f0c0de0001",
            commands="alembic upgrade head\n\n# Rollback if needed\nalembic downgrade -1",
        ),
        code_changes=CodeChanges(
            summary="The Section model maps the new column; the search service uses it.",
            models=[
                CodeChange(
                    path="app/models/section.py",
                    code="search_vector: Mapped[str | None] = mapped_column(TSVECTOR, deferred=True)",
                )
            ],
            services=[
                CodeChange(
                    path="app/services/search.py",
                    code="stmt = select(Section).where(Section.search_vector.match(q))",
                )
            ],
        ),
        verification_queries=[
            VerificationQuery(
                purpose="Verify index created",
                sql="SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'sections';",
                result=measured("2 rows, idx_sections_fts among them", "ran on the scratch copy"),
            ),
            VerificationQuery(
                purpose="Test query performance",
                sql="EXPLAIN ANALYZE\nSELECT * FROM sections WHERE search_vector @@ plainto_tsquery('test');",
            ),
        ],
        impact=ImpactAnalysis(api_endpoints=["GET /search"]),
        backward_compatibility=BackwardCompatibility(fully_compatible=True),
        revision_source=REVISION_SOURCE,
        risk=RiskAssessment(
            level=drafted("Medium"),
            factors=RiskFactors(large_table=introspected(True, "5.1 M rows (pg_class)")),
            mitigations=[
                "Create index CONCURRENTLY to avoid locks",
                "Run during low-traffic window",
            ],
        ),
        meta=SpecMeta(
            backend="claude",
            model="claude-sonnet-4-5",
            usage=TokenUsage(input_tokens=12_345, output_tokens=2_345),
            turns=7,
            verification=verification,
            verification_detail="upgrade, downgrade, upgrade: ok",
            lint="clean",
            created_at=dt.datetime(2025, 1, 15, 14, 30, tzinfo=dt.UTC),
        ),
    )


# --- provenance ------------------------------------------------------------------------


def test_measured_and_introspected_values_need_evidence() -> None:
    with pytest.raises(ValidationError, match="needs evidence"):
        measured("21 s", "  ")
    with pytest.raises(ValidationError, match="needs evidence"):
        Fact[int](value=5, source="introspected")
    assert drafted("x").source == "drafted" and not drafted("x").proven
    assert measured(1, "ran it").proven


def test_fact_values_are_validated_against_the_field_type() -> None:
    with pytest.raises(ValidationError):
        RollbackPlan(data_loss_risk=drafted("Catastrophic"))
    with pytest.raises(ValidationError):
        Performance(downtime_required=measured("maybe", "guess"))
    plan = RollbackPlan(data_loss_risk=measured("Low", "3 rows would be dropped"))
    assert plan.data_loss_risk.value == "Low"
    assert plan.data_loss_risk.evidence == "3 rows would be dropped"


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Purpose(summary="x", priority="high")


# --- round trip, draft/meta split ----------------------------------------------------------


def test_spec_round_trips_through_json() -> None:
    spec = full_spec()
    again = MigrationSpec.model_validate_json(spec.model_dump_json())
    assert again == spec
    assert again.performance.estimated_time.evidence.startswith("0.41 s on 100,000 rows")
    assert again.meta.created_at == dt.datetime(2025, 1, 15, 14, 30, tzinfo=dt.UTC)


def test_draft_and_meta_split_and_rejoin() -> None:
    spec = full_spec()
    draft = spec.draft()
    assert isinstance(draft, SpecDraft) and not isinstance(draft, MigrationSpec)
    assert "meta" not in draft.model_dump()
    assert MigrationSpec.from_draft(draft, spec.meta) == spec


def test_token_usage_total() -> None:
    usage = TokenUsage(input_tokens=10, output_tokens=5, cache_read_input_tokens=100)
    assert usage.total == 115


# --- completeness ----------------------------------------------------------------------


def test_full_spec_is_complete() -> None:
    assert spec_completeness(full_spec()) == []


def test_minimal_spec_lists_missing_sections_in_template_order() -> None:
    spec = MigrationSpec(
        purpose=Purpose(summary="Add file_size to documents"),
        alembic=AlembicDetails(file_name="x.py"),
        meta=SpecMeta(backend="offline"),
    )
    missing = spec_completeness(spec)
    assert missing == [
        "Schema Changes",
        "Current Schema",
        "Desired Schema",
        "Rollback Plan",
        "Performance Considerations",
        "Testing Strategy",
        "Alembic Migration Details",
        "Code Changes Required",
        "Verification Queries",
        "Example Migration Template",
        "Risk Assessment",
    ]
    headings = [h for _, h in SECTIONS]
    assert missing == sorted(missing, key=headings.index)


@pytest.mark.parametrize(
    ("change", "section"),
    [
        ({"purpose": {"summary": "  "}}, "Migration Purpose"),
        ({"data_migration": {"required": True, "transformation": []}}, "Data Migration Required?"),
        ({"rollback": {"rollback_sql": {"value": ""}}}, "Rollback Plan"),
        ({"breaking_changes": {"breaking": True, "impact": ""}}, "Breaking Changes"),
        ({"verification_queries": [{"purpose": "x", "sql": " "}]}, "Verification Queries"),
        (
            {"backward_compatibility": {"fully_compatible": False}},
            "Backward Compatibility",
        ),
    ],
)
def test_each_emptied_section_is_reported(change: dict[str, Any], section: str) -> None:
    data = full_spec().model_dump()
    for key, value in change.items():
        if isinstance(value, dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    assert spec_completeness(MigrationSpec.model_validate(data)) == [section]


def test_irreversible_rollback_needs_a_procedure_not_sql() -> None:
    spec = full_spec()
    spec.rollback = RollbackPlan(
        procedure="Restore sections.legacy_flag from the pre-migration backup.",
        data_loss_risk=drafted("High"),
        reversible=measured(False, "downgrade raises NotImplementedError"),
    )
    assert spec_completeness(spec) == []
    spec.rollback.procedure = ""
    assert spec_completeness(spec) == ["Rollback Plan"]


def test_sections_cover_every_field_in_order() -> None:
    fields = [f for f in MigrationSpec.model_fields if f != "meta"]
    assert [f for f, _ in SECTIONS] == fields


# --- JSON Schema for Anthropic structured outputs -----------------------------------------

ALLOWED_KEYWORDS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "allOf",
    "$ref",
    "$defs",
    "description",
    "title",
    "format",
    "minItems",
}


def _walk(node: Any, path: str = "#"):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for name, sub in value.items():
                    yield from _walk(sub, f"{path}/{key}/{name}")
            elif key in ("items", "anyOf", "allOf"):
                yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk(item, f"{path}/{i}")


def test_schema_uses_only_keywords_structured_outputs_support() -> None:
    schema = spec_json_schema()
    objects = 0
    for path, node in _walk(schema):
        unsupported = set(node) - ALLOWED_KEYWORDS
        assert not unsupported, f"{path}: {unsupported}"
        if node.get("type") == "object":
            objects += 1
            assert node["additionalProperties"] is False, path
            assert node["required"] == list(node["properties"]), path
        if "$ref" in node:
            name = node["$ref"].removeprefix("#/$defs/")
            assert name in schema["$defs"], path
    assert objects > 20  # every sub-model is a closed object
    assert "meta" not in schema["properties"]  # backends never write their own metadata


def test_schema_is_a_fixed_point_of_the_sdk_transformation() -> None:
    schema = spec_json_schema()
    assert anthropic.transform_schema(schema) == schema
    assert json.loads(json.dumps(schema)) == schema


def test_schema_accepts_a_full_draft_and_rejects_broken_ones() -> None:
    schema = spec_json_schema()
    validator = jsonschema.Draft202012Validator(schema)
    jsonschema.Draft202012Validator.check_schema(schema)
    draft = full_spec().draft().model_dump(mode="json")
    assert list(validator.iter_errors(draft)) == []
    # and what validates against the schema parses back into the model
    assert SpecDraft.model_validate(draft) == full_spec().draft()

    missing = {k: v for k, v in draft.items() if k != "rollback"}
    assert any("rollback" in e.message for e in validator.iter_errors(missing))
    extra = {**draft, "notes": "x"}
    assert list(validator.iter_errors(extra))
    bad_source = json.loads(json.dumps(draft))
    bad_source["performance"]["estimated_time"]["source"] = "guessed"
    assert list(validator.iter_errors(bad_source))


def test_schema_for_the_whole_spec_includes_meta() -> None:
    schema = spec_json_schema(MigrationSpec)
    assert "meta" in schema["properties"]
    assert "SpecMeta" in schema["$defs"]
