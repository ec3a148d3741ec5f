"""The migration spec: the document a team reviews before a migration is applied.

`MigrationSpec` has one field (or sub-model) per section of the migration
template, in the template's order, so `prompts/spec.md.j2` can render it
section by section and a backend can fill it as structured output.

Values that migagent can prove are `Fact`s: the value plus where it came from.
`measured` means a migagent tool (verify, lint, estimate) produced it on a
scratch copy and `evidence` holds the figures; `introspected` means it was read
from the target's catalog; `drafted` means a backend wrote it and a human must
review it. The rendered document shows the difference, so a reviewer knows
what was proven.

The spec splits into `SpecDraft` (what a backend writes: every section) and
`MigrationSpec` (a draft plus `SpecMeta`: backend, model, token usage,
verification status), so structured output never asks a model to invent its
own token counts or verification result.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

T = TypeVar("T")

Source = Literal["measured", "target", "introspected", "drafted"]
Risk = Literal["None", "Low", "Medium", "High"]
MigrationType = Literal["Schema change", "Data migration", "Both"]
IndexBuilding = Literal["Online", "Offline", "Not applicable"]
VerificationStatus = Literal["passed", "failed", "not_run"]
LintStatus = Literal["clean", "warnings", "errors", "not_run"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Fact(_Model, Generic[T]):
    """A value and its provenance.

    `evidence` is mandatory for `measured` and `introspected` values: a claim
    of proof without the figures or the command behind it is not proof.
    """

    value: T
    source: Source = "drafted"
    evidence: str = Field(
        default="",
        description=(
            "For measured/introspected values: the figures or command behind the value, "
            "e.g. '0.41 s on 100,000 rows; ~21 s at the table's 5.1 M rows'. Empty when drafted."
        ),
    )

    @model_validator(mode="after")
    def _evidence_for_proof(self) -> Fact[T]:
        if self.source != "drafted" and not self.evidence.strip():
            raise ValueError(f"a {self.source} value needs evidence (the figures or the command)")
        return self

    @property
    def proven(self) -> bool:
        return self.source != "drafted"


Sourced = Fact  # the name used in the issue


def drafted(value: T) -> Fact[T]:
    """A value written by a backend, to be reviewed."""
    return Fact[Any](value=value, source="drafted")  # type: ignore[return-value]


def measured(value: T, evidence: str) -> Fact[T]:
    """A value produced by verify/lint/estimate; `evidence` carries the figures."""
    return Fact[Any](value=value, source="measured", evidence=evidence)  # type: ignore[return-value]


def on_target(value: T, evidence: str) -> Fact[T]:
    """A value measured on the target's own rows (read-only); `evidence` gives the query."""
    return Fact[Any](value=value, source="target", evidence=evidence)  # type: ignore[return-value]


def introspected(value: T, evidence: str) -> Fact[T]:
    """A value read from the target database's catalog; `evidence` says from where."""
    return Fact[Any](value=value, source="introspected", evidence=evidence)  # type: ignore[return-value]


def _unchecked() -> Fact[bool]:
    return Fact[bool](value=False)


Check = Fact[bool]
"""A checklist item: checked or not, and who says so."""


def _check() -> Any:
    return Field(default_factory=_unchecked)


# --- sections, in the template's order ---------------------------------------------------


class Purpose(_Model):
    """Template section "Migration Purpose"."""

    summary: str = Field(description="One line, e.g. 'Add full-text search index to sections'.")
    ticket: str = Field(default="", description="Ticket/issue reference, empty if none.")
    migration_type: MigrationType = "Schema change"


class SchemaChanges(_Model):
    """Template section "Schema Changes": the template's checklist plus the concrete changes."""

    add_table: Check = _check()
    modify_table: Check = _check()
    add_index: Check = _check()
    add_constraint: Check = _check()
    data_migration_required: Check = _check()
    details: list[str] = Field(
        default_factory=list,
        description="The concrete changes, one per item, e.g. 'add column documents.file_size bigint'.",
    )


class DataMigration(_Model):
    """Template section "Data Migration Required?"."""

    required: bool = False
    transformation: list[str] = Field(
        default_factory=list, description="Transformation steps, in order (batching included)."
    )
    rows_affected: Fact[int] | None = None


class RollbackPlan(_Model):
    """Template section "Rollback Plan"."""

    procedure: str = Field(default="", description="How to roll back, in a few sentences.")
    data_loss_risk: Fact[Risk] = Field(default_factory=lambda: Fact[Risk](value="None"))
    reversible: Fact[bool] = Field(default_factory=lambda: Fact[bool](value=True))
    rollback_sql: Fact[str] = Field(
        default_factory=lambda: Fact[str](value=""),
        description="SQL equivalent of downgrade(); measured when taken from offline rendering.",
    )


class Performance(_Model):
    """Template section "Performance Considerations"."""

    estimated_time: Fact[str] = Field(default_factory=lambda: Fact[str](value=""))
    downtime_required: Fact[bool] = Field(default_factory=lambda: Fact[bool](value=False))
    index_building: Fact[IndexBuilding] = Field(
        default_factory=lambda: Fact[IndexBuilding](value="Not applicable")
    )
    table_locking: Fact[str] = Field(
        default_factory=lambda: Fact[str](value=""),
        description="Which locks are taken on which tables, and for how long.",
    )
    large_table_impact: Fact[str] = Field(default_factory=lambda: Fact[str](value=""))


class TestingChecklist(_Model):
    """The five items of the template's testing checklist."""

    __test__ = False  # not a pytest class, despite the name

    sample_data: Check = _check()
    queries_still_work: Check = _check()
    performance_impact: Check = _check()
    rollback_procedure: Check = _check()
    data_integrity: Check = _check()


class TestingStrategy(_Model):
    """Template section "Testing Strategy", with its test commands."""

    __test__ = False

    checklist: TestingChecklist = Field(default_factory=TestingChecklist)
    test_commands: str = Field(default="", description="SQL that shows the migration succeeded.")


class Dependencies(_Model):
    """Template section "Dependencies"."""

    required_before: list[str] = Field(default_factory=list)
    blocks: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)


class AlembicDetails(_Model):
    """Template section "Alembic Migration Details"."""

    file_name: str = Field(description="Revision file name, e.g. 2025_01_15_1430_add_fts.py.")
    revision: str = ""
    down_revision: str = Field(
        default="", description="Current head the revision follows; empty for the first."
    )
    commands: str = Field(
        default="", description="Bash: the alembic commands to review, apply, roll back."
    )


class CodeChange(_Model):
    """One file that changes along with the schema."""

    path: str = Field(description="e.g. app/models/section.py")
    code: str = Field(description="The new or changed code.")


class CodeChanges(_Model):
    """Template section "Code Changes Required"."""

    summary: str = Field(
        default="",
        description="What the application must change; say so explicitly when nothing does.",
    )
    models: list[CodeChange] = Field(default_factory=list, description="SQLAlchemy models.")
    schemas: list[CodeChange] = Field(default_factory=list, description="Pydantic schemas.")
    services: list[CodeChange] = Field(default_factory=list)


class VerificationQuery(_Model):
    """One query to run after the migration, and what it returned on the scratch copy."""

    purpose: str = Field(description="e.g. 'Verify index created'.")
    sql: str
    result: Fact[str] | None = Field(
        default=None, description="What the query returned when migagent ran it; null if not run."
    )


class ImpactAnalysis(_Model):
    """Template section "Impact Analysis": the affected components."""

    api_endpoints: list[str] = Field(default_factory=list)
    background_jobs: list[str] = Field(default_factory=list)
    external_integrations: list[str] = Field(default_factory=list)
    notes: str = ""


class BreakingChanges(_Model):
    """Template section "Breaking Changes"."""

    breaking: bool = False
    impact: str = ""


class BackwardCompatibility(_Model):
    """Template section "Backward Compatibility"."""

    fully_compatible: bool = True
    requires_code_deployment: bool = False
    requires_configuration_changes: bool = False
    notes: str = ""


class RiskFactors(_Model):
    """The template's high-risk factors."""

    large_table: Check = Field(
        default_factory=_unchecked,
        description="Large table (>1M rows); introspected from row estimates.",
    )
    production_downtime: Check = _check()
    complex_transformation: Check = _check()
    rollback_difficult: Check = _check()


class RiskAssessment(_Model):
    """Template section "Risk Assessment"."""

    level: Fact[Risk] = Field(default_factory=lambda: Fact[Risk](value="Low"))
    factors: RiskFactors = Field(default_factory=RiskFactors)
    mitigations: list[str] = Field(default_factory=list)


class BeforeApplying(_Model):
    """Template section "Checklist Before Applying"."""

    reviewed_by_team: Check = _check()
    tested_on_development: Check = _check()
    tested_with_production_sized_data: Check = _check()
    rollback_documented_and_tested: Check = _check()
    performance_assessed: Check = _check()
    backup_created: Check = _check()
    monitoring_in_place: Check = _check()


class PostMigration(_Model):
    """Template section "Post-Migration Actions"."""

    verify_success: Check = _check()
    monitor_logs: Check = _check()
    check_endpoint_performance: Check = _check()
    update_documentation: Check = _check()
    notify_team: Check = _check()


class SpecDraft(_Model):
    """Every section of the migration template, in order: what a backend writes."""

    purpose: Purpose
    schema_changes: SchemaChanges = Field(default_factory=SchemaChanges)
    current_schema: Fact[str] = Field(
        default_factory=lambda: Fact[str](value=""),
        description="SQL of the relevant objects as they are now; introspected when read from the target.",
    )
    desired_schema: Fact[str] = Field(
        default_factory=lambda: Fact[str](value=""),
        description="SQL of the relevant objects after upgrade; measured when read back from a scratch copy.",
    )
    data_migration: DataMigration = Field(default_factory=DataMigration)
    rollback: RollbackPlan = Field(default_factory=RollbackPlan)
    performance: Performance = Field(default_factory=Performance)
    testing: TestingStrategy = Field(default_factory=TestingStrategy)
    dependencies: Dependencies = Field(default_factory=Dependencies)
    alembic: AlembicDetails
    code_changes: CodeChanges = Field(default_factory=CodeChanges)
    verification_queries: list[VerificationQuery] = Field(default_factory=list)
    impact: ImpactAnalysis = Field(default_factory=ImpactAnalysis)
    breaking_changes: BreakingChanges = Field(default_factory=BreakingChanges)
    backward_compatibility: BackwardCompatibility = Field(default_factory=BackwardCompatibility)
    revision_source: str = Field(
        default="", description="The complete Alembic revision file (Python source)."
    )
    risk: RiskAssessment = Field(default_factory=RiskAssessment)
    before_applying: BeforeApplying = Field(default_factory=BeforeApplying)
    post_migration: PostMigration = Field(default_factory=PostMigration)


class TokenUsage(_Model):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    @property
    def total(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_input_tokens
            + self.cache_read_input_tokens
        )


class SpecMeta(_Model):
    """How the spec was made and whether it was proven; never written by a model."""

    backend: str = Field(description="'offline' or 'claude'.")
    model: str = ""
    prompts_version: str = ""
    usage: TokenUsage = Field(default_factory=TokenUsage)
    turns: int = 0
    verification: VerificationStatus = "not_run"
    verification_detail: str = Field(
        default="", description="What verify did, or why it failed (the first error)."
    )
    lint: LintStatus = "not_run"
    lint_detail: str = ""
    #: the target preflight: one line per data-dependent statement asked of the target's rows
    preflight: list[str] = Field(default_factory=list)
    #: which server ran the proof (and the target's version when it differs)
    proof_server: str = ""
    #: what the proof had to leave out or assume (schema copy, sample rows)
    notices: list[str] = Field(default_factory=list)
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))


class MigrationSpec(SpecDraft):
    """A drafted spec plus how it was made and whether it was proven."""

    meta: SpecMeta

    @classmethod
    def from_draft(cls, draft: SpecDraft, meta: SpecMeta) -> MigrationSpec:
        return cls.model_validate({**draft.model_dump(), "meta": meta.model_dump()})

    def draft(self) -> SpecDraft:
        return SpecDraft.model_validate(self.model_dump(exclude={"meta"}))


# --- completeness ------------------------------------------------------------------------

SECTIONS: tuple[tuple[str, str], ...] = (
    ("purpose", "Migration Purpose"),
    ("schema_changes", "Schema Changes"),
    ("current_schema", "Current Schema"),
    ("desired_schema", "Desired Schema"),
    ("data_migration", "Data Migration Required?"),
    ("rollback", "Rollback Plan"),
    ("performance", "Performance Considerations"),
    ("testing", "Testing Strategy"),
    ("dependencies", "Dependencies"),
    ("alembic", "Alembic Migration Details"),
    ("code_changes", "Code Changes Required"),
    ("verification_queries", "Verification Queries"),
    ("impact", "Impact Analysis"),
    ("breaking_changes", "Breaking Changes"),
    ("backward_compatibility", "Backward Compatibility"),
    ("revision_source", "Example Migration Template"),
    ("risk", "Risk Assessment"),
    ("before_applying", "Checklist Before Applying"),
    ("post_migration", "Post-Migration Actions"),
)
"""(field, template heading) for every section, in the template's order."""


def _blank(text: str) -> bool:
    return not text.strip()


def spec_completeness(spec: SpecDraft) -> list[str]:
    """Headings of the sections that are missing or empty (empty list = complete).

    A section counts as filled when it says something a reviewer can act on.
    Sections where "nothing" is a legitimate answer (dependencies, impact,
    code changes, breaking changes, backward compatibility, checklists) are
    complete when their booleans are set or a note explains the nothing;
    sections that are never legitimately empty (current/desired schema,
    rollback, performance, tests, verification queries, the revision) need
    content.
    """
    s = spec
    empty: dict[str, bool] = {
        "purpose": _blank(s.purpose.summary),
        "schema_changes": not s.schema_changes.details,
        "current_schema": _blank(s.current_schema.value),
        "desired_schema": _blank(s.desired_schema.value),
        "data_migration": s.data_migration.required and not s.data_migration.transformation,
        "rollback": _blank(s.rollback.procedure)
        or (s.rollback.reversible.value and _blank(s.rollback.rollback_sql.value)),
        "performance": _blank(s.performance.estimated_time.value)
        or _blank(s.performance.table_locking.value)
        or _blank(s.performance.large_table_impact.value),
        "testing": _blank(s.testing.test_commands),
        "dependencies": False,  # "no prerequisites" is a complete answer
        "alembic": _blank(s.alembic.file_name)
        or _blank(s.alembic.revision)
        or _blank(s.alembic.commands),
        "code_changes": _blank(s.code_changes.summary)
        and not (s.code_changes.models or s.code_changes.schemas or s.code_changes.services),
        "verification_queries": not any(q.sql.strip() for q in s.verification_queries),
        "impact": False,  # empty lists mean "no component affected"
        "breaking_changes": s.breaking_changes.breaking and _blank(s.breaking_changes.impact),
        "backward_compatibility": not (
            s.backward_compatibility.fully_compatible
            or s.backward_compatibility.requires_code_deployment
            or s.backward_compatibility.requires_configuration_changes
            or s.backward_compatibility.notes.strip()
        ),
        "revision_source": _blank(s.revision_source),
        "risk": not s.risk.mitigations,
        "before_applying": False,  # a checklist: unchecked items are the point
        "post_migration": False,
    }
    return [heading for field, heading in SECTIONS if empty[field]]


# --- JSON Schema for structured output -----------------------------------------------------


def _strict(node: Any) -> Any:
    """Every property required, no defaults: what strict structured output decodes best."""
    if isinstance(node, dict):
        out = {k: _strict(v) for k, v in node.items() if k != "default"}
        if out.get("type") == "object" and "properties" in out:
            out["required"] = list(out["properties"])
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


def spec_json_schema(model: type[BaseModel] = SpecDraft) -> dict[str, Any]:
    """JSON Schema of `model` for Anthropic structured outputs (`output_config.format`).

    Pydantic's schema is made strict (all properties required, no defaults),
    then passed through the Anthropic SDK's own `transform_schema`, which
    drops the keywords the API does not support (moving them into
    descriptions) and closes every object with `additionalProperties: false`.
    """
    from anthropic import transform_schema

    return transform_schema(_strict(model.model_json_schema()))
