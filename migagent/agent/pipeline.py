"""`draft()`: request -> facts -> plan -> render -> proof -> spec.

One orchestration for every backend:

1. **facts**: the current schema (a sandbox template made from `--db`,
   `--schema-file`, `--demo`, SQL text or an existing template) is
   snapshotted; table sizes come from `--rows` over catalog estimates.
2. **plan**: the backend (`offline`, later `claude`) turns the request into a
   `DraftPlan`, or the desired schema (`--desired` / `--models`) is diffed
   against the current one (`agent.desired`).
3. **render**: `agent.lower` makes the plan's operations safe for the sizes and
   the server version; `migagent.render.render_revision` writes the file.
4. **proof**: verify (upgrade, downgrade, re-upgrade on a scratch copy with the
   schema compared), lint at the production sizes, estimate the time.
5. **spec**: `agent.specfill` fills every section of the template with the
   measured facts.

Nothing is written here; `write_draft` puts revision and spec in place
atomically, and the CLI decides whether to (failed verification writes
nothing without `--force`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from migagent.agent.errors import UnderstandingError
from migagent.agent.lower import LowerContext, Lowered, LoweringError, lower
from migagent.agent.plan import Backend, DraftPlan, Facts
from migagent.errors import MigagentError, UsageError
from migagent.tools.introspect.model import SchemaSnapshot
from migagent.tools.policy import LARGE_ROWS
from migagent.tools.sandbox import Sandbox

BackendName = Literal["auto", "offline", "claude"]
Progress = Callable[[str], None]


# ------------------------------------------------------------------ inputs
@dataclass(frozen=True)
class SchemaSource:
    """Where the current schema comes from; resolved to a sandbox template."""

    kind: Literal["template", "sql", "file", "url", "demo"]
    value: str = ""

    @classmethod
    def template(cls, name: str) -> SchemaSource:
        return cls("template", name)

    @classmethod
    def sql(cls, text: str) -> SchemaSource:
        return cls("sql", text)

    @classmethod
    def file(cls, path: str | os.PathLike[str]) -> SchemaSource:
        return cls("file", str(path))

    @classmethod
    def url(cls, url: str) -> SchemaSource:
        return cls("url", url)

    @classmethod
    def demo(cls) -> SchemaSource:
        return cls("demo")

    def to_template(self, sandbox: Sandbox) -> str:
        if self.kind == "template":
            return self.value
        if self.kind == "sql":
            return sandbox.template_from_sql(self.value, source="schema")
        if self.kind == "file":
            return sandbox.template_from_file(self.value)
        if self.kind == "url":
            return sandbox.template_from_target(self.value)
        return sandbox.template_from_sql(demo_sql(), source="demo.sql")

    def label(self) -> str:
        if self.kind == "url":
            from migagent.tools.pgurl import redact

            return redact(self.value)
        return {
            "template": "template",
            "sql": "schema SQL",
            "file": self.value,
            "demo": "demo database",
        }[self.kind]


def demo_sql() -> str:
    from importlib import resources

    node = resources.files("migagent").joinpath("data", "demo.sql")
    if not node.is_file():
        raise UsageError("the bundled demo schema is missing", "reinstall migagent")
    return node.read_text(encoding="utf-8")


class DraftOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: BackendName = "auto"
    rows: dict[str, int] = Field(default_factory=dict)  # --rows table=N
    desired_sql: str | None = None  # --desired (DDL)
    models: str | None = None  # --models package.module:Base
    message: str | None = None  # -m
    down_revision: str | None = None  # the project's head, when known
    verify: bool = True
    lint: bool = True
    estimate: bool = True
    estimate_budget_s: float = 20.0
    naming_config: str | None = None  # alembic.ini / pyproject.toml for file names
    conventions_file: str | None = None  # .claude/conventions.md: names of new objects
    large_rows: int | None = None  # threshold for safe forms (default: lower.LARGE_ROWS)
    model: str | None = None  # Claude backend: --model / MIGAGENT_MODEL
    max_turns: int | None = None  # Claude backend: --max-turns
    token_budget: int | None = None  # Claude backend: --token-budget
    time_limit_s: float | None = None  # Claude backend: --time-limit, in seconds


class DraftResult(BaseModel):
    """Everything a draft produced; `ok` when verified (or verification skipped)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    request: str
    backend: str
    plan: DraftPlan
    lowered: Lowered
    filename: str
    revision_id: str
    revision_source: str
    spec: Any = None  # MigrationSpec
    spec_markdown: str = ""
    verification: Any = None  # VerificationReport | ProofReport
    verified: bool | None = None  # None: not run
    verification_detail: str = ""
    lint: Any = None
    lint_errors: list[str] = Field(default_factory=list)
    estimate: Any = None
    before: SchemaSnapshot
    after: SchemaSnapshot | None = None
    notices: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Safe to write: the proof passed (or did not run) and lint found no error at the
        target's sizes. Anything else is written only with `--force`."""
        return self.verified is not False and not self.lint_errors

    @property
    def spec_filename(self) -> str:
        return Path(self.filename).with_suffix(".md").name


# ------------------------------------------------------------------ backends
def resolve_backend(options: DraftOptions, notices: list[str] | None = None) -> Backend:
    """The backend `options.backend` names (`agent.backends.select_backend` decides)."""
    from migagent.agent.backends import select_backend

    choice = select_backend(
        options.backend,
        model=options.model,
        max_turns=options.max_turns,
        token_budget=options.token_budget,
        time_limit=options.time_limit_s,
    )
    if choice.notice and notices is not None:
        notices.append(choice.notice)
    if choice.name == "claude":
        from migagent.agent.claude import ClaudeBackend

        return ClaudeBackend(choice.claude)
    from migagent.agent.offline import OfflineBackend

    return OfflineBackend()


# ------------------------------------------------------------------ facts
def read_facts(
    sandbox: Sandbox,
    template: str,
    rows: dict[str, int],
    target_url: str | None = None,
    large_rows: int | None = None,
) -> Facts:
    from migagent.tools.introspect import snapshot

    with sandbox.scratch(template) as db, db.connect() as conn:
        snap = snapshot(conn)
    if target_url:
        # sizes from the target's catalog (read-only); the schema is the same
        from migagent.tools.target import connect_readonly

        try:
            with connect_readonly(target_url) as conn:
                live = snapshot(conn)
            for name, t in live.tables.items():
                if name in snap.tables:
                    snap.tables[name].row_estimate = t.row_estimate
                    snap.tables[name].total_bytes = t.total_bytes
                    snap.tables[name].table_bytes = t.table_bytes
            snap.server_version = live.server_version
            snap.server_version_text = live.server_version_text
        except MigagentError:
            pass
    else:
        _count_rows(sandbox, template, snap)
    return Facts(
        snapshot=snap, rows=dict(rows), server_version=snap.server_version, large_rows=large_rows
    )


def _count_rows(sandbox: Sandbox, template: str, snap: SchemaSnapshot) -> None:
    """Exact counts for a schema file's rows (its catalog was never analysed)."""
    import psycopg
    from psycopg import sql

    with sandbox.scratch(template) as db, db.connect() as conn:
        for t in snap.tables.values():
            if t.row_estimate > 0:
                continue
            try:
                q = sql.SQL("SELECT count(*) FROM {}.{}").format(
                    sql.Identifier(t.schema_name), sql.Identifier(t.name)
                )
                row = conn.execute(q).fetchone()
                assert row is not None  # count(*) returns one row
                t.row_estimate = int(row[0])
            except psycopg.Error:
                conn.rollback()


# ------------------------------------------------------------------ draft
def draft(
    request: str,
    source: SchemaSource,
    *,
    options: DraftOptions | None = None,
    sandbox: Sandbox | None = None,
    progress: Progress | None = None,
    backend: Backend | None = None,
) -> DraftResult:
    """Draft, prove and document a migration for `request` against `source`.

    Raises `UnderstandingError`/`AmbiguousRequest` (exit 1) when the request
    cannot be planned, `UsageError`/`DatabaseError` (exit 2) for bad inputs.
    A draft that fails verification is returned with `verified=False`.
    """
    options = options or DraftOptions()
    sandbox = sandbox or Sandbox.open()
    say = progress or (lambda _msg: None)
    notices: list[str] = []

    say("reading the current schema")
    template = source.to_template(sandbox)
    facts = read_facts(
        sandbox,
        template,
        options.rows,
        source.value if source.kind == "url" else None,
        options.large_rows,
    )

    say("planning")
    inputs = proof_inputs(sandbox, template, facts, source, options)
    want = None  # the desired schema the upgrade must reproduce
    if options.desired_sql is not None or options.models:
        from migagent.agent.desired import plan_desired

        plan, want = plan_desired(
            request,
            facts,
            sandbox,
            desired_sql=options.desired_sql,
            models=options.models,
            current_template=template,
        )
        backend_name = "desired"
    else:
        chosen = backend or resolve_backend(options, notices)
        if getattr(chosen, "writes_revision", False):
            return _written_draft(request, chosen, inputs, facts, options, notices, say)
        plan = chosen.plan(request, facts)
        backend_name = getattr(chosen, "name", "offline")
        _follow_naming(plan, request, facts, options)
    plan.backend = backend_name
    ctx = LowerContext(
        snapshot=facts.snapshot,
        rows=facts.rows,
        server_version=facts.server_version,
        large_rows=options.large_rows or LARGE_ROWS,
    )
    try:
        lowered = lower(plan, ctx)
    except LoweringError as exc:
        raise UnderstandingError(f"the plan cannot be applied to this schema: {exc}") from exc

    say("rendering the revision")
    from migagent.render import RevisionPlan, render_revision, revision_naming

    message = options.message or plan.intent
    rplan = RevisionPlan(
        message=message,
        down_revision=options.down_revision or _head(facts.snapshot),
        upgrade_ops=blocks(lowered.upgrade),
        downgrade_ops=[]
        if lowered.irreversible and not lowered.downgrade
        else blocks(lowered.downgrade),
        irreversible_reason=lowered.irreversible
        if lowered.irreversible and not lowered.downgrade
        else None,
    )
    naming = revision_naming(options.naming_config) if options.naming_config else None
    rfile = render_revision(rplan, naming)
    result = DraftResult(
        request=request,
        backend=backend_name,
        plan=plan,
        lowered=lowered,
        filename=rfile.filename,
        revision_id=rplan.revision,
        revision_source=rfile.source,
        before=facts.snapshot,
        notices=notices,
    )

    if options.verify:
        from migagent.agent.specfill import verification_queries

        say("proving: target preflight, scratch copy (upgrade, downgrade, upgrade), lint")
        _attach_proof(
            result,
            _prove(
                rfile.source,
                inputs,
                options,
                rfile.filename,
                [q for _, q in verification_queries(plan)],
            ),
        )
        if want is not None:
            _check_desired(result, sandbox, want)
    elif options.lint:
        say("linting at production sizes")
        result.lint, result.lint_errors = _lint(rfile.source, inputs)
    say("writing the spec")
    from migagent.agent.specfill import fill_spec

    result.spec = fill_spec(result, facts, sandbox=sandbox, template=template)
    _render_markdown(result)
    return result


def proof_inputs(
    sandbox: Sandbox, template: str, facts: Facts, source: SchemaSource, options: DraftOptions
):
    """The one set of inputs every backend's draft is proven against."""
    from migagent.tools.proof import ProofInputs, copy_notices

    return ProofInputs.for_template(
        sandbox,
        template,
        before=facts.snapshot,
        target_url=source.value if source.kind == "url" else None,
        rows=dict(options.rows),
        large_rows=options.large_rows,
        notices=copy_notices(sandbox, template),
    )


def _prove(source: str, inputs, options: DraftOptions, name: str, checks=(), untrusted=False):
    from migagent.tools.proof import prove

    return prove(
        source,
        inputs,
        name=name,
        checks=checks,
        untrusted=untrusted,
        lint=options.lint,
        estimate=options.estimate,
        estimate_budget_s=options.estimate_budget_s,
    )


def _attach_proof(result: DraftResult, proof) -> None:
    """The proof's verdict and facts on the draft (the spec and the exit code read these)."""
    result.verification = proof
    result.verified = proof.passed
    result.verification_detail = proof.detail
    result.after = proof.after
    result.lint = proof.lint
    result.lint_errors = list(proof.lint_errors)
    result.estimate = proof.estimate
    result.notices.extend(n for n in proof.notices if n not in result.notices)


def _check_desired(result: DraftResult, sandbox: Sandbox, want) -> None:
    """A desired-schema draft is proven only when the upgrade leaves the desired schema
    (not merely a schema the draft itself describes): any difference fails it."""
    from migagent.agent.desired import desired_mismatch

    if not result.verified or result.after is None:
        return
    diffs = desired_mismatch(sandbox, want, result.after)
    if not diffs:
        return
    detail = "the upgrade does not reproduce the desired schema: " + "; ".join(diffs[:8])
    result.verified = False
    result.verification_detail = detail
    if result.verification is not None:
        result.verification.passed = False
        result.verification.detail = detail


def _render_markdown(result: DraftResult) -> None:
    from migagent.render import render_markdown

    try:
        result.spec_markdown = render_markdown(result.spec)
    except Exception as exc:  # the spec model is the contract; Markdown is best effort
        result.notices.append(f"spec Markdown could not be rendered: {exc}")


def _written_draft(request, backend, inputs, facts, options, notices, say) -> DraftResult:
    """A backend that writes the revision itself (Claude): its draft, the same proof."""
    from migagent.agent.toolbox import Toolbox
    from migagent.render import revision_naming

    toolbox = Toolbox(
        sandbox=inputs.sandbox,
        template=inputs.template,
        target_url=inputs.target_url,
        source_label="the target database" if inputs.target_url else "the schema",
        rows=dict(options.rows),
    )
    toolbox._snapshot = facts.snapshot  # already read (with the target's sizes)
    toolbox.large_rows = options.large_rows
    say(f"drafting with {backend.name}: inspect, write, verify, repair")
    written = backend.write(request, toolbox, options)
    if hasattr(written, "run"):
        from migagent.agent.claude import usage_line

        notices.append(usage_line(written.run))
    naming = revision_naming(options.naming_config) if options.naming_config else None
    revision_id, filename = backend.file_name(written, naming)
    spec = written.spec
    spec.alembic.file_name = filename
    spec.alembic.revision = revision_id
    result = DraftResult(
        request=request,
        backend=backend.name,
        plan=DraftPlan(intent=spec.purpose.summary, backend=backend.name),
        lowered=Lowered(),
        filename=filename,
        revision_id=revision_id,
        revision_source=written.revision_source,
        spec=spec,
        before=facts.snapshot,
        notices=notices,
    )
    _attach_proof(result, written.proof)
    if options.estimate and written.proof.passed:
        say("estimating the time on generated data")
        from migagent.tools.proof import estimate_for

        result.estimate = estimate_for(
            written.revision_source, inputs, options.estimate_budget_s, result.notices
        )
    _render_markdown(result)
    return result


def _follow_naming(plan: DraftPlan, request: str, facts: Facts, options: DraftOptions) -> None:
    """Generated index/constraint names in the project's conventions (its conventions
    file, else the pattern its schema uses): `migagent.agent.naming`."""
    from migagent.agent.naming import apply_naming, project_naming

    naming = project_naming(options.conventions_file, facts.snapshot)
    if naming is not None:
        apply_naming(plan, naming, request, facts.snapshot)


def blocks(steps) -> list[str]:
    """RevisionPlan blocks: one per step, autocommit runs grouped in one `with` block."""
    out: list[str] = []
    i = 0
    while i < len(steps):
        if steps[i].autocommit:
            group = []
            while i < len(steps) and steps[i].autocommit:
                group.append(steps[i].code)
                i += 1
            inner = "\n".join(
                "\n".join(("    " + ln) if ln else "" for ln in g.splitlines()) for g in group
            )
            out.append("with op.get_context().autocommit_block():\n" + inner)
        else:
            out.append(steps[i].code)
            i += 1
    return out


def _head(snap: SchemaSnapshot) -> str | None:
    """The revision a new one follows: the database's one Alembic head, or none (a new root)."""
    return choose_head(snap.alembic_revisions, None, where="the database is at")


def choose_head(
    heads: list[str], wanted: str | None, *, where: str = "the project has"
) -> str | None:
    """The revision a draft follows: `wanted` (`--head`, a unique prefix), else the only head.

    Several heads and no `--head` is refused: a draft that silently became a new
    root (`down_revision = None`) would give the project yet another head.
    """
    if wanted:
        if not heads:
            return wanted
        matches = [h for h in heads if h.startswith(wanted)]
        if len(matches) != 1:
            raise UsageError(
                f"--head {wanted!r} is not {'one' if not matches else 'exactly one'} of the "
                f"{'project' if where.startswith('the project') else 'database'}'s heads "
                f"({', '.join(sorted(heads))})",
                "give one of them, or `alembic merge heads` first",
            )
        return matches[0]
    if len(heads) > 1:
        raise UsageError(
            f"{where} {len(heads)} Alembic heads ({', '.join(sorted(heads))}), so a new "
            "revision has no single parent",
            "run `alembic merge heads` first, or pick one with --head REV",
        )
    return heads[0] if heads else None


def _lint(source: str, inputs) -> tuple[Any, list[str]]:
    """Lint alone (when verification is off), with the proof stage's one context."""
    from migagent.tools.proof import lint_for

    return lint_for(source, inputs, "draft.py")


def write_draft(result: DraftResult, out_dir: Path, spec_dir: Path) -> tuple[Path, Path]:
    """Write the revision into `out_dir` and the spec into `spec_dir`: both or neither
    (a revision without its spec fails `migagent check`, a spec alone describes nothing).
    Another revision's file is never overwritten (its successor's down_revision would name
    a revision that no longer exists)."""
    from migagent.files import write_all
    from migagent.render.revision import unused_filename

    target = out_dir / result.filename
    if unused_filename(result.filename, out_dir, result.revision_id) != result.filename:
        raise UsageError(
            f"{target} already exists and is another revision; nothing written",
            "give the draft another message (-m), or move the existing file",
        )
    rev, spec = write_all(
        [
            (out_dir / result.filename, result.revision_source),
            (spec_dir / result.spec_filename, result.spec_markdown or ""),
        ]
    )
    return rev, spec
