"""How the command line shows and loads its commands.

Two things typer does not do the way a user reads a command line:

- Help shows every parameter's Python type: `--json <bool>` for a flag (so
  `--json true` looks right and fails), `--db <str>`, `files... <list[Path]>`.
  `ReadableCommand` and `ReadableGroup` show a flag as just its name, an option
  by its metavar (`--db URL`, `--rows TABLE=N`) or else a plain word (TEXT,
  INTEGER, PATH), and an argument by its name (`FILE...`).
- Building the app imports every command. `LazyGroup` lists the commands from
  `migagent.cli.commands` and imports a command's module only when that command
  is resolved, so `migagent lint` never loads the Anthropic SDK or MCP.
"""

from __future__ import annotations

import copy
import importlib
from difflib import get_close_matches
from typing import Any

from typer._click import Context, Parameter
from typer._click.core import Command
from typer._click.exceptions import UsageError
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption
from typer.main import get_command_from_info, get_group_from_info

from migagent.cli.commands import COMMANDS

_WORDS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "Path": "PATH", "UUID": "UUID"}


def _word(type_label: str) -> str:
    """`<list[str]>` -> TEXT, `<int range>` -> INTEGER, `<a|b>` -> a|b."""
    label = type_label.strip("<>")
    if label.startswith("list[") and label.endswith("]"):
        label = label[5:-1]
    label = label.removesuffix(" range")
    return _WORDS.get(label, label if "|" in label else label.upper())


class _ReadableOption(TyperOption):
    def display_type_rich(self, ctx: Context) -> str | None:
        if self.is_flag or self.count:
            return None
        if self.metavar is not None:
            return self.metavar
        return _word(self.display_type(ctx))


class _ReadableArgument(TyperArgument):
    @property
    def display_name_raw(self) -> str:  # also the name in "Missing argument 'FILE...'"
        return self.metavar or (self.name or "").upper()

    def display_type_rich(self, ctx: Context) -> str | None:
        return None  # the name column already says it: FILE..., DIR

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        if self.nargs != 1 and not name.endswith("..."):
            name += "..."
        return name if self.required else f"[{name}]"


def _readable(params: list[Parameter]) -> list[Parameter]:
    """The same parameter objects, shown readably (their parsing is unchanged).

    typer builds every TyperOption/TyperArgument itself, with no class hook, so
    the display subclass is put on in place; it adds methods only, no state."""
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _ReadableOption
        elif type(param) is TyperArgument:
            param.__class__ = _ReadableArgument
    return params


class ReadableCommand(TyperCommand):
    def get_params(self, ctx: Context) -> list[Parameter]:
        return _readable(super().get_params(ctx))


class ReadableGroup(TyperGroup):
    def get_params(self, ctx: Context) -> list[Parameter]:
        return _readable(super().get_params(ctx))


class _Listed(ReadableCommand):
    """A command's row in `migagent --help`: its name and summary, nothing imported."""


class LazyGroup(ReadableGroup):
    """The `migagent` group: commands from the table, each imported when it is resolved."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._listing = False
        for name in COMMANDS:  # typer built the ones already imported in this process
            self.commands.pop(name, None)  # as plain TyperCommands; `_build` rebuilds them

    def list_commands(self, ctx: Context) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        if self._listing:
            summary = COMMANDS[cmd_name].summary
            return _Listed(cmd_name, help=summary, short_help=summary)
        command = _build(cmd_name, self.rich_markup_mode)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: Context, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:
            # typer suggests among the commands built so far; suggest among all of them
            matches = get_close_matches(args[0], list(COMMANDS)) if args else []
            if matches and "Did you mean" not in exc.message:
                names = ", ".join(repr(m) for m in matches)
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {names}?"
            raise


def _build(name: str, markup_mode: Any) -> Command:
    """Import the command's module (it registers itself on the app) and build its command."""
    importlib.import_module(COMMANDS[name].module)
    from migagent.cli.app import app

    for info in app.registered_commands:
        if info.name == name:
            info = copy.copy(info)
            if info.cls in (None, TyperCommand):  # typer's default
                info.cls = ReadableCommand
            return get_command_from_info(
                info,
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=markup_mode,
            )
    for group in app.registered_groups:
        if group.name == name:
            return get_group_from_info(
                group,
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=markup_mode,
                suggest_commands=app.suggest_commands,
            )
    raise RuntimeError(f"{COMMANDS[name].module} does not register a command named {name!r}")


__all__ = ["LazyGroup", "ReadableCommand", "ReadableGroup"]
