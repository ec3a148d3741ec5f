"""Render a `MigrationSpec` as the Markdown migration document a team reviews.

The layout lives in `prompts/spec.md.j2`; this module only feeds it, so the
document's wording can change without touching code.
"""

from __future__ import annotations

from migagent.prompts import template
from migagent.spec import MigrationSpec


def tidy(text: str) -> str:
    """Collapse runs of blank lines outside code fences and strip trailing spaces.

    Optional parts of a template leave blank lines behind; collapsing them here
    keeps the templates readable. Code blocks are left byte for byte.
    """
    lines: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        stripped = line.lstrip()
        if fence is None and stripped.startswith("```"):
            fence = stripped[: len(stripped) - len(stripped.lstrip("`"))]
        elif fence is not None and stripped == fence:
            fence = None
        elif fence is None and not line.strip() and lines and not lines[-1].strip():
            continue
        lines.append(line.rstrip() if fence is None else line)
    return "\n".join(lines).strip("\n") + "\n"


def render_markdown(spec: MigrationSpec) -> str:
    """The spec as Markdown: the template's headings in order, checkboxes, code blocks, provenance."""
    return tidy(template("spec.md.j2").render(spec=spec))
