"""Prompt and template assets, shipped as package data and loaded by name.

Prompts live in files beside this module (not in Python strings) so they can be
reviewed, diffed and versioned like documents; `PROMPTS_VERSION` changes when
their meaning does, and backends record it in the spec metadata.

- `load_prompt("system.md")`, `load_prompt("tools/verify_revision.md")`: raw text.
- `template("spec.md.j2")`: a Jinja2 template with strict undefined variables,
  no autoescaping (the outputs are Markdown and Python, not HTML) and the
  filters the templates share.
"""

from __future__ import annotations

if __name__ != "migagent.prompts":  # the top-level prompts/ folder is a symlink into migagent/
    raise ImportError(
        f"import migagent.prompts, not {__name__}: prompts/ is a view of migagent/prompts/"
    )

import functools
from importlib import resources

import jinja2

PROMPTS_VERSION = "2"  # 2: result budget, introspect_schema filter/page, read_project_doc

TOOL_NAMES = (
    "introspect_schema",
    "describe_table",
    "table_stats",
    "query_target",
    "run_sql_in_scratch",
    "verify_revision",
    "lint_revision",
    "estimate_revision",
    "read_project_doc",
    "submit_draft",
)


def load_prompt(name: str) -> str:
    """Text of the prompt file `name` (a path relative to this package, `/`-separated)."""
    node = resources.files(__name__)
    for part in name.split("/"):
        node = node.joinpath(part)
    if not node.is_file():
        raise FileNotFoundError(f"no prompt named {name!r} in {__name__}")
    return node.read_text(encoding="utf-8")


def tool_description(tool: str) -> str:
    """Short description of one agent tool, from `tools/<tool>.md`."""
    return load_prompt(f"tools/{tool}.md").strip()


def fence(text: str, lang: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run in `text`."""
    body = text.strip("\n")
    longest = run = 0
    for ch in body:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{body}\n{ticks}"


def one_line(text: object) -> str:
    """Collapse whitespace so a value fits in a list item or table cell."""
    return " ".join(str(text).split())


def py_string(text: str) -> str:
    """A double-quoted Python literal for `text` (ruff/black quote style)."""
    body = repr(text)
    if body.startswith("'") and '"' not in text:
        body = '"' + body[1:-1].replace("\\'", "'") + '"'
    return body


def cell(text: object) -> str:
    """Escape a value for a Markdown table cell."""
    return str(text).replace("|", "\\|")


def human_bytes(size: int) -> str:
    """1536 -> '1.5 kB': table sizes as a reader compares them."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@functools.cache
def environment() -> jinja2.Environment:
    """The shared Jinja2 environment over this package's files."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(__name__, "."),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fence"] = fence
    env.filters["one_line"] = one_line
    env.filters["py_string"] = py_string
    env.filters["cell"] = cell
    env.filters["human_bytes"] = human_bytes
    return env


def template(name: str) -> jinja2.Template:
    """The Jinja2 template `name` from this package."""
    return environment().get_template(name)
