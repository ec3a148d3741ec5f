"""`migagent draft "REQUEST"`: draft, prove and document a migration.

Options only; the work is `migagent.agent.pipeline.draft`. Exit 0 on a
verified draft, 1 when the request could not be drafted or the draft failed
verification, 2 for usage or environment errors.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from migagent.cli.app import app, err, out
from migagent.errors import UsageError
from migagent.tools.policy import parse_rows

_parse_rows = parse_rows  # the one --rows parser (migagent.tools.policy)


def _alembic_project(cwd: Path) -> tuple[Path | None, Path | None, list[str]]:
    """(alembic.ini, versions folder, head revisions) of the project in `cwd`, if any."""
    ini = cwd / "alembic.ini"
    if not ini.is_file():
        return None, None, []
    from migagent.render import revision_naming

    naming = revision_naming(ini)
    try:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        heads = list(ScriptDirectory.from_config(Config(str(ini))).get_heads())
    except Exception:  # a broken project still gets a draft; down_revision stays empty
        heads = []
    return ini, naming.versions_dir, heads


def _conventions_file(root: Path) -> str | None:
    """The project's `.claude/conventions.md` (what `migagent init` installs), if any."""
    path = root / ".claude" / "conventions.md"
    return str(path) if path.is_file() else None


def _read_desired(path: Path) -> str:
    """The `--desired` DDL, as text (a binary or non-UTF-8 file is a usage error)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read --desired {path}: {exc.strerror or exc}") from None
    if b"\0" in data:
        raise UsageError(
            f"--desired {path} is a binary file", "give a SQL file of CREATE statements"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"--desired {path} is not UTF-8 text (byte {exc.start})",
            "save it as UTF-8 (e.g. iconv -t UTF-8)",
        ) from None


@app.command("draft")
def draft_command(
    request: Annotated[
        str, typer.Argument(metavar="REQUEST", help="What the migration should do, in words.")
    ],
    backend: str = typer.Option(
        "auto",
        "--backend",
        metavar="auto|offline|claude",
        help="auto (claude with ANTHROPIC_API_KEY, else offline), offline, or claude.",
    ),
    db: str | None = typer.Option(
        None, "--db", metavar="URL", help="The current schema from this database (read only)."
    ),
    schema_file: Annotated[
        Path | None,
        typer.Option("--schema-file", metavar="FILE", help="The current schema from a SQL file."),
    ] = None,
    demo: bool = typer.Option(
        False, "--demo", help="Use the bundled demo database (documents, sections)."
    ),
    desired: Annotated[
        Path | None,
        typer.Option(
            "--desired", metavar="FILE", help="The desired schema as DDL (authoritative)."
        ),
    ] = None,
    models: str | None = typer.Option(
        None,
        "--models",
        metavar="MODULE:ATTR",
        help="The desired schema as SQLAlchemy metadata, e.g. myapp.models:Base.",
    ),
    rows: list[str] = typer.Option(  # noqa: B008
        [],
        "--rows",
        metavar="TABLE=N",
        help="Production size of a table (repeatable; e.g. orders=50M).",
    ),
    large_rows: int | None = typer.Option(
        None,
        "--large-rows",
        metavar="N",
        min=1,
        help="Rows from which a table takes the online forms (default 100000).",
    ),
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="DIR", help="Write the revision here (default: the versions folder)."
        ),
    ] = None,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the revision and spec; write nothing."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the spec as JSON."),
    force: bool = typer.Option(False, "--force", help="Write even when verification fails."),
    sandbox_url: str | None = typer.Option(
        None,
        "--sandbox-url",
        metavar="URL",
        envvar="MIGAGENT_SANDBOX_URL",
        help="Server for scratch databases.",
    ),
    message: str | None = typer.Option(
        None, "-m", "--message", metavar="TEXT", help="Revision message."
    ),
    no_estimate: bool = typer.Option(False, "--no-estimate", help="Skip the time estimate."),
    model: str | None = typer.Option(
        None,
        "--model",
        metavar="NAME",
        envvar="MIGAGENT_MODEL",
        help="Claude model (Claude backend).",
    ),
    max_turns: int | None = typer.Option(
        None, "--max-turns", metavar="N", min=1, help="Most model calls (Claude backend)."
    ),
    token_budget: int | None = typer.Option(
        None,
        "--token-budget",
        metavar="TOKENS",
        min=1000,
        help="Most tokens in all (Claude backend).",
    ),
    time_limit: str | None = typer.Option(
        None,
        "--time-limit",
        metavar="DURATION",
        help="Most wall-clock time for a Claude draft: seconds, or e.g. 10m "
        "(default 15m; MIGAGENT_TIME_LIMIT).",
    ),
    head: str | None = typer.Option(
        None,
        "--head",
        metavar="REV",
        help="The revision to follow when the Alembic project has several heads.",
    ),
) -> None:
    """Draft a migration from a one-line request, prove it on a scratch copy and write it.

    Writes an Alembic revision and its migration spec (docs/migrations/) after
    upgrade, downgrade and upgrade again pass on a scratch copy of the current
    schema (--db, --schema-file, --demo or the project's database).
    Exit 0 on a verified draft, 1 when it could not be drafted or failed
    verification, 2 for usage or environment errors."""
    from migagent.agent.pipeline import (
        DraftOptions,
        SchemaSource,
        choose_head,
        draft,
        write_draft,
    )
    from migagent.tools.sandbox import Sandbox
    from migagent.tools.target import resolve_target_url

    if backend not in ("auto", "offline", "claude"):
        raise UsageError(f"--backend {backend!r} is not auto, offline or claude")
    if sum(bool(x) for x in (db, schema_file, demo)) > 1:
        raise UsageError("give only one of --db, --schema-file and --demo")
    if desired and models:
        raise UsageError("give either --desired or --models, not both")
    limit_s: float | None = None
    if time_limit is not None:
        from migagent.agent.claude import parse_duration

        limit_s = parse_duration({"--time-limit": time_limit}, "--time-limit", 0)
    cwd = Path.cwd()
    ini, versions_dir, heads = _alembic_project(cwd)
    down_revision = choose_head(heads, head)
    if demo:
        source = SchemaSource.demo()
    elif schema_file:
        source = SchemaSource.file(schema_file)
    else:
        url = resolve_target_url(db, cwd)
        if url is None:
            raise UsageError(
                "no current schema: no --db, --schema-file or --demo, and no database URL in "
                "MIGAGENT_DATABASE_URL, DATABASE_URL or alembic.ini",
                'try `migagent draft --demo "add full-text search to sections"`',
            )
        source = SchemaSource.url(url)
    desired_sql = _read_desired(desired) if desired is not None else None
    options = DraftOptions(
        backend=backend,  # type: ignore[arg-type]
        rows=_parse_rows(rows),
        large_rows=large_rows,
        desired_sql=desired_sql,
        models=models,
        message=message,
        down_revision=down_revision,
        estimate=not no_estimate,
        naming_config=str(ini) if ini else None,
        conventions_file=_conventions_file(ini.parent if ini else cwd),
        model=model,
        max_turns=max_turns,
        token_budget=token_budget,
        time_limit_s=limit_s,
    )
    sandbox = Sandbox.open(sandbox_url)
    with err.status("drafting…") as status:
        result = draft(
            request,
            source,
            options=options,
            sandbox=sandbox,
            progress=lambda m: status.update(m + "…"),
        )
    for notice in result.notices:
        err.print(f"[dim]note:[/] {notice}", markup=True)
    if result.verified is False:
        on_target = bool(getattr(result.verification, "preflight_failures", None))
        label = "VERIFICATION FAILED on the target's rows" if on_target else "VERIFICATION FAILED"
        err.print(f"[bold red]{label}:[/] {result.verification_detail}", markup=True)
    if result.lint_errors:
        err.print("[bold yellow]lint errors:[/] " + "; ".join(result.lint_errors), markup=True)
    if as_json:
        out.print_json(json.dumps(result.spec.model_dump(mode="json")) if result.spec else "null")
    elif dry_run:
        out.print(f"# {result.filename}\n", markup=False)
        out.print(result.revision_source, markup=False)
        out.print(f"\n# docs/migrations/{result.spec_filename}\n", markup=False)
        out.print(result.spec_markdown, markup=False)
    if not dry_run and (result.ok or force):
        from migagent.tools.check import spec_dir_for

        target_dir = Path(out_dir or versions_dir or (cwd / "alembic" / "versions"))
        # the spec goes where `migagent check` pairs it: the project's docs/migrations,
        # never a folder inside the versions folder --out names
        fallback = out_dir if out_dir else (ini.parent if ini else cwd)
        rev, spec = write_draft(result, target_dir, spec_dir_for(target_dir, fallback))
        err.print(f"wrote {_rel(rev, cwd)} and {_rel(spec, cwd)}")
    elif not dry_run:
        why = "failed verification" if result.verified is False else "has lint errors"
        err.print(f"nothing written: the draft {why} (--force writes it anyway)")
    for a in result.plan.assumptions:
        err.print(f"[dim]assumption:[/] {a}", markup=True)
    for w in result.plan.warnings + result.lowered.warnings:
        err.print(f"[yellow]warning:[/] {w}", markup=True)
    if not result.ok:
        raise typer.Exit(1)


def _rel(path: Path, cwd: Path) -> str:
    try:
        return os.path.relpath(path, cwd)
    except ValueError:
        return str(path)
