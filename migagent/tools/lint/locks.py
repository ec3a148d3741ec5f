"""What lock each statement takes: the one table the linter and `verify` share.

Lock modes are named as PostgreSQL's documentation and `pg_locks` name them
(`ACCESS EXCLUSIVE`; `pg_locks.mode` spells it `AccessExclusiveLock`, see
`PG_LOCKS_MODE` / `mode_from_pg_locks`). `statement_locks(node)` returns the
table-level locks a parsed statement (a pglast `ast` node, not the RawStmt)
acquires on the tables it names; `verify` can compare those predictions with
what it observes in `pg_locks` for the same statement.

Sources: PostgreSQL docs "Explicit Locking" (13.3.1), the ALTER TABLE,
CREATE INDEX, REINDEX, CLUSTER, VACUUM and TRUNCATE reference pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, overload

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType

from migagent.tools.pgast import dotted, relname, svals

LockMode = Literal[
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
]

#: Weakest first; the index is the strength.
LOCK_MODES: tuple[LockMode, ...] = (
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)

#: `pg_locks.mode` spelling of each mode.
PG_LOCKS_MODE: dict[str, str] = {
    m: "".join(w.capitalize() for w in m.split()) + "Lock" for m in LOCK_MODES
}

#: Conflict table from the PostgreSQL docs (Table 13.2), symmetric.
CONFLICTS: dict[str, frozenset[str]] = {
    "ACCESS SHARE": frozenset({"ACCESS EXCLUSIVE"}),
    "ROW SHARE": frozenset({"EXCLUSIVE", "ACCESS EXCLUSIVE"}),
    "ROW EXCLUSIVE": frozenset({"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}),
    "SHARE UPDATE EXCLUSIVE": frozenset(
        {"SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}
    ),
    "SHARE": frozenset(
        {
            "ROW EXCLUSIVE",
            "SHARE UPDATE EXCLUSIVE",
            "SHARE ROW EXCLUSIVE",
            "EXCLUSIVE",
            "ACCESS EXCLUSIVE",
        }
    ),
    "SHARE ROW EXCLUSIVE": frozenset(
        {
            "ROW EXCLUSIVE",
            "SHARE UPDATE EXCLUSIVE",
            "SHARE",
            "SHARE ROW EXCLUSIVE",
            "EXCLUSIVE",
            "ACCESS EXCLUSIVE",
        }
    ),
    "EXCLUSIVE": frozenset(set(LOCK_MODES) - {"ACCESS SHARE"}),
    "ACCESS EXCLUSIVE": frozenset(LOCK_MODES),
}


def mode_from_pg_locks(mode: str) -> str:
    """`AccessExclusiveLock` -> `ACCESS EXCLUSIVE`."""
    for name, spelled in PG_LOCKS_MODE.items():
        if spelled == mode:
            return name
    raise ValueError(f"unknown pg_locks mode {mode!r}")


@overload
def stronger(a: str | None, b: str) -> str: ...
@overload
def stronger(a: str, b: str | None) -> str: ...
@overload
def stronger(a: str | None, b: str | None) -> str | None: ...
def stronger(a: str | None, b: str | None) -> str | None:
    """The stronger of two modes (None = no lock)."""
    if a is None:
        return b
    if b is None:
        return a
    return a if LOCK_MODES.index(a) >= LOCK_MODES.index(b) else b


def conflicts(a: str, b: str) -> bool:
    return b in CONFLICTS[a]


def blocks(mode: str | None) -> list[str]:
    """What ordinary application traffic a held lock blocks: `reads` (SELECT takes
    ACCESS SHARE) and/or `writes` (INSERT/UPDATE/DELETE take ROW EXCLUSIVE)."""
    if mode is None:
        return []
    out = []
    if conflicts(mode, "ACCESS SHARE"):
        out.append("reads")
    if conflicts(mode, "ROW EXCLUSIVE"):
        out.append("writes")
    return out


@dataclass(frozen=True)
class TableLock:
    """A table-level lock a statement takes. `table` is `schema.name` or `name`
    as written; `index` is set instead when only an index name is known."""

    table: str | None
    mode: str
    index: str | None = None


#: ALTER TABLE subcommands weaker than ACCESS EXCLUSIVE (default for the rest).
_ALTER_CMD_LOCK: dict[AlterTableType, str] = {
    AlterTableType.AT_ValidateConstraint: "SHARE UPDATE EXCLUSIVE",
    AlterTableType.AT_SetStatistics: "SHARE UPDATE EXCLUSIVE",
    AlterTableType.AT_SetOptions: "SHARE UPDATE EXCLUSIVE",
    AlterTableType.AT_ResetOptions: "SHARE UPDATE EXCLUSIVE",
    AlterTableType.AT_ClusterOn: "SHARE UPDATE EXCLUSIVE",
    AlterTableType.AT_DropCluster: "SHARE UPDATE EXCLUSIVE",
    AlterTableType.AT_AttachPartition: "SHARE UPDATE EXCLUSIVE",
    AlterTableType.AT_EnableTrig: "SHARE ROW EXCLUSIVE",
    AlterTableType.AT_EnableAlwaysTrig: "SHARE ROW EXCLUSIVE",
    AlterTableType.AT_EnableReplicaTrig: "SHARE ROW EXCLUSIVE",
    AlterTableType.AT_DisableTrig: "SHARE ROW EXCLUSIVE",
    AlterTableType.AT_EnableTrigAll: "SHARE ROW EXCLUSIVE",
    AlterTableType.AT_DisableTrigAll: "SHARE ROW EXCLUSIVE",
    AlterTableType.AT_EnableTrigUser: "SHARE ROW EXCLUSIVE",
    AlterTableType.AT_DisableTrigUser: "SHARE ROW EXCLUSIVE",
}

#: Storage parameters that ALTER TABLE ... SET (...) changes under SHARE UPDATE EXCLUSIVE.
_LIGHT_RELOPTIONS = {
    "fillfactor",
    "toast_tuple_target",
    "parallel_workers",
    "vacuum_index_cleanup",
    "vacuum_truncate",
    "log_autovacuum_min_duration",
}


def alter_cmd_lock(cmd: ast.AlterTableCmd) -> str:
    """The lock one ALTER TABLE subcommand needs on the altered table."""
    sub = cmd.subtype
    if sub == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
        if cmd.def_.contype == ConstrType.CONSTR_FOREIGN:
            return "SHARE ROW EXCLUSIVE"
        return "ACCESS EXCLUSIVE"
    if sub == AlterTableType.AT_DetachPartition:
        pc = cmd.def_
        return "SHARE UPDATE EXCLUSIVE" if getattr(pc, "concurrent", False) else "ACCESS EXCLUSIVE"
    if sub in (AlterTableType.AT_SetRelOptions, AlterTableType.AT_ResetRelOptions):
        options = cmd.def_ if isinstance(cmd.def_, tuple) else ()
        names = {d.defname for d in options if isinstance(d, ast.DefElem) and d.defname}
        if all(n in _LIGHT_RELOPTIONS or n.startswith("autovacuum_") for n in names):
            return "SHARE UPDATE EXCLUSIVE"
        return "ACCESS EXCLUSIVE"
    if sub is None:
        return "ACCESS EXCLUSIVE"
    return _ALTER_CMD_LOCK.get(sub, "ACCESS EXCLUSIVE")


def statement_locks(node: ast.Node) -> list[TableLock]:
    """Table-level locks `node` takes (strongest per table), in statement order.

    Unknown statements return []; that means "not modelled", not "no lock"."""
    locks: dict[tuple[str | None, str | None], str] = {}

    def add(table: str | None, mode: str, index: str | None = None) -> None:
        key = (table, index)
        locks[key] = stronger(locks.get(key), mode)

    if isinstance(node, ast.IndexStmt):
        add(relname(node.relation), "SHARE UPDATE EXCLUSIVE" if node.concurrent else "SHARE")
    elif isinstance(node, ast.AlterTableStmt):
        table = relname(node.relation)
        if node.objtype == ObjectType.OBJECT_INDEX:
            add(None, "ACCESS EXCLUSIVE", index=table)
        else:
            for cmd in node.cmds or ():
                add(table, alter_cmd_lock(cmd))
                d = cmd.def_
                if isinstance(d, ast.Constraint) and d.contype == ConstrType.CONSTR_FOREIGN:
                    add(relname(d.pktable), "SHARE ROW EXCLUSIVE")
    elif isinstance(node, ast.CreateStmt):
        for elt in node.tableElts or ():
            cons = (elt.constraints if isinstance(elt, ast.ColumnDef) else (elt,)) or ()
            for c in cons:
                if isinstance(c, ast.Constraint) and c.contype == ConstrType.CONSTR_FOREIGN:
                    add(relname(c.pktable), "SHARE ROW EXCLUSIVE")
        for parent in node.inhRelations or ():
            add(relname(parent), "SHARE UPDATE EXCLUSIVE" if node.partbound else "SHARE")
    elif isinstance(node, ast.DropStmt):
        mode = "SHARE UPDATE EXCLUSIVE" if node.concurrent else "ACCESS EXCLUSIVE"
        if node.removeType in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_MATVIEW):
            for obj in node.objects or ():
                add(dotted(obj), "ACCESS EXCLUSIVE")
        elif node.removeType == ObjectType.OBJECT_INDEX:
            for obj in node.objects or ():
                add(None, mode, index=dotted(obj))
    elif isinstance(node, ast.RenameStmt):
        if node.renameType == ObjectType.OBJECT_INDEX:
            add(None, "SHARE UPDATE EXCLUSIVE", index=relname(node.relation))
        elif node.relation is not None:
            add(relname(node.relation), "ACCESS EXCLUSIVE")
    elif isinstance(node, ast.ReindexStmt):
        concurrent = any(p.defname == "concurrently" for p in node.params or ())
        name = relname(node.relation)
        from pglast.enums import ReindexObjectType

        if node.kind == ReindexObjectType.REINDEX_OBJECT_INDEX:
            add(None, "SHARE UPDATE EXCLUSIVE" if concurrent else "ACCESS EXCLUSIVE", index=name)
        elif name:
            add(name, "SHARE UPDATE EXCLUSIVE" if concurrent else "SHARE")
    elif isinstance(node, ast.TruncateStmt):
        for rv in node.relations or ():
            add(relname(rv), "ACCESS EXCLUSIVE")
    elif isinstance(node, ast.ClusterStmt):
        if node.relation is not None:
            add(relname(node.relation), "ACCESS EXCLUSIVE")
    elif isinstance(node, ast.VacuumStmt) and node.is_vacuumcmd:
        full = any(o.defname == "full" for o in node.options or ())
        for rel in node.rels or ():
            add(relname(rel.relation), "ACCESS EXCLUSIVE" if full else "SHARE UPDATE EXCLUSIVE")
    elif isinstance(node, (ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt)):
        add(relname(node.relation), "ROW EXCLUSIVE")
    elif isinstance(node, ast.CreateTrigStmt):
        add(relname(node.relation), "SHARE ROW EXCLUSIVE")
    elif isinstance(node, ast.CommentStmt):
        if node.objtype in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_COLUMN):
            obj = node.object
            names = svals(obj) if isinstance(obj, tuple) else []
            if node.objtype == ObjectType.OBJECT_COLUMN:
                names = names[:-1]
            if names:
                add(".".join(names), "SHARE UPDATE EXCLUSIVE")
    elif isinstance(node, ast.AlterDomainStmt):
        if node.subtype == "C" and not getattr(node.def_, "skip_validation", False):
            add(None, "SHARE")  # on every table with a column of the domain (unknown here)
    elif isinstance(node, ast.CreateStatsStmt):
        for rel in node.relations or ():
            if isinstance(rel, ast.RangeVar):
                add(relname(rel), "SHARE UPDATE EXCLUSIVE")
    return [TableLock(t, m, i) for (t, i), m in locks.items()]
