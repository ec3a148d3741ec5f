"""The drafting agent's tools: one implementation, shared by the Claude backend and the MCP server.

A `Toolbox` is bound to one drafting session: where the schema comes from
(the target database, read only, or a schema file loaded into the sandbox),
the sandbox that scratch copies are cloned on, the row counts the user gave
(`--rows`), and what happened so far (every verification and lint result by
revision source, and the submitted draft).

Every tool is a plain method with typed arguments that returns a pydantic
model, so a framework (the Anthropic SDK's tool runner, the MCP server, a
test) only has to turn JSON into arguments and the result back into JSON.
A problem the model can act on (an unknown table, a refused query, SQL that
PostgreSQL rejects, a submit before verification) raises `ToolboxError` with
a message written for the model; anything else is a bug.

| method | what it does |
|---|---|
| `introspect_schema(filter, page)` (alias `schema_summary`) | the request's tables in detail, the rest one line each (paged); views, enums, extensions, alembic head |
| `describe_table(table)` | one table in full, plus the foreign keys that point at it |
| `table_stats(tables)` | rows, sizes, dead tuples, last analyze, whether it is large |
| `query_target(sql, limit)` | one read-only SELECT / EXPLAIN (no ANALYZE) on the target |
| `run_sql_in_scratch(sql)` | any SQL on a fresh scratch copy, dropped afterwards |
| `verify_revision(source)` | upgrade, downgrade, re-upgrade on a scratch copy |
| `lint_revision(source)` | the lock-safety rules, judged at the target's sizes |
| `estimate_revision(source)` | time and locks at the target's sizes |
| `read_project_doc(name, page)` | a page of `.claude/architecture.md` or `.claude/conventions.md` |
| `submit_draft(revision_source, spec)` | the final answer; refused unless that exact source verified |

Every result, as the JSON the model reads (`result_json`), fits in
`RESULT_BUDGET_CHARS`: a list that does not fit is cut (`fit_result`), and the
result's `note` says what was cut and which call gives the rest.

The target is never written: queries go through `target.connect_readonly`
(read-only transactions, statement and lock timeouts), must pass
`query_guard` first (bounded size and nesting; exactly one SELECT or EXPLAIN
without ANALYZE; no SELECT INTO, FOR UPDATE or data-modifying WITH; every
function, operator and cast it can reach IMMUTABLE/STABLE in the target's
pg_proc and not on a short deny list) and are cut at a row cap on a
server-side cursor.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import difflib
import fnmatch
import functools
import hashlib
import json
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, LiteralString, cast

import psycopg
import psycopg.sql
from pglast import ast, split
from pglast.parser import ParseError
from pydantic import BaseModel, ConfigDict, Field

from migagent.errors import MigagentError, first_line
from migagent.render.architecture import LARGE_TABLE_BYTES, LARGE_TABLE_ROWS, is_large_size
from migagent.spec import SpecDraft
from migagent.tools import pgurl, query_guard, target
from migagent.tools.introspect import snapshot as take_snapshot
from migagent.tools.introspect.model import SchemaSnapshot, Table
from migagent.tools.sandbox import Sandbox

DEFAULT_ROW_LIMIT = 100
MAX_ROW_LIMIT = 1000
QUERY_TIMEOUT_MS = 5_000
SCRATCH_TIMEOUT_MS = 30_000
COUNT_MAX_BYTES = 64 * 1024**2  # a never-analysed table up to this size is counted exactly
MAX_CELL_CHARS = 500
#: every tool result, as the JSON the model reads, fits in this many characters (about
#: 3k tokens); prompts/system.md states it. Lists are cut (and the cut said) to fit.
RESULT_BUDGET_CHARS = 12_000
MAX_STATS_TABLES = 40  # table_stats answers for at most this many tables per call
SMALL_SCHEMA_TABLES = 20  # up to this many tables, an unknown name is answered with all of them
SAMPLE_ROWS = 100  # rows verify generates per empty table, so data paths run too  # a cell longer than this is cut (the model needs its shape, not all of it)


class ToolboxError(Exception):
    """A tool failed in a way the model can act on; `message` is what it is shown."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------- results
class TableSummary(_Result):
    name: str  # schema.name
    kind: str
    rows: int  # catalog estimate (or --rows / counted; see `rows_basis`)
    rows_basis: str
    total_bytes: int
    columns: int
    indexes: int
    large: bool


class SchemaSummary(_Result):
    """`introspect_schema`: the overview of the schema the migration is for.

    Within `RESULT_BUDGET_CHARS`: `tables` holds in detail the tables the request
    names (and the ones they reference or are referenced by), or the ones `filter`
    matches; every other table is one compact line in `other_tables`, paged."""

    source: str  # "target database" or the schema file
    server_version: int
    schemas: list[str]
    tables: list[TableSummary]
    other_tables: list[str] = Field(default_factory=list)  # "schema.name: 1.2 M rows, 3.4 GB"
    tables_total: int = 0  # tables in the schema (or matching `filter`)
    page: int = 1
    pages: int = 1
    views: list[str]
    enums: dict[str, list[str]]
    extensions: list[str]
    alembic_revisions: list[str]
    large_table_rule: str = (
        f"large = over {LARGE_TABLE_ROWS:,} rows or over {LARGE_TABLE_BYTES // 1024**3} GB"
    )
    note: str | None = None  # what was left out, and how to get it


class ForeignKeyIn(_Result):
    table: str
    constraint: str
    definition: str


class TableDescription(_Result):
    """`describe_table`: one table in full, and what refers to it."""

    table: Table
    referenced_by: list[ForeignKeyIn] = Field(default_factory=list)
    views_using: list[str] = Field(default_factory=list)
    large: bool = False
    note: str | None = None  # what was cut to fit the result budget


RowsBasis = Literal["--rows", "catalog estimate", "live tuples", "counted"]


class TableStat(_Result):
    table: str
    rows: int
    rows_basis: RowsBasis
    total_bytes: int
    table_bytes: int
    index_bytes: int
    dead_tuples: int | None = None
    last_analyze: str | None = None
    large: bool


class TableStats(_Result):
    tables: list[TableStat]
    not_found: list[str] = Field(default_factory=list)
    note: str | None = None  # tables not answered in this call, closest names of unknown ones


class QueryResult(_Result):
    """`query_target` / one statement of `run_sql_in_scratch`."""

    statement: str = ""
    status: str = ""  # PostgreSQL's command tag, e.g. "SELECT 3", "ALTER TABLE"
    columns: list[str] = Field(default_factory=list)
    rows: list[list[Any]] = Field(default_factory=list)
    row_count: int = 0  # rows returned (before the cap) or affected
    truncated: bool = False
    note: str | None = None  # what the row limit or the result budget cut


class ScratchResult(_Result):
    """`run_sql_in_scratch`: each statement's result, up to the first error."""

    ok: bool
    results: list[QueryResult] = Field(default_factory=list)
    error: str | None = None
    failed_statement: str | None = None
    note: str = (
        "ran on a throwaway copy of the schema, dropped afterwards; nothing reached the target"
    )


class ProofResult(_Result):
    """`verify_revision` / `lint_revision` / `estimate_revision`, as the model sees them."""

    tool: Literal["verify", "lint", "estimate"]
    ok: bool
    summary: str
    details: dict[str, Any] = Field(default_factory=dict)
    note: str | None = None  # what was cut from `details` to fit the result budget


class ProjectDoc(_Result):
    """`read_project_doc`: one page of `.claude/architecture.md` or `.claude/conventions.md`."""

    name: str
    path: str
    page: int
    pages: int
    text: str
    note: str | None = None


class SubmitResult(_Result):
    accepted: bool
    message: str


@dataclass
class Submission:
    """What the model submitted, with the proof it was accepted on."""

    revision_source: str
    spec: SpecDraft
    verification: Any  # VerificationReport of this exact source
    lint: Any | None  # LintReport of this exact source, when lint was available


@dataclass
class _Proofs:
    verify: dict[str, Any] = field(default_factory=dict)  # sha -> tools.proof.Proof
    lint: dict[str, Any] = field(default_factory=dict)  # sha -> LintReport
    estimate: dict[str, Any] = field(default_factory=dict)


def source_digest(source: str) -> str:
    """The identity of a revision source for "was *this* verified": whitespace at the ends ignored."""
    return hashlib.sha256(source.strip().encode()).hexdigest()


# ------------------------------------------------------------------ result budget
def result_json(result: BaseModel) -> str:
    """A tool result as the model reads it (the Claude backend sends exactly this)."""
    return result.model_dump_json(exclude_none=True)


def _jlen(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


_MIN_STRING = 80  # a value is never shortened below this many characters


def _shrinkable(data: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[Any, Any, str, Any]]:
    """(container, key, dotted path, value) of every list and long string inside `data`."""
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        here = path if isinstance(key, int) else (*path, str(key))
        if key == "note":
            continue
        if isinstance(value, list) or (isinstance(value, str) and len(value) > _MIN_STRING):
            yield data, key, ".".join(here), value
        if isinstance(value, dict | list):
            yield from _shrinkable(value, here)


def _shrink(data: dict[str, Any], limit: int) -> tuple[dict[str, list[int]], int]:
    """Cut `data` in place until its JSON is at most `limit` characters: trailing items of
    the biggest list (keeping one), else the longest string. Returns {path: [cut, total]}
    and how many values were shortened."""
    lists: dict[tuple[int, Any], tuple[Any, str, int]] = {}  # (id, key) -> container, path, len
    shortened = 0
    for _ in range(10_000):
        excess = _jlen(data) - limit
        if excess <= 0:
            break
        best: tuple[int, Any, Any, str, Any] | None = None
        for container, key, path, value in _shrinkable(data):
            if isinstance(value, list):
                gain = _jlen(value) - (_jlen(value[:1]) if value else 2)
            else:
                gain = len(value) - _MIN_STRING
            if gain > 0 and (best is None or gain > best[0]):
                best = (gain, container, key, path, value)
        if best is None:
            break
        _, container, key, path, value = best
        if isinstance(value, list):
            lists.setdefault((id(container), key), (container, path, len(value)))
            keep, removed = len(value), 0
            while keep > 1 and removed < excess:
                keep -= 1
                removed += _jlen(value[keep]) + 1
            container[key] = value[:keep]
        else:
            container[key] = value[: max(_MIN_STRING, len(value) - excess - 1)] + "…"
            shortened += 1
    cut: dict[str, list[int]] = {}
    for (_, key), (container, path, total) in lists.items():
        entry = cut.setdefault(path, [0, 0])
        entry[0] += total - len(container[key])
        entry[1] += total
    return cut, shortened


def cut_note(cut: dict[str, list[int]], shortened: int, hint: str = "") -> str:
    parts = [f"{path}: {n:,} of {total:,} left out" for path, (n, total) in cut.items()]
    if shortened:
        parts.append(f"{shortened} long value(s) shortened (…)")
    return (
        f"cut to fit the {RESULT_BUDGET_CHARS:,}-character result budget: "
        + "; ".join(parts)
        + (f". {hint}" if hint else ".")
    )


def fit_result(result: BaseModel, hint: str = "", budget: int = RESULT_BUDGET_CHARS) -> Any:
    """`result` itself when its JSON is within `budget`, else a copy with lists and long
    values cut, and a `note` saying what was cut and how to get it."""
    if len(result_json(result)) <= budget:
        return result
    data = result.model_dump(mode="json", exclude_none=True)
    earlier = data.pop("note", None)
    limit = budget - 600
    while True:
        attempt = json.loads(json.dumps(data))
        cut, shortened = _shrink(attempt, limit)
        note = cut_note(cut, shortened, hint)
        attempt["note"] = f"{earlier} {note}" if earlier else note
        if len(attempt["note"]) > 1_000:
            attempt["note"] = attempt["note"][:999] + "…"
        fitted = type(result).model_validate(attempt)
        if len(result_json(fitted)) <= budget or limit < 1_000:
            return fitted
        limit -= 1_000


def bounded(hint: str = "") -> Any:
    """A tool method whose result is fitted to the result budget (`fit_result`)."""

    def wrap(method: Any) -> Any:
        @functools.wraps(method)
        def run(self: Toolbox, *args: Any, **kwargs: Any) -> Any:
            return fit_result(method(self, *args, **kwargs), hint)

        return run

    return wrap


def compact_size(n: int) -> str:
    for unit, scale in (("G", 1024**3), ("M", 1024**2), ("k", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}B"
    return f"{n} B"


def compact_rows(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} M rows"
    if n >= 10_000:
        return f"{n / 1000:.0f} k rows"
    return f"{n:,} rows"


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?")


def named_in(text: str, names: list[str]) -> list[str]:
    """The qualified names in `names` whose table `text` names: `schema.table`, the bare
    name, its singular or plural, or words joined by `_` ("order items" -> order_items)."""
    words = [w.lower() for w in _WORD.findall(text or "")]
    said: set[str] = set(words)
    for i in range(len(words)):
        for n in (2, 3):
            if i + n <= len(words):
                said.add("_".join(words[i : i + n]))
    forms: set[str] = set()
    for w in said:
        forms |= {w, w + "s", w + "es"}
        if w.endswith("y"):
            forms.add(w[:-1] + "ies")
        if w.endswith("ies"):
            forms.add(w[:-3] + "y")
        if w.endswith("s"):
            forms.add(w[:-1])
    return [q for q in names if q.lower() in forms or q.split(".", 1)[-1].lower() in forms]


def matches_filter(name: str, pattern: str) -> bool:
    """`pattern`: words or globs separated by commas or spaces; a word matches a name
    containing it, a glob (`*`, `?`) the bare or qualified name."""
    lowered = name.lower()
    bare = lowered.split(".", 1)[-1]
    for term in re.split(r"[,\s]+", pattern.lower().strip()):
        if not term:
            continue
        if any(ch in term for ch in "*?["):
            if fnmatch.fnmatchcase(lowered, term) or fnmatch.fnmatchcase(bare, term):
                return True
        elif term in lowered:
            return True
    return False


def closest_names(name: str, names: list[str], n: int = 8) -> list[str]:
    """The known names most like `name`: containing it first, then by difflib ratio."""
    key = name.strip().strip('"').lower()
    bare_key = key.split(".", 1)[-1]
    by_bare: dict[str, list[str]] = {}
    for q in names:
        by_bare.setdefault(q.split(".", 1)[-1].lower(), []).append(q)
    out: list[str] = []
    if bare_key:
        out += [q for q in names if bare_key in q.split(".", 1)[-1].lower()][:n]
    for bare in difflib.get_close_matches(bare_key, list(by_bare), n=n, cutoff=0.6):
        out += by_bare[bare]
    out += difflib.get_close_matches(key, [q.lower() for q in names], n=n, cutoff=0.6)
    lower_to_name = {q.lower(): q for q in names}
    seen: list[str] = []
    for q in out:
        q = lower_to_name.get(q.lower(), q)
        if q not in seen:
            seen.append(q)
    return seen[:n]


# ------------------------------------------------------------------------ toolbox
class Toolbox:
    """The tools of one drafting session.

    Build it with `Toolbox.for_target(url)` or `Toolbox.for_schema_file(path)`
    (or `for_schema_sql`). The schema is loaded into a sandbox template once;
    its snapshot is read once and cached.
    """

    def __init__(
        self,
        *,
        sandbox: Sandbox,
        template: str,
        target_url: str | None = None,
        source_label: str = "schema",
        rows: dict[str, int] | None = None,
        query_timeout_ms: int = QUERY_TIMEOUT_MS,
        sample_rows: int = SAMPLE_ROWS,
        untrusted: bool = True,
    ) -> None:
        self.sandbox = sandbox
        self.untrusted = untrusted  # revisions come from a model: run them fenced
        self.large_rows: int | None = None  # --large-rows
        self.template = template
        self.target_url = target_url
        self.source_label = source_label
        self.rows = {k.lower(): int(v) for k, v in (rows or {}).items()}
        self.query_timeout_ms = query_timeout_ms
        self.sample_rows = sample_rows
        self.proofs = _Proofs()
        self.submission: Submission | None = None
        self.calls: list[str] = []  # tool names in call order (for reports and tests)
        self.request = ""  # the user's request: introspect_schema leads with the tables it names
        self.project_dir: Path | None = None  # where read_project_doc finds .claude/
        self.estimates = True  # False: --no-estimate, estimate_revision says so and does nothing
        self._snapshot: SchemaSnapshot | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------- construction
    @classmethod
    def for_target(
        cls, url: str, *, sandbox: Sandbox | None = None, rows: dict[str, int] | None = None
    ) -> Toolbox:
        """Tools over the user's database: its schema (never its rows) is copied into the sandbox."""
        box = sandbox or Sandbox.open()
        url = pgurl.libpq_url(url)
        return cls(
            sandbox=box,
            template=box.template_from_target(url),
            target_url=url,
            source_label=f"target database {pgurl.redact(url)}",
            rows=rows,
        )

    @classmethod
    def for_schema_file(
        cls, path: str | Path, *, sandbox: Sandbox | None = None, rows: dict[str, int] | None = None
    ) -> Toolbox:
        """Tools over a schema file (`--schema-file`): the file, loaded into the sandbox, is the target."""
        box = sandbox or Sandbox.open()
        return cls(
            sandbox=box,
            template=box.template_from_file(path),
            source_label=f"schema file {path}",
            rows=rows,
        )

    @classmethod
    def for_schema_sql(
        cls,
        schema_sql: str,
        *,
        sandbox: Sandbox | None = None,
        rows: dict[str, int] | None = None,
        label: str = "schema",
    ) -> Toolbox:
        box = sandbox or Sandbox.open()
        return cls(
            sandbox=box,
            template=box.template_from_sql(schema_sql, source=label),
            source_label=label,
            rows=rows,
        )

    # ----------------------------------------------------------------- helpers
    @property
    def snapshot(self) -> SchemaSnapshot:
        """The schema as it is now (read once)."""
        if self._snapshot is None:
            with self._lock, self._source_connection() as conn:
                self._snapshot = take_snapshot(conn)
        return self._snapshot

    @contextlib.contextmanager
    def _source_connection(self, timeout_ms: int | None = None) -> Iterator[psycopg.Connection]:
        """A read-only connection to the schema's source: the target, or a scratch clone of the file."""
        timeout = timeout_ms or self.query_timeout_ms
        if self.target_url:
            with target.connect_readonly(self.target_url, timeout_ms=timeout) as conn:
                yield conn
            return
        with (
            self.sandbox.scratch(self.template) as db,
            target.connect_readonly(db.url, timeout_ms=timeout) as conn,
        ):
            yield conn

    def _table(self, name: str) -> Table:
        found = self.snapshot.table(name.strip().strip('"'))
        if found is None:
            raise ToolboxError(f"no table named {name!r}. {self._known_tables_hint([name])}")
        return found

    def _known_tables_hint(self, missing: list[str]) -> str:
        """All table names on a small schema; else the closest names to each missing one."""
        names = sorted(self.snapshot.tables)
        if len(names) <= SMALL_SCHEMA_TABLES:
            return f"Tables: {', '.join(names) or 'none'}"
        near: list[str] = []
        for name in missing[:5]:
            near += [n for n in closest_names(name, names, 8) if n not in near]
        found = f"Closest names: {', '.join(near[:10])}" if near else "No similar names"
        return (
            f"{found} (of {len(names):,} tables; introspect_schema(filter='word') lists the "
            "tables whose names contain a word)"
        )

    def _rows_override(self, table: Table) -> int | None:
        for key in (table.qualified_name.lower(), table.name.lower()):
            if key in self.rows:
                return self.rows[key]
        return None

    def _rows(self, table: Table) -> tuple[int, RowsBasis]:
        override = self._rows_override(table)
        if override is not None:
            return override, "--rows"
        return max(table.row_estimate, 0), "catalog estimate"

    def _large(self, rows: int, total_bytes: int) -> bool:
        return is_large_size(rows, total_bytes)

    def row_counts(self) -> dict[str, int]:
        """Rows per qualified table (`--rows` over catalog estimates), for lint and estimate."""
        return {name: self._rows(t)[0] for name, t in self.snapshot.tables.items()}

    # ============================================================== schema tools
    def _summary_of(self, name: str) -> TableSummary:
        t = self.snapshot.tables[name]
        rows, basis = self._rows(t)
        return TableSummary(
            name=name,
            kind=t.kind,
            rows=rows,
            rows_basis=basis,
            total_bytes=t.total_bytes,
            columns=len(t.columns),
            indexes=len(t.indexes),
            large=self._large(rows, t.total_bytes),
        )

    def _compact_line(self, name: str) -> str:
        t = self.snapshot.tables[name]
        rows, _ = self._rows(t)
        large = ", large" if self._large(rows, t.total_bytes) else ""
        return f"{name}: {compact_rows(rows)}, {compact_size(t.total_bytes)}{large}"

    def _focus(self, names: list[str]) -> list[str]:
        """The tables `self.request` names, then the tables they reference, then the ones
        that reference them (a migration on one usually has to look at its neighbours)."""
        named = named_in(self.request, names)
        if not named:
            return []
        tables = self.snapshot.tables
        out, outgoing, incoming = list(named), [], []
        for name in named:
            outgoing += [
                c.ref_table
                for c in tables[name].constraints
                if c.kind == "foreign_key" and c.ref_table in tables
            ]
        wanted = set(named)
        for other in names:
            if any(
                c.kind == "foreign_key" and c.ref_table in wanted for c in tables[other].constraints
            ):
                incoming.append(other)
        for name in outgoing + incoming:
            if name not in out:
                out.append(name)
        return out

    def introspect_schema(self, filter: str | None = None, page: int = 1) -> SchemaSummary:
        """Overview within the result budget: the tables the request names (and their
        foreign-key neighbours) in detail, every other table as one compact line, paged;
        with `filter`, only the tables (views, enums) whose names match."""
        self.calls.append("introspect_schema")
        snap = self.snapshot
        pattern = (filter or "").strip()
        names = sorted(snap.tables)
        views = sorted(snap.views)
        enums = sorted(snap.enums.items())
        if pattern:
            names = [n for n in names if matches_filter(n, pattern)]
            views = [v for v in views if matches_filter(v, pattern)]
            enums = [(k, e) for k, e in enums if matches_filter(k, pattern)]
            focus = names
        else:
            focus = self._focus(names)
        notes: list[str] = []
        budget = RESULT_BUDGET_CHARS - 900  # room for the note

        # the fixed part: views, enums and extensions, each within its own share
        def capped(items: list[Any], share: int, what: str) -> list[Any]:
            kept, used = [], 0
            for item in items:
                used += _jlen(item) + 1
                if used > share:
                    notes.append(
                        f"{len(items) - len(kept):,} more {what} not listed (introspect_schema "
                        "with filter= lists the ones matching a name)"
                    )
                    break
                kept.append(item)
            return kept

        kept_views = capped(views, 800, "views")
        kept_enums = dict(capped([(k, e.labels[:50]) for k, e in enums], 800, "enum types"))
        extensions = capped(
            sorted(f"{e.name} {e.version}" for e in snap.extensions.values()), 400, "extensions"
        )
        base = SchemaSummary(
            source=self.source_label,
            server_version=snap.server_version,
            schemas=capped(snap.schemas, 400, "schemas"),
            tables=[],
            tables_total=len(names),
            views=kept_views,
            enums=kept_enums,
            extensions=extensions,
            alembic_revisions=snap.alembic_revisions[:20],
        )
        room = budget - len(result_json(base))

        # in detail: the focus tables, then (while it fits, on a small schema) all others
        detailed: list[TableSummary] = []
        focused = set(focus)
        order = focus + [n for n in names if n not in focused]
        detail_room = room  # all of it when every table fits in detail, else half
        used = 0
        for name in order:
            summary = self._summary_of(name)
            size = len(result_json(summary)) + 1
            if used + size > detail_room:
                if detail_room == room:
                    detail_room = room // 2
                    while detailed and used > detail_room:
                        used -= len(result_json(detailed.pop())) + 1
                break
            detailed.append(summary)
            used += size
        shown = {t.name for t in detailed}
        compact = [self._compact_line(n) for n in order if n not in shown]

        # the rest, one line each, in pages of what is left of the budget
        page_room = room - used
        pages: list[list[str]] = [[]]
        used = 0
        for line in compact:
            size = _jlen(line) + 1
            if used + size > page_room and pages[-1]:
                pages.append([])
                used = 0
            pages[-1].append(line)
            used += size
        if not 1 <= page <= len(pages):
            raise ToolboxError(
                f"page {page} does not exist: introspect_schema has {len(pages)} page(s)"
            )
        result = base.model_copy(
            update={
                "tables": detailed if page == 1 else [],
                "other_tables": pages[page - 1],
                "page": page,
                "pages": len(pages),
            }
        )
        if page > 1:
            result.views, result.enums = [], {}
            notes.append("views and enums are on page 1")
        if pattern and not names:
            near = closest_names(pattern, sorted(snap.tables), 8)
            notes.append(
                f"no table matches filter {pattern!r}"
                + (f"; closest names: {', '.join(near)}" if near else "")
            )
        if compact:
            notes.insert(
                0,
                f"{len(detailed):,} table(s) in detail"
                + (
                    " (the ones the request names and their foreign-key neighbours first)"
                    if focus and not pattern
                    else ""
                )
                + f", {len(compact):,} as one line each in other_tables"
                + (
                    f"; this is page {page} of {len(pages)}: call introspect_schema(page=N) for "
                    "the others, or filter='name' for the tables whose names match"
                    if len(pages) > 1
                    else ""
                )
                + "; table_stats and describe_table give any table's full figures",
            )
        result.note = "; ".join(notes) or None
        return fit_result(result)

    schema_summary = introspect_schema

    @bounded(
        "call query_target on pg_catalog (e.g. information_schema.columns, pg_constraint) "
        "for the rest of the cut lists"
    )
    def describe_table(self, table: str) -> TableDescription:
        """One table in full: columns, constraints, indexes, triggers, policies; who refers to it."""
        self.calls.append("describe_table")
        t = self._table(table)
        refs = [
            ForeignKeyIn(table=other.qualified_name, constraint=c.name, definition=c.definition)
            for other in self.snapshot.tables.values()
            for c in other.constraints
            if c.kind == "foreign_key" and c.ref_table == t.qualified_name and not c.inherited
        ]
        views = sorted(
            v.qualified_name
            for v in self.snapshot.views.values()
            if t.qualified_name in v.depends_on
        )
        rows, _ = self._rows(t)
        return TableDescription(
            table=t, referenced_by=refs, views_using=views, large=self._large(rows, t.total_bytes)
        )

    @bounded("call table_stats again with the tables left out")
    def table_stats(self, tables: list[str]) -> TableStats:
        """Size facts per table: rows, table/index bytes, dead tuples, last analyze, large or not."""
        self.calls.append("table_stats")
        if not tables:
            raise ToolboxError("give at least one table name")
        found: list[Table] = []
        missing: list[str] = []
        for name in tables:
            t = self.snapshot.table(name.strip().strip('"'))
            if t is not None:
                found.append(t)
            else:
                missing.append(name)
        if not found:
            shown = ", ".join(missing[:10]) + (
                f" (and {len(missing) - 10:,} more)" if len(missing) > 10 else ""
            )
            raise ToolboxError(f"no such tables: {shown}. {self._known_tables_hint(missing)}")
        notes: list[str] = []
        unique = list({t.qualified_name: t for t in found}.values())
        if len(unique) > MAX_STATS_TABLES:
            later = [t.qualified_name for t in unique[MAX_STATS_TABLES:]]
            notes.append(
                f"answered for the first {MAX_STATS_TABLES} of {len(unique):,} tables; call "
                f"table_stats again for the other {len(later):,} (from {later[0]})"
            )
            unique = unique[:MAX_STATS_TABLES]
        found = unique
        if missing:
            notes.append(self._known_tables_hint(missing))
        live = self._live_stats([t.qualified_name for t in found])
        out = []
        for t in found:
            stat = live.get(t.qualified_name, {})
            rows, basis = self._rows(t)
            if basis == "catalog estimate" and t.row_estimate <= 0:
                # never analysed: a small table is counted, a big one reports live tuples
                if stat.get("counted") is not None:
                    rows, basis = stat["counted"], "counted"
                elif stat.get("live") is not None:
                    rows, basis = stat["live"], "live tuples"
            total = stat.get("total_bytes", t.total_bytes)
            out.append(
                TableStat(
                    table=t.qualified_name,
                    rows=rows,
                    rows_basis=basis,
                    total_bytes=total,
                    table_bytes=stat.get("table_bytes", t.table_bytes),
                    index_bytes=stat.get("index_bytes", 0),
                    dead_tuples=stat.get("dead"),
                    last_analyze=stat.get("last_analyze"),
                    large=self._large(rows, total),
                )
            )
        return TableStats(tables=out, not_found=missing, note="; ".join(notes) or None)

    def _live_stats(self, names: list[str]) -> dict[str, dict[str, Any]]:
        query = """
            SELECT n.nspname || '.' || c.relname, pg_total_relation_size(c.oid),
                   pg_relation_size(c.oid), pg_indexes_size(c.oid),
                   s.n_live_tup, s.n_dead_tup,
                   greatest(s.last_analyze, s.last_autoanalyze)::text
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
            WHERE n.nspname || '.' || c.relname = ANY(%s)
        """
        out: dict[str, dict[str, Any]] = {}
        try:
            with self._source_connection() as conn:
                for name, total, tbytes, ibytes, live, dead, analyzed in conn.execute(
                    query, (names,)
                ).fetchall():
                    out[name] = {
                        "total_bytes": int(total),
                        "table_bytes": int(tbytes),
                        "index_bytes": int(ibytes),
                        "live": live,
                        "dead": dead,
                        "last_analyze": analyzed,
                    }
                for name in names:
                    stat = out.get(name, {})
                    table = self.snapshot.tables.get(name)
                    if table is None or table.row_estimate > 0:
                        continue
                    if stat.get("table_bytes", 0) > COUNT_MAX_BYTES:
                        continue  # never analysed and big: live tuples, not a full scan
                    schema, rel = name.split(".", 1)
                    row = conn.execute(
                        psycopg.sql.SQL("SELECT count(*) FROM {}").format(
                            psycopg.sql.Identifier(schema, rel)
                        )
                    ).fetchone()
                    assert row is not None  # count(*) returns one row
                    out.setdefault(name, {})["counted"] = int(row[0])
        except psycopg.Error as exc:
            raise ToolboxError(f"cannot read table statistics: {first_line(exc)}") from exc
        return out

    # ================================================================= queries
    def query_target(self, sql: str, limit: int = DEFAULT_ROW_LIMIT) -> QueryResult:
        """One read-only SELECT (or EXPLAIN without ANALYZE) on the target, at most `limit` rows.

        `query_guard` decides what may run: the statement's shape before connecting,
        every function it can call against the target's own pg_proc on the same
        connection, inside the read-only transaction the query then runs in."""
        self.calls.append("query_target")
        limit = max(1, min(int(limit), MAX_ROW_LIMIT))
        checked = _inspect(sql)
        stmt = checked.statement
        text = sql.strip().rstrip(";").strip()
        try:
            with self._source_connection() as conn:
                conn.read_only = True
                with conn.transaction():
                    # the server must split and quote the text as pglast did
                    conn.execute("SET LOCAL standard_conforming_strings = on")
                    try:
                        query_guard.check_catalog(conn, checked.refs)
                    except query_guard.QueryRefused as exc:
                        raise ToolboxError(str(exc)) from None
                    if isinstance(stmt, ast.SelectStmt):
                        cur = conn.cursor(name=f"migagent_q_{uuid.uuid4().hex[:8]}")
                        cur.execute(_unchecked_text(text))
                        fetched = cur.fetchmany(limit + 1)
                        columns = [d.name for d in cur.description or []]
                        cur.close()
                        status = "SELECT"
                    else:
                        cur = conn.execute(_unchecked_text(text))
                        fetched = cur.fetchmany(limit + 1)
                        columns = [d.name for d in cur.description or []]
                        status = "EXPLAIN"
        except psycopg.errors.QueryCanceled as exc:
            raise ToolboxError(
                f"the query was cancelled after {self.query_timeout_ms} ms (statement timeout): "
                "narrow it, or use table_stats for sizes"
            ) from exc
        except psycopg.Error as exc:
            raise ToolboxError(f"PostgreSQL rejected the query: {first_line(exc)}") from exc
        truncated = len(fetched) > limit
        rows = [[_cell(v) for v in row] for row in fetched[:limit]]
        result = QueryResult(
            statement=text,
            status=status,
            columns=columns,
            rows=rows,
            row_count=len(rows),
            truncated=truncated,
            note=f"more than {limit:,} rows: cut at the row limit" if truncated else None,
        )
        return _fit_query(result)

    def run_sql_in_scratch(self, sql: str, limit: int = DEFAULT_ROW_LIMIT) -> ScratchResult:
        """Run SQL statement by statement on a fresh scratch copy of the schema (dropped after).

        The copy is fenced (`migagent.tools.fence`): owned by, and run as, a role
        without superuser or server-file rights, so the model's SQL can change
        anything in the copy and nothing outside it (no COPY ... PROGRAM, no
        dblink, no DROP DATABASE of another database, no SET ROLE). The role may
        lift statement_timeout for its session, so the whole call also has a
        wall-clock budget after which its statement is cancelled.
        """
        self.calls.append("run_sql_in_scratch")
        limit = max(1, min(int(limit), MAX_ROW_LIMIT))
        try:
            statements = [s for s in split(sql) if s.strip()]
        except ParseError as exc:
            raise ToolboxError(f"the SQL does not parse: {exc}") from exc
        if not statements:
            raise ToolboxError("no SQL statement given")
        results: list[QueryResult] = []
        budget_s = 2 * SCRATCH_TIMEOUT_MS / 1000
        with contextlib.ExitStack() as stack:
            try:
                db = stack.enter_context(self.sandbox.scratch(self.template, fenced=True))
                conn = stack.enter_context(
                    pgurl.connect(
                        db.url,
                        autocommit=True,
                        options=f"-c statement_timeout={SCRATCH_TIMEOUT_MS}",
                    )
                )
            except MigagentError as exc:
                raise ToolboxError(f"cannot open a scratch database: {exc}") from exc
            expired = threading.Event()

            def cancel() -> None:
                expired.set()
                with contextlib.suppress(Exception):
                    conn.cancel_safe(timeout=5)

            timer = threading.Timer(budget_s, cancel)
            timer.daemon = True
            timer.start()
            stack.callback(timer.cancel)
            for text in statements:
                try:
                    if expired.is_set():
                        raise psycopg.errors.QueryCanceled("the time budget is spent")
                    cur = conn.execute(_unchecked_text(text))
                except psycopg.Error as exc:
                    error = first_line(exc)
                    if expired.is_set():
                        error = f"the SQL ran longer than {budget_s:g} s in all and was cancelled"
                    return fit_result(
                        ScratchResult(ok=False, results=results, error=error, failed_statement=text)
                    )
                fetched = cur.fetchmany(limit + 1) if cur.description else []
                results.append(
                    QueryResult(
                        statement=text,
                        status=cur.statusmessage or "",
                        columns=[d.name for d in cur.description or []],
                        rows=[[_cell(v) for v in row] for row in fetched[:limit]],
                        row_count=len(fetched[:limit]) if cur.description else max(cur.rowcount, 0),
                        truncated=len(fetched) > limit,
                    )
                )
        return fit_result(
            ScratchResult(ok=True, results=results),
            "select fewer rows or columns, or aggregate, and run it again",
        )

    # ================================================================== proofs
    @property
    def proof_inputs(self) -> Any:
        """What every proof in this session is measured against (`tools.proof`)."""
        from migagent.tools.proof import ProofInputs

        return ProofInputs.for_template(
            self.sandbox,
            self.template,
            before=self.snapshot,
            target_url=self.target_url,
            rows=dict(self.rows),
            large_rows=self.large_rows,
            sample_rows=self.sample_rows,
            notices=list(self.copy_notices),
        )

    @property
    def copy_notices(self) -> list[str]:
        """What the schema copy had to leave out (the sandbox cannot hold it)."""
        from migagent.tools.proof import copy_notices

        return copy_notices(self.sandbox, self.template)

    def prove(self, source: str) -> Any:
        """The one proof stage (preflight, verify fenced, lint), as every backend gets it."""
        from migagent.tools.proof import prove

        try:
            return prove(source, self.proof_inputs, untrusted=self.untrusted)
        except MigagentError as exc:
            raise ToolboxError(str(exc)) from exc

    @bounded("lint_revision lists the lint findings; run_sql_in_scratch replays a statement")
    def verify_revision(self, source: str) -> ProofResult:
        """Preflight on the target, upgrade/downgrade/re-upgrade on a scratch copy, lint."""
        self.calls.append("verify_revision")
        _require_source(source)
        proof = self.prove(source)
        digest = source_digest(source)
        self.proofs.verify[digest] = proof
        if proof.lint is not None:
            self.proofs.lint[digest] = proof.lint
        return summarize_proof(proof)

    @bounded("errors come first: fix them and call lint_revision again for the rest")
    def lint_revision(self, source: str) -> ProofResult:
        """Lock-safety rules at the target's sizes; record the result."""
        self.calls.append("lint_revision")
        _require_source(source)
        report = self._lint(source)
        self.proofs.lint[source_digest(source)] = report
        return summarize_lint(report)

    @bounded("the summary has the totals; verify_revision lists the locks per statement")
    def estimate_revision(self, source: str) -> ProofResult:
        """Time and locks of `source` scaled to the sizes of the tables it touches."""
        self.calls.append("estimate_revision")
        _require_source(source)
        if not self.estimates:
            return ProofResult(
                tool="estimate",
                ok=True,
                summary=(
                    "estimates are off for this draft (--no-estimate): nothing was timed; do not "
                    "call estimate_revision again, and give no measured time in the spec"
                ),
            )
        report = self._estimate(source)
        self.proofs.estimate[source_digest(source)] = report
        return summarize_estimate(report)

    def read_project_doc(
        self, name: Literal["architecture", "conventions"], page: int = 1
    ) -> ProjectDoc:
        """One page (within the result budget) of the project's `.claude/<name>.md`."""
        self.calls.append("read_project_doc")
        if name not in ("architecture", "conventions"):
            raise ToolboxError("name must be 'architecture' or 'conventions'")
        path = (self.project_dir or Path.cwd()) / ".claude" / f"{name}.md"
        try:
            text = path.read_text(encoding="utf-8")
            label = f".claude/{name}.md"
        except (OSError, UnicodeDecodeError):
            if name == "architecture":
                raise ToolboxError(
                    "this project has no .claude/architecture.md: the schema tools "
                    "(introspect_schema, describe_table, table_stats) read the schema itself"
                ) from None
            from migagent.prompts import load_prompt

            text, label = load_prompt("init/conventions.md"), "migagent's default conventions"
        room = RESULT_BUDGET_CHARS - 600
        pages: list[str] = []
        chunk = ""
        for line in text.splitlines(keepends=True):
            while len(line) > room:  # one very long line: split it
                if chunk:
                    pages.append(chunk)
                    chunk = ""
                pages.append(line[:room])
                line = line[room:]
            if _jlen(chunk + line) > room and chunk:
                pages.append(chunk)
                chunk = ""
            chunk += line
        pages.append(chunk)
        if not 1 <= page <= len(pages):
            raise ToolboxError(f"page {page} does not exist: {label} has {len(pages)} page(s)")
        note = None
        if len(pages) > 1:
            note = f"page {page} of {len(pages)}: call read_project_doc(name={name!r}, page=N)"
        if name == "architecture":
            extra = "generated at some point in time: the schema tools read the schema as it is now"
            note = f"{note}; {extra}" if note else extra
        return fit_result(
            ProjectDoc(
                name=name, path=label, page=page, pages=len(pages), text=pages[page - 1], note=note
            )
        )

    def submit_draft(self, revision_source: str, spec: SpecDraft | dict[str, Any]) -> SubmitResult:
        """The final answer. Accepted only when this exact source passed verify_revision
        (preflight included) and has no lint errors; otherwise the model is told what to do."""
        self.calls.append("submit_draft")
        _require_source(revision_source)
        if not isinstance(spec, SpecDraft):
            spec = SpecDraft.model_validate(spec)
        digest = source_digest(revision_source)
        proof = self.proofs.verify.get(digest)
        if proof is None:
            raise ToolboxError(
                "this revision source has not been verified: call verify_revision with exactly "
                "this source, repair it until it passes, then submit"
            )
        if not proof.passed:
            raise ToolboxError(
                f"the last verification of this source failed ({proof.detail}): repair the "
                "revision, verify it again, then submit the version that passed"
            )
        lint = self.proofs.lint.get(digest)
        if lint is None:
            lint = self._lint(revision_source)
            self.proofs.lint[digest] = lint
        if lint.errors:
            first = next(f for f in lint.findings if f.severity == "error")
            raise ToolboxError(
                f"lint found {lint.errors} error(s) in this source, e.g. {first.rule}: "
                f"{first.message.rstrip('. ')}. Fix them (or, when a finding is wrong for this table, add "
                "`# migagent: ignore[RULE] reason` on that line), verify again, then submit"
            )
        spec = spec.model_copy(update={"revision_source": revision_source})
        self.submission = Submission(
            revision_source=revision_source,
            spec=spec,
            verification=proof.verification,
            lint=lint,
        )
        return SubmitResult(
            accepted=True,
            message="draft accepted; migagent re-verifies it before writing. You are done.",
        )

    # ----------------------------------------------- the proof engines (other modules)
    def lint_context(self) -> Any:
        """What the linter is told about the target: the proof stage's one context."""
        return self.proof_inputs.lint_context()

    def _lint(self, source: str) -> Any:
        from migagent.tools.lint import lint_revision_source

        if self.untrusted:
            from migagent.tools.lint.revision import is_preloaded
            from migagent.tools.proof import capture_fenced
            from migagent.tools.verify.fenced import RevisionRefused

            try:
                problems = capture_fenced(source)
            except RevisionRefused as refused:
                raise ToolboxError("; ".join(refused.reasons[:3])) from None

            if not is_preloaded(source, "upgrade"):  # a downgrade may raise offline
                raise ToolboxError("; ".join(problems[:3]) or "upgrade() could not be read")
        try:
            return lint_revision_source(source, self.lint_context())
        except MigagentError as exc:
            raise ToolboxError(str(exc)) from exc

    def _estimate(self, source: str) -> Any:
        from migagent.tools.estimate import estimate_revision

        if self.untrusted:  # model-written: timed in the fenced child
            from migagent.tools.verify.fenced import estimate_untrusted

            try:
                return estimate_untrusted(
                    source, self.template, rows=self.proof_inputs.sizes(), sandbox=self.sandbox
                )
            except MigagentError as exc:
                raise ToolboxError(str(exc)) from exc
        try:
            return estimate_revision(
                source,
                self.template,
                rows=self.proof_inputs.sizes(),
                sandbox=self.sandbox,
            )
        except MigagentError as exc:
            raise ToolboxError(str(exc)) from exc


# ------------------------------------------------------------------ summaries
def summarize_verification(report: Any) -> ProofResult:
    """What the model needs from a VerificationReport: pass/fail, why, locks, changes."""
    details: dict[str, Any] = {
        "steps": {s.name: s.status for s in report.steps},
        "reasons": report.reasons,
        "schema_changes": [str(c) for c in report.schema_changes],
        "downgrade_residue": [str(c) for c in report.downgrade_residue],
        "reupgrade_mismatch": [str(c) for c in report.reupgrade_mismatch],
        "blocking_locks": [
            f"{b.table}: {b.mode} held {b.held_ms:.0f} ms by statement {b.statement} "
            f"(blocks {b.blocks}{', table rewritten' if b.rewrite else ''})"
            for b in report.blocking_locks
        ],
        "data_loss_risk": report.data_loss.risk,
        "upgrade_statements": [
            f"{s.index}. {' '.join(s.sql.split())[:300]} ({s.duration_ms:.1f} ms)"
            for s in report.upgrade
            if not s.internal
        ],
    }
    if report.failure is not None:
        details["failure"] = report.failure.model_dump(exclude_none=True)
    if report.passed:
        summary = f"verification passed in {report.duration_ms:.0f} ms on {report.starting_point}"
    else:
        first = report.failure.message if report.failure else "; ".join(report.reasons[:2])
        summary = f"verification FAILED: {first}"
    return ProofResult(tool="verify", ok=report.passed, summary=summary, details=details)


def summarize_proof(proof: Any) -> ProofResult:
    """The proof as the model sees it: the verification, then what the target's rows say."""
    result = summarize_verification(proof.verification)
    failures = proof.preflight_failures
    if proof.preflight is not None:
        result.details["target_preflight"] = [
            f"{r.status}: {r.message}" for r in proof.preflight.results
        ]
    if proof.notices:
        result.details["notices"] = list(proof.notices)
    if proof.lint_errors:
        result.details["lint_errors"] = list(proof.lint_errors)
    if failures:
        result.ok = False
        result.summary = "the target's rows would make this fail: " + "; ".join(failures[:3])
    elif result.ok and not proof.passed:
        result.ok = False
        result.summary = f"verification FAILED: {proof.detail}"
    return result


def summarize_lint(report: Any) -> ProofResult:
    order = {"error": 0, "warning": 1}
    findings = [
        {
            "rule": f.rule,
            "severity": f.severity,
            "line": f.line,
            "message": f.message,
            **({"fix": f.fix} if f.fix else {}),
        }
        for f in sorted(report.findings, key=lambda f: order.get(f.severity, 2))
    ]
    summary = f"{report.errors} error(s), {report.warnings} warning(s), {report.infos} note(s)" + (
        "" if report.findings else ": clean"
    )
    return ProofResult(
        tool="lint",
        ok=report.errors == 0,
        summary=summary,
        details={"findings": findings, "suppressed": [f.rule for f in report.suppressed]},
    )


def summarize_estimate(report: Any) -> ProofResult:
    data = report.model_dump(mode="json") if isinstance(report, BaseModel) else dict(report)
    summary = str(data.get("summary") or data.get("total") or "estimate done")
    return ProofResult(tool="estimate", ok=True, summary=summary, details=data)


# ------------------------------------------------------------ read-only checks
def _unchecked_text(sql: str) -> LiteralString:
    """SQL that arrives at run time, as psycopg's `execute` takes it. psycopg types its
    query as a LiteralString so that values are not pasted into SQL; these tools run
    the SQL they are given by design (after `query_guard`, or on a scratch copy), and
    values are never formatted into it."""
    return cast(LiteralString, sql)


def _inspect(sql: str) -> query_guard.Inspected:
    try:
        return query_guard.inspect(sql)
    except query_guard.QueryRefused as exc:
        raise ToolboxError(str(exc)) from None


def check_read_only(sql: str) -> ast.SelectStmt | ast.ExplainStmt:
    """The one statement of `sql` if its shape may run on the target (a SELECT, or
    EXPLAIN without ANALYZE of one; see `query_guard`); ToolboxError saying why not.
    The functions it calls are checked against the target by `query_target`."""
    return _inspect(sql).statement


def _require_source(source: str) -> None:
    if not source or not source.strip():
        raise ToolboxError("the revision source is empty: give the complete Alembic revision file")
    if "def upgrade" not in source:
        raise ToolboxError(
            "this is not an Alembic revision file: it needs `revision`, `down_revision`, "
            "`def upgrade()` and `def downgrade()`"
        )


def _fit_query(result: QueryResult) -> QueryResult:
    """A query result within the budget; rows cut are said, with how to get them."""
    fitted = fit_result(
        result,
        f"{result.row_count:,} row(s) were fetched: select fewer columns, aggregate, or page "
        "with ORDER BY ... LIMIT/OFFSET to read the rest",
    )
    if fitted is not result:
        fitted.truncated = True
    return fitted


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, decimal.Decimal | dt.date | dt.datetime | dt.time | dt.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes>"
    text = str(value)
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS] + "…"
