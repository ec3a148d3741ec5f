"""Renderers: a `RevisionPlan` to an Alembic file, a `MigrationSpec` to Markdown,
a `SchemaSnapshot` to `.claude/architecture.md`."""

from __future__ import annotations

from migagent.render.architecture import render_architecture
from migagent.render.markdown import render_markdown
from migagent.render.revision import (
    DEFAULT_FILE_TEMPLATE,
    Raw,
    RevisionFile,
    RevisionNaming,
    RevisionPlan,
    call,
    execute,
    new_revision_id,
    render_revision,
    revision_filename,
    revision_naming,
)

__all__ = [
    "DEFAULT_FILE_TEMPLATE",
    "Raw",
    "RevisionFile",
    "RevisionNaming",
    "RevisionPlan",
    "call",
    "execute",
    "new_revision_id",
    "render_architecture",
    "render_markdown",
    "render_revision",
    "revision_filename",
    "revision_naming",
]
