"""SQL scripts (schema files, pg_dump output) as statements, run with psycopg.

A schema file used to be piped to psql, which also runs psql's meta-commands:
`\\! rm -rf ~` in a schema file ran on the user's machine. Here a script is split
(by pglast's scanner, so quotes, dollar quotes and comments are PostgreSQL's own)
into statements and COPY data blocks; the only meta-commands accepted are the
`\\restrict` / `\\unrestrict` lines pg_dump writes, which are dropped.

`run_script` executes the statements one by one (autocommit, as psql does, so
CREATE INDEX CONCURRENTLY and ALTER TYPE ... ADD VALUE work). In tolerant mode,
used for copies of a target's schema, a statement the sandbox server rejects is
passed to the `REPAIRS` registry: each repair handles one kind of statement the
sandbox may safely leave out (an option its PostgreSQL does not know, an
extension it lacks) and says what it left out, as a notice.
"""

from __future__ import annotations

import bisect
import re
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import LiteralString

import psycopg
from pglast import ast, enums
from pglast.parser import ParseError, scan
from pglast.stream import RawStream

from migagent.errors import UsageError
from migagent.tools.sqlparse import parse_sql

# pg_dump (17.6+, 18) brackets its output with these; they only guard psql itself
IGNORED_META = frozenset({"restrict", "unrestrict"})
_META = re.compile(r"\\([A-Za-z]+|[^\sA-Za-z])")
_COPY_FROM_STDIN = re.compile(r"(?is)^\s*COPY\b.*\bFROM\s+STDIN\b")
_UNKNOWN_PARAM = re.compile(r'unrecognized parameter "([^"]+)"')
_PER_COLUMN = re.compile(r"^(dropped column option \S+ on )(\S+) (\(.*\))$")
_MISSING_ROLE = re.compile(r'role "([^"]+)" does not exist')
_MISSING_EXT = re.compile(r'extension "([^"]+)" is not available')
_END_OF_COPY = re.compile(r"^\\\.\r?(?:\n|\Z)", re.M)
# undefined_object, undefined_function, undefined_table, invalid_schema_name
_UNDEFINED = frozenset({"42704", "42883", "42P01", "3F000"})
_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})  # pglast's scanner reports them
MAX_REPAIRS = 20  # per statement: each retry may reveal one more unknown option


@dataclass(frozen=True)
class Statement:
    """One statement of a script, where it starts, and its COPY rows if any."""

    sql: str  # without the terminating semicolon
    line: int  # 1-based line of its first token in the script
    copy_data: str | None = None  # the rows of a COPY ... FROM stdin, without `\.`

    @property
    def summary(self) -> str:
        """The statement on one short line, to name it in messages."""
        text = " ".join(self.sql.split())
        return text if len(text) <= 90 else text[:87] + "..."

    def error_line(self, position: int | None) -> int:
        """The script line of a 1-based character position PostgreSQL reported."""
        if not position:
            return self.line
        return self.line + self.sql.count("\n", 0, position - 1)


# ------------------------------------------------------------------ splitting
def split_script(text: str, *, source: str = "schema") -> list[Statement]:
    """The statements of `text`, in order; nothing is executed.

    Raises UsageError for a psql meta-command other than pg_dump's
    `\\restrict` / `\\unrestrict`, naming `source` and the line.
    """
    statements: list[Statement] = []
    lines = _Lines(text)
    pending = 0  # where the SQL not yet split off starts
    pos = 0
    while pos < len(text):
        end = _line_end(text, pos)
        meta = _meta_command_at(text, pending, pos, end) if "\\" in text[pos:end] else None
        if meta is not None:
            before = _tokens(text[pending:meta])
            # a scanner error (str) or an open quote (None) before it: nothing to split off
            tokens = before if isinstance(before, list) else []
            pending, resume = _take(text, lines, pending, end, tokens, statements)
            if resume != end:  # a COPY before the backslash took the lines after it
                pos = resume
                continue
            word = _meta_name(text, meta)
            if word not in IGNORED_META:
                raise UsageError(
                    f"{source} line {lines.of(meta)}: psql meta-command \\{word} "
                    "is not allowed in a schema file",
                    "remove it",
                )
            stop = end - 1 if text.endswith("\n", 0, end) else end
            text = (
                text[:meta] + " " * (stop - meta) + text[stop:]
            )  # the line's rest is its argument
            pending, pos = min(pending, meta), end
            continue
        if ";" not in text[pos:end]:
            pos = end
            continue
        tokens = _tokens(text[pending:end])
        if tokens is None:  # inside a quote, dollar quote or comment
            pos = end
        elif isinstance(tokens, str):  # a scanner error: the server will report it
            statements.append(_statement(text, lines, _first_token(text, pending, end), end))
            pending = pos = end
        else:
            pending, pos = _take(text, lines, pending, end, tokens, statements)
    if _tokens(text[pending:]) != []:
        first = _first_token(text, pending, len(text))
        statements.append(_statement(text, lines, first, len(text)))
    out = [s for s in statements if s.sql.strip()]
    for statement in out:
        _refuse_server_side_copy(statement, source)
    return out


_COPY = re.compile(r"^\s*COPY\b", re.I)


def _refuse_server_side_copy(statement: Statement, source: str) -> None:
    """`COPY ... FROM PROGRAM` / `TO 'file'` would run a command or touch files as the sandbox
    server's user: a schema file brings its rows inline (`FROM stdin`) or not at all."""
    if not _COPY.match(statement.sql):
        return
    try:
        node = parse_sql(statement.sql)[0].stmt
    except ParseError:
        return  # the server reports it
    if isinstance(node, ast.CopyStmt) and (node.is_program or node.filename):
        what = "runs a program" if node.is_program else f"reads or writes the file {node.filename}"
        raise UsageError(
            f"{source} line {statement.line}: this COPY {what} on the sandbox server",
            "give the rows inline (COPY ... FROM stdin, or INSERT), or remove the statement",
        )


def _take(
    text: str,
    lines: _Lines,
    pending: int,
    end: int,
    tokens: list[tuple[int, str]],
    out: list[Statement],
) -> tuple[int, int]:
    """Split the complete statements off the tokens of text[pending:...], whose line
    ends at `end`. Returns where the unsplit SQL now starts and where to read on."""
    start: int | None = None  # first token of the statement being read
    head: list[str] = []  # its first words: is it CREATE [OR REPLACE] FUNCTION?
    depth = parens = 0  # BEGIN ATOMIC ... END nesting; parentheses
    for offset, name in tokens:
        at = pending + offset
        if name == "ASCII_59" and depth == 0:  # ;
            if start is not None:
                stmt = _statement(text, lines, start, at)
                if head[0] == "COPY" and _is_copy_from_stdin(stmt.sql):
                    data_end, after = _copy_data_end(text, end)
                    out.append(replace(stmt, copy_data=text[end:data_end]))
                    return after, after
                out.append(stmt)
            start, head, parens = None, [], 0
            continue
        if start is None:
            start = at
        if len(head) < 4:
            head.append(name)
        parens += (name == "ASCII_40") - (name == "ASCII_41")
        if parens == 0 and _is_routine(head):
            depth = _atomic_depth(depth, name)
    return (end if start is None else start), end


def _is_routine(head: list[str]) -> bool:
    """CREATE [OR REPLACE] FUNCTION|PROCEDURE: its body may be BEGIN ATOMIC ...; END."""
    words = head[1:2] if head[1:3] != ["OR", "REPLACE"] else head[3:4]
    return head[:1] == ["CREATE"] and bool(words) and words[0] in {"FUNCTION", "PROCEDURE"}


def _atomic_depth(depth: int, name: str) -> int:
    """psql's rule for semicolons inside BEGIN ATOMIC: BEGIN opens, END closes, and
    CASE (which also ends with END) opens once inside a BEGIN."""
    if name == "BEGIN_P" or (name == "CASE" and depth > 0):
        return depth + 1
    if name == "END_P" and depth > 0:
        return depth - 1
    return depth


def _meta_command_at(text: str, pending: int, pos: int, end: int) -> int | None:
    """Where a backslash outside quotes and comments starts a meta-command on the
    line text[pos:end] (psql's rule: the backend never sees such a backslash)."""
    for at in (m.start() for m in re.finditer(r"\\", text[pos:end])):
        at += pos
        try:
            raw = list(scan(text[pending:at]))
        except ParseError as exc:
            if str(exc).startswith("unterminated"):
                continue  # this backslash is inside a literal; a later one may not be
            return None
        if raw and raw[-1].name == "SQL_COMMENT" and pending + raw[-1].start >= pos:
            return None  # the rest of the line is a -- comment
        return at
    return None


def _meta_name(text: str, at: int) -> str:
    match = _META.match(text, at)
    return match.group(1) if match else ""


def _tokens(chunk: str) -> list[tuple[int, str]] | str | None:
    """(offset, token name) of every token but comments; None if `chunk` ends inside
    a literal or comment; the scanner's message for any other scanner error."""
    try:
        return [(t.start, t.name) for t in scan(chunk) if t.name not in _COMMENTS]
    except ParseError as exc:
        return None if str(exc).startswith("unterminated") else str(exc)


def _statement(text: str, lines: _Lines, first: int, stop: int) -> Statement:
    return Statement(sql=text[first:stop].rstrip(), line=lines.of(first))


def _first_token(text: str, start: int, stop: int) -> int:
    """Where the first token after `start` is (past comments), if the scanner can tell."""
    tokens = _tokens(text[start:stop])
    return start + tokens[0][0] if isinstance(tokens, list) and tokens else start


def _copy_data_end(text: str, pos: int) -> tuple[int, int]:
    """Where the COPY data starting at `pos` ends, and where the script resumes
    (after the `\\.` line; at the end of the script if there is none, as in psql)."""
    match = _END_OF_COPY.search(text, pos)
    return (match.start(), match.end()) if match else (len(text), len(text))


def _is_copy_from_stdin(sql_text: str) -> bool:
    try:
        nodes = parse_sql(sql_text)
    except ParseError:
        return bool(_COPY_FROM_STDIN.match(sql_text))  # the server will say what is wrong
    stmt = nodes[0].stmt if len(nodes) == 1 else None
    return isinstance(stmt, ast.CopyStmt) and bool(stmt.is_from) and stmt.filename is None


def _line_end(text: str, pos: int) -> int:
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl + 1


class _Lines:
    """Line numbers of offsets in a script, without recounting it for every statement."""

    def __init__(self, text: str) -> None:
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def of(self, offset: int) -> int:
        return bisect.bisect_left(self.newlines, offset) + 1


def adapt_script(script: str, server_version: int) -> str:
    """Drop settings a newer pg_dump emits that an older sandbox server rejects."""
    if server_version >= 170000:
        return script
    return re.sub(r"(?m)^SET transaction_timeout = .*;\n?", "", script)


def script_key(statements: Iterable[Statement]) -> str:
    """The content of a script, without comments and meta-commands: pg_dump's
    `\\restrict` key is random, so the raw text of two dumps of one schema differs."""
    return "\0".join(f"{s.sql}\0{s.copy_data or ''}" for s in statements)


def summarize_notices(notices: Iterable[str], *, shown: int = 3) -> list[str]:
    """The notices for a terminal: one option dropped from many columns (pg_attver is on
    every column of a PostgreSQL 15 catalog) folded into one line, naming a few."""
    lines: list[str | tuple[str, str]] = []
    columns: dict[tuple[str, str], list[str]] = {}
    for notice in notices:
        match = _PER_COLUMN.match(notice)
        if not match:
            lines.append(notice)
            continue
        key = (match.group(1), match.group(3))
        if key not in columns:
            columns[key] = []
            lines.append(key)
        columns[key].append(match.group(2))
    return [line if isinstance(line, str) else _fold(*line, columns[line], shown) for line in lines]


def _fold(prefix: str, why: str, names: list[str], shown: int) -> str:
    if len(names) == 1:
        return f"{prefix}{names[0]} {why}"
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{prefix}{len(names)} columns: {', '.join(names[:shown])}{more} {why}"


# ------------------------------------------------------------------- running
@dataclass(frozen=True)
class Outcome:
    """What a repair decided: run `sql` instead (None: leave the statement out)."""

    sql: str | None
    notices: tuple[str, ...] = ()  # what was left out, one sentence each
    skipped_extension: str | None = None  # an extension left out, for later failures


@dataclass
class Context:
    """What repairs know about the load so far."""

    server_major: int
    skipped_extensions: list[str] = field(default_factory=list)

    @property
    def sandbox(self) -> str:
        return f"the sandbox's PostgreSQL {self.server_major}"


class StatementFailed(Exception):
    """A statement the server rejected and no repair could leave out."""

    def __init__(self, statement: Statement, error: psycopg.Error, skipped: list[str]) -> None:
        self.statement = statement
        self.error = error
        # the extensions left out that this failure is likely due to: an object that
        # does not exist (a type, function, operator class ...) after one was left out
        self.skipped_extensions = list(skipped) if error.sqlstate in _UNDEFINED else []
        super().__init__(f"{statement.summary}: {error}")

    @property
    def message(self) -> str:
        diag = self.error.diag
        return diag.message_primary or str(self.error).strip().splitlines()[0]

    @property
    def line(self) -> int:
        position = self.error.diag.statement_position
        return self.statement.error_line(int(position) if position else None)


Repair = Callable[[ast.Node, psycopg.Error, Context], Outcome | None]


def run_script(
    conn: psycopg.Connection, statements: Iterable[Statement], *, tolerant: bool = False
) -> list[str]:
    """Execute the statements in order on an autocommit connection; return the notices.

    Raises StatementFailed for the first statement that fails (in tolerant mode:
    that fails and that no repair may leave out).
    """
    ctx = Context(server_major=conn.info.server_version // 10000)
    notices: list[str] = []
    for stmt in statements:
        current: str | None = stmt.sql
        attempts = 0
        while current is not None:
            try:
                _execute(conn, current, stmt.copy_data)
                break
            except psycopg.Error as exc:
                attempts += 1
                outcome = (
                    repair(current, exc, ctx) if tolerant and attempts <= MAX_REPAIRS else None
                )
                if outcome is None:
                    raise StatementFailed(stmt, exc, ctx.skipped_extensions) from exc
                notices.extend(outcome.notices)
                if outcome.skipped_extension:
                    ctx.skipped_extensions.append(outcome.skipped_extension)
                current = outcome.sql
    return notices


def _execute(conn: psycopg.Connection, sql_text: str, copy_data: str | None) -> None:
    # psycopg asks for a LiteralString so that untrusted text is not run by accident; a
    # schema script is run on purpose, statement by statement, on the scratch database
    statement = typing.cast(LiteralString, sql_text)
    if copy_data is None:
        conn.execute(statement)
        return
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.write(copy_data)


def repair(sql_text: str, error: psycopg.Error, ctx: Context) -> Outcome | None:
    """The first repair that handles this failure, or None if none may."""
    try:
        nodes = parse_sql(sql_text)
    except ParseError:
        return None
    if len(nodes) != 1:
        return None
    for fix in REPAIRS:
        outcome = fix(nodes[0].stmt, error, ctx)
        if outcome is not None:
            return outcome
    return None


# ------------------------------------------------------------------- repairs
def drop_unknown_column_option(
    node: ast.Node, error: psycopg.Error, ctx: Context
) -> Outcome | None:
    """`ALTER TABLE t ALTER COLUMN c SET (x=...)` with an option the sandbox lacks
    (PostgreSQL 15 servers with `pg_attver` in attoptions): keep the other options."""
    option = _unknown_parameter(error)
    if option is None or not isinstance(node, ast.AlterTableStmt):
        return None
    cmds, dropped = [], []
    for cmd in node.cmds or ():
        if cmd.subtype == enums.AlterTableType.AT_SetOptions and _has_option(cmd.def_, option):
            dropped.append(f"{_relname(node.relation)}.{cmd.name}")
            kept = _without_option(cmd.def_, option)
            if kept:
                cmds.append(_copy_node(cmd, def_=kept))
            continue
        cmds.append(cmd)
    if not dropped:
        return None
    notices = tuple(
        f"dropped column option {option} on {column} ({ctx.sandbox} does not know it)"
        for column in dropped
    )
    return Outcome(_sql(_copy_node(node, cmds=tuple(cmds))) if cmds else None, notices)


def drop_unknown_reloption(node: ast.Node, error: psycopg.Error, ctx: Context) -> Outcome | None:
    """A table, index, view or materialized view `WITH (x=...)` / `SET (x=...)`
    storage option the sandbox does not know (an extension's or a fork's)."""
    option = _unknown_parameter(error)
    if option is None:
        return None
    if isinstance(node, ast.AlterTableStmt):
        cmds, changed = [], False
        for cmd in node.cmds or ():
            if cmd.subtype in _RELOPTION_CMDS and _has_option(cmd.def_, option):
                changed = True
                kept = _without_option(cmd.def_, option)
                if kept:
                    cmds.append(_copy_node(cmd, def_=kept))
                continue
            cmds.append(cmd)
        if not changed:
            return None
        repaired = _sql(_copy_node(node, cmds=tuple(cmds))) if cmds else None
        return Outcome(repaired, (_reloption_notice(option, node.relation, ctx),))
    holder, relation = _options_holder(node)
    if holder is None or not _has_option(holder.options, option):
        return None
    kept = _without_option(holder.options, option) or None
    fixed = _copy_node(holder, options=kept)
    if isinstance(node, ast.CreateTableAsStmt):
        fixed = _copy_node(node, into=fixed)
    return Outcome(_sql(fixed), (_reloption_notice(option, relation, ctx),))


def skip_missing_extension(node: ast.Node, error: psycopg.Error, ctx: Context) -> Outcome | None:
    """`CREATE EXTENSION x` the sandbox does not have: leave it out; if a later
    statement needs it, that statement's failure names it (StatementFailed)."""
    match = _MISSING_EXT.search(str(error))
    if not isinstance(node, ast.CreateExtensionStmt) or not match:
        return None
    notice = (
        f"skipped extension {match.group(1)} ({ctx.sandbox} does not have it, "
        "and nothing in the schema needs it)"
    )
    return Outcome(None, (notice,), skipped_extension=match.group(1))


def skip_comment_on_skipped_extension(
    node: ast.Node, error: psycopg.Error, ctx: Context
) -> Outcome | None:
    """`COMMENT ON EXTENSION x`, x skipped above: nothing left to comment on."""
    if (
        isinstance(node, ast.CommentStmt)
        and node.objtype == enums.ObjectType.OBJECT_EXTENSION
        and getattr(node.object, "sval", None) in ctx.skipped_extensions
    ):
        return Outcome(None)
    return None


def policy_without_missing_role(
    node: ast.Node, error: psycopg.Error, ctx: Context
) -> Outcome | None:
    """`CREATE POLICY ... TO role` for a role the sandbox server lacks (roles belong to
    the server, not the dump): keep the policy, so migrations that alter or drop it
    still run, for its other roles, or PUBLIC if it had no other."""
    match = _MISSING_ROLE.search(error.diag.message_primary or str(error))
    if not match or not isinstance(node, ast.CreatePolicyStmt):
        return None
    role = match.group(1)
    kept = tuple(r for r in node.roles or () if getattr(r, "rolename", None) != role)
    if len(kept) == len(node.roles or ()):
        return None
    where = f"policy {node.policy_name} on {_relname(node.table)}"
    if kept:
        notice = f"dropped role {role} from {where} (the sandbox server has no such role)"
    else:
        kept = (ast.RoleSpec(roletype=enums.RoleSpecType.ROLESPEC_PUBLIC),)
        notice = f"{where} applies to PUBLIC, not {role} (the sandbox server has no such role)"
    return Outcome(_sql(_copy_node(node, roles=kept)), (notice,))


def drop_unknown_setting(node: ast.Node, error: psycopg.Error, ctx: Context) -> Outcome | None:
    """`SET x = ...` for a setting a newer pg_dump knows and the sandbox does not."""
    if not isinstance(node, ast.VariableSetStmt) or "unrecognized configuration" not in str(error):
        return None
    return Outcome(None, (f"dropped SET {node.name} ({ctx.sandbox} does not know the setting)",))


REPAIRS: tuple[Repair, ...] = (
    drop_unknown_column_option,
    drop_unknown_reloption,
    skip_missing_extension,
    skip_comment_on_skipped_extension,
    policy_without_missing_role,
    drop_unknown_setting,
)

_RELOPTION_CMDS = frozenset(
    {enums.AlterTableType.AT_SetRelOptions, enums.AlterTableType.AT_ResetRelOptions}
)


def _unknown_parameter(error: psycopg.Error) -> str | None:
    match = _UNKNOWN_PARAM.search(error.diag.message_primary or str(error))
    return match.group(1) if match else None


def _has_option(options: tuple | None, name: str) -> bool:
    return any(isinstance(o, ast.DefElem) and o.defname == name for o in options or ())


def _without_option(options: tuple | None, name: str) -> tuple:
    return tuple(o for o in options or () if not (isinstance(o, ast.DefElem) and o.defname == name))


_OptionsHolder = ast.CreateStmt | ast.ViewStmt | ast.IndexStmt | ast.IntoClause


def _options_holder(node: ast.Node) -> tuple[_OptionsHolder | None, ast.RangeVar | None]:
    """The node whose `options` are the relation's storage options, and the relation."""
    if isinstance(node, ast.CreateStmt | ast.ViewStmt):
        return node, node.relation if isinstance(node, ast.CreateStmt) else node.view
    if isinstance(node, ast.IndexStmt):
        schema = node.relation.schemaname if node.relation is not None else None
        return node, ast.RangeVar(schemaname=schema, relname=node.idxname)
    if isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
        return node.into, node.into.rel
    return None, None


def _reloption_notice(option: str, relation: ast.RangeVar | None, ctx: Context) -> str:
    where = f" on {_relname(relation)}" if relation is not None else ""
    return f"dropped storage option {option}{where} ({ctx.sandbox} does not know it)"


def _relname(rel: ast.RangeVar | None) -> str:
    if rel is None:
        return "?"
    return f"{rel.schemaname}.{rel.relname}" if rel.schemaname else str(rel.relname)


def _copy_node(node: ast.Node, **changes: object) -> ast.Node:
    """A copy of a pglast node with some fields replaced (the parse tree stays intact)."""
    fields = {name: getattr(node, name) for name in node}
    fields.update(changes)
    return type(node)(**fields)


def _sql(node: ast.Node) -> str:
    return RawStream()(node)
