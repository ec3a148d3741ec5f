"""Lint findings and reports: the pydantic result, JSON, SARIF and terminal output."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}

#: Keys of `LintFinding.to_json()`, in order (the `--json` contract).
JSON_KEYS = (
    "rule",
    "severity",
    "message",
    "statement",
    "file",
    "line",
    "column",
    "lock",
    "blocks",
    "rewrites",
    "scans",
    "table",
    "rows",
    "size_basis",
    "fix",
)


class LintFinding(BaseModel):
    """One problem with one statement.

    `lock` is the table lock mode PostgreSQL takes (as in the docs / pg_locks,
    e.g. `ACCESS EXCLUSIVE`), `blocks` what application traffic it blocks while
    held (`reads`, `writes`), `rewrites`/`scans` whether the statement rewrites
    or fully scans the table under that lock, `rows` the size it was judged by
    (None = unknown) and `size_basis` where that size came from (`--rows`,
    `catalog estimate`, `unknown`, `created in this migration`). `fix` is the
    safe alternative as Alembic code."""

    model_config = ConfigDict(extra="forbid")

    rule: str
    severity: Severity
    message: str
    statement: str
    file: str | None = None
    line: int = 0
    column: int = 0
    lock: str | None = None
    blocks: list[str] = Field(default_factory=list)
    rewrites: bool = False
    scans: bool = False
    table: str | None = None
    rows: int | None = None
    size_basis: str = "unknown"
    fix: str | None = None
    suppressed: str | None = None  # the reason given in the ignore comment

    @property
    def location(self) -> str:
        return f"{self.file or '<sql>'}:{self.line}:{self.column}"

    def to_json(self) -> dict:
        data = self.model_dump()
        out = {k: data[k] for k in JSON_KEYS}
        if self.suppressed is not None:
            out["suppressed"] = self.suppressed
        return out


class LintReport(BaseModel):
    """Result of linting one or more files.

    `findings` are the active findings (sorted by file, line, severity),
    `suppressed` those silenced by `migagent: ignore[...]` comments (each with
    its reason). `errors`/`warnings`/`infos` count active findings; `ok` is
    True when there are no errors (the CLI exits 0)."""

    model_config = ConfigDict(extra="forbid")

    files: list[str] = Field(default_factory=list)
    findings: list[LintFinding] = Field(default_factory=list)
    suppressed: list[LintFinding] = Field(default_factory=list)
    statements: int = 0
    pg_version: int = 0
    large_rows: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def errors(self) -> int:
        return sum(f.severity == "error" for f in self.findings)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def warnings(self) -> int:
        return sum(f.severity == "warning" for f in self.findings)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def infos(self) -> int:
        return sum(f.severity == "info" for f in self.findings)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def rules(self) -> set[str]:
        return {f.rule for f in self.findings}

    def sort(self) -> LintReport:
        key = lambda f: (f.file or "", f.line, SEVERITY_ORDER[f.severity], f.rule)  # noqa: E731
        self.findings.sort(key=key)
        self.suppressed.sort(key=key)
        return self

    @classmethod
    def merge(cls, reports: list[LintReport]) -> LintReport:
        out = cls(
            pg_version=reports[0].pg_version if reports else 0,
            large_rows=reports[0].large_rows if reports else 0,
        )
        for r in reports:
            out.files.extend(r.files)
            out.findings.extend(r.findings)
            out.suppressed.extend(r.suppressed)
            out.statements += r.statements
        return out.sort()

    def to_json(self) -> list[dict]:
        """The `--json` output: a list of findings (suppressed ones last, marked)."""
        return [f.to_json() for f in self.findings] + [f.to_json() for f in self.suppressed]

    def to_sarif(self) -> dict:
        """SARIF 2.1.0 for code scanning; suppressed findings carry an in-source suppression."""
        from migagent.tools.lint.rules import RULES

        level = {"error": "error", "warning": "warning", "info": "note"}
        used = sorted({f.rule for f in self.findings + self.suppressed})
        rules = []
        for rid in used:
            rule = RULES.get(rid)
            rules.append(
                {
                    "id": rid,
                    "name": rid,
                    "shortDescription": {"text": rule.summary if rule else rid},
                }
            )
        index = {rid: i for i, rid in enumerate(used)}

        def result(f: LintFinding) -> dict:
            msg = f.message
            if f.fix:
                msg += "\n\nSafe alternative:\n" + f.fix
            res = {
                "ruleId": f.rule,
                "ruleIndex": index[f.rule],
                "level": level[f.severity],
                "message": {"text": msg},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f.file or "<sql>"},
                            "region": {
                                "startLine": max(f.line, 1),
                                "startColumn": max(f.column, 1),
                            },
                        }
                    }
                ],
                "properties": {
                    "lock": f.lock,
                    "blocks": f.blocks,
                    "rewrites": f.rewrites,
                    "scans": f.scans,
                    "table": f.table,
                    "rows": f.rows,
                    "statement": f.statement,
                },
            }
            if f.suppressed is not None:
                res["suppressions"] = [{"kind": "inSource", "justification": f.suppressed}]
            return res

        return {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "migagent lint",
                            "rules": rules,
                        }
                    },
                    "results": [result(f) for f in self.findings + self.suppressed],
                }
            ],
        }

    def render(self, console) -> None:
        """Rich terminal output; code is wrapped or printed whole, never cut at the width."""
        from rich.markup import escape

        style = {"error": "bold red", "warning": "yellow", "info": "cyan"}
        for f in self.findings:
            size = (
                f"{f.rows:,} rows ({f.size_basis})"
                if f.rows is not None
                else f"size {f.size_basis}"
            )
            facts = []
            if f.lock:
                blocked = " and ".join(f.blocks) if f.blocks else "no reads or writes"
                facts.append(f"lock {f.lock} (blocks {blocked})")
            if f.rewrites:
                facts.append("rewrites the table")
            elif f.scans:
                facts.append("scans the table")
            if f.table:
                facts.append(f"{f.table}: {size}")
            console.print(
                f"[{style[f.severity]}]{f.severity}[/] [bold]{f.rule}[/] "
                f"[dim]{escape(f.location)}[/]"
            )
            console.print(f"  {escape(f.message)}")
            stmt = f.statement if len(f.statement) < 400 else f.statement[:400] + " ..."
            _print_code(console, stmt, "sql")
            if facts:
                console.print("  [dim]" + escape("; ".join(facts)) + "[/]")
            if f.fix:
                _print_code(console, f.fix, "python", title="safe alternative")
        for f in self.suppressed:
            console.print(
                f"[dim]suppressed {f.rule} at {escape(f.location)}: {escape(f.suppressed or '')}[/]"
            )
        verdict = "[bold red]FAIL[/]" if self.errors else "[bold green]OK[/]"
        console.print(
            f"{verdict} {len(self.files)} file(s), {self.statements} statement(s): "
            f"{self.errors} error(s), {self.warnings} warning(s), {self.infos} note(s), "
            f"{len(self.suppressed)} suppressed (PostgreSQL {self.pg_version}, "
            f"large table >= {self.large_rows:,} rows)"
        )


def _print_code(console, code: str, lexer: str, *, title: str | None = None) -> None:
    """Code highlighted (and boxed when titled) on a terminal, wrapped at its width;
    plain and whole when piped, so a log or a CI page can be copied from."""
    if not console.is_terminal:
        if title:
            console.print(f"  {title}:", markup=False, highlight=False)
        indent = "    " if title else "  "
        for line in code.splitlines():
            console.print(indent + line, markup=False, highlight=False, soft_wrap=True)
        return
    from rich.panel import Panel
    from rich.syntax import Syntax

    if title is None:
        console.print(
            Syntax(code, lexer, theme="ansi_dark", word_wrap=True, padding=(0, 2)), soft_wrap=False
        )
        return
    console.print(
        Panel(
            Syntax(code, lexer, theme="ansi_dark", word_wrap=True),
            title=title,
            title_align="left",
            expand=False,
        ),
        soft_wrap=False,
    )
