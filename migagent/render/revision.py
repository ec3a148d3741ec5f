"""Render an Alembic revision file from a `RevisionPlan`.

The boundary with the planners is deliberately plain: a plan carries the
bodies of `upgrade()` and `downgrade()` as blocks of Python source written at
function-body level (no leading indentation), using `op` (alembic.op), `sa`
(sqlalchemy) and `postgresql` (sqlalchemy.dialects.postgresql). The renderer
checks that every block parses and uses no other free names, indents the
blocks (never touching the inside of string literals, so SQL in
triple-quoted strings is kept byte for byte), imports exactly the names the
bodies use, and names the file after the project's `file_template`.

`call()` and `execute()` produce op code in black/ruff style, so planners that
use them get formatted output even where neither formatter is installed; when
ruff or black is available the whole file is passed through it as well.
"""

from __future__ import annotations

import ast
import builtins
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import textwrap
import tokenize
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from migagent.errors import UsageError
from migagent.prompts import one_line, py_string, template

DEFAULT_FILE_TEMPLATE = "%(year)d_%(month).2d_%(day).2d_%(hour).2d%(minute).2d_%(slug)s"
"""The migration template's convention: `2025_01_15_1430_add_fulltext_search_index.py`."""

LINE_LENGTH = 88  # black's and ruff's default: what most Alembic projects format to

KNOWN_IMPORTS: dict[str, str] = {
    "sa": "import sqlalchemy as sa",
    "op": "from alembic import op",
    "postgresql": "from sqlalchemy.dialects import postgresql",
}
"""Names op code may use, and the import each one needs (in isort order)."""

_BUILTINS = frozenset(dir(builtins))
_REVISION_ID = re.compile(r"^[A-Za-z0-9_]+$")


def new_revision_id() -> str:
    """A 12-hex-digit revision id, as `alembic revision` makes them."""
    return uuid.uuid4().hex[-12:]


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class RevisionPlan(BaseModel):
    """What a planner decided; everything the revision file needs.

    `upgrade_ops` / `downgrade_ops` are blocks of Python source at function
    body level, e.g. `'op.add_column("documents", sa.Column("file_size", sa.BigInteger()))'`;
    blocks are separated by a blank line in the output and may hold comments
    and several statements. An irreversible revision leaves `downgrade_ops`
    empty and says why in `irreversible_reason`; its downgrade raises.
    """

    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1)
    revision: str = Field(default_factory=new_revision_id)
    down_revision: str | None = None
    create_date: dt.datetime = Field(default_factory=_now)
    upgrade_ops: list[str] = Field(default_factory=list)
    downgrade_ops: list[str] = Field(default_factory=list)
    irreversible_reason: str | None = None

    @field_validator("revision", "down_revision")
    @classmethod
    def _revision_id(cls, value: str | None) -> str | None:
        if value is not None and not _REVISION_ID.match(value):
            raise ValueError(f"revision ids are letters, digits and underscores, got {value!r}")
        return value

    @field_validator("create_date")
    @classmethod
    def _whole_seconds(cls, value: dt.datetime) -> dt.datetime:
        return value.replace(microsecond=0)

    @field_validator("upgrade_ops", "downgrade_ops")
    @classmethod
    def _dedent(cls, blocks: list[str]) -> list[str]:
        return [b for b in (_dedent_code(b) for b in blocks) if b]

    @model_validator(mode="after")
    def _check(self) -> RevisionPlan:
        if self.irreversible_reason is not None:
            if not self.irreversible_reason.strip():
                raise ValueError("irreversible_reason must say why")
            if self.downgrade_ops:
                raise ValueError("an irreversible revision has no downgrade_ops")
        for name, blocks in (
            ("upgrade_ops", self.upgrade_ops),
            ("downgrade_ops", self.downgrade_ops),
        ):
            _free_names("\n\n".join(blocks), name)
        return self


class RevisionNaming(BaseModel):
    """How a project names revision files (from its alembic.ini / pyproject.toml)."""

    model_config = ConfigDict(extra="forbid")

    file_template: str = DEFAULT_FILE_TEMPLATE
    truncate_slug_length: int = 40
    versions_dir: Path | None = None  # where `alembic revision` would write, if known
    #: the project's script folder (script.py.mako, env.py): its template renders the file
    script_dir: Path | None = None
    #: the project's post_write_hooks (Alembic's Config.get_hooks_list()), run on the file
    hooks: list[dict[str, str]] = Field(default_factory=list)
    output_encoding: str = "utf-8"


class RevisionFile(BaseModel):
    """A rendered revision: its file name (no directory) and its source."""

    model_config = ConfigDict(extra="forbid")

    filename: str
    source: str
    formatted_with: str | None = None  # "ruff" / "black" when the output was passed through one


# --- op code helpers ---------------------------------------------------------------------


class Raw(str):
    """Python source to splice in as is, e.g. `Raw('sa.BigInteger()')`."""


def _literal(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, str):
        return py_string(value)
    if isinstance(value, list | tuple):
        inner = ", ".join(_literal(v) for v in value)
        return (
            f"[{inner}]"
            if isinstance(value, list)
            else f"({inner}{',' if len(value) == 1 else ''})"
        )
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    raise TypeError(f"cannot render {type(value).__name__} as a Python literal; wrap code in Raw()")


def call(func: str, *args: Any, **kwargs: Any) -> str:
    """A call in black style: on one line when it fits, else one argument per line.

    `call("op.create_index", "ix_sections_title", "sections", ["title"])` ->
    `op.create_index("ix_sections_title", "sections", ["title"])`. Strings and
    lists become literals; wrap expressions in `Raw`.
    """
    parts = [_literal(a) for a in args] + [f"{k}={_literal(v)}" for k, v in kwargs.items()]
    flat = f"{func}({', '.join(parts)})"
    if len(flat) + 4 <= LINE_LENGTH or not parts:
        return flat
    return f"{func}(\n" + "".join(f"    {p},\n" for p in parts) + ")"


def execute(sql: str) -> str:
    """`op.execute(...)` for a SQL statement: one line when short, else a triple-quoted block.

    The SQL inside a triple-quoted string is laid out for a function body
    (eight spaces), since the renderer never re-indents string contents.
    """
    sql = textwrap.dedent(sql).strip()
    if "\n" not in sql:
        flat = f"op.execute({py_string(sql)})"
        if len(flat) + 4 <= LINE_LENGTH:
            return flat
    if '"""' in sql or "\\" in sql:
        return call("op.execute", sql)
    body = textwrap.indent(sql, " " * 8)
    return f'op.execute(\n    """\n{body}\n        """\n)'


# --- rendering ---------------------------------------------------------------------------


def _free_names(source: str, where: str) -> set[str]:
    """Names `source` reads but neither defines nor gets from builtins; only known ones allowed."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"{where}: not valid Python at line {exc.lineno}: {exc.msg}") from exc
    loaded: set[str] = set()
    defined: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            defined.add(node.name)
            defined.update(a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg))
        elif isinstance(node, ast.ClassDef):  # (a class has no arguments)
            defined.add(node.name)
        elif isinstance(node, ast.Lambda):
            defined.update(a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg))
        elif isinstance(node, ast.alias):
            defined.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            defined.add(node.name)
    free = loaded - defined - _BUILTINS
    unknown = sorted(free - KNOWN_IMPORTS.keys())
    if unknown:
        raise ValueError(
            f"{where} uses undefined name(s) {', '.join(unknown)}; "
            f"op code may use {', '.join(KNOWN_IMPORTS)} or import inside the block"
        )
    return free


def _string_continuation_lines(block: str) -> set[int]:
    """1-based lines of `block` that lie inside a multi-line string (never re-indented)."""
    inside: set[int] = set()
    fstring_start = getattr(tokenize, "FSTRING_START", None)  # Python 3.12+ splits f-strings
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    open_fstrings: list[int] = []
    for tok in tokenize.generate_tokens(io.StringIO(block).readline):
        if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
            inside.update(range(tok.start[0] + 1, tok.end[0] + 1))
        elif fstring_start is not None and tok.type == fstring_start:
            open_fstrings.append(tok.start[0])
        elif fstring_end is not None and tok.type == fstring_end and open_fstrings:
            inside.update(range(open_fstrings.pop() + 1, tok.end[0] + 1))
    return inside


def _dedent_code(block: str) -> str:
    """Remove the common indentation of the code lines, leaving string contents as they are."""
    block = block.strip("\n")
    try:
        keep = _string_continuation_lines(block)
    except (tokenize.TokenError, SyntaxError):
        return textwrap.dedent(block).rstrip()  # not valid Python: the validator reports it
    lines = block.split("\n")
    code = [ln for i, ln in enumerate(lines, start=1) if i not in keep and ln.strip()]
    margin = min((len(ln) - len(ln.lstrip()) for ln in code), default=0)
    out = [
        ln if i in keep else (ln[margin:] if ln.strip() else "")
        for i, ln in enumerate(lines, start=1)
    ]
    return "\n".join(out).rstrip()  # the last line closes any string, so this is code


def _indent_block(block: str, prefix: str = "    ") -> str:
    keep = _string_continuation_lines(block)
    lines = block.split("\n")
    return "\n".join(
        line if i in keep else (prefix + line if line.strip() else "")
        for i, line in enumerate(lines, start=1)
    )


def _body(blocks: list[str], irreversible_reason: str | None, prefix: str = "    ") -> str:
    if irreversible_reason is not None:
        message = py_string(f"irreversible: {one_line(irreversible_reason)}")
        return _indent_block(call("raise NotImplementedError", Raw(message)), prefix)
    if not blocks:
        return prefix + "pass"
    return "\n\n".join(_indent_block(b, prefix) for b in blocks)


def _docstring_text(message: str) -> str:
    return one_line(message).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def revision_filename(plan: RevisionPlan, naming: RevisionNaming | None = None) -> str:
    """The file name Alembic would give this revision under `naming`'s file_template.

    Uses Alembic's own `ScriptDirectory._rev_path` (slug from the message,
    truncated the way Alembic truncates it, every `%(token)s` filled the same
    way), so what migagent writes is what `alembic revision` would have written.
    """
    from alembic.script import ScriptDirectory

    naming = naming or RevisionNaming()
    directory = (
        naming.versions_dir
        if naming.versions_dir and naming.versions_dir.is_dir()
        else Path(os.curdir)
    )
    script = ScriptDirectory(
        str(directory),
        file_template=naming.file_template,
        truncate_slug_length=naming.truncate_slug_length,
    )
    try:
        path = script._rev_path(directory, plan.revision, plan.message, plan.create_date)
    except (KeyError, ValueError, TypeError) as exc:
        raise UsageError(
            f"alembic file_template {naming.file_template!r} cannot be filled: {exc}",
            "use only %(rev)s %(slug)s %(epoch)s %(year)d %(month).2d %(day).2d "
            "%(hour).2d %(minute).2d %(second).2d",
        ) from exc
    name = Path(path).name
    if naming.versions_dir and naming.versions_dir.is_dir():
        name = unused_filename(name, naming.versions_dir, plan.revision)
    return name


_REVISION_LINE = re.compile(r"""^revision\s*(?::[^=]*)?=\s*["']([A-Za-z0-9_]+)["']""", re.M)


def unused_filename(name: str, directory: Path, revision: str | None = None) -> str:
    """`name`, or `name` with `_2`, `_3`, ... before `.py` when `directory` already holds
    another revision of that name: a `file_template` without `%(rev)s` (the template's
    `YYYY_MM_DD_HHMM_<slug>`) gives two drafts of one message in one minute the same
    name, and the second would overwrite the first while its `down_revision` names it.
    A file that is `revision` itself keeps its name (rendering it again)."""
    stem, suffix = os.path.splitext(name)
    candidate, n = name, 2
    while (directory / candidate).exists() and not _is_revision(directory / candidate, revision):
        candidate = f"{stem}_{n}{suffix}"
        n += 1
    return candidate


def _is_revision(path: Path, revision: str | None) -> bool:
    if revision is None:
        return False
    try:
        found = _REVISION_LINE.search(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return False
    return bool(found and found.group(1) == revision)


def _format(source: str) -> tuple[str, str | None]:
    """Pass `source` through black or ruff when one is installed; else return it unchanged."""
    try:
        import black  # pyright: ignore[reportMissingImports]  (optional: used when installed)
    except ImportError:
        return _ruff_format(source)
    try:
        return black.format_str(source, mode=black.Mode(line_length=LINE_LENGTH)), "black"
    except Exception:  # black rejects what it cannot parse; the unformatted file still runs
        return source, None


def _ruff_format(source: str) -> tuple[str, str | None]:
    ruff = shutil.which("ruff")
    if ruff is None:
        try:
            from ruff.__main__ import find_ruff_bin

            ruff = os.fsdecode(find_ruff_bin())
        except (ImportError, FileNotFoundError):
            return source, None
    try:
        done = subprocess.run(
            [ruff, "format", "--isolated", f"--line-length={LINE_LENGTH}", "-"],
            input=source,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return source, None
    if done.returncode != 0:
        return source, None
    return done.stdout, "ruff"


def render_revision(
    plan: RevisionPlan, naming: RevisionNaming | None = None, *, reformat: bool = True
) -> RevisionFile:
    """Render `plan` as an Alembic revision file named per `naming` (default: the template's)."""
    used = _free_names("\n\n".join(plan.upgrade_ops), "upgrade_ops") | _free_names(
        "\n\n".join(plan.downgrade_ops), "downgrade_ops"
    )
    imports = [line for name, line in KNOWN_IMPORTS.items() if name in used]
    mako = naming.script_dir / "script.py.mako" if naming and naming.script_dir else None
    # a template with no ${upgrades} (empty, or someone else's) would render a file without
    # upgrade(): migagent's own layout then, rather than a revision that does nothing
    if (
        naming is not None
        and mako is not None
        and mako.is_file()
        and "${upgrades" in mako.read_text(errors="replace")
    ):
        source, formatted_with = _render_project_template(plan, naming, mako, used)
        if formatted_with is None and reformat:  # no hooks of its own: ruff/black, as before
            source, formatted_with = _format(source)
        return RevisionFile(
            filename=revision_filename(plan, naming), source=source, formatted_with=formatted_with
        )
    source = template("revision.py.j2").render(
        message=_docstring_text(plan.message),
        revision=plan.revision,
        down_revision=plan.down_revision,
        create_date=str(plan.create_date),
        imports=imports,
        upgrade_body=_body(plan.upgrade_ops, None),
        downgrade_body=_body(plan.downgrade_ops, plan.irreversible_reason),
    )
    formatted_with = None
    if reformat:
        source, formatted_with = _format(source)
    return RevisionFile(
        filename=revision_filename(plan, naming), source=source, formatted_with=formatted_with
    )


def _module_names(source: str) -> set[str]:
    """Names the module binds at top level with import statements."""
    bound: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return bound


def _add_imports(source: str, lines: list[str]) -> str:
    """`source` with import `lines` after its last top-level import (else its docstring)."""
    tree = ast.parse(source)
    after = 0
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            after = node.end_lineno or after
        elif after == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            after = node.end_lineno or after  # the module docstring
    text = source.split("\n")
    return "\n".join([*text[:after], *lines, *text[after:]])


def _render_project_template(
    plan: RevisionPlan, naming: RevisionNaming, mako: Path, used: set[str]
) -> tuple[str, str | None]:
    """The file as `alembic revision` renders it from the project's `script.py.mako` (its
    header, typing and layout, through Alembic's own `ScriptDirectory` template call),
    with the plan's bodies as `upgrades` / `downgrades` and the imports they need that
    the template lacks; then the project's post_write_hooks, as `alembic revision` runs
    them. Returns (source, "post_write_hooks" when hooks ran)."""
    import contextlib
    import tempfile

    from alembic import util as alembic_util
    from alembic.script import ScriptDirectory, write_hooks

    script_dir = mako.parent  # the template is the project's script_directory's own
    text = mako.read_text(encoding="utf-8")
    found = re.search(r"^([ \t]*)\$\{\s*upgrades\b", text, re.M)
    prefix = found.group(1) if found and found.group(1) else "    "
    script = ScriptDirectory(
        str(script_dir),
        output_encoding=naming.output_encoding,
        messaging_opts={"quiet": True},  # type: ignore[typeddict-item]
    )

    def body(blocks: list[str], reason: str | None) -> str:
        return _body(blocks, reason, prefix)[len(prefix) :]  # the template indents line one

    kw: dict[str, Any] = {
        "up_revision": plan.revision,
        "down_revision": plan.down_revision,
        "branch_labels": None,
        "depends_on": None,
        "create_date": plan.create_date,
        "comma": alembic_util.format_as_comma,
        "message": _docstring_text(plan.message),
        "upgrades": body(plan.upgrade_ops, None),
        "downgrades": body(plan.downgrade_ops, plan.irreversible_reason),
    }
    scratch_dir = script_dir if os.access(script_dir, os.W_OK) else None
    fd, tmp = tempfile.mkstemp(prefix=".migagent-", suffix=".py", dir=scratch_dir)
    os.close(fd)
    dest = Path(tmp)
    try:
        quiet = io.StringIO()

        def render(imports: str) -> str:
            try:
                with contextlib.redirect_stdout(quiet):
                    script._generate_template(mako, dest, imports=imports, **kw)
            except Exception as exc:
                raise UsageError(
                    f"the project's {mako} cannot be rendered: {exc}",
                    "check that `alembic revision -m test` works in the project",
                ) from exc
            return dest.read_text(encoding=naming.output_encoding)

        def missing(source: str) -> list[str]:
            try:
                bound = _module_names(source)
            except SyntaxError as exc:
                raise UsageError(
                    f"the project's {mako} renders a file that is not valid Python "
                    f"(line {exc.lineno}: {exc.msg})",
                    "fix the template, or move it aside to use migagent's layout",
                ) from exc
            return [line for name, line in KNOWN_IMPORTS.items() if name in used - bound]

        source = render("")
        lacking = missing(source)
        if lacking and re.search(r"\$\{[^}]*\bimports\b", text):
            source = render("\n".join(lacking))  # the template's own ${imports} slot
            lacking = missing(source)
        if lacking:
            source = _add_imports(source, lacking)
        if not naming.hooks:
            return source, None
        dest.write_text(source, encoding=naming.output_encoding)
        try:
            with contextlib.redirect_stdout(quiet):
                hooks: list[Mapping[str, str]] = [*naming.hooks]
                write_hooks._run_hooks(dest, hooks)
        except Exception:  # a hook that cannot run: the unformatted file still works
            return source, None
        return dest.read_text(encoding=naming.output_encoding), "post_write_hooks"
    finally:
        dest.unlink(missing_ok=True)


def revision_naming(config_file: str | os.PathLike[str] | None) -> RevisionNaming:
    """Read `file_template`, `truncate_slug_length` and the versions folder from a project's config.

    `config_file` is an `alembic.ini` or a `pyproject.toml` with `[tool.alembic]`
    (a pyproject.toml beside an alembic.ini is read too, as Alembic does).
    Without a config, or when the config sets no `file_template`, the
    template's convention `YYYY_MM_DD_HHMM_<slug>` applies.
    """
    if config_file is None:
        return RevisionNaming()
    from alembic.config import Config

    path = Path(config_file)
    if not path.is_file():
        raise UsageError(
            f"no Alembic config at {path}", "pass the path of the project's alembic.ini"
        )
    if path.suffix == ".toml":
        cfg = Config(toml_file=str(path))
    else:
        toml = path.with_name("pyproject.toml")
        cfg = Config(str(path), toml_file=str(toml) if toml.is_file() else None)
    get = getattr(cfg, "get_alembic_option", None) or cfg.get_main_option
    try:
        file_template = get("file_template")
        slug_length = get("truncate_slug_length")
        location = get("script_location")
    except Exception as exc:  # configparser / tomllib errors
        raise UsageError(f"cannot read {path}: {exc}", "fix the Alembic config file") from exc
    versions_dir = script_dir = None
    if location and ":" not in str(location):
        candidate = Path(str(location))
        script_dir = candidate if candidate.is_absolute() else path.parent / candidate
        versions_dir = script_dir / "versions"
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Alembic's legacy path-separator deprecation
            locations = cfg.get_version_locations_list() or []
    except Exception:
        locations = []
    if len(locations) == 1:  # where `alembic revision` writes (several: it asks --version-path)
        candidate = Path(locations[0])
        versions_dir = candidate if candidate.is_absolute() else path.parent / candidate
    try:
        hooks = [{k: str(v) for k, v in h.items()} for h in cfg.get_hooks_list()]
        encoding = get("output_encoding") or "utf-8"
    except Exception:  # a hook section Alembic cannot read: `alembic revision` fails too
        hooks, encoding = [], "utf-8"
    try:
        length = int(slug_length) if slug_length is not None else 40
    except ValueError as exc:
        raise UsageError(
            f"truncate_slug_length in {path} is not a number: {slug_length!r}",
            "set it to an integer",
        ) from exc
    return RevisionNaming(
        file_template=file_template or DEFAULT_FILE_TEMPLATE,
        truncate_slug_length=length,
        versions_dir=versions_dir,
        script_dir=script_dir if script_dir and script_dir.is_dir() else None,
        hooks=hooks,
        output_encoding=str(encoding),
    )
