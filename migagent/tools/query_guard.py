"""What `query_target` lets reach the user's production database, and why.

The read-only transaction stops writes to tables, but not everything a
SELECT can do: functions can create replication slots, import collations,
read server files, signal other sessions, open connections through dblink,
or run more SQL given as a string (issue 18). So a query is accepted only
when, before it runs:

1. it is small (`MAX_QUERY_CHARS`) and shallow (`MAX_NESTING` brackets,
   `MAX_OPERATORS` operator tokens), counted with pglast's scanner, which
   does not recurse; pglast's parser recurses per nesting level and a deep
   enough expression kills the whole process with SIGSEGV. The parse itself
   runs on a big-stack thread (`tools.sqlparse`), so the bound holds
   whatever thread the caller runs on (measured: `1+1+...` crashes an 8 MB
   main thread at ~25,000 terms and a 1 MB thread at 10,000; 2,000 terms fit
   256 KB. A subprocess per parse would cost ~40 ms and is not needed);
2. it is exactly one SELECT, or EXPLAIN of one without options that execute
   it, with no INSERT/UPDATE/DELETE/MERGE anywhere (data-modifying WITH), no
   SELECT INTO and no FOR UPDATE/SHARE at any level;
3. every function it can call resolves in the target's own `pg_proc`, and
   every candidate of that name (and argument count) is IMMUTABLE or STABLE
   and not on `DENIED`, or one of the volatile read-only functions in
   `VOLATILE_READS` (sizes, clocks, WAL positions). "Can call" means found
   anywhere in the parse tree - calls, set-returning functions in FROM,
   operators (and their selectivity estimators), casts, type input and
   typmod functions, domain CHECKs, attribute notation `t.f`, aggregates'
   support functions - and, the same way, in the definitions of the views it
   reads, the USING of row-level security policies on the tables it reads and
   the bodies of the target's LANGUAGE sql functions any of those run.
   Anything not found is refused, and so are the target's functions in
   procedural languages (plpgsql, ...), whose bodies cannot be checked.

`inspect(sql)` does 1 and 2 and lists what 3 must look up (pure);
`check_catalog(conn, refs)` looks it up on the connection the query will run
on, so the search_path is the one the query sees (`Toolbox.query_target` also
turns standard_conforming_strings on there, so the server splits and quotes
the text exactly as pglast did). Every refusal is a `QueryRefused` with one
line naming what was refused and why.

Not covered (what remains possible): functions PostgreSQL picks from column
types rather than from names in the text - implicit casts, the comparison and
hash functions of DISTINCT, GROUP BY, ORDER BY and joins, output functions;
compiled (C) functions of extensions, trusted by their volatility; foreign
tables, which read through their server; and anything readable by the role
(current_setting, pg_settings, pg_stat_activity are allowed: the role's
privileges decide what they show). The read-only transaction,
statement_timeout and lock_timeout remain the backstop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg
from pglast import ast
from pglast.enums import A_Expr_Kind
from pglast.parser import ParseError, scan

from migagent.tools.pgast import bare_relname, sval
from migagent.tools.pgrow import scalar
from migagent.tools.sqlparse import on_big_stack

MAX_QUERY_CHARS = 20_000
MAX_NESTING = 64  # ( and [ open at once
MAX_OPERATORS = 2_000  # operator tokens: each can add one level to the parse tree


class QueryRefused(Exception):
    """The query may not run on the target; `str(exc)` is one line for the model."""


# ------------------------------------------------------------------ references
@dataclass(frozen=True)
class FunctionRef:
    """A function the query calls by name; `attribute` when it is `t.name`, which
    PostgreSQL reads as a column, or else as a call `name(t)`."""

    schema: str | None
    name: str
    nargs: int
    attribute: bool = False


@dataclass(frozen=True)
class OperatorRef:
    schema: str | None
    name: str
    prefix: bool  # `- x` rather than `a - b`


@dataclass(frozen=True)
class TypeRef:
    """A type named in a cast (or a column list): its input, typmod input and
    cast functions, and its domain CHECKs, run when a value becomes one."""

    schema: str | None
    name: str
    literal: bool = False  # 'text'::type runs the input function, never a cast


@dataclass(frozen=True)
class RelationRef:
    """A table or view the query reads: a view runs the functions in its definition."""

    schema: str | None
    name: str


Ref = FunctionRef | OperatorRef | TypeRef | RelationRef


@dataclass(frozen=True)
class Inspected:
    statement: ast.SelectStmt | ast.ExplainStmt
    refs: frozenset[Ref]


# ---------------------------------------------------------------- 1. the size
_OPEN, _CLOSE = {"ASCII_40", "ASCII_91"}, {"ASCII_41", "ASCII_93"}  # ( [  ) ]
_OPERATOR_TOKENS = frozenset(
    {
        "Op",
        "ASCII_37",  # %
        "ASCII_42",  # *
        "ASCII_43",  # +
        "ASCII_45",  # -
        "ASCII_47",  # /
        "ASCII_60",  # <
        "ASCII_61",  # =
        "ASCII_62",  # >
        "ASCII_94",  # ^
        "GREATER_EQUALS",
        "LESS_EQUALS",
        "NOT_EQUALS",
        "TYPECAST",
        "AND",
        "OR",
        "NOT",
        "IS",
        "ISNULL",
        "NOTNULL",
        "LIKE",
        "ILIKE",
        "SIMILAR",
        "BETWEEN",
        "COLLATE",
        "AT",
        "CASE",
        "UNION",  # set operations nest left-deep too
        "INTERSECT",
        "EXCEPT",
    }
)


def check_size(sql: str) -> None:
    """Refuse what could crash or stall the parser, using only the (iterative) scanner."""
    if len(sql) > MAX_QUERY_CHARS:
        raise QueryRefused(
            f"the query is {len(sql):,} characters: query_target takes at most "
            f"{MAX_QUERY_CHARS:,}; ask a narrower question"
        )
    if "\x00" in sql:
        raise QueryRefused("the query contains a NUL character, which would cut it short")
    try:
        tokens = scan(sql)
    except ParseError as exc:
        raise QueryRefused(f"the query does not parse: {exc}") from exc
    depth = deepest = operators = 0
    for token in tokens:
        if token.name in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif token.name in _CLOSE:
            depth -= 1
        elif token.name in _OPERATOR_TOKENS:
            operators += 1
    if deepest > MAX_NESTING:
        raise QueryRefused(
            f"the query nests {deepest} brackets deep: query_target takes at most {MAX_NESTING}"
        )
    if operators > MAX_OPERATORS:
        raise QueryRefused(
            f"the query has {operators:,} operators: query_target takes at most {MAX_OPERATORS:,}"
        )


def parse(sql: str) -> tuple[ast.RawStmt, ...]:
    """pglast's parse on a thread with a known, large stack (`tools.sqlparse`)."""
    try:
        return on_big_stack(sql)
    except ParseError as error:
        raise QueryRefused(f"the query does not parse: {error}") from error


def _stmt(raw: ast.RawStmt) -> ast.Node:
    """The statement a parsed RawStmt holds (the parser always fills it)."""
    if raw.stmt is None:
        raise QueryRefused("an empty statement")
    return raw.stmt


# ----------------------------------------------------------- 2. the statement
def _analyze_on(opt: ast.DefElem) -> bool:
    """`ANALYZE`, `ANALYZE true/on/1`; not `ANALYZE false/off/0`."""
    arg = opt.arg
    if arg is None:
        return True
    if isinstance(arg, ast.Boolean):
        return bool(arg.boolval)
    value = getattr(arg, "sval", None)
    if value is None:
        value = getattr(arg, "ival", None)
    return str(value).lower() not in {"false", "off", "0", "no"}


def _refuse_analyze(opt: ast.DefElem) -> str | None:
    if _analyze_on(opt):
        return (
            "EXPLAIN ANALYZE executes the query and is refused on the target; "
            "use plain EXPLAIN, or run_sql_in_scratch to time it on the scratch copy"
        )
    return None


def _plans_only(opt: ast.DefElem) -> str | None:
    return None


# EXPLAIN options that only plan; ANALYZE executes (refused unless off), and TIMING,
# WAL and SERIALIZE, which only mean something with it, are refused as unknown.
_EXPLAIN_OPTIONS: dict[str, Callable[[ast.DefElem], str | None]] = {
    "analyze": _refuse_analyze,
    **dict.fromkeys(
        ("verbose", "costs", "settings", "buffers", "summary", "format", "generic_plan", "memory"),
        _plans_only,
    ),
}


_STATEMENT_NAMES: dict[type, str] = {ast.VariableShowStmt: "SHOW", ast.VariableSetStmt: "SET"}
# what to do instead, for the statements a model reaches for to read something
_STATEMENT_HINTS: dict[type, str] = {
    ast.VariableShowStmt: "read a setting with SELECT current_setting('name')",
    ast.CopyStmt: "SELECT the rows instead (the row limit applies)",
}


def check_statement(stmts: tuple[ast.RawStmt, ...]) -> ast.SelectStmt | ast.ExplainStmt:
    """The one statement, if it is a SELECT or an EXPLAIN (that does not execute) of one."""
    if len(stmts) != 1:
        raise QueryRefused(f"give exactly one statement (got {len(stmts)})")
    stmt = stmts[0].stmt
    if isinstance(stmt, ast.SelectStmt):
        return stmt
    if not isinstance(stmt, ast.ExplainStmt):
        kind = _STATEMENT_NAMES.get(type(stmt)) or type(stmt).__name__.removesuffix("Stmt")
        hint = _STATEMENT_HINTS.get(
            type(stmt), "use run_sql_in_scratch to try changes on a scratch copy"
        )
        raise QueryRefused(
            f"only SELECT or EXPLAIN (without ANALYZE) may run on the target, not {kind}; {hint}"
        )
    for opt in stmt.options or ():
        judge = _EXPLAIN_OPTIONS.get(opt.defname.lower())
        if judge is None:
            raise QueryRefused(
                f"EXPLAIN option {opt.defname.upper()} is refused on the target: only "
                f"{', '.join(o.upper() for o in _EXPLAIN_OPTIONS)} (ANALYZE off) plan without executing"
            )
        if problem := judge(opt):
            raise QueryRefused(problem)
    if not isinstance(stmt.query, ast.SelectStmt):
        raise QueryRefused("only EXPLAIN of a SELECT is allowed on the target")
    return stmt


# ------------------------------------------- walking the tree: nodes to findings
Finding = Ref | str  # a reference to look up, or a refusal


def _names(nodes: Iterable[Any] | None) -> list[str]:
    return [sval(n) for n in nodes or () if isinstance(n, ast.String)]


def _qualified(names: list[str]) -> tuple[str | None, str]:
    """(schema, name) of a possibly qualified name; a catalog prefix (`db.schema.f`) is dropped."""
    if len(names) >= 2:
        return names[-2], names[-1]
    return None, names[-1] if names else ""


def _write(node: Any, parent: Any) -> Iterator[Finding]:
    kind = type(node).__name__.removesuffix("Stmt").upper()
    yield f"data-modifying {kind} inside the query (e.g. a data-modifying WITH) is refused"


def _select(node: ast.SelectStmt, parent: Any) -> Iterator[Finding]:
    if node.intoClause is not None:
        yield "SELECT INTO creates a table and is refused"
    if node.lockingClause:
        yield "SELECT ... FOR UPDATE/SHARE takes row locks and is refused"


def _func_call(node: ast.FuncCall, parent: Any) -> Iterator[Finding]:
    schema, name = _qualified(_names(node.funcname))
    nargs = len(node.args or ())
    if node.agg_within_group:  # percentile_cont(0.5) WITHIN GROUP (ORDER BY x): 2 arguments
        nargs += len(node.agg_order or ())
    yield FunctionRef(schema, name, nargs)


def _a_expr(node: ast.A_Expr, parent: Any) -> Iterator[Finding]:
    if node.kind in _BETWEEN_KINDS:  # a BETWEEN b AND c is a >= b AND a <= c (or < / >)
        for op in (">=", "<=", "<", ">"):
            yield OperatorRef(None, op, False)
        return
    schema, name = _qualified(_names(node.name))
    if name:
        yield OperatorRef(schema, name, node.lexpr is None)


_BETWEEN_KINDS = frozenset(
    {
        A_Expr_Kind.AEXPR_BETWEEN,
        A_Expr_Kind.AEXPR_NOT_BETWEEN,
        A_Expr_Kind.AEXPR_BETWEEN_SYM,
        A_Expr_Kind.AEXPR_NOT_BETWEEN_SYM,
    }
)


def _sublink(node: ast.SubLink, parent: Any) -> Iterator[Finding]:
    names = _names(node.operName)
    if names:
        schema, name = _qualified(names)
        yield OperatorRef(schema, name, False)
    elif node.testexpr is not None:  # x IN (SELECT ...) compares with =
        yield OperatorRef(None, "=", False)


def _sort_by(node: ast.SortBy, parent: Any) -> Iterator[Finding]:
    if node.useOp:  # ORDER BY x USING <op>
        schema, name = _qualified(_names(node.useOp))
        yield OperatorRef(schema, name, False)


def _case(node: ast.CaseExpr, parent: Any) -> Iterator[Finding]:
    if node.arg is not None:  # CASE x WHEN y compares x = y
        yield OperatorRef(None, "=", False)


def _type_name(node: ast.TypeName, parent: Any) -> Iterator[Finding]:
    schema, name = _qualified(_names(node.names))
    literal = isinstance(parent, ast.TypeCast) and _is_literal(parent.arg)
    if name:
        yield TypeRef(schema, name, literal)


def _is_literal(node: Any) -> bool:
    """A string or NULL constant: its cast is the type's input function, not a pg_cast."""
    return isinstance(node, ast.A_Const) and (node.isnull or isinstance(node.val, ast.String))


def _column_ref(node: ast.ColumnRef, parent: Any) -> Iterator[Finding]:
    fields = node.fields or ()
    if len(fields) >= 2 and isinstance(fields[-1], ast.String):
        yield FunctionRef(None, sval(fields[-1]), 1, attribute=True)


def _indirection(node: ast.A_Indirection, parent: Any) -> Iterator[Finding]:
    for item in node.indirection or ():
        if isinstance(item, ast.String):
            yield FunctionRef(None, sval(item), 1, attribute=True)


_TABLESAMPLE_METHODS = frozenset({"system", "bernoulli", "system_rows", "system_time"})


def _tablesample(node: ast.RangeTableSample, parent: Any) -> Iterator[Finding]:
    _, name = _qualified(_names(node.method))
    if name.lower() not in _TABLESAMPLE_METHODS:
        yield f"TABLESAMPLE method {name} is not allowed: only {', '.join(sorted(_TABLESAMPLE_METHODS))}"


def _range_var(node: ast.RangeVar, parent: Any) -> Iterator[Finding]:
    yield RelationRef(node.schemaname, bare_relname(node))


# node type -> what it calls or why it is refused; `parent` is the node holding it
_NODE_RULES: dict[type, Callable[[Any, Any], Iterator[Finding]]] = {
    ast.InsertStmt: _write,
    ast.UpdateStmt: _write,
    ast.DeleteStmt: _write,
    ast.MergeStmt: _write,
    ast.SelectStmt: _select,
    ast.FuncCall: _func_call,
    ast.A_Expr: _a_expr,
    ast.SubLink: _sublink,
    ast.SortBy: _sort_by,
    ast.CaseExpr: _case,
    ast.TypeName: _type_name,
    ast.ColumnRef: _column_ref,
    ast.A_Indirection: _indirection,
    ast.RangeTableSample: _tablesample,
    ast.RangeVar: _range_var,
}


def _nodes(root: ast.Node) -> Iterator[tuple[ast.Node, ast.Node | None]]:
    """Every node under `root` with its parent node, with an explicit stack (no
    recursion: the depth is the query writer's)."""
    stack: list[tuple[Any, ast.Node | None]] = [(root, None)]
    while stack:
        item, parent = stack.pop()
        if isinstance(item, ast.Node):
            yield item, parent
            stack.extend((getattr(item, slot, None), item) for slot in item)  # its fields
        elif isinstance(item, list | tuple):
            stack.extend((child, parent) for child in item)


def references(root: ast.Node) -> frozenset[Ref]:
    """What `root` can call; the first structural refusal raises."""
    refs: set[Ref] = set()
    for node, parent in _nodes(root):
        rule = _NODE_RULES.get(type(node))
        for finding in rule(node, parent) if rule else ():
            if isinstance(finding, str):
                raise QueryRefused(finding)
            refs.add(finding)
    return frozenset(refs)


def inspect(sql: str) -> Inspected:
    """Steps 1 and 2 (no database): the statement and what `check_catalog` must resolve."""
    check_size(sql)
    stmt = check_statement(parse(sql))
    query = stmt.query if isinstance(stmt, ast.ExplainStmt) else stmt
    if query is None:  # the parser gives every EXPLAIN its statement
        raise QueryRefused("EXPLAIN without a statement")
    return Inspected(stmt, references(query))


# ------------------------------------------------------------- 3. the functions
@dataclass(frozen=True)
class Proc:
    """One pg_proc row, as far as judging it goes."""

    schema: str
    name: str
    nargs: int
    ndefaults: int
    variadic: bool
    volatility: str  # i, s, v
    language: str  # internal, c, sql, plpgsql, ...
    support: tuple[Proc, ...] = ()  # an aggregate's transition/final/... functions

    @property
    def label(self) -> str:
        return self.name if self.schema == "pg_catalog" else f"{self.schema}.{self.name}"

    def accepts(self, nargs: int) -> bool:
        if self.variadic and nargs >= self.nargs - 1:
            return True
        return self.nargs - self.ndefaults <= nargs <= self.nargs


def _prefix(*prefixes: str) -> Callable[[str], bool]:
    return lambda name: name.startswith(prefixes)


def _exact(*names: str) -> Callable[[str], bool]:
    wanted = frozenset(names)
    return lambda name: name in wanted


# Refused in any schema even when IMMUTABLE/STABLE (most are VOLATILE too; a
# named reason is clearer than the volatility rule). Reading other sessions'
# activity (pg_stat_get_activity, pg_locks) and settings (current_setting) is
# allowed: the connecting role's privileges already decide what those show.
DENIED: tuple[tuple[Callable[[str], bool], str], ...] = (
    (
        _prefix("pg_read_file", "pg_read_binary_file", "pg_stat_file", "pg_ls_"),
        "it reads server files",
    ),
    (
        _exact("pg_hba_file_rules", "pg_ident_file_mappings", "pg_show_all_file_settings"),
        "it reads server files",
    ),
    (_prefix("pg_file_", "pg_logdir_ls"), "it reads or writes server files (adminpack)"),
    (
        _prefix(
            "query_to_xml", "cursor_to_xml", "table_to_xml", "schema_to_xml", "database_to_xml"
        ),
        "it runs SQL given as a string or over whole tables",
    ),
    (_exact("ts_stat", "ts_rewrite"), "it can run SQL given as a string"),
    (_prefix("dblink", "postgres_fdw_"), "it connects to other databases"),
    (_prefix("lo_"), "it reads or writes large objects and server files"),
    (_exact("loread", "lowrite"), "it reads or writes large objects"),
    (_exact("txid_current", "pg_current_xact_id"), "it assigns a transaction id (a write)"),
    (
        _prefix("pg_terminate_backend", "pg_cancel_backend", "pg_signal_backend"),
        "it signals other sessions",
    ),
    (_exact("pg_config"), "it reveals the server's build configuration and file paths"),
)

# VOLATILE in pg_catalog only because their answer can change within a query;
# they read sizes, clocks, WAL positions and lock state and change nothing.
VOLATILE_READS = frozenset(
    {
        "pg_relation_size",
        "pg_total_relation_size",
        "pg_table_size",
        "pg_indexes_size",
        "pg_database_size",
        "pg_tablespace_size",
        "pg_is_in_recovery",
        "pg_current_wal_lsn",
        "pg_current_wal_insert_lsn",
        "pg_current_wal_flush_lsn",
        "pg_last_wal_receive_lsn",
        "pg_last_wal_replay_lsn",
        "pg_last_xact_replay_timestamp",
        "pg_blocking_pids",
        "pg_lock_status",
        "pg_partition_tree",
        "pg_partition_ancestors",
        "pg_jit_available",
        "clock_timestamp",
        "timeofday",
        "random",
        "random_normal",
        "gen_random_uuid",
        "pg_prepared_xact",
        "pg_show_replication_origin_status",
        "pg_get_backend_memory_contexts",
        "pg_get_shmem_allocations",
        "pg_sequence_last_value",
    }
)
VOLATILE_READ_PREFIXES = ("pg_stat_get_xact_",)  # this transaction's own counters


SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema"})
# the target's own functions: SQL bodies are checked like a query (`expand`); compiled
# code (extensions) is trusted by its volatility; procedural bodies cannot be checked
CHECKABLE_LANGUAGES = frozenset({"sql", "c", "internal"})


def judge(proc: Proc) -> str | None:
    """Why `proc` may not run on the target, or None when it may."""
    problem = _problem(proc)
    return f"function {proc.label} {problem}" if problem else None


def _problem(proc: Proc) -> str | None:
    """What is wrong with `proc`, without its name: "is VOLATILE: ...", "is not allowed: ...".
    An aggregate is marked IMMUTABLE whatever it runs: its support functions are judged."""
    if problem := _own_problem(proc):
        return problem
    for support in proc.support:
        if problem := _own_problem(support):
            return f"runs {support.label} (aggregate support), which {problem}"
    return None


def _own_problem(proc: Proc) -> str | None:
    for matches, reason in DENIED:
        if matches(proc.name):
            return f"is not allowed: {reason}"
    if proc.schema not in SYSTEM_SCHEMAS and proc.language not in CHECKABLE_LANGUAGES:
        return (
            f"is written in {proc.language}: query_target cannot check what its body calls "
            "(a STABLE function may still call VOLATILE ones)"
        )
    if proc.volatility in ("i", "s"):
        return None
    if proc.schema == "pg_catalog" and (
        proc.name in VOLATILE_READS or proc.name.startswith(VOLATILE_READ_PREFIXES)
    ):
        return None
    return (
        "is VOLATILE: query_target runs only IMMUTABLE/STABLE functions "
        "(and a few read-only ones such as pg_relation_size)"
    )


def _in_scope(schema: str | None, search: tuple[str, ...], proc_schema: str) -> bool:
    return proc_schema == schema if schema else proc_schema in search


def judge_function(ref: FunctionRef, procs: Iterable[Proc], search: tuple[str, ...]) -> str | None:
    """Every candidate `ref` may resolve to must be allowed: by name (and schema, or
    the search_path), narrowed to those taking that many arguments when any do."""
    named = [p for p in procs if p.name == ref.name and _in_scope(ref.schema, search, p.schema)]
    fitting = [p for p in named if p.accepts(ref.nargs)] or ([] if ref.attribute else named)
    if not fitting:
        if ref.attribute:
            return None  # a plain column
        shown = f"{ref.schema}.{ref.name}" if ref.schema else ref.name
        return (
            f"function {shown} does not exist on the target: query_target runs only "
            "functions it can check in the target's pg_proc"
        )
    for proc in fitting:
        if problem := judge(proc):
            return problem + (f" (t.{ref.name} calls {ref.name}(t))" if ref.attribute else "")
    return None


@dataclass(frozen=True)
class OperatorProc:
    """A function an operator runs: its code, or its planner selectivity estimator."""

    schema: str
    name: str
    prefix: bool
    role: str  # "code", "restrict", "join"
    proc: Proc


def judge_operator(
    ref: OperatorRef, rows: Iterable[OperatorProc], search: tuple[str, ...]
) -> str | None:
    """Every operator of that name (in that schema or on the search_path) must run allowed functions."""
    candidates = [
        r
        for r in rows
        if r.name == ref.name and r.prefix == ref.prefix and _in_scope(ref.schema, search, r.schema)
    ]
    if not candidates:
        return f"operator {ref.name} does not exist on the target"
    for row in candidates:
        if problem := _problem(row.proc):
            return f"operator {ref.name} runs {row.proc.label} ({row.role}), which {problem}"
    return None


@dataclass(frozen=True)
class TypeProc:
    schema: str
    name: str
    role: str  # "input", "typmod input", "cast", "domain check"; "" for the type itself
    proc: Proc | None


def judge_type(ref: TypeRef, rows: Iterable[TypeProc], search: tuple[str, ...]) -> str | None:
    """A value cast to the type runs its input/typmod/cast functions and domain CHECKs."""
    candidates = [r for r in rows if r.name == ref.name and _in_scope(ref.schema, search, r.schema)]
    if not candidates:
        return f"type {ref.name} does not exist on the target"
    for row in candidates:
        if row.proc is None or (ref.literal and row.role == "cast"):
            continue
        if problem := _problem(row.proc):
            return f"type {ref.name} runs {row.proc.label} ({row.role}), which {problem}"
    return None


# ------------------------------------------------------------ catalog lookups
_PROC_COLUMNS: LiteralString = """n.nspname, p.proname, p.pronargs, p.pronargdefaults,
    p.provariadic <> 0, p.provolatile,
    (SELECT l.lanname FROM pg_catalog.pg_language l WHERE l.oid = p.prolang)"""

_FUNCTIONS_SQL: LiteralString = f"""
SELECT {_PROC_COLUMNS}, (
    SELECT coalesce(array_agg(ARRAY[sn.nspname, sp.proname, sp.provolatile::text, sl.lanname]),
                    '{{}}')
    FROM pg_catalog.pg_aggregate a
    JOIN pg_catalog.pg_proc sp ON sp.oid IN (
        a.aggtransfn::oid, a.aggfinalfn::oid, a.aggcombinefn::oid, a.aggserialfn::oid,
        a.aggdeserialfn::oid, a.aggmtransfn::oid, a.aggminvtransfn::oid, a.aggmfinalfn::oid)
    JOIN pg_catalog.pg_namespace sn ON sn.oid = sp.pronamespace
    JOIN pg_catalog.pg_language sl ON sl.oid = sp.prolang
    WHERE a.aggfnoid = p.oid
)
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.proname = ANY(%s)
"""

_OPERATORS_SQL: LiteralString = f"""
SELECT o.nspname, o.oprname, o.prefix, f.role, {_PROC_COLUMNS}
FROM (
    SELECT n.nspname, o.oprname, o.oprleft = 0 AS prefix, o.oprcode, o.oprrest, o.oprjoin
    FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
    WHERE o.oprname = ANY(%s)
) o
CROSS JOIN LATERAL (VALUES ('code', o.oprcode), ('restrict', o.oprrest), ('join', o.oprjoin))
    AS f(role, proc)
JOIN pg_catalog.pg_proc p ON p.oid = f.proc::oid
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
"""

_TYPES_SQL: LiteralString = f"""
WITH RECURSIVE named AS (
    SELECT t.oid, n.nspname, t.typname
    FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typname = ANY(%s)
), chain AS (  -- the type, and the base types of a domain (over a domain ...)
    SELECT oid AS top, oid FROM named
    UNION
    SELECT c.top, t.typbasetype FROM chain c JOIN pg_catalog.pg_type t ON t.oid = c.oid
    WHERE t.typbasetype <> 0
), funcs AS (
    SELECT c.top, 'input' AS role, t.typinput::oid AS proc
    FROM chain c JOIN pg_catalog.pg_type t ON t.oid = c.oid
    UNION ALL
    SELECT c.top, 'typmod input', t.typmodin::oid
    FROM chain c JOIN pg_catalog.pg_type t ON t.oid = c.oid WHERE t.typmodin <> 0
    UNION ALL
    SELECT c.top, 'cast', k.castfunc
    FROM chain c JOIN pg_catalog.pg_cast k ON k.casttarget = c.oid WHERE k.castfunc <> 0
    UNION ALL
    SELECT c.top, 'domain check', d.refobjid
    FROM chain c
    JOIN pg_catalog.pg_constraint k ON k.contypid = c.oid
    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
        AND d.objid = k.oid AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
)
SELECT named.nspname, named.typname, f.role, {_PROC_COLUMNS}
FROM named
LEFT JOIN funcs f ON f.top = named.oid
LEFT JOIN pg_catalog.pg_proc p ON p.oid = f.proc
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
"""


def _proc(row: tuple[Any, ...]) -> Proc:
    schema, name, nargs, ndefaults, variadic, volatility, language, *support = row
    return Proc(
        schema,
        name,
        int(nargs),
        int(ndefaults),
        bool(variadic),
        str(volatility),
        str(language),
        tuple(_support_proc(s) for s in (support[0] if support else ())),
    )


def _support_proc(row: list[Any]) -> Proc:
    """An aggregate's support function, from its [schema, name, volatility, language]."""
    schema, name, volatility, language = row
    return Proc(schema, name, 0, 0, False, volatility, language)


MAX_EXPANSION_DEPTH = 8  # views over views, SQL functions calling SQL functions, ...
MAX_DEFINITION_CHARS = 1_000_000  # from the catalog, not the model: only a sanity bound

_VIEWS_SQL: LiteralString = """
SELECT n.nspname, c.relname, pg_catalog.pg_get_viewdef(c.oid)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'v' AND c.relname = ANY(%s)
"""

# row-level security: a policy's USING expression runs for every row a SELECT reads
_POLICIES_SQL: LiteralString = """
SELECT n.nspname, c.relname, pol.polname, pg_catalog.pg_get_expr(pol.polqual, pol.polrelid)
FROM pg_catalog.pg_policy pol
JOIN pg_catalog.pg_class c ON c.oid = pol.polrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relrowsecurity AND pol.polqual IS NOT NULL AND pol.polcmd IN ('r', '*')
  AND c.relname = ANY(%s)
"""

# bodies of the target's own LANGUAGE sql functions (the system's are trusted by their
# volatility), called by name or run by an aggregate, an operator, a type or a cast
_SQL_BODIES_SQL: LiteralString = f"""
WITH hop(via, fn) AS (
    SELECT 'function', p.oid FROM pg_catalog.pg_proc p WHERE p.proname = ANY(%(functions)s)
    UNION
    SELECT 'aggregate', s.fn
    FROM pg_catalog.pg_aggregate a JOIN pg_catalog.pg_proc p ON p.oid = a.aggfnoid
    CROSS JOIN LATERAL unnest(ARRAY[
        a.aggtransfn::oid, a.aggfinalfn::oid, a.aggcombinefn::oid, a.aggserialfn::oid,
        a.aggdeserialfn::oid, a.aggmtransfn::oid, a.aggminvtransfn::oid, a.aggmfinalfn::oid
    ]) AS s(fn)
    WHERE p.proname = ANY(%(functions)s)
    UNION
    SELECT 'operator', s.fn FROM pg_catalog.pg_operator o
    CROSS JOIN LATERAL unnest(ARRAY[o.oprcode::oid, o.oprrest::oid, o.oprjoin::oid]) AS s(fn)
    WHERE o.oprname = ANY(%(operators)s)
    UNION
    SELECT 'type', s.fn FROM pg_catalog.pg_type t
    CROSS JOIN LATERAL unnest(ARRAY[t.typinput::oid, t.typmodin::oid]) AS s(fn)
    WHERE t.typname = ANY(%(types)s)
    UNION
    SELECT 'type', d.refobjid FROM pg_catalog.pg_type t
    JOIN pg_catalog.pg_constraint k ON k.contypid = t.oid
    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
        AND d.objid = k.oid AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
    WHERE t.typname = ANY(%(types)s)
    UNION
    SELECT 'cast', k.castfunc FROM pg_catalog.pg_cast k
    JOIN pg_catalog.pg_type t ON t.oid = k.casttarget
    WHERE t.typname = ANY(%(cast_types)s)
)
SELECT hop.via, {_PROC_COLUMNS}, {{body}}
FROM hop
JOIN pg_catalog.pg_proc p ON p.oid = hop.fn
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE l.lanname = 'sql' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""
_VIA = {
    "aggregate": " (an aggregate's support function)",
    "operator": " (an operator's function)",
    "type": " (a type's input function or domain CHECK)",
    "cast": " (a cast function)",
}
_BODY_SINCE_14: LiteralString = "coalesce(pg_catalog.pg_get_function_sqlbody(p.oid), p.prosrc)"


def definition_references(label: str, definition: str) -> frozenset[Ref]:
    """What running a view or SQL function body calls: the references of its statements."""
    if len(definition) > MAX_DEFINITION_CHARS:
        raise QueryRefused(f"{label} is too large to check ({len(definition):,} characters)")
    text = definition.strip()
    if text[:12].upper() == "BEGIN ATOMIC" and text[-3:].upper() == "END":
        text = text[12:-3]  # a SQL-standard body: its statements
    try:
        return frozenset().union(*(references(_stmt(raw)) for raw in parse(text)))
    except QueryRefused as exc:
        raise QueryRefused(f"{label}: {exc}") from None


def _label(kind: str, schema: str, name: str) -> str:
    return f"{kind} {name if schema == 'pg_catalog' else f'{schema}.{name}'}"


def expand(
    conn: psycopg.Connection, refs: Iterable[Ref], search: tuple[str, ...]
) -> dict[str, frozenset[Ref]]:
    """The query's references ("") and those of every view it reads and every SQL
    function of the target's it calls, through views of views and so on, by origin."""
    groups: dict[str, frozenset[Ref]] = {"": frozenset(refs)}
    seen: set[Ref] = set()
    body = _BODY_SINCE_14 if conn.info.server_version >= 140000 else "p.prosrc"
    for _ in range(MAX_EXPANSION_DEPTH + 1):
        pending = frozenset().union(*groups.values()) - seen
        if not pending:
            return groups
        seen |= pending
        relations = {r for r in pending if isinstance(r, RelationRef)}
        functions = {r for r in pending if isinstance(r, FunctionRef)}
        for schema, name, definition in _rows(conn, _VIEWS_SQL, {r.name for r in relations}):
            if any(r.name == name and _in_scope(r.schema, search, schema) for r in relations):
                label = _label("view", schema, name)
                groups[label] = groups.get(label, frozenset()) | definition_references(
                    label, definition
                )
        for schema, name, policy, qual in _rows(conn, _POLICIES_SQL, {r.name for r in relations}):
            if any(r.name == name and _in_scope(r.schema, search, schema) for r in relations):
                label = f"policy {policy} on {_label('table', schema, name)}"
                groups[label] = definition_references(label, f"SELECT {qual}")
        for via, proc, definition in _sql_bodies(conn, body, pending):
            if via == "function" and not any(
                r.name == proc.name
                and _in_scope(r.schema, search, proc.schema)
                and proc.accepts(r.nargs)
                for r in functions
            ):
                continue  # same name, but not what this call resolves to
            label = _label("function", proc.schema, proc.name) + _VIA.get(via, "")
            groups[label] = groups.get(label, frozenset()) | definition_references(
                label, definition
            )
    raise QueryRefused(
        f"views and SQL functions nest more than {MAX_EXPANSION_DEPTH} deep: too deep to check"
    )


def _sql_bodies(
    conn: psycopg.Connection, body: LiteralString, refs: Iterable[Ref]
) -> Iterator[tuple[str, Proc, str]]:
    """(how it is reached, the function, its body) of the target's SQL functions `refs` reach."""
    refs = list(refs)
    calls = {r.name for r in refs if isinstance(r, FunctionRef) and not r.attribute}
    types = {r.name for r in refs if isinstance(r, TypeRef)}
    params = {
        "functions": sorted({r.name for r in refs if isinstance(r, FunctionRef)}),
        "operators": sorted({r.name for r in refs if isinstance(r, OperatorRef)}),
        "types": sorted(types | calls),  # int4(x) may be a cast
        "cast_types": sorted(
            {r.name for r in refs if isinstance(r, TypeRef) and not r.literal} | calls
        ),
    }
    if not any(params.values()):
        return
    for via, *row, definition in conn.execute(_SQL_BODIES_SQL.format(body=body), params):
        yield via, _proc(tuple(row)), definition


@dataclass(frozen=True)
class Catalog:
    """What the target's catalogs say about the names a query uses."""

    search: tuple[str, ...]
    procs: list[Proc]
    operators: list[OperatorProc]
    types: list[TypeProc]


def lookup(conn: psycopg.Connection, refs: Iterable[Ref], search: tuple[str, ...]) -> Catalog:
    refs = list(refs)
    functions = {r.name for r in refs if isinstance(r, FunctionRef)}
    # a name no function has may be a function-style cast, int4(x): look it up as a type too
    types = {r.name for r in refs if isinstance(r, TypeRef)} | functions
    operators = {r.name for r in refs if isinstance(r, OperatorRef)}
    return Catalog(
        search,
        [_proc(row) for row in _rows(conn, _FUNCTIONS_SQL, functions)],
        [_operator_proc(row) for row in _rows(conn, _OPERATORS_SQL, operators)],
        [_type_proc(row) for row in _rows(conn, _TYPES_SQL, types)],
    )


def judge_refs(refs: Iterable[Ref], catalog: Catalog) -> str | None:
    """The first reason (in a stable order) one of `refs` may not run, or None."""
    known = {p.name for p in catalog.procs}
    typenames = {t.name for t in catalog.types}
    for ref in sorted(refs, key=repr):
        if isinstance(ref, FunctionRef):
            if ref.name not in known and ref.name in typenames and not ref.attribute:
                problem = judge_type(TypeRef(ref.schema, ref.name), catalog.types, catalog.search)
            else:
                problem = judge_function(ref, catalog.procs, catalog.search)
        elif isinstance(ref, OperatorRef):
            problem = judge_operator(ref, catalog.operators, catalog.search)
        elif isinstance(ref, TypeRef):
            problem = judge_type(ref, catalog.types, catalog.search)
        else:
            problem = None  # a relation: only what its definition calls matters (expand)
        if problem:
            return problem
    return None


def check_catalog(conn: psycopg.Connection, refs: Iterable[Ref]) -> None:
    """Resolve `refs` - and what the views and SQL functions they reach call - in the
    target's catalogs, on the query's own connection and search_path; raise
    QueryRefused for the first that may not run, naming the view or function it is in."""
    search = tuple(scalar(conn.execute("SELECT pg_catalog.current_schemas(true)")))
    groups = expand(conn, refs, search)
    catalog = lookup(conn, frozenset().union(*groups.values()), search)
    for origin in sorted(groups):  # "" (the query itself) first
        if problem := judge_refs(groups[origin], catalog):
            raise QueryRefused(f"{origin}: {problem}" if origin else problem)


def _operator_proc(row: tuple[Any, ...]) -> OperatorProc:
    schema, name, prefix, role, *proc = row
    return OperatorProc(schema, name, bool(prefix), role, _proc(tuple(proc)))


def _type_proc(row: tuple[Any, ...]) -> TypeProc:
    schema, name, role, *proc = row
    return TypeProc(schema, name, role or "", _proc(tuple(proc)) if proc[0] is not None else None)


def _rows(conn: psycopg.Connection, sql: LiteralString, names: set[str]) -> list[tuple[Any, ...]]:
    if not names:
        return []
    return conn.execute(sql, (sorted(names),)).fetchall()
