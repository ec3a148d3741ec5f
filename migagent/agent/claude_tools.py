"""The toolbox as Anthropic SDK tools (`beta_tool`), for the Claude backend's tool runner.

Each tool is a thin adapter over one `Toolbox` method: its description comes
from `prompts/tools/<name>.md`, its input schema from a pydantic model, and its
result is the method's pydantic result as JSON. Inputs are validated here, not
by the SDK, so a malformed call comes back to the model as an error result that
says which field is wrong and why (the SDK's own message names only the tool).
`ToolboxError` and `MigagentError` become error results (`ToolError`) too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any, Literal

from anthropic.lib.tools import BetaFunctionTool, ToolError, beta_tool
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from migagent.agent.toolbox import (
    DEFAULT_ROW_LIMIT,
    MAX_ROW_LIMIT,
    Toolbox,
    ToolboxError,
    result_json,
)
from migagent.errors import MigagentError
from migagent.prompts import TOOL_NAMES, tool_description
from migagent.spec import SpecDraft, spec_json_schema


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SchemaInput(_Input):
    filter: str | None = Field(
        default=None,
        description=(
            "Only the tables, views and enums whose names contain one of these words "
            "(comma- or space-separated; `*`/`?` globs match whole names)."
        ),
    )
    page: int = Field(default=1, ge=1, description="Page of the compact table list (1 first).")


class DocInput(_Input):
    name: Literal["architecture", "conventions"] = Field(
        description="`architecture` (.claude/architecture.md) or `conventions` (.claude/conventions.md)."
    )
    page: int = Field(default=1, ge=1, description="Page of the file (1 first).")


class TableInput(_Input):
    table: str = Field(description="Table name, `schema.table` or bare (public first).")


class TablesInput(_Input):
    tables: list[str] = Field(min_length=1, description="Table names, `schema.table` or bare.")


class QueryInput(_Input):
    sql: str = Field(description="Exactly one SELECT, or EXPLAIN (without ANALYZE) of one.")
    limit: int = Field(
        default=DEFAULT_ROW_LIMIT, ge=1, le=MAX_ROW_LIMIT, description="Maximum rows returned."
    )


class ScratchInput(_Input):
    sql: str = Field(description="SQL statements, separated by semicolons.")


class SourceInput(_Input):
    source: str = Field(
        description=(
            "The complete Alembic revision file as Python source: docstring, imports, "
            "`revision`, `down_revision`, `upgrade()` and `downgrade()`."
        )
    )


class SubmitInput(_Input):
    revision_source: str = Field(
        description="The complete Alembic revision file, exactly as it passed verify_revision."
    )
    spec: SpecDraft


INPUTS: dict[str, type[_Input]] = {
    "introspect_schema": SchemaInput,
    "describe_table": TableInput,
    "table_stats": TablesInput,
    "query_target": QueryInput,
    "run_sql_in_scratch": ScratchInput,
    "verify_revision": SourceInput,
    "lint_revision": SourceInput,
    "estimate_revision": SourceInput,
    "read_project_doc": DocInput,
    "submit_draft": SubmitInput,
}
assert set(INPUTS) == set(TOOL_NAMES), "every tool in prompts.TOOL_NAMES needs an input model"


def submit_input_schema() -> dict[str, Any]:
    """`submit_draft`'s input schema: the revision plus the spec in the structured-output form
    the SDK's `transform_schema` makes (via `spec_json_schema`); the spec's own
    `revision_source` is left out, the revision travels once."""
    spec = copy.deepcopy(spec_json_schema(SpecDraft))
    defs = spec.pop("$defs", {})
    spec["properties"].pop("revision_source", None)
    spec["required"] = [r for r in spec.get("required", []) if r != "revision_source"]
    return {
        "type": "object",
        "properties": {
            "revision_source": {
                "type": "string",
                "description": SubmitInput.model_fields["revision_source"].description,
            },
            "spec": spec,
        },
        "required": ["revision_source", "spec"],
        "additionalProperties": False,
        "$defs": defs,
    }


def input_schema(name: str) -> dict[str, Any]:
    if name == "submit_draft":
        return submit_input_schema()
    schema = INPUTS[name].model_json_schema()
    schema.pop("title", None)
    return schema


def validation_message(tool: str, exc: ValidationError) -> str:
    """A pydantic error as the model should read it: which fields, what was wrong."""
    problems = []
    for err in exc.errors()[:8]:
        where = ".".join(str(p) for p in err["loc"]) or "input"
        problems.append(f"{where}: {err['msg']}")
    more = f" (and {exc.error_count() - 8} more)" if exc.error_count() > 8 else ""
    return (
        f"invalid input for {tool}: "
        + "; ".join(problems)
        + more
        + ". Fix the input and call again."
    )


def _call(toolbox: Toolbox, name: str, raw: dict[str, Any]) -> str:
    try:
        args = INPUTS[name].model_validate(raw)
    except ValidationError as exc:
        raise ToolError(validation_message(name, exc)) from exc
    method: Callable[..., BaseModel] = getattr(toolbox, name)
    try:
        result = method(**{k: getattr(args, k) for k in type(args).model_fields})
    except ToolboxError as exc:
        raise ToolError(exc.message) from exc
    except ValidationError as exc:  # e.g. a spec that validates field by field but not as a whole
        raise ToolError(validation_message(name, exc)) from exc
    except MigagentError as exc:
        raise ToolError(str(exc)) from exc
    return result_json(result)


def make_tool(toolbox: Toolbox, name: str) -> BetaFunctionTool[Any]:
    """One SDK tool over `toolbox.<name>`."""

    def run(**raw: Any) -> str:
        return _call(toolbox, name, raw)

    run.__name__ = name
    return beta_tool(
        run, name=name, description=tool_description(name), input_schema=input_schema(name)
    )


def make_tools(toolbox: Toolbox) -> list[BetaFunctionTool[Any]]:
    """Every toolbox tool, in `prompts.TOOL_NAMES` order (stable, so the prompt cache holds)."""
    return [make_tool(toolbox, name) for name in TOOL_NAMES]


def tool_definitions(toolbox: Toolbox) -> list[dict[str, Any]]:
    """The tool definitions as sent to the API (for tests and `--debug` output)."""
    return [json.loads(json.dumps(t.to_dict())) for t in make_tools(toolbox)]
