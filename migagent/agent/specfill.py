"""Fill the `MigrationSpec` from what the pipeline knows and measured.

Every section of the template gets content, and every value carries its
provenance: `introspected` (the current schema, table sizes), `measured`
(what verify, lint and estimate observed on the scratch copy, with the
figures as evidence) or `drafted` (the planner's reading, to be reviewed).
Model and schema snippets are generated from the after-snapshot, so they
describe the tables as the migration leaves them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from migagent.agent import plan as P
from migagent.agent.lower import is_large, qi, qt
from migagent.agent.satypes import model_type
from migagent.errors import MigagentError
from migagent.spec import (
    AlembicDetails,
    BackwardCompatibility,
    BreakingChanges,
    CodeChange,
    CodeChanges,
    DataMigration,
    Fact,
    MigrationSpec,
    Performance,
    Purpose,
    RiskAssessment,
    RollbackPlan,
    SchemaChanges,
    Source,
    SpecDraft,
    SpecMeta,
    TestingStrategy,
    VerificationQuery,
    drafted,
    introspected,
    measured,
)
from migagent.tools.introspect.model import SchemaSnapshot, Table

if TYPE_CHECKING:
    from migagent.agent.pipeline import DraftResult

_INDEX_OPS = (P.CreateIndex, P.DropIndex)
_CONSTRAINT_OPS = (
    P.AddForeignKey,
    P.AddCheck,
    P.AddUnique,
    P.AddPrimaryKey,
    P.DropConstraint,
    P.SetNotNull,
)


def _check(value: bool, source: Source = "drafted", evidence: str = "") -> Fact[bool]:
    return Fact[bool](value=value, source=source, evidence=evidence)


def _ddl(snap: SchemaSnapshot | None, tables: list[str]) -> str:
    if snap is None:
        return ""
    names = [t.qualified_name for t in (snap.table(x) for x in tables) if t is not None]
    if not names:
        return ""
    from migagent.tools.introspect.ddl import render_ddl

    return render_ddl(snap, names).strip()


def _class_name(table: str) -> str:
    from migagent.agent.offline.lexicon import singular

    return "".join(p.capitalize() for p in singular(table).split("_"))


def model_snippet(t: Table, snap: SchemaSnapshot) -> str:
    """A SQLAlchemy 2.0 declarative model for `t` as it is after the migration."""
    enums = {e.name for e in snap.enums.values()}
    pk = next((k for k in t.constraints if k.kind == "primary_key"), None)
    fks = {
        k.columns[0]: k for k in t.constraints if k.kind == "foreign_key" and len(k.columns) == 1
    }
    lines = [f"class {_class_name(t.name)}(Base):", f'    __tablename__ = "{t.name}"']
    if t.schema_name != "public":
        lines.append(f'    __table_args__ = {{"schema": "{t.schema_name}"}}')
    lines.append("")
    for c in sorted(t.columns, key=lambda c: c.position):
        expr, py = model_type(c.type, enums)
        args = [expr]
        if c.name in fks:
            k = fks[c.name]
            ref = k.ref_table.split(".")[-1] if k.ref_table else "?"
            extra = (
                f', ondelete="{k.on_delete}"' if k.on_delete and k.on_delete != "NO ACTION" else ""
            )
            args.append(
                f'sa.ForeignKey("{ref}.{k.ref_columns[0] if k.ref_columns else "id"}"{extra})'
            )
        if c.generated:
            args.append(f"sa.Computed({c.generated!r}, persisted=True)")
        if c.identity:
            args.append(f"sa.Identity(always={c.identity == 'always'})")
        if pk and c.name in pk.columns:
            args.append("primary_key=True")
        if c.default is not None and not c.identity and "nextval(" not in c.default:
            args.append(f"server_default=sa.text({c.default!r})")
        ann = py if not c.nullable or (pk and c.name in pk.columns) else f"{py} | None"
        lines.append(f"    {c.name}: Mapped[{ann}] = mapped_column({', '.join(args)})")
    for ix in t.indexes:
        if ix.constraint or ix.primary:
            continue
        lines.append(f"    # index {ix.name}: {ix.definition}")
    return "\n".join(lines)


def schema_snippet(t: Table, snap: SchemaSnapshot) -> str:
    """Pydantic read model for `t` (generated and defaulted columns are read-only)."""
    enums = {e.name for e in snap.enums.values()}
    name = _class_name(t.name)
    lines = [
        f"class {name}Read(BaseModel):",
        "    model_config = ConfigDict(from_attributes=True)",
        "",
    ]
    for c in sorted(t.columns, key=lambda c: c.position):
        if c.type == "tsvector":
            continue  # search internals are not part of the API
        _, py = model_type(c.type, enums)
        ann = py if not c.nullable else f"{py} | None = None"
        if py == "str" and (m := re.search(r"character varying\((\d+)\)", c.type)):
            ann = f"Annotated[str, Field(max_length={m.group(1)})]" + (
                " | None = None" if c.nullable else ""
            )
        lines.append(f"    {c.name}: {ann}")
    return "\n".join(lines)


def _verification_queries(result: DraftResult) -> list[tuple[str, str]]:
    return verification_queries(result.plan)


def verification_queries(plan: P.DraftPlan) -> list[tuple[str, str]]:
    """(purpose, sql) pairs that show the migration did what it says."""
    out: list[tuple[str, str]] = []
    for op in plan.operations:
        table = getattr(op, "table", None)
        bare = table.split(".")[-1] if table else None
        if isinstance(op, P.AddColumn):
            out.append(
                (
                    f"Verify column {bare}.{op.column.name} exists",
                    "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                    f"WHERE table_name = '{bare}' AND column_name = '{op.column.name}'",
                )
            )
            out.append(
                (
                    f"Check data integrity of {bare}.{op.column.name}",
                    f"SELECT count(*) AS null_rows FROM {qt(op.table)} WHERE {qi(op.column.name)} IS NULL",
                )
            )
        elif isinstance(op, P.CreateIndex):
            out.append(
                (
                    f"Verify index {op.name} created",
                    f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename = '{bare}' AND indexname = '{op.name}'",
                )
            )
            if op.kind == "fts":
                out.append(
                    (
                        "Test the search",
                        f"SELECT count(*) FROM {qt(op.table)} WHERE {qi(op.keys[0])} @@ plainto_tsquery('test')",
                    )
                )
        elif isinstance(op, P.AlterColumnType):
            out.append(
                (
                    f"Verify the type of {bare}.{op.column}",
                    "SELECT column_name, data_type, character_maximum_length FROM information_schema.columns "
                    f"WHERE table_name = '{bare}' AND column_name = '{op.column}'",
                )
            )
        elif isinstance(op, P.SetNotNull | P.DropNotNull):
            out.append(
                (
                    f"Verify nullability of {bare}.{op.column}",
                    f"SELECT is_nullable FROM information_schema.columns WHERE table_name = '{bare}' AND column_name = '{op.column}'",
                )
            )
        elif isinstance(op, P.SetDefault):
            out.append(
                (
                    f"Verify the default of {bare}.{op.column}",
                    f"SELECT column_default FROM information_schema.columns WHERE table_name = '{bare}' AND column_name = '{op.column}'",
                )
            )
        elif isinstance(op, P.AddForeignKey | P.AddCheck | P.AddUnique | P.AddPrimaryKey):
            out.append(
                (
                    f"Verify constraint {op.name} is valid",
                    f"SELECT conname, convalidated, pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = '{op.name}'",
                )
            )
        elif isinstance(op, P.Backfill):
            out.append(
                (
                    f"Check the backfill of {bare}.{op.column}",
                    f"SELECT count(*) AS total, count({qi(op.column)}) AS filled FROM {qt(op.table)}",
                )
            )
        elif isinstance(op, P.DropIndex | P.DropConstraint):
            out.append(
                (
                    f"Verify {op.name} is gone",
                    f"SELECT count(*) FROM pg_class WHERE relname = '{op.name}'"
                    if isinstance(op, P.DropIndex)
                    else f"SELECT count(*) FROM pg_constraint WHERE conname = '{op.name}'",
                )
            )
        elif isinstance(op, P.RawSQL) and op.table:
            out.append((f"Check {bare} after the change", f"SELECT count(*) FROM {qt(op.table)}"))
        elif isinstance(op, P.CreateTable):
            out.append((f"Verify table {bare} exists", f"SELECT count(*) FROM {qt(op.table)}"))
        elif isinstance(op, P.RenameTable):
            out.append(
                (f"Verify table {op.new_name} exists", f"SELECT count(*) FROM {qi(op.new_name)}")
            )
        elif isinstance(op, P.RenameColumn):
            out.append(
                (
                    f"Verify column {bare}.{op.new_name} exists",
                    f"SELECT column_name FROM information_schema.columns WHERE table_name = '{bare}' AND column_name = '{op.new_name}'",
                )
            )
        elif isinstance(op, P.DropColumn | P.DropTable):
            what = f"{bare}.{op.column}" if isinstance(op, P.DropColumn) else bare
            cond = f"AND column_name = '{op.column}'" if isinstance(op, P.DropColumn) else ""
            out.append(
                (
                    f"Verify {what} is gone",
                    f"SELECT count(*) FROM information_schema.columns WHERE table_name = '{bare}' {cond}",
                )
            )
        elif isinstance(op, P.CreateEnum | P.AddEnumValue):
            out.append((f"Verify enum {op.name}", f"SELECT enum_range(NULL::{op.name})"))
        elif isinstance(op, P.CreateExtension):
            out.append(
                (
                    f"Verify extension {op.name}",
                    f"SELECT extname, extversion FROM pg_extension WHERE extname = '{op.name}'",
                )
            )
    seen, uniq = set(), []
    for p_, q in out:
        if q not in seen:
            seen.add(q)
            uniq.append((p_, q))
    return uniq


def _rollback_sql(source: str) -> tuple[str, Source]:
    """SQL of downgrade() from Alembic's offline mode (the linter's capture): (sql, source).
    A downgrade that needs query results (op.get_bind()) has no offline SQL."""
    from migagent.tools.lint.revision import revision_statements

    try:
        captured = revision_statements(source, "rollback.py", direction="downgrade")
    except MigagentError:
        return "", "drafted"
    if captured.stopped is not None:
        return "", "drafted"
    sql = "\n\n".join(s.sql.rstrip(";") + ";" for s in captured.statements if not s.synthetic)
    return sql, "measured"


def fill_spec(
    result: DraftResult, facts: P.Facts, *, sandbox=None, template: str | None = None
) -> MigrationSpec:
    plan = result.plan
    lowered = result.lowered
    snap = facts.snapshot
    tables = [
        t
        for t in plan.tables()
        if snap.table(t) is not None or (result.after and result.after.table(t))
    ]
    after = result.after
    ops = plan.operations
    sizes = {t: facts.row_count(t) for t in plan.tables()}
    size_text = (
        ", ".join(f"{t.split('.')[-1]} ~{n:,} rows" for t, n in sizes.items())
        or "no existing table"
    )
    size_src = (
        "--rows"
        if any(t in facts.rows or t.split(".")[-1] in facts.rows for t in sizes)
        else "catalog estimates"
    )

    has_data = plan.data_migration
    mtype = (
        "Both"
        if has_data and any(not isinstance(o, P.Backfill) for o in ops)
        else "Data migration"
        if has_data
        else "Schema change"
    )
    purpose = Purpose(summary=plan.intent, ticket=_ticket(result.request), migration_type=mtype)

    details = [_describe(op) for op in ops if _describe(op)]
    changes = SchemaChanges(
        add_table=_check(any(isinstance(o, P.CreateTable) for o in ops)),
        modify_table=_check(
            any(
                isinstance(
                    o,
                    P.AddColumn
                    | P.DropColumn
                    | P.RenameColumn
                    | P.AlterColumnType
                    | P.SetDefault
                    | P.SetNotNull
                    | P.DropNotNull
                    | P.RenameTable
                    | P.DropTable,
                )
                for o in ops
            )
        ),
        add_index=_check(any(isinstance(o, P.CreateIndex) for o in ops)),
        add_constraint=_check(any(isinstance(o, _CONSTRAINT_OPS) for o in ops)),
        data_migration_required=_check(has_data),
        details=details + [f"assumption: {a}" for a in plan.assumptions],
    )
    current = _ddl(snap, tables) or "-- (no existing objects are touched)"
    desired_text = _ddl(
        after,
        [_renamed(t, ops) for t in tables] + [o.table for o in ops if isinstance(o, P.CreateTable)],
    )
    desired_fact = (
        measured(desired_text, "read back from the scratch copy after upgrade()")
        if desired_text and after is not None
        else drafted(desired_text or "-- see the revision's upgrade()")
    )

    transformation = []
    for op in ops:
        if isinstance(op, P.Backfill):
            how = (
                "in keyset batches (one transaction per batch)"
                if facts.large(op.table)
                else "in one UPDATE"
            )
            transformation.append(
                f"set {op.table.split('.')[-1]}.{op.column} = {op.value}{' where ' + op.where if op.where else ''}, {how}"
            )
        elif isinstance(op, P.AlterColumnType) and op.using:
            transformation.append(
                f"convert {op.table.split('.')[-1]}.{op.column} with USING {op.using}"
            )
        elif isinstance(op, P.SetNotNull) and op.backfill:
            transformation.append(
                f"fill NULLs in {op.table.split('.')[-1]}.{op.column} with {op.backfill}"
            )
    data = DataMigration(required=has_data or bool(transformation), transformation=transformation)

    # rollback
    rb_sql, rb_src = _rollback_sql(result.revision_source)
    reversible = not lowered.irreversible
    proof = result.verification
    if proof is not None and getattr(proof, "data_restored", None) is False:
        rev_fact = _check(
            False,
            "measured",
            "downgrade() run on the scratch copy does not bring back the rows the upgrade "
            "changed (" + "; ".join(proof.data_changes[:3]) + ")",
        )
    elif proof is not None and _lost_on_downgrade(proof):
        rev_fact = _check(
            False,
            "measured",
            "downgrade() run on the scratch copy restores the schema but not the data: "
            + "; ".join(_lost_on_downgrade(proof)[:3]),
        )
    elif proof is not None and getattr(proof, "round_trip", None) is not None:
        rev_fact = _check(
            bool(proof.round_trip) and reversible,
            "measured",
            "downgrade() run on the scratch copy; schema"
            + (" and changed rows" if getattr(proof, "data_restored", None) else "")
            + " compared with the original"
            + ("" if proof.round_trip else f": {proof.detail}"),
        )
    else:
        rev_fact = _check(reversible)
    loss = (
        "High"
        if any(isinstance(o, P.DropTable) for o in ops)
        else "Medium"
        if lowered.data_loss
        else ("Low" if any(isinstance(o, P.AlterColumnType) and o.using for o in ops) else "None")
    )
    rollback = RollbackPlan(
        procedure=(
            "Run `alembic downgrade -1`: "
            + (
                "it reverses each step in the opposite order"
                + (
                    f"; it cannot restore {', '.join(lowered.data_loss)}"
                    if lowered.data_loss
                    else ""
                )
                + "."
                if reversible
                else f"the revision is irreversible: {lowered.irreversible}. Restore from backup."
            )
        ),
        data_loss_risk=Fact(value=loss, source="drafted"),
        reversible=rev_fact,
        rollback_sql=Fact[str](
            value=rb_sql or "-- see downgrade()",
            source=rb_src if rb_sql else "drafted",
            evidence="alembic offline SQL of downgrade()"
            if rb_sql and rb_src == "measured"
            else "",
        ),
    )

    perf = _performance(result, facts, sizes, size_text, size_src)
    queries = _verification_queries(result)
    check_results = dict(getattr(proof, "check_results", []) or [])
    vqs = []
    for purpose_, q in queries:
        r = check_results.get(q)
        vqs.append(
            VerificationQuery(
                purpose=purpose_,
                sql=q,
                result=measured(r, "run on the scratch copy after upgrade()") if r else None,
            )
        )
    test_sql = ";\n\n".join(f"-- {p}\n{q}" for p, q in queries) + ";" if queries else "SELECT 1;"
    verified = getattr(proof, "passed", None)
    testing = TestingStrategy(test_commands=test_sql)
    ev = "verify: upgrade/downgrade/upgrade on a scratch copy"
    if verified:
        c = testing.checklist
        c.sample_data = _check(True, "measured", ev + " with the schema's sample rows")
        c.rollback_procedure = _check(True, "measured", ev)
        c.queries_still_work = (
            _check(bool(check_results), "measured", "verification queries run after upgrade")
            if check_results
            else c.queries_still_work
        )
        if result.estimate is not None:
            c.performance_impact = _check(True, "measured", _estimate_evidence(result.estimate))
    preflight = getattr(proof, "preflight", None)
    if preflight is not None and preflight.results:
        # the target's own rows were asked whether they allow each data-dependent statement
        testing.checklist.data_integrity = _check(
            not preflight.failed,
            "target",
            "; ".join(f"{r.status}: {r.query}" for r in preflight.results if r.query)[:600]
            or "; ".join(r.message for r in preflight.results),
        )
    # code changes
    models, schemas = [], []
    if after is not None:
        for t in tables + [o.table for o in ops if isinstance(o, P.CreateTable)]:
            tt = after.table(_renamed(t, ops))
            if tt is None:
                continue
            singular_name = _class_name(tt.name).lower()
            models.append(
                CodeChange(path=f"app/models/{singular_name}.py", code=model_snippet(tt, after))
            )
            schemas.append(
                CodeChange(path=f"app/schemas/{singular_name}.py", code=schema_snippet(tt, after))
            )
    breaking = any(
        isinstance(o, P.DropColumn | P.DropTable | P.RenameColumn | P.RenameTable) for o in ops
    ) or (
        any(isinstance(o, P.AlterColumnType) for o in ops)
        and any(isinstance(o, P.SetNotNull) for o in ops)
    )
    breaking = breaking or any(isinstance(o, P.SetNotNull) for o in ops)
    code = CodeChanges(
        summary=(
            "Update the models and schemas below; code that reads or writes the changed columns must deploy with this migration."
            if breaking
            else "The models and schemas below reflect the new columns; existing code keeps working (additive change)."
        ),
        models=models,
        schemas=schemas,
    )
    breaking_changes = BreakingChanges(
        breaking=breaking,
        impact="; ".join(plan.warnings) if breaking else "",
    )
    if breaking and not breaking_changes.impact:
        breaking_changes.impact = "code using the old names/shape fails after the upgrade"
    compat = BackwardCompatibility(
        fully_compatible=not breaking,
        requires_code_deployment=breaking,
        notes=""
        if not breaking
        else "deploy application code that handles both shapes, or deploy together",
    )
    large = any(is_large(n, large_rows=facts.large_rows) for n in sizes.values())
    risk = RiskAssessment(
        level=Fact(
            value="High"
            if loss == "High"
            else "Medium"
            if (large or breaking or lowered.warnings)
            else "Low",
            source="drafted",
        ),
        mitigations=(lowered.notes or [])
        + [
            "Apply during a low-traffic window"
            if large
            else "Apply at any time: the locks are brief",
            "Keep the lock_timeout: a blocked migration fails fast instead of queueing traffic",
            "Take a backup before applying to production"
            if lowered.data_loss or loss != "None"
            else "Test the rollback on staging",
        ],
    )
    if preflight is not None:
        risk.mitigations += [
            f"Target preflight ({r.status}): {r.message}" for r in preflight.results
        ]
    risk.factors.large_table = _check(
        large, "introspected", f"table sizes: {size_text} ({size_src})"
    )
    risk.factors.rollback_difficult = _check(bool(lowered.data_loss) or not reversible)
    risk.factors.complex_transformation = _check(bool(transformation) and len(transformation) > 1)
    risk.factors.production_downtime = _check(
        bool(lowered.warnings and any("rewrites" in w for w in lowered.warnings))
    )

    alembic = AlembicDetails(
        file_name=result.filename,
        revision=result.revision_id,
        down_revision=_down(result.revision_source),
        commands=(
            f'# Create migration (drafted by migagent)\nmigagent draft "{result.request}"\n\n'
            f"# Review generated migration file\ncat alembic/versions/{result.filename}\n\n"
            "# Apply migration\nalembic upgrade head\n\n# Rollback if needed\nalembic downgrade -1"
        ),
    )
    draft = SpecDraft(
        purpose=purpose,
        schema_changes=changes,
        current_schema=introspected(current, "read from the current schema's catalog")
        if current
        else drafted(""),
        desired_schema=desired_fact,
        data_migration=data,
        rollback=rollback,
        performance=perf,
        testing=testing,
        alembic=alembic,
        code_changes=code,
        verification_queries=vqs,
        breaking_changes=breaking_changes,
        backward_compatibility=compat,
        revision_source=result.revision_source,
        risk=risk,
    )
    if verified:
        draft.before_applying.tested_on_development = _check(True, "measured", ev)
        draft.before_applying.rollback_documented_and_tested = _check(True, "measured", ev)
        if result.estimate is not None:
            draft.before_applying.performance_assessed = _check(
                True, "measured", _estimate_evidence(result.estimate)
            )
    lint_status = "not_run"
    if result.lint is not None:
        sev = {f.severity for f in result.lint.findings}
        lint_status = "errors" if "error" in sev else "warnings" if "warning" in sev else "clean"
    meta = SpecMeta(
        backend=result.backend,
        verification="passed" if verified else "failed" if verified is False else "not_run",
        verification_detail=result.verification_detail,
        lint=lint_status,
        lint_detail="; ".join(result.lint_errors[:5]),
        **(proof.meta_fields() if proof is not None and hasattr(proof, "meta_fields") else {}),
    )
    return MigrationSpec.from_draft(draft, meta)


def _lost_on_downgrade(proof) -> list[str]:
    """What the measured round trip could not bring back (rows of a dropped table, values of
    a dropped column): a migration that loses them is not reversible, whatever the schema."""
    report = getattr(proof, "verification", None)
    loss = getattr(report, "data_loss", None)
    return [f.detail for f in loss.findings if f.kind != "rows added"] if loss else []


def _estimate_evidence(est) -> str:
    return getattr(est, "evidence", None) or getattr(est, "summary", None) or str(est)


def _performance(result, facts, sizes, size_text, size_src) -> Performance:
    lowered = result.lowered
    ops = result.plan.operations
    est = result.estimate
    if est is not None and getattr(est, "summary", ""):
        time_fact = measured(est.summary, _estimate_evidence(est))
    elif (
        result.verification is not None
        and getattr(result.verification, "upgrade_ms", 0)
        and result.verified
    ):
        ms = result.verification.upgrade_ms
        time_fact = measured(
            f"{ms / 1000:.2f} s on the schema's sample rows (no production-size estimate run)",
            f"upgrade() on the scratch copy took {ms:.0f} ms",
        )
    else:
        time_fact = drafted("not measured: run `migagent estimate` on the revision")
    idx = [o for o in ops if isinstance(o, P.CreateIndex)]
    concurrent = "postgresql_concurrently=True" in result.revision_source
    index_building = "Not applicable" if not idx else "Online" if concurrent else "Offline"
    locks_text = _locks(result)
    warnings_ = [w for w in lowered.warnings if "rewrites" in w]
    return Performance(
        estimated_time=time_fact,
        downtime_required=Fact[bool](value=bool(warnings_), source="drafted"),
        index_building=Fact(
            value=index_building,
            source="measured" if result.verified else "drafted",
            evidence="statements observed by verify" if result.verified else "",
        ),
        table_locking=locks_text,
        large_table_impact=introspected(
            f"{size_text}. "
            + (
                "; ".join(lowered.notes)
                if lowered.notes
                else "Only brief catalog locks on these sizes."
            )
            + (" " + "; ".join(warnings_) if warnings_ else ""),
            f"table sizes from {size_src}",
        ),
    )


def _locks(result) -> Fact[str]:
    proof = result.verification
    if proof is not None and getattr(proof, "statements", None):
        seen: dict[str, str] = {}
        from migagent.tools.verify.report import lock_strength

        for s in proof.statements:
            for table, mode in s.locks.items():
                if table not in seen or lock_strength(mode) > lock_strength(seen[table]):
                    seen[table] = mode
        if seen:
            text = "; ".join(f"{t}: {m}" for t, m in sorted(seen.items()))
            return measured(
                f"Strongest lock per table during upgrade(): {text}. lock_timeout keeps any wait short.",
                "pg_locks observed after each statement on the scratch copy",
            )
        return measured(
            "No table locks beyond catalog access were observed.",
            "pg_locks observed on the scratch copy",
        )
    return drafted(
        "ACCESS EXCLUSIVE for the ALTER TABLE steps (brief, guarded by lock_timeout); "
        "SHARE UPDATE EXCLUSIVE for CONCURRENTLY/VALIDATE steps"
    )


def _describe(op) -> str:
    t = getattr(op, "table", "")
    bare = t.split(".")[-1] if t else ""
    if isinstance(op, P.AddColumn):
        c = op.column
        extra = f" GENERATED ALWAYS AS ({c.generated}) STORED" if c.generated else ""
        extra += f" DEFAULT {c.default}" if c.default else ""
        extra += "" if c.nullable else " NOT NULL"
        return f"add column {bare}.{c.name} {c.type}{extra}"
    if isinstance(op, P.DropColumn):
        return f"drop column {bare}.{op.column}"
    if isinstance(op, P.RenameColumn):
        return f"rename column {bare}.{op.column} to {op.new_name}"
    if isinstance(op, P.AlterColumnType):
        return f"change {bare}.{op.column} to {op.new_type}" + (
            f" (USING {op.using})" if op.using else ""
        )
    if isinstance(op, P.SetNotNull):
        return f"make {bare}.{op.column} NOT NULL"
    if isinstance(op, P.DropNotNull):
        return f"make {bare}.{op.column} nullable"
    if isinstance(op, P.SetDefault):
        return (
            f"{'drop the default of' if op.default is None else 'set the default of'} {bare}.{op.column}"
            + (f" to {op.default}" if op.default else "")
        )
    if isinstance(op, P.CreateIndex):
        kw = "unique " if op.unique else ""
        using = f" USING {op.method}" if op.method != "btree" else ""
        where = f" WHERE {op.where}" if op.where else ""
        return f"add {kw}index {op.name} ON {bare}{using} ({', '.join(op.keys)}){where}"
    if isinstance(op, P.DropIndex):
        return f"drop index {op.name}"
    if isinstance(op, P.AddForeignKey):
        return (
            f"add foreign key {op.name}: {bare}({', '.join(op.columns)}) -> {op.ref_table.split('.')[-1]}({', '.join(op.ref_columns)})"
            + (f" ON DELETE {op.on_delete}" if op.on_delete else "")
        )
    if isinstance(op, P.AddCheck):
        return f"add check {op.name} on {bare}: {op.expression}"
    if isinstance(op, P.AddUnique):
        return f"add unique constraint {op.name} on {bare}({', '.join(op.columns)})"
    if isinstance(op, P.AddPrimaryKey):
        return f"add primary key {op.name} on {bare}({', '.join(op.columns)})"
    if isinstance(op, P.DropConstraint):
        return f"drop constraint {op.name} on {bare}"
    if isinstance(op, P.CreateTable):
        return f"create table {bare} ({', '.join(c.name for c in op.columns)})"
    if isinstance(op, P.DropTable):
        return f"drop table {bare}"
    if isinstance(op, P.RenameTable):
        return f"rename table {bare} to {op.new_name}"
    if isinstance(op, P.CreateEnum):
        return f"create enum {op.name} ({', '.join(op.labels)})"
    if isinstance(op, P.AddEnumValue):
        return f"add value {op.value!r} to enum {op.name}"
    if isinstance(op, P.CreateExtension):
        return f"create extension {op.name}"
    if isinstance(op, P.AlterSequenceType):
        return f"change sequence {op.name} to {op.new_type}"
    if isinstance(op, P.Backfill):
        return f"backfill {bare}.{op.column} = {op.value}"
    if isinstance(op, P.RawSQL) and op.upgrade.strip():
        return f"run SQL: {op.upgrade[:80]}"
    return ""


def _renamed(table: str, ops) -> str:
    for op in ops:
        if isinstance(op, P.RenameTable) and op.table.split(".")[-1] == table.split(".")[-1]:
            schema = table.split(".")[0] if "." in table else "public"
            return f"{schema}.{op.new_name}"
    return table


def _ticket(request: str) -> str:
    m = re.search(r"\b([A-Z][A-Z0-9]+-\d+)\b|(#\d+)\b", request)
    return (m.group(1) or m.group(2)) if m else ""


def _down(source: str) -> str:
    m = re.search(r"^down_revision\s*=\s*['\"]([^'\"]+)['\"]", source, re.M)
    return m.group(1) if m else ""
