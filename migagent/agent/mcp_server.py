"""migagent's tools over MCP (stdio), for Claude Code and any other MCP client.

The tools are the Claude backend's own (`migagent.agent.toolbox.Toolbox`):
each MCP tool is a thin registration over one toolbox method, with the same
description (`prompts/tools/<name>.md`) and the method's pydantic result as
structured output. Nothing here reimplements a tool. On top of them:

- `submit_draft` also returns the accepted spec rendered as Markdown, so the
  client can write it beside the revision for review;
- `check_migrations` runs `migagent check` on the project's committed history.

The toolbox is built on the first tool call, not at start-up, so the server
answers `initialize` and `tools/list` at once and a missing database becomes a
tool error the model can read (and the user can fix) rather than a dead
server. Its schema comes from `--schema-file`, else the target database:
`--db`, `MIGAGENT_DATABASE_URL`, `DATABASE_URL`, or `sqlalchemy.url` in the
project's alembic.ini. The target is only ever read; everything that runs a
migration runs on a scratch copy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field, ValidationError

from migagent.agent.toolbox import (
    DEFAULT_ROW_LIMIT,
    MAX_ROW_LIMIT,
    ProjectDoc,
    ProofResult,
    QueryResult,
    SchemaSummary,
    ScratchResult,
    TableDescription,
    TableStats,
    Toolbox,
    ToolboxError,
)
from migagent.errors import MigagentError
from migagent.prompts import tool_description
from migagent.spec import SpecDraft
from migagent.tools.check import CheckReport

SERVER_NAME = "migagent"

INSTRUCTIONS = """\
migagent drafts and proves PostgreSQL schema migrations (Alembic). The target
database is only ever read; every migration you try runs on a throwaway
scratch copy of its schema. Work in this order: introspect_schema, then
describe_table and table_stats for each table the request touches; write the
revision; verify_revision, lint_revision, estimate_revision; repair until they
pass; submit_draft with the revision and the spec. Follow
.claude/conventions.md. Apply nothing to any database: present the spec for
review instead."""

T = TypeVar("T")

# Reads the target (read-only transactions) or migagent's own state; writes nothing.
_READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
# Writes: creates a throwaway database on the sandbox server, runs the model's SQL or
# revision in it (which may drop and rewrite anything in that copy: destructive), as
# an unprivileged role, then drops it. Each call starts from a fresh copy, so calling
# again with the same input has no further effect (idempotent). Never the target, no
# other database, nothing outside migagent's sandbox (not open-world).
_SCRATCH = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)


@dataclass
class ToolboxSource:
    """Where the toolbox's schema comes from; builds the `Toolbox` once, on first use."""

    db: str | None = None
    schema_file: str | None = None
    sandbox_url: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    project_dir: Path = field(default_factory=Path.cwd)
    _toolbox: Toolbox | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of(cls, toolbox: Toolbox) -> ToolboxSource:
        """A source that is already built (tests, embedding)."""
        return cls(_toolbox=toolbox)

    def get(self) -> Toolbox:
        with self._lock:
            if self._toolbox is None:
                self._toolbox = self._build()
            return self._toolbox

    def _build(self) -> Toolbox:
        from migagent.tools.sandbox import Sandbox
        from migagent.tools.target import resolve_target_url

        sandbox = Sandbox.open(self.sandbox_url)
        if self.schema_file:
            path = Path(self.schema_file)
            if not path.is_absolute():
                path = self.project_dir / path
            box = Toolbox.for_schema_file(path, sandbox=sandbox, rows=self.rows)
            box.project_dir = self.project_dir
            return box
        url = resolve_target_url(self.db, cwd=self.project_dir)
        if url is None:
            raise ToolboxError(
                "migagent has no database to read: set MIGAGENT_DATABASE_URL (or DATABASE_URL, "
                "or sqlalchemy.url in alembic.ini) in the environment of the migagent MCP server, "
                "or start it with `migagent mcp --db URL` or `--schema-file schema.sql`"
            )
        box = Toolbox.for_target(url, sandbox=sandbox, rows=self.rows)
        box.project_dir = self.project_dir
        return box


TableName = Annotated[str, Field(description="Table name, `schema.table` or bare (public first).")]
RevisionText = Annotated[
    str,
    Field(
        description=(
            "The complete Alembic revision file as Python source: docstring, imports, "
            "`revision`, `down_revision`, `upgrade()` and `downgrade()`."
        )
    ),
]


class DraftSubmission(BaseModel):
    """`submit_draft` over MCP: the toolbox's verdict, and the spec to write when accepted."""

    accepted: bool
    message: str
    spec_markdown: str | None = Field(
        default=None, description="The accepted spec as Markdown, to write to `spec_path`."
    )
    revision_file: str | None = Field(
        default=None, description="The revision's file name (the spec's alembic.file_name)."
    )
    spec_path: str | None = Field(
        default=None,
        description=(
            "Where the spec goes, relative to the project: docs/migrations/<revision file name "
            "without .py>.md, which `migagent check` pairs with the revision."
        ),
    )


def _call(fn: Callable[[], T], tool: str) -> T:
    """Run one toolbox call; what the model can act on becomes a tool error it can read."""
    try:
        return fn()
    except ToolboxError as exc:
        raise ToolError(exc.message) from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()[:8]
        )
        raise ToolError(f"invalid input for {tool}: {problems}. Fix it and call again.") from exc
    except MigagentError as exc:
        raise ToolError(str(exc)) from exc


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def build_server(source: ToolboxSource | Toolbox, *, log_level: LogLevel = "WARNING") -> MCPServer:
    """The MCP server over one toolbox (built lazily from a `ToolboxSource`).

    Logs at WARNING by default: the SDK logs every failed tool call at INFO, and
    a tool error (no database, a lint finding) is an answer the client already
    shows, not news for the stderr log of the MCP host."""
    from importlib.metadata import PackageNotFoundError, version

    if isinstance(source, Toolbox):
        source = ToolboxSource.of(source)
    try:
        server_version = version("migagent")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        server_version = "0"
    mcp = MCPServer(
        SERVER_NAME,
        title="migagent: safe PostgreSQL migrations",
        instructions=INSTRUCTIONS,
        version=server_version,
        log_level=log_level,
    )

    def box() -> Toolbox:
        return _call(source.get, "migagent")

    def register(name: str, annotations: ToolAnnotations, title: str):
        return mcp.tool(
            name=name, title=title, description=tool_description(name), annotations=annotations
        )

    @register("introspect_schema", _READ, "Schema overview")
    def introspect_schema(
        filter: Annotated[
            str | None,
            Field(
                description=(
                    "Only the tables, views and enums whose names contain one of these words "
                    "(comma- or space-separated; `*`/`?` globs match whole names)."
                )
            ),
        ] = None,
        page: Annotated[
            int, Field(ge=1, description="Page of the compact table list (1 first).")
        ] = 1,
    ) -> SchemaSummary:
        return _call(lambda: box().introspect_schema(filter, page), "introspect_schema")

    @register("describe_table", _READ, "Describe a table")
    def describe_table(table: TableName) -> TableDescription:
        return _call(lambda: box().describe_table(table), "describe_table")

    @register("table_stats", _READ, "Table sizes")
    def table_stats(
        tables: Annotated[
            list[str], Field(min_length=1, description="Table names, `schema.table` or bare.")
        ],
    ) -> TableStats:
        return _call(lambda: box().table_stats(tables), "table_stats")

    @register("query_target", _READ, "Read-only query on the target")
    def query_target(
        sql: Annotated[
            str, Field(description="Exactly one SELECT, or EXPLAIN (without ANALYZE) of one.")
        ],
        limit: Annotated[
            int, Field(ge=1, le=MAX_ROW_LIMIT, description="Maximum rows returned.")
        ] = DEFAULT_ROW_LIMIT,
    ) -> QueryResult:
        return _call(lambda: box().query_target(sql, limit), "query_target")

    @register("run_sql_in_scratch", _SCRATCH, "Run SQL on a scratch copy")
    def run_sql_in_scratch(
        sql: Annotated[str, Field(description="SQL statements, separated by semicolons.")],
    ) -> ScratchResult:
        return _call(lambda: box().run_sql_in_scratch(sql), "run_sql_in_scratch")

    @register("verify_revision", _SCRATCH, "Verify a revision")
    def verify_revision(source: RevisionText) -> ProofResult:
        return _call(lambda: box().verify_revision(source), "verify_revision")

    @register("lint_revision", _READ, "Lint a revision")
    def lint_revision(source: RevisionText) -> ProofResult:
        return _call(lambda: box().lint_revision(source), "lint_revision")

    @register("estimate_revision", _SCRATCH, "Estimate a revision")
    def estimate_revision(source: RevisionText) -> ProofResult:
        return _call(lambda: box().estimate_revision(source), "estimate_revision")

    @register("read_project_doc", _READ, "Read .claude/ project notes")
    def read_project_doc(
        name: Annotated[
            Literal["architecture", "conventions"],
            Field(
                description=(
                    "`architecture` (.claude/architecture.md) or `conventions` "
                    "(.claude/conventions.md)."
                )
            ),
        ],
        page: Annotated[int, Field(ge=1, description="Page of the file (1 first).")] = 1,
    ) -> ProjectDoc:
        return _call(lambda: box().read_project_doc(name, page), "read_project_doc")

    @register("submit_draft", _READ, "Submit the draft")
    def submit_draft(
        revision_source: Annotated[
            str,
            Field(
                description="The complete Alembic revision file, exactly as it passed verify_revision."
            ),
        ],
        spec: SpecDraft,
    ) -> DraftSubmission:
        toolbox = box()
        result = _call(lambda: toolbox.submit_draft(revision_source, spec), "submit_draft")
        if not (result.accepted and toolbox.submission is not None):
            return DraftSubmission(accepted=result.accepted, message=result.message)
        file_name = toolbox.submission.spec.alembic.file_name
        return DraftSubmission(
            accepted=True,
            message=(
                f"draft accepted. Write the revision to the versions folder as {file_name} and "
                f"spec_markdown to {spec_path_for(file_name)}, then present both for review; "
                "apply nothing."
            ),
            spec_markdown=_render_spec(toolbox),
            revision_file=file_name,
            spec_path=spec_path_for(file_name),
        )

    @mcp.tool(
        name="check_migrations",
        title="Check committed migrations",
        annotations=_SCRATCH,
        description=(
            "Run `migagent check` on the Alembic project in the working directory: exactly one "
            "head; every revision upgraded, downgraded and upgraded again on a scratch database; "
            "every revision linted; every revision paired with docs/migrations/<file>.md. "
            "`since` limits it to the revisions after that one (what a change adds). "
            "`passed` is false when anything failed; read `problems` per revision."
        ),
    )
    def check_migrations(
        since: Annotated[
            str | None,
            Field(
                description="Only check the revisions after this revision id (e.g. the old head)."
            ),
        ] = None,
    ) -> CheckReport:
        from migagent.tools.check import check_project

        def run() -> CheckReport:
            return check_project(source.project_dir, since=since, sandbox_url=source.sandbox_url)

        return _call(run, "check_migrations")

    return mcp


def spec_path_for(revision_file: str) -> str:
    from migagent.tools.check import SPEC_DIR

    return f"{SPEC_DIR}/{Path(revision_file).stem}.md"


def _render_spec(toolbox: Toolbox) -> str:
    from migagent.prompts import PROMPTS_VERSION
    from migagent.render.markdown import render_markdown
    from migagent.spec import MigrationSpec, SpecMeta

    sub = toolbox.submission
    assert sub is not None
    lint_status, lint_detail = "not_run", ""
    if sub.lint is not None:
        lint_status = (
            "errors" if sub.lint.errors else ("warnings" if sub.lint.warnings else "clean")
        )
        lint_detail = "; ".join(f"{f.rule}: {f.message}" for f in sub.lint.findings[:5])
    meta = SpecMeta(
        backend="claude-code",
        prompts_version=PROMPTS_VERSION,
        verification="passed" if sub.verification.passed else "failed",
        verification_detail=(
            f"upgrade, downgrade and upgrade again passed on {sub.verification.starting_point}"
            if sub.verification.passed
            else "; ".join(sub.verification.reasons[:3])
        ),
        lint=lint_status,  # type: ignore[arg-type]
        lint_detail=lint_detail,
    )
    return render_markdown(MigrationSpec.from_draft(sub.spec, meta))


def serve_stdio(source: ToolboxSource, *, log_level: LogLevel = "WARNING") -> None:
    """Serve over stdin/stdout until the client closes the connection."""
    build_server(source, log_level=log_level).run("stdio")
