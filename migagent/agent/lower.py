"""Lowering: plan operations -> Alembic op-code that is safe for the table's size.

This is where lock safety lives, for every backend. Each operation becomes
upgrade and downgrade steps; a step is Python (Alembic `op.*` calls, raw SQL
through `op.execute` only where Alembic has no operation) and says whether it
must run outside a transaction (`autocommit_block()`).

On a table at or above `LowerContext.large_rows` rows the safe forms are used:

- indexes: `CREATE INDEX CONCURRENTLY` (and `DROP INDEX CONCURRENTLY`);
- foreign keys and checks: `NOT VALID`, then `VALIDATE CONSTRAINT` in its own
  transaction;
- NOT NULL: a `CHECK (col IS NOT NULL) NOT VALID`, validated, then
  `SET NOT NULL` (which uses the check instead of a scan), then the check goes;
- unique constraints and primary keys: a concurrent unique index, then
  `ADD CONSTRAINT ... USING INDEX`;
- backfills: keyset batches on the primary key, each its own transaction;
- volatile defaults: add the column bare, set the default, backfill in batches.

Every upgrade touching an existing table starts with `SET lock_timeout`, so a
migration waiting behind a long transaction fails fast instead of queueing
every other query behind it.

The downgrade of each operation is derived from the schema *before* it (the
snapshot, updated as operations are lowered), so type changes alter back,
dropped objects come back with their original definitions, and so on.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from migagent.agent import plan as P
from migagent.agent.satypes import normalize_type, sa_type, type_family
from migagent.tools.introspect.model import Column, Constraint, SchemaSnapshot, Table
from migagent.tools.policy import LARGE_ROWS, default_volatility, is_large, type_rewrites
from migagent.tools.sql import quote_ident, quote_literal, quote_table

BATCH_SIZE = 5_000
LOCK_TIMEOUT = "5s"


class LoweringError(Exception):
    """A plan operation that cannot be lowered against this schema."""


class Step(BaseModel):
    code: str  # Python statements, unindented, may span lines
    autocommit: bool = False


class Lowered(BaseModel):
    """A whole plan lowered: the bodies of upgrade() and downgrade()."""

    upgrade: list[Step] = Field(default_factory=list)
    downgrade: list[Step] = Field(default_factory=list)
    imports: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # what was made safe, and why
    warnings: list[str] = Field(default_factory=list)
    data_loss: list[str] = Field(default_factory=list)  # what the downgrade cannot restore
    irreversible: str | None = None


@dataclass
class LowerContext:
    snapshot: SchemaSnapshot
    rows: dict[str, int] = field(default_factory=dict)
    server_version: int = 180000
    large_rows: int = LARGE_ROWS
    batch_size: int = BATCH_SIZE
    lock_timeout: str = LOCK_TIMEOUT
    new_tables: set[str] = field(default_factory=set)

    def row_count(self, table: str) -> int:
        key = _bare(table)
        if _qual(table) in self.new_tables:
            return 0
        for k in (table, key, _qual(table), table.lower(), key.lower(), _qual(table).lower()):
            if k in self.rows:
                return self.rows[k]
        t = self.snapshot.table(table)
        return max(t.row_estimate, 0) if t else 0

    def large(self, *tables: str) -> bool:
        """Whether any of `tables` is large under the one policy (`tools.policy.is_large`)."""
        return any(
            is_large(self.row_count(t), self._bytes(t), large_rows=self.large_rows) for t in tables
        )

    def _bytes(self, table: str) -> int:
        """The snapshot's size of `table` when no --rows figure overrides its row count."""
        if _qual(table) in self.new_tables or any(
            k in self.rows for k in (table, _bare(table), _qual(table))
        ):
            return 0
        t = self.snapshot.table(table)
        return max(t.total_bytes, 0) if t else 0


# ---------------------------------------------------------------- helpers
def _enum_dependants(users: list[tuple[Table, Column]]) -> list[tuple[str, str]]:
    """(drop, create) for each index and CHECK whose expression names one of `users`'
    columns (a plain key column is rebuilt by the type change and is left alone)."""
    out: list[tuple[str, str]] = []
    by_table: dict[str, tuple[Table, set[str]]] = {}
    for tb, col in users:
        by_table.setdefault(tb.qualified_name, (tb, set()))[1].add(col.name)
    for name, (tb, cols) in by_table.items():
        words = re.compile(r"\b(?:" + "|".join(re.escape(c) for c in sorted(cols)) + r")\b")
        for ix in tb.indexes:
            if ix.constraint or ix.primary or ix.parent:
                continue
            exprs = [k for k in ix.keys if k not in cols] + [ix.predicate or ""]
            if any(words.search(e) for e in exprs):
                out.append((f"DROP INDEX {qt(f'{tb.schema_name}.{ix.name}')}", ix.definition))
        for k in tb.constraints:
            if k.kind == "check" and not k.inherited and words.search(k.definition):
                out.append(
                    (
                        f"ALTER TABLE {qt(name)} DROP CONSTRAINT {qi(k.name)}",
                        f"ALTER TABLE {qt(name)} ADD CONSTRAINT {qi(k.name)} {k.definition}",
                    )
                )
    return out


def _qual(table: str) -> str:
    return table if "." in table else f"public.{table}"


def _bare(table: str) -> str:
    return table.split(".")[-1]


def _schema(table: str) -> str | None:
    s = table.split(".")[0] if "." in table else None
    return None if s in (None, "public") else s


def py(s: str) -> str:
    """A Python string literal, double-quoted where possible (ruff format style)."""
    if "\n" in s:
        if '"""' not in s and "\\" not in s and not s.endswith('"'):
            return '"""' + s + '"""'
        return repr(s)
    if '"' not in s and "\\" not in s:
        return f'"{s}"'
    return repr(s)


qi = quote_ident  # identifiers, tables and literals are quoted in one place: migagent.tools.sql
qt = quote_table
lit = quote_literal


def _tkw(table: str) -> str:
    s = _schema(table)
    return f", schema={py(s)}" if s else ""


def _sa(sql_type: str, enums: set[str]) -> str:
    found = sa_type(sql_type, enums)
    if found is None:
        raise LoweringError(f"no SQLAlchemy type for {sql_type}")
    return found


# ---------------------------------------------------------------- lowering
class _Lowerer:
    def __init__(self, ctx: LowerContext):
        self.ctx = ctx
        self.snap = copy.deepcopy(ctx.snapshot)
        self.enums = {e.name for e in self.snap.enums.values()} | set(self.snap.enums)
        self.out = Lowered()
        self.touched_existing = False

    # -- snapshot bookkeeping ------------------------------------------------
    def table(self, name: str) -> Table:
        t = self.snap.table(name)
        if t is None:
            raise LoweringError(f"table {name} does not exist")
        return t

    def column(self, table: str, name: str) -> Column:
        c = self.table(table).column(name)
        if c is None:
            raise LoweringError(f"column {table}.{name} does not exist")
        return c

    def existing(self, table: str) -> bool:
        return _qual(table) not in self.ctx.new_tables and self.ctx.row_count(table) > 0

    # -- column rendering ------------------------------------------------------
    def sa_column(self, c: P.ColumnDef, *, nullable: bool | None = None) -> str:
        args = [py(c.name), _sa(c.type, self.enums)]
        if c.generated:
            args.append(
                f"sa.Computed({py(c.generated)}, persisted={c.generated_kind != 'virtual'})"
            )
        if c.identity:
            args.append(f"sa.Identity(always={c.identity == 'always'})")
        if c.default is not None and not c.generated:
            args.append(f"server_default=sa.text({py(c.default)})")
        if c.primary_key:
            args.append("primary_key=True")
        if c.autoincrement is False and not c.identity:
            args.append("autoincrement=False")
        null = c.nullable if nullable is None else nullable
        if not c.primary_key:
            args.append(f"nullable={null}")
        return f"sa.Column({', '.join(args)})"

    def raw_column(self, c: Column) -> str:
        parts = [qi(c.name), c.type]
        if c.collation:
            parts.append(f"COLLATE {c.collation}")
        if c.generated:
            parts.append(
                f"GENERATED ALWAYS AS ({c.generated}) {(c.generated_kind or 'stored').upper()}"
            )
        elif c.identity:
            parts.append(f"GENERATED {c.identity.upper()} AS IDENTITY")
        elif c.default is not None:
            parts.append(f"DEFAULT {c.default}")
        if not c.nullable:
            parts.append("NOT NULL")
        return " ".join(parts)

    def up(self, code: str, autocommit: bool = False) -> None:
        self.out.upgrade.append(Step(code=code, autocommit=autocommit))

    def lower(self, plan: P.DraftPlan) -> Lowered:
        downs: list[list[Step]] = []
        self.plan = plan
        self.consumed: set[int] = set()  # ops lowered together with an earlier one
        for op in plan.operations:
            if id(op) in self.consumed:
                continue
            if isinstance(op, P.CreateTable):
                self.ctx.new_tables.add(_qual(op.table))
            before = len(self.out.upgrade)
            down = getattr(self, f"_{op.op}")(op)
            downs.append(down)
            if any(t and self.existing(t) for t in op.tables()) and len(self.out.upgrade) > before:
                self.touched_existing = True
        for down in reversed(downs):
            self.out.downgrade.extend(down)
        if self.touched_existing:
            self.out.upgrade = self._with_lock_timeout(self.out.upgrade)
            self.out.downgrade = self._with_lock_timeout(self.out.downgrade)
            autocommit = any(s.autocommit for s in self.out.upgrade)
            self.out.notes.append(
                f"every transaction starts with SET LOCAL lock_timeout = {lit(self.ctx.lock_timeout)}: "
                "a lock held by a long-running transaction makes the migration fail fast "
                "(`canceling statement due to lock timeout`) instead of queueing all traffic "
                "behind it; retry once that transaction is gone"
                + (
                    " (steps already committed in autocommit blocks stay done: check what "
                    "exists before re-running, or downgrade first)"
                    if autocommit
                    else " (the failed transaction rolled back entirely)"
                )
            )
        if not self.out.upgrade:
            raise LoweringError("the plan has no operations")
        self.out.imports = ["from alembic import op", "import sqlalchemy as sa"]
        code = "\n".join(s.code for s in self.out.upgrade + self.out.downgrade)
        if "postgresql." in code:
            self.out.imports.append("from sqlalchemy.dialects import postgresql")
        return self.out

    def _with_lock_timeout(self, steps: list[Step]) -> list[Step]:
        """`SET LOCAL lock_timeout` at the start of every transaction the steps run in, and
        a session `SET lock_timeout` for each autocommit run (where every statement is its
        own transaction), reset when the run ends: a lock that cannot be had within the
        timeout fails the migration (retry it) instead of queueing all traffic behind it,
        and the setting does not outlive the migration's transactions."""
        value = lit(self.ctx.lock_timeout)
        local = f'op.execute("SET LOCAL lock_timeout = {value}")'
        out: list[Step] = []
        prev: bool | None = None
        for s in steps:
            if s.autocommit and prev is not True:
                out.append(Step(code=f'op.execute("SET lock_timeout = {value}")', autocommit=True))
            if not s.autocommit and prev is not False:
                if prev is True:
                    out.append(Step(code='op.execute("RESET lock_timeout")', autocommit=True))
                out.append(Step(code=local))
            out.append(s)
            prev = s.autocommit
        if prev is True:
            out.append(Step(code='op.execute("RESET lock_timeout")', autocommit=True))
        return out

    # -- tables ------------------------------------------------------------------
    def _create_table(self, op: P.CreateTable) -> list[Step]:
        items = [self.sa_column(c) for c in op.columns]
        if op.primary_key:
            items.append(f"sa.PrimaryKeyConstraint({', '.join(py(c) for c in op.primary_key)})")
        for cols in op.unique:
            items.append(f"sa.UniqueConstraint({', '.join(py(c) for c in cols)})")
        for fk in op.foreign_keys:
            refs = ", ".join(py(f"{_bare(fk.ref_table)}.{c}") for c in fk.ref_columns)
            extra = "".join(
                f", {k}={py(v)}"
                for k, v in (("ondelete", fk.on_delete), ("onupdate", fk.on_update))
                if v
            )
            items.append(
                f"sa.ForeignKeyConstraint([{', '.join(py(c) for c in fk.columns)}], [{refs}], "
                f"name={py(fk.name)}{extra})"
            )
        for ck in op.checks:
            items.append(f"sa.CheckConstraint({py(ck.expression)}, name={py(ck.name)})")
        if schema := _schema(op.table):
            items.append(f"schema={py(schema)}")
        body = ",\n".join(f"    {i}" for i in [py(_bare(op.table)), *items])
        self.up(f"op.create_table(\n{body},\n)")
        # bookkeeping
        cols = [
            Column(
                name=c.name,
                type=normalize_type(c.type),
                nullable=c.nullable and not c.primary_key,
                default=c.default,
                position=i + 1,
            )
            for i, c in enumerate(op.columns)
        ]
        self.snap.tables[_qual(op.table)] = Table(
            schema_name=_qual(op.table).split(".")[0], name=_bare(op.table), columns=cols
        )
        return [Step(code=f"op.drop_table({py(_bare(op.table))}{_tkw(op.table)})")]

    def _drop_table(self, op: P.DropTable) -> list[Step]:
        t = self.table(op.table)
        self.up(f"op.drop_table({py(t.name)}{_tkw(op.table)})")
        self.out.data_loss.append(f"the rows of {t.name} (the downgrade recreates the table empty)")
        ddl = table_ddl(t, self.snap)
        del self.snap.tables[t.qualified_name]
        return [Step(code=f"op.execute({py(s)})") for s in ddl]

    def _rename_table(self, op: P.RenameTable) -> list[Step]:
        t = self.table(op.table)
        self.up(f"op.rename_table({py(t.name)}, {py(op.new_name)}{_tkw(op.table)})")
        new = copy.deepcopy(t)
        new.name = op.new_name
        del self.snap.tables[t.qualified_name]
        self.snap.tables[new.qualified_name] = new
        return [Step(code=f"op.rename_table({py(op.new_name)}, {py(t.name)}{_tkw(op.table)})")]

    # -- columns -----------------------------------------------------------------
    def _add_column(self, op: P.AddColumn) -> list[Step]:
        t = self.table(op.table)
        c = op.column
        large = self.ctx.large(op.table)
        default = c.default
        volatile = default is not None and default_volatility(default) == "volatile"
        rows = self.ctx.row_count(op.table)
        tname = py(t.name)
        if large and c.generated and not c.identity and c.generated_kind != "virtual":
            return self._maintained_column(t, op.table, c, c.generated)
        if large and default is not None and volatile and not c.generated:
            # a volatile default rewrites the table under ACCESS EXCLUSIVE: add bare,
            # set the default for new rows, backfill old rows in batches
            bare = c.model_copy(update={"default": None, "nullable": True})
            self.up(f"op.add_column({tname}, {self.sa_column(bare)}{_tkw(op.table)})")
            self.up(
                f"op.alter_column({tname}, {py(c.name)}, server_default=sa.text({py(default)}){_tkw(op.table)})"
            )
            self._batched_update(t, f"{qi(c.name)} = {default}", f"{qi(c.name)} IS NULL")
            self.out.notes.append(
                f"{t.name}.{c.name}: volatile default {c.default} added without a table rewrite "
                "(column added bare, default set, existing rows backfilled in batches)"
            )
            if not c.nullable:
                self._safe_not_null(t, c.name, c.type)
        else:
            if not c.nullable and c.default is None and not c.generated and not c.identity and rows:
                raise LoweringError(
                    f"{t.name}.{c.name} is NOT NULL without a default, but {t.name} has rows"
                )
            if sa_type(c.type, self.enums) is None:
                raw = Column(
                    name=c.name,
                    type=normalize_type(c.type),
                    nullable=c.nullable,
                    default=c.default,
                    generated=c.generated,
                    generated_kind=(c.generated_kind or "stored") if c.generated else None,
                    identity=c.identity,
                )
                self.up(
                    f"op.execute({py(f'ALTER TABLE {qt(op.table)} ADD COLUMN {self.raw_column(raw)}')})"
                )
            else:
                self.up(f"op.add_column({tname}, {self.sa_column(c)}{_tkw(op.table)})")
            if large and (c.generated or c.identity or volatile):
                self.out.warnings.append(
                    f"adding {t.name}.{c.name} ({'generated' if c.generated else 'identity'}) rewrites "
                    f"{t.name} (~{rows:,} rows) under an ACCESS EXCLUSIVE lock"
                )
        t.columns.append(
            Column(
                name=c.name,
                type=normalize_type(c.type),
                nullable=c.nullable,
                default=c.default,
                generated=c.generated,
                generated_kind=(c.generated_kind or "stored") if c.generated else None,
                position=len(t.columns) + 1,
            )
        )
        return [Step(code=f"op.drop_column({tname}, {py(c.name)}{_tkw(op.table)})")]

    def _maintained_column(
        self, t: Table, table: str, c: P.ColumnDef, generated: str
    ) -> list[Step]:
        """A stored generated column on a large table, without the rewrite that ADD COLUMN
        ... GENERATED ALWAYS AS ... STORED does under ACCESS EXCLUSIVE: a plain column kept
        up to date by a BEFORE INSERT OR UPDATE trigger computing the same expression,
        existing rows backfilled in keyset batches (indexes on it then build CONCURRENTLY)."""
        tq, col = qt(t.qualified_name), qi(c.name)
        fn = _ident_trunc(f"{t.name}_{c.name}_maintain")
        fnq = f"{qi(t.schema_name)}.{qi(fn)}"
        bare = c.model_copy(update={"generated": None, "default": None, "nullable": True})
        if sa_type(c.type, self.enums) is None:
            raw = Column(name=c.name, type=normalize_type(c.type), nullable=True)
            self.up(f"op.execute({py(f'ALTER TABLE {tq} ADD COLUMN {self.raw_column(raw)}')})")
        else:
            self.up(f"op.add_column({py(t.name)}, {self.sa_column(bare)}{_tkw(table)})")
        body = (
            f"CREATE FUNCTION {fnq}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n    NEW.{col} := {_on_new_row(generated, t)};\n    RETURN NEW;\nEND\n$$"
        )
        self.up(f"op.execute({py(body)})")
        self.up(
            f"op.execute({py(f'CREATE TRIGGER {qi(fn)} BEFORE INSERT OR UPDATE ON {tq} FOR EACH ROW EXECUTE FUNCTION {fnq}()')})"
        )
        self.out.upgrade.extend(
            self._batched(t, f"{col} = {generated}", f"{col} IS DISTINCT FROM ({generated})")
        )
        if not c.nullable:
            self._safe_not_null(t, c.name, c.type)
        self.out.notes.append(
            f"{t.name}.{c.name}: form 'trigger-maintained column' instead of a STORED generated "
            f"column, because adding a generated column rewrites {t.name} "
            f"(~{self.ctx.row_count(table):,} rows) under ACCESS EXCLUSIVE; a plain column is "
            f"added (catalog only), trigger {fn} computes {generated} on every INSERT and "
            "UPDATE, existing rows are backfilled in batches and its index is built CONCURRENTLY. "
            "Unlike a generated column it can be written directly (the trigger overwrites it)"
        )
        t.columns.append(
            Column(
                name=c.name,
                type=normalize_type(c.type),
                nullable=c.nullable,
                position=len(t.columns) + 1,
            )
        )
        return [
            Step(code=f"op.execute({py(f'DROP TRIGGER {qi(fn)} ON {tq}')})"),
            Step(code=f"op.execute({py(f'DROP FUNCTION {fnq}()')})"),
            Step(code=f"op.drop_column({py(t.name)}, {py(c.name)}{_tkw(table)})"),
        ]

    def _drop_column(self, op: P.DropColumn) -> list[Step]:
        # the DropColumns of one table that follow each other are lowered together: the
        # downgrade re-adds them in their original column order (each ADD COLUMN goes
        # last), then their constraints and indexes (one may span several of them)
        ops = self.plan.operations if getattr(self, "plan", None) else [op]
        group = [op]
        i = next((k for k, o in enumerate(ops) if o is op), None)
        if i is not None:
            for nxt in ops[i + 1 :]:
                if not (isinstance(nxt, P.DropColumn) and _qual(nxt.table) == _qual(op.table)):
                    break
                if nxt.column in {g.column for g in group}:
                    break
                group.append(nxt)
                self.consumed.add(id(nxt))
        t = self.table(op.table)
        cols = [self.column(g.table, g.column) for g in group]
        positions = {c.name: k for k, c in enumerate(t.columns)}
        n_before = len(t.columns)
        readds: list[tuple[int, list[Step]]] = []
        deps: list[Step] = []
        for g, c in zip(group, cols, strict=True):
            add, dep = self._drop_one_column(g, t, c)
            readds.append((positions[c.name], add))
            deps.extend(dep)
        dropped = sorted(positions[c.name] for c in cols)
        if dropped != list(range(n_before - len(cols), n_before)):  # not the trailing ones
            for c in cols:
                self.out.warnings.append(
                    f"the downgrade re-adds {t.name}.{c.name} as the last column (it was column "
                    f"{positions[c.name] + 1} of {n_before})"
                )
        down: list[Step] = []
        for _, add in sorted(readds, key=lambda x: x[0]):
            down.extend(add)
        return down + deps

    def _drop_one_column(
        self, op: P.DropColumn, t: Table, c: Column
    ) -> tuple[list[Step], list[Step]]:
        # constraints and indexes that go with the column, to restore in the downgrade
        deps_ix = [
            ix
            for ix in t.indexes
            if not ix.constraint
            and (
                op.column in ix.keys
                or any(_mentions(k, op.column) for k in ix.keys)
                or (ix.predicate and _mentions(ix.predicate, op.column))
            )
        ]
        deps_con = [
            k
            for k in t.constraints
            if k.kind in ("foreign_key", "unique", "check", "primary_key")
            and op.column in k.columns
        ]
        self.up(f"op.drop_column({py(t.name)}, {py(c.name)}{_tkw(op.table)})")
        t.columns.remove(c)
        t.indexes = [i for i in t.indexes if i not in deps_ix]
        t.constraints = [k for k in t.constraints if k not in deps_con]
        self.out.data_loss.append(f"the values of {t.name}.{c.name}")
        add = []
        if not c.nullable and c.default is None and not c.generated and not c.identity:
            filler = _zero_value(c.type)
            add.append(
                Step(
                    code=f"op.execute({py(f'ALTER TABLE {qt(op.table)} ADD COLUMN {self.raw_column(c)} DEFAULT {filler}')})"
                )
            )
            add.append(
                Step(
                    code=f"op.execute({py(f'ALTER TABLE {qt(op.table)} ALTER COLUMN {qi(c.name)} DROP DEFAULT')})"
                )
            )
        else:
            add.append(
                Step(
                    code=f"op.execute({py(f'ALTER TABLE {qt(op.table)} ADD COLUMN {self.raw_column(c)}')})"
                )
            )
        deps = []
        for k in deps_con:
            deps.append(
                Step(
                    code=f"op.execute({py(f'ALTER TABLE {qt(op.table)} ADD CONSTRAINT {qi(k.name)} {k.definition}')})"
                )
            )
        for ix in deps_ix:
            deps.append(Step(code=f"op.execute({py(ix.definition)})"))
        return add, deps

    def _rename_column(self, op: P.RenameColumn) -> list[Step]:
        t = self.table(op.table)
        c = self.column(op.table, op.column)
        self.up(
            f"op.alter_column({py(t.name)}, {py(c.name)}, new_column_name={py(op.new_name)}{_tkw(op.table)})"
        )
        c.name = op.new_name
        return [
            Step(
                code=f"op.alter_column({py(t.name)}, {py(op.new_name)}, new_column_name={py(op.column)}{_tkw(op.table)})"
            )
        ]

    def _alter_type(self, op: P.AlterColumnType) -> list[Step]:
        t = self.table(op.table)
        c = self.column(op.table, op.column)
        old, new = c.type, normalize_type(op.new_type)
        pg = self.ctx.server_version // 10_000
        # a binary-coercible change needs no USING (PostgreSQL's implicit cast), and with
        # none it skips the rewrite: the linter's classifier decides, for both directions
        using = op.using or (
            None
            if type_rewrites(old, new, pg=pg) is False
            else _auto_using(c.name, old, new, self.enums)
        )
        rusing = op.reverse_using or (
            None
            if type_rewrites(new, old, pg=pg) is False
            else _auto_using(c.name, new, old, self.enums)
        )
        zone_steps: list[str] = []
        if (
            type_family(old) == type_family(new) == "timestamp"
            and self.ctx.server_version >= 120000
            and all(u is None or _is_utc_reading(u, c.name) for u in (using, rusing))
        ):
            # Reading the values as UTC is what the cast does under TimeZone UTC, and
            # PostgreSQL 12+ then changes the type without rewriting the table.
            using = rusing = None
            zone_steps = ["op.execute(\"SET LOCAL TimeZone = 'UTC'\")"]
            self.up(zone_steps[0])
        large = self.ctx.large(op.table)
        zone = "UTC" if zone_steps else None
        rewrites = type_rewrites(old, new, pg=pg, timezone=zone, using=using) is not False
        fks = self._referencing(t, c)
        if rewrites and fks and self.ctx.large(op.table, *(o.qualified_name for o, _ in fks)):
            return self._key_type(op, t, c, new, fks)
        if (
            large
            and rewrites
            and self._swappable(t, c)
            and (c.default is None or type_family(old) == type_family(new))
            and all(_reads_only(u, c.name, t) for u in (using, rusing))
        ):
            self.out.upgrade.extend(
                self._swap_type(t, c, new, _shadow_name(c.name, new), using or qi(c.name))
            )
            down = self._swap_type(t, c, old, _shadow_name(c.name, old), rusing or qi(c.name))
            self.out.notes = list(dict.fromkeys(self.out.notes))
            self.out.notes.append(
                f"{t.name}.{c.name} {old} -> {new} without a table rewrite under lock: a shadow "
                "column synced by a trigger, backfilled in batches, then swapped in one short "
                "transaction"
            )
            c.type = new
            return down
        tname = py(t.name)
        pre, post, dpre, dpost = [], [], [], []
        if c.default is not None and (using or rusing) and type_family(old) != type_family(new):
            new_default = _recast_default(c.default, new)
            pre.append(
                f"op.alter_column({tname}, {py(c.name)}, server_default=None{_tkw(op.table)})"
            )
            if new_default:
                post.append(
                    f"op.alter_column({tname}, {py(c.name)}, server_default=sa.text({py(new_default)}){_tkw(op.table)})"
                )
                dpre.append(
                    f"op.alter_column({tname}, {py(c.name)}, server_default=None{_tkw(op.table)})"
                )
            dpost.append(
                f"op.alter_column({tname}, {py(c.name)}, server_default=sa.text({py(c.default)}){_tkw(op.table)})"
            )

        def alter(frm: str, to: str, u: str | None) -> str:
            args = [
                tname,
                py(c.name),
                f"type_={_sa(to, self.enums)}",
                f"existing_type={_sa(frm, self.enums)}",
                f"existing_nullable={c.nullable}",
            ]
            if u:
                args.append(f"postgresql_using={py(u)}")
            return f"op.alter_column({', '.join(args)}{_tkw(op.table)})"

        for s in pre:
            self.up(s)
        if sa_type(new, self.enums) and sa_type(old, self.enums):
            self.up(alter(old, new, using))
            down_alter = alter(new, old, rusing)
        else:
            self.up(_raw_alter_type(op.table, c.name, new, using))
            down_alter = _raw_alter_type(op.table, c.name, old, rusing)
        for s in post:
            self.up(s)
        if large and rewrites:
            self.out.warnings.append(
                f"changing {t.name}.{c.name} from {old} to {new} rewrites {t.name} "
                f"(~{self.ctx.row_count(op.table):,} rows) under an ACCESS EXCLUSIVE lock; "
                "schedule it in a maintenance window"
            )
        c.type = new
        return [Step(code=s) for s in [*zone_steps, *dpre, down_alter, *dpost]]

    def _safe_not_null(self, t: Table, column: str, sql_type: str) -> None:
        self.out.upgrade.extend(self._not_null_steps(t, column, sql_type))
        self.out.notes.append(
            f"{t.name}.{column} NOT NULL: proven by a NOT VALID check validated without blocking "
            "writes, so SET NOT NULL skips its full-table scan"
        )

    def _not_null_steps(self, t: Table, column: str, sql_type: str) -> list[Step]:
        """SET NOT NULL without its full-table scan under ACCESS EXCLUSIVE: a NOT VALID
        check, validated in its own transaction, then SET NOT NULL (which trusts it)."""
        name = _ident_trunc(f"{t.name}_{column}_not_null_chk")
        tk = _tkw(t.qualified_name)
        validate = f"ALTER TABLE {qt(t.qualified_name)} VALIDATE CONSTRAINT {qi(name)}"
        return [
            Step(
                code=f"op.create_check_constraint({py(name)}, {py(t.name)}, "
                f"{py(f'{qi(column)} IS NOT NULL')}, postgresql_not_valid=True{tk})"
            ),
            Step(code=f"op.execute({py(validate)})", autocommit=True),
            Step(
                code=f"op.alter_column({py(t.name)}, {py(column)}, "
                f"existing_type={_sa(sql_type, self.enums)}, nullable=False{tk})"
            ),
            Step(code=f'op.drop_constraint({py(name)}, {py(t.name)}, type_="check"{tk})'),
        ]

    def _swappable(self, t: Table, c) -> bool:
        """Whether a type change can go through a shadow column and keep the schema exact:
        the column is the table's last, and nothing but its own values depends on it."""
        if c.position != max(col.position for col in t.columns):
            return False
        if c.identity or c.generated or (c.default and "nextval(" in c.default):
            return False
        mentions = [
            *(k for ix in t.indexes for k in [*ix.keys, *ix.include, ix.predicate or ""]),
            *(k.definition for k in t.constraints if k.kind != "not_null"),
            *(tr.definition for tr in t.triggers),
            *(p.using or "" for p in t.policies),
            *(p.with_check or "" for p in t.policies),
        ]
        if any(_mentions(m, c.name) for m in mentions):
            return False
        snap = self.ctx.snapshot
        referenced = any(
            k.ref_table == t.qualified_name and c.name in k.ref_columns
            for other in snap.tables.values()
            for k in other.constraints
        )
        in_views = any(_mentions(v.definition, t.name) for v in snap.views.values())
        return not referenced and not in_views

    # -- a referenced key's type, online ---------------------------------------------
    def _referencing(self, t: Table, c: Column) -> list[tuple[Table, Constraint]]:
        """(table, foreign key) of every foreign key that references `t`.`c`."""
        return [
            (other, k)
            for other in self.snap.tables.values()
            for k in other.constraints
            if k.kind == "foreign_key"
            and k.ref_table == t.qualified_name
            and c.name in k.ref_columns
        ]

    def _key_type(
        self,
        op: P.AlterColumnType,
        t: Table,
        c: Column,
        new: str,
        fks: list[tuple[Table, Constraint]],
    ) -> list[Step]:
        """A rewriting type change of a key that foreign keys reference, on large tables:
        the key and every referencing column the plan changes with it move to shadow
        columns synced by triggers, backfilled in batches; a unique index is built
        CONCURRENTLY; one short transaction (SET LOCAL lock_timeout) swaps the columns,
        attaches the index as the key and re-creates the foreign keys NOT VALID, which are
        then validated without blocking writes. Raises LoweringError with the reason when
        that cannot keep the schema exact (the downgrade must restore it)."""
        key = next(
            (
                k
                for k in t.constraints
                if k.kind in ("primary_key", "unique") and k.columns == [c.name]
            ),
            None,
        )
        problems: list[str] = []
        if key is None:
            problems.append(f"{t.name}.{c.name} is referenced but is not a one-column key")
        if op.using or op.reverse_using:
            problems.append("the change has a USING expression")
        swaps: list[tuple[Table, Column, str]] = [(t, c, new)]
        for other, k in fks:
            if len(k.columns) != 1:
                problems.append(f"foreign key {k.name} on {other.name} has several columns")
                continue
            child = next(
                (
                    o
                    for o in self.plan.operations
                    if isinstance(o, P.AlterColumnType)
                    and o is not op
                    and self.snap.table(o.table) is other
                    and o.column == k.columns[0]
                ),
                None,
            )
            if child is not None:
                if child.using or child.reverse_using:
                    problems.append(f"the change of {other.name}.{child.column} has a USING")
                fk_col = other.column(k.columns[0])
                if fk_col is None:  # the plan dropped or renamed it before this change
                    problems.append(f"{other.name}.{k.columns[0]} is not there at this point")
                    continue
                swaps.append((other, fk_col, normalize_type(child.new_type)))
                self.consumed.add(id(child))
        for tb, col, _to in swaps:
            problems += self._key_swap_blockers(tb, col, key, fks)
        if key is None or problems:  # (no key is one of the problems)
            cols = ", ".join(f"{tb.name}.{col.name}" for tb, col, _ in swaps)
            raise LoweringError(
                f"changing {cols} to {new} rewrites {', '.join(tb.name for tb, _, _ in swaps)} "
                "under ACCESS EXCLUSIVE at these sizes, and the online form (shadow columns, "
                "batched backfill, concurrent unique index, swap, foreign keys NOT VALID then "
                "VALIDATE) cannot keep the schema exact here: "
                + "; ".join(dict.fromkeys(problems))
                + ". To make it safe: run the plain ALTER in a maintenance window (draft "
                "with --force to write it), or make the change by hand with a planned column "
                "order change"
            )
        olds = [col.type for _, col, _ in swaps]
        up = self._key_swap_steps(t, key, fks, swaps)
        self.out.upgrade.extend(up)
        for (_, col, to), _old in zip(swaps, olds, strict=True):
            col.type = to
        down = self._key_swap_steps(
            t, key, fks, [(tb, col, old) for (tb, col, _), old in zip(swaps, olds, strict=True)]
        )
        self.out.notes = list(dict.fromkeys(self.out.notes))
        self.out.notes.append(
            f"form 'online key type change': {', '.join(f'{tb.name}.{col.name}' for tb, col, _ in swaps)} "
            f"-> {new} through shadow columns synced by triggers and backfilled in batches, a "
            f"unique index built CONCURRENTLY, one short swap transaction under SET LOCAL "
            f"lock_timeout (retry the migration if it times out), then the foreign keys "
            f"{', '.join(k.name for _, k in fks)} re-created NOT VALID and validated without "
            "blocking writes; because a plain ALTER would rewrite the tables under ACCESS EXCLUSIVE"
        )
        self.out.warnings.append(
            f"the downgrade changes {t.name}.{c.name} back to {olds[0]}: it fails if values "
            f"beyond {olds[0]} were written meanwhile"
        )
        return down

    def _key_swap_blockers(
        self, t: Table, c: Column, key: Constraint | None, fks: list[tuple[Table, Constraint]]
    ) -> list[str]:
        out = []
        last = max(col.position for col in t.columns)
        if c.position != last:
            out.append(
                f"{t.name}.{c.name} is column {c.position} of {last}: the swapped column ends "
                "up last and PostgreSQL cannot move it back, so the downgrade could not restore "
                "the column order"
            )
        if c.identity or c.generated or (c.default and "nextval(" in c.default):
            out.append(f"{t.name}.{c.name} is an identity, serial or generated column")
        own = {key.name if key else None} | {k.name for _, k in fks}
        for k in t.constraints:
            uses = (
                c.name in k.columns
                if k.kind == "foreign_key"
                else k.kind != "not_null" and _mentions(k.definition, c.name)
            )
            if uses and k.name not in own:
                out.append(f"constraint {k.name} on {t.name} uses {c.name}")
        for ix in t.indexes:
            if ix.constraint and ix.constraint in own:
                continue
            text = [*ix.keys, *ix.include, ix.predicate or ""]
            if any(_mentions(x, c.name) for x in text) and not _rebuildable(ix, c.name):
                out.append(f"index {ix.name} on {t.name} uses {c.name} with other columns")
        if any(_mentions(tr.definition, c.name) for tr in t.triggers):
            out.append(f"a trigger on {t.name} uses {c.name}")
        if any(_mentions((p.using or "") + (p.with_check or ""), c.name) for p in t.policies):
            out.append(f"a policy on {t.name} uses {c.name}")
        if any(_mentions(v.definition, t.name) for v in self.snap.views.values()):
            out.append(f"a view reads {t.name}")
        return out

    def _key_swap_steps(
        self,
        t: Table,
        key: Constraint,
        fks: list[tuple[Table, Constraint]],
        swaps: list[tuple[Table, Column, str]],
    ) -> list[Step]:
        """The steps of `_key_type` that change `swaps` (table, column, to type)."""

        def sql(text: str, autocommit: bool = False) -> Step:
            return Step(code=f"op.execute({py(text)})", autocommit=autocommit)

        prep: list[Step] = []
        fill: list[Step] = []
        build: list[Step] = []
        swap: list[Step] = [
            sql(f"ALTER TABLE {qt(o.qualified_name)} DROP CONSTRAINT {qi(k.name)}") for o, k in fks
        ]
        finish: list[Step] = []
        ktmp_index = _ident_trunc(f"{key.name}_{swaps[0][2].split('(')[0].replace(' ', '_')}")
        for tb, col, to in swaps:
            tq, cq = qt(tb.qualified_name), qi(col.name)
            tmp = _shadow_name(col.name, to)
            tmpq = qi(tmp)
            fn = _ident_trunc(f"{tb.name}_sync_{tmp}")
            fnq = f"{qi(tb.schema_name)}.{qi(fn)}"
            prep += [
                sql(f"ALTER TABLE {tq} ADD COLUMN {tmpq} {to}"),
                sql(
                    f"CREATE FUNCTION {fnq}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                    f"BEGIN\n    NEW.{tmpq} := NEW.{cq};\n    RETURN NEW;\nEND\n$$"
                ),
                sql(
                    f"CREATE TRIGGER {qi(fn)} BEFORE INSERT OR UPDATE ON {tq} "
                    f"FOR EACH ROW EXECUTE FUNCTION {fnq}()"
                ),
            ]
            fill += self._batched(tb, f"{tmpq} = {cq}", f"{tmpq} IS DISTINCT FROM {cq}")
            if not col.nullable:
                fill += self._not_null_steps(tb, tmp, to)
            if tb is t:
                build.append(
                    sql(f"CREATE UNIQUE INDEX CONCURRENTLY {qi(ktmp_index)} ON {tq} ({tmpq})", True)
                )
                swap.append(sql(f"ALTER TABLE {tq} DROP CONSTRAINT {qi(key.name)}"))
            renames = []
            for ix in tb.indexes:
                if ix.constraint or not _rebuildable(ix, col.name):
                    continue
                ix_tmp = _ident_trunc(f"{ix.name}_{tmp}")
                definition = re.sub(
                    r"^CREATE (UNIQUE )?INDEX \S+ ON ",
                    rf"CREATE \1INDEX CONCURRENTLY {qi(ix_tmp)} ON ",
                    ix.definition,
                )
                definition = re.sub(rf"\({re.escape(cq)}\)", f"({tmpq})", definition)
                build.append(sql(definition, True))
                renames.append(
                    sql(f"ALTER INDEX {qi(tb.schema_name)}.{qi(ix_tmp)} RENAME TO {qi(ix.name)}")
                )
            swap += [
                sql(f"DROP TRIGGER {qi(fn)} ON {tq}"),
                sql(f"DROP FUNCTION {fnq}()"),
                sql(f"ALTER TABLE {tq} DROP COLUMN {cq}"),
                sql(f"ALTER TABLE {tq} RENAME COLUMN {tmpq} TO {cq}"),
                *renames,
            ]
            if col.default is not None:
                swap.append(sql(f"ALTER TABLE {tq} ALTER COLUMN {cq} SET DEFAULT {col.default}"))
            if col.comment:
                swap.append(sql(f"COMMENT ON COLUMN {tq}.{cq} IS {lit(col.comment)}"))
        words = "PRIMARY KEY" if key.kind == "primary_key" else "UNIQUE"
        swap.append(
            sql(
                f"ALTER TABLE {qt(t.qualified_name)} ADD CONSTRAINT {qi(key.name)} "
                f"{words} USING INDEX {qi(ktmp_index)}"
            )
        )
        for o, k in fks:
            definition = re.sub(r"\s+NOT VALID$", "", k.definition)
            swap.append(
                sql(
                    f"ALTER TABLE {qt(o.qualified_name)} ADD CONSTRAINT {qi(k.name)} {definition} NOT VALID"
                )
            )
            finish.append(
                sql(f"ALTER TABLE {qt(o.qualified_name)} VALIDATE CONSTRAINT {qi(k.name)}", True)
            )
        return [*prep, *fill, *build, *swap, *finish]

    def _swap_type(self, t: Table, c, to: str, tmp: str, value: str) -> list[Step]:
        """Change `c`'s type online: a shadow column kept in sync by a trigger, backfilled
        in keyset batches with `value` (the USING expression, or the column itself), made
        NOT NULL through a validated check, then swapped in."""
        tq, col, tmpq = qt(t.qualified_name), qi(c.name), qi(tmp)
        new_value = re.sub(rf'(?<![\w."])"?{re.escape(c.name)}"?(?!\w)', f"NEW.{col}", value)
        fn = _ident_trunc(f"{t.name}_sync_{tmp}")
        fnq = f"{qi(t.schema_name)}.{qi(fn)}"
        sync = (
            f"CREATE FUNCTION {fnq}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n    NEW.{tmpq} := {new_value};\n    RETURN NEW;\nEND\n$$"
        )
        steps = [
            Step(code=f"op.execute({py(f'ALTER TABLE {tq} ADD COLUMN {tmpq} {to}')})"),
            Step(code=f"op.execute({py(sync)})"),
            Step(
                code=f"op.execute({py(f'CREATE TRIGGER {qi(fn)} BEFORE INSERT OR UPDATE ON {tq} FOR EACH ROW EXECUTE FUNCTION {fnq}()')})"
            ),
            *self._batched(t, f"{tmpq} = {value}", f"{tmpq} IS DISTINCT FROM {value}"),
        ]
        if not c.nullable:
            steps += self._not_null_steps(t, tmp, to)
        if c.default is not None:
            steps.append(
                Step(
                    code=f"op.execute({py(f'ALTER TABLE {tq} ALTER COLUMN {tmpq} SET DEFAULT {c.default}')})"
                )
            )
        steps += [
            Step(code=f"op.execute({py(f'DROP TRIGGER {qi(fn)} ON {tq}')})"),
            Step(code=f"op.execute({py(f'DROP FUNCTION {fnq}()')})"),
            Step(code=f"op.execute({py(f'ALTER TABLE {tq} DROP COLUMN {col}')})"),
            Step(code=f"op.execute({py(f'ALTER TABLE {tq} RENAME COLUMN {tmpq} TO {col}')})"),
        ]
        if c.comment:
            steps.append(
                Step(code=f"op.execute({py(f'COMMENT ON COLUMN {tq}.{col} IS {lit(c.comment)}')})")
            )
        return steps

    def _set_not_null(self, op: P.SetNotNull) -> list[Step]:
        t = self.table(op.table)
        c = self.column(op.table, op.column)
        if op.backfill is not None:
            self._update(t, f"{qi(c.name)} = {op.backfill}", f"{qi(c.name)} IS NULL")
        if self.ctx.large(op.table) and self.ctx.server_version >= 120000:
            self._safe_not_null(t, c.name, c.type)
        else:
            self.up(
                f"op.alter_column({py(t.name)}, {py(c.name)}, existing_type={_sa(c.type, self.enums)}, "
                f"nullable=False{_tkw(op.table)})"
            )
        c.nullable = False
        return [
            Step(
                code=f"op.alter_column({py(t.name)}, {py(c.name)}, existing_type={_sa(c.type, self.enums)}, nullable=True{_tkw(op.table)})"
            )
        ]

    def _drop_not_null(self, op: P.DropNotNull) -> list[Step]:
        t = self.table(op.table)
        c = self.column(op.table, op.column)
        self.up(
            f"op.alter_column({py(t.name)}, {py(c.name)}, existing_type={_sa(c.type, self.enums)}, nullable=True{_tkw(op.table)})"
        )
        c.nullable = True
        down = []
        if self.ctx.large(op.table) and self.ctx.server_version >= 120000:
            saved = self.out.upgrade
            self.out.upgrade = []
            self._safe_not_null(t, c.name, c.type)
            down = self.out.upgrade
            self.out.upgrade = saved
            self.out.notes.pop()
        else:
            down = [
                Step(
                    code=f"op.alter_column({py(t.name)}, {py(c.name)}, existing_type={_sa(c.type, self.enums)}, nullable=False{_tkw(op.table)})"
                )
            ]
        self.out.warnings.append(
            f"the downgrade of dropping NOT NULL on {t.name}.{c.name} fails if NULLs were written meanwhile"
        )
        return down

    def _set_default(self, op: P.SetDefault) -> list[Step]:
        t = self.table(op.table)
        c = self.column(op.table, op.column)

        def sd(v: str | None) -> str:
            val = "None" if v is None else f"sa.text({py(v)})"
            return (
                f"op.alter_column({py(t.name)}, {py(c.name)}, server_default={val}{_tkw(op.table)})"
            )

        self.up(sd(op.default))
        old = c.default
        c.default = op.default
        return [Step(code=sd(old))]

    # -- indexes -------------------------------------------------------------------
    def _create_index(self, op: P.CreateIndex) -> list[Step]:
        t = self.table(op.table)
        conc = self.ctx.large(op.table)
        keys = []
        ops: dict[str, str] = {}
        for k in op.keys:
            opclass = op.opclasses.get(k)
            if _is_identifier(k) and t.column(k) is not None:
                keys.append(py(k))
                if opclass:
                    ops[k] = opclass
            else:
                expr = k if not opclass else f"{k} {opclass}"
                keys.append(f"sa.text({py(expr)})")
        args = [py(op.name), py(t.name), f"[{', '.join(keys)}]"]
        if op.unique:
            args.append("unique=True")
        if op.method != "btree":
            args.append(f"postgresql_using={py(op.method)}")
        if ops:
            args.append(
                "postgresql_ops={" + ", ".join(f"{py(k)}: {py(v)}" for k, v in ops.items()) + "}"
            )
        if op.include:
            args.append(f"postgresql_include=[{', '.join(py(c) for c in op.include)}]")
        if op.nulls_not_distinct:
            args.append("postgresql_nulls_not_distinct=True")
        if op.where:
            args.append(f"postgresql_where=sa.text({py(op.where)})")
        if conc:
            args.append("postgresql_concurrently=True")
        s = _schema(op.table)
        if s:
            args.append(f"schema={py(s)}")
        self.up(f"op.create_index({', '.join(args)})", conc)
        if conc:
            self.out.notes.append(
                f"index {op.name} built CONCURRENTLY: {t.name} keeps taking writes"
            )
        from migagent.tools.introspect.model import Index

        t.indexes.append(
            Index(
                name=op.name,
                table=t.qualified_name,
                method=op.method,
                unique=op.unique,
                keys=list(op.keys),
                definition="",
            )
        )
        drop = [py(op.name), f"table_name={py(t.name)}"]
        if conc:
            drop.append("postgresql_concurrently=True")
        if s:
            drop.append(f"schema={py(s)}")
        return [Step(code=f"op.drop_index({', '.join(drop)})", autocommit=conc)]

    def _drop_index(self, op: P.DropIndex) -> list[Step]:
        t = self.table(op.table)
        ix = next((i for i in t.indexes if i.name == op.name), None)
        if ix is None:
            raise LoweringError(f"index {op.name} does not exist on {t.name}")
        if ix.constraint:
            return self._drop_constraint(P.DropConstraint(table=op.table, name=ix.constraint))
        conc = self.ctx.large(op.table)
        drop = [py(op.name), f"table_name={py(t.name)}"]
        if conc:
            drop.append("postgresql_concurrently=True")
        if schema := _schema(op.table):
            drop.append(f"schema={py(schema)}")
        self.up(f"op.drop_index({', '.join(drop)})", conc)
        t.indexes.remove(ix)
        definition = ix.definition
        if conc:
            definition = re.sub(
                r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX CONCURRENTLY ", definition
            )
        return [Step(code=f"op.execute({py(definition)})", autocommit=conc)]

    # -- constraints ---------------------------------------------------------------
    def _validate_later(self, table: str, name: str, create: str, kind: str) -> None:
        self.up(create)
        self.up(
            f"op.execute({py(f'ALTER TABLE {qt(table)} VALIDATE CONSTRAINT {qi(name)}')})", True
        )
        self.out.notes.append(
            f"{kind} {name} added NOT VALID and validated in its own transaction "
            "(SHARE UPDATE EXCLUSIVE: reads and writes continue)"
        )

    def _add_foreign_key(self, op: P.AddForeignKey) -> list[Step]:
        t = self.table(op.table)
        ref = self.snap.table(op.ref_table)
        if ref is None and _qual(op.ref_table) not in self.ctx.new_tables:
            raise LoweringError(f"referenced table {op.ref_table} does not exist")
        args = [
            py(op.name),
            py(t.name),
            py(_bare(op.ref_table)),
            f"[{', '.join(py(c) for c in op.columns)}]",
            f"[{', '.join(py(c) for c in op.ref_columns)}]",
        ]
        if op.on_delete:
            args.append(f"ondelete={py(op.on_delete)}")
        if op.on_update:
            args.append(f"onupdate={py(op.on_update)}")
        if source_schema := _schema(op.table):
            args.append(f"source_schema={py(source_schema)}")
        if referent_schema := _schema(op.ref_table):
            args.append(f"referent_schema={py(referent_schema)}")
        if self.ctx.large(op.table, op.ref_table):
            args.append("postgresql_not_valid=True")
            self._validate_later(
                op.table, op.name, f"op.create_foreign_key({', '.join(args)})", "foreign key"
            )
        else:
            self.up(f"op.create_foreign_key({', '.join(args)})")
        return [
            Step(
                code=f'op.drop_constraint({py(op.name)}, {py(t.name)}, type_="foreignkey"{_tkw(op.table)})'
            )
        ]

    def _add_check(self, op: P.AddCheck) -> list[Step]:
        t = self.table(op.table)
        args = [py(op.name), py(t.name), py(op.expression)]
        if schema := _schema(op.table):
            args.append(f"schema={py(schema)}")
        if self.ctx.large(op.table):
            args.append("postgresql_not_valid=True")
            self._validate_later(
                op.table, op.name, f"op.create_check_constraint({', '.join(args)})", "check"
            )
        else:
            self.up(f"op.create_check_constraint({', '.join(args)})")
        return [
            Step(
                code=f'op.drop_constraint({py(op.name)}, {py(t.name)}, type_="check"{_tkw(op.table)})'
            )
        ]

    def _unique_like(self, table: str, name: str, columns: list[str], kind: str) -> None:
        t = self.table(table)
        if self.ctx.large(table):
            s = _schema(table)
            extra = f", schema={py(s)}" if s else ""
            self.up(
                f"op.create_index({py(name)}, {py(t.name)}, [{', '.join(py(c) for c in columns)}], "
                f"unique=True, postgresql_concurrently=True{extra})",
                True,
            )
            words = "PRIMARY KEY" if kind == "primary" else "UNIQUE"
            self.up(
                f"op.execute({py(f'ALTER TABLE {qt(table)} ADD CONSTRAINT {qi(name)} {words} USING INDEX {qi(name)}')})"
            )
            self.out.notes.append(
                f"{kind} constraint {name}: unique index built CONCURRENTLY, then attached "
                "(ADD CONSTRAINT ... USING INDEX takes only a brief lock)"
            )
        elif kind == "primary":
            self.up(
                f"op.create_primary_key({py(name)}, {py(t.name)}, [{', '.join(py(c) for c in columns)}]{_tkw(table)})"
            )
        else:
            self.up(
                f"op.create_unique_constraint({py(name)}, {py(t.name)}, [{', '.join(py(c) for c in columns)}]{_tkw(table)})"
            )

    def _add_unique(self, op: P.AddUnique) -> list[Step]:
        self._unique_like(op.table, op.name, op.columns, "unique")
        return [
            Step(
                code=f'op.drop_constraint({py(op.name)}, {py(_bare(op.table))}, type_="unique"{_tkw(op.table)})'
            )
        ]

    def _add_primary_key(self, op: P.AddPrimaryKey) -> list[Step]:
        self._unique_like(op.table, op.name, op.columns, "primary")
        return [
            Step(
                code=f'op.drop_constraint({py(op.name)}, {py(_bare(op.table))}, type_="primary"{_tkw(op.table)})'
            )
        ]

    def _drop_constraint(self, op: P.DropConstraint) -> list[Step]:
        t = self.table(op.table)
        k = next((c for c in t.constraints if c.name == op.name), None)
        if k is None:
            raise LoweringError(f"constraint {op.name} does not exist on {t.name}")
        type_ = {
            "foreign_key": "foreignkey",
            "unique": "unique",
            "check": "check",
            "primary_key": "primary",
        }.get(k.kind)
        tp = f", type_={py(type_)}" if type_ else ""
        self.up(f"op.drop_constraint({py(op.name)}, {py(t.name)}{tp}{_tkw(op.table)})")
        t.constraints.remove(k)
        large = self.ctx.large(op.table) or (k.ref_table and self.ctx.large(k.ref_table))
        if k.kind in ("foreign_key", "check") and large:
            return [
                Step(
                    code=f"op.execute({py(f'ALTER TABLE {qt(op.table)} ADD CONSTRAINT {qi(k.name)} {k.definition} NOT VALID')})"
                ),
                Step(
                    code=f"op.execute({py(f'ALTER TABLE {qt(op.table)} VALIDATE CONSTRAINT {qi(k.name)}')})",
                    autocommit=True,
                ),
            ]
        return [
            Step(
                code=f"op.execute({py(f'ALTER TABLE {qt(op.table)} ADD CONSTRAINT {qi(k.name)} {k.definition}')})"
            )
        ]

    # -- types, extensions, sequences ------------------------------------------------
    def _create_enum(self, op: P.CreateEnum) -> list[Step]:
        labels = ", ".join(lit(v) for v in op.labels)
        self.up(f"op.execute({py(f'CREATE TYPE {qt(op.name)} AS ENUM ({labels})')})")
        self.enums.add(_bare(op.name))
        return [Step(code=f"op.execute({py(f'DROP TYPE {qt(op.name)}')})")]

    def _add_enum_value(self, op: P.AddEnumValue) -> list[Step]:
        e = self.snap.enums.get(_qual(op.name)) or next(
            (x for x in self.snap.enums.values() if x.name == _bare(op.name)), None
        )
        where = (
            f" BEFORE {lit(op.before)}"
            if op.before
            else f" AFTER {lit(op.after)}"
            if op.after
            else ""
        )
        self.up(
            f"op.execute({py(f'ALTER TYPE {qt(op.name)} ADD VALUE IF NOT EXISTS {lit(op.value)}{where}')})",
            True,
        )
        if e is None:
            self.out.irreversible = (
                f"enum value {op.value!r} cannot be removed without knowing the type"
            )
            return []
        # PostgreSQL cannot drop an enum value: rebuild the type without it
        labels = list(e.labels)
        tmp = _ident_trunc(f"{e.name}_old")
        users = [
            (tb, col)
            for tb in self.snap.tables.values()
            for col in tb.columns
            if col.type.split("[")[0] in (e.name, f"{e.schema_name}.{e.name}")
        ]
        label_sql = ", ".join(lit(v) for v in labels)
        down = [
            f"op.execute({py(f'ALTER TYPE {qt(op.name)} RENAME TO {qi(tmp)}')})",
            f"op.execute({py(f'CREATE TYPE {qt(op.name)} AS ENUM ({label_sql})')})",
        ]
        # an index predicate or expression, or a CHECK, on a column of the type holds its
        # labels as constants of the renamed type: the column's type change cannot rebuild
        # it (no operator compares the new type with the old), so it is dropped first and
        # created again once the columns have the rebuilt type
        held = _enum_dependants(users)
        down.extend(f"op.execute({py(drop)})" for drop, _ in held)
        for tb, col in users:
            if col.default is not None:
                down.append(
                    f"op.execute({py(f'ALTER TABLE {qt(tb.qualified_name)} ALTER COLUMN {qi(col.name)} DROP DEFAULT')})"
                )
            down.append(
                f"op.execute({py(f'ALTER TABLE {qt(tb.qualified_name)} ALTER COLUMN {qi(col.name)} TYPE {qt(op.name)} USING {qi(col.name)}::text::{qt(op.name)}')})"
            )
            if col.default is not None:
                down.append(
                    f"op.execute({py(f'ALTER TABLE {qt(tb.qualified_name)} ALTER COLUMN {qi(col.name)} SET DEFAULT {col.default}')})"
                )
        down.extend(f"op.execute({py(create)})" for _, create in held)
        down.append(f"op.execute({py(f'DROP TYPE {qi(tmp)}')})")
        self.out.warnings.append(
            f"the downgrade rebuilds enum {e.name} without {op.value!r}; it fails if rows still use it"
        )
        e.labels.append(op.value)
        return [Step(code=s) for s in down]

    def _drop_enum(self, op: P.DropEnum) -> list[Step]:
        e = self.snap.enums.get(_qual(op.name)) or next(
            (x for x in self.snap.enums.values() if x.name == _bare(op.name)), None
        )
        if e is None:
            raise LoweringError(f"enum {op.name} does not exist")
        self.up(f"op.execute({py(f'DROP TYPE {qt(op.name)}')})")
        labels = ", ".join(lit(v) for v in e.labels)
        return [Step(code=f"op.execute({py(f'CREATE TYPE {qt(op.name)} AS ENUM ({labels})')})")]

    def _create_extension(self, op: P.CreateExtension) -> list[Step]:
        self.up(f"op.execute({py(f'CREATE EXTENSION IF NOT EXISTS {qi(op.name)}')})")
        return [Step(code=f"op.execute({py(f'DROP EXTENSION IF EXISTS {qi(op.name)}')})")]

    def _alter_sequence_type(self, op: P.AlterSequenceType) -> list[Step]:
        seq = self.snap.sequences.get(_qual(op.name)) or next(
            (s for s in self.snap.sequences.values() if s.name == _bare(op.name)), None
        )
        if seq is None:
            raise LoweringError(f"sequence {op.name} does not exist")
        self.up(
            f"op.execute({py(f'ALTER SEQUENCE {qt(op.name)} AS {normalize_type(op.new_type)}')})"
        )
        old = seq.data_type
        seq.data_type = normalize_type(op.new_type)
        return [Step(code=f"op.execute({py(f'ALTER SEQUENCE {qt(op.name)} AS {old}')})")]

    # -- data ----------------------------------------------------------------------
    def _update_sql(
        self,
        t: Table,
        assignment: str,
        where: str | None,
        *,
        from_sql: str | None = None,
        join_on: str | None = None,
        alias: str | None = None,
    ) -> str:
        target = qt(t.qualified_name) + (f" AS {alias}" if alias else "")
        conds = [c for c in (join_on, where) if c]
        sql = f"UPDATE {target} SET {assignment}"
        if from_sql:
            sql += f" FROM {from_sql}"
        if conds:
            sql += " WHERE " + " AND ".join(f"({c})" if " or " in c.lower() else c for c in conds)
        return sql

    def _update(
        self, t: Table, assignment: str, where: str | None, *, steps: list[Step] | None = None, **kw
    ) -> None:
        """One UPDATE on a small table, keyset batches on a large one."""
        sink = self.out.upgrade if steps is None else steps
        if self.ctx.large(t.qualified_name):
            sink.extend(self._batched(t, assignment, where, **kw))
        else:
            sink.append(
                Step(code=f"op.execute({py(self._update_sql(t, assignment, where, **kw))})")
            )

    def _batched_update(self, t: Table, assignment: str, where: str | None) -> None:
        self.out.upgrade.extend(self._batched(t, assignment, where))

    def _batched(
        self,
        t: Table,
        assignment: str,
        where: str | None,
        *,
        from_sql: str | None = None,
        join_on: str | None = None,
        alias: str | None = None,
    ) -> list[Step]:
        pk = _single_pk(t)
        if pk is None:
            self.out.warnings.append(
                f"{t.name} has no single-column primary key: its backfill runs as one UPDATE"
            )
            return [
                Step(
                    code=f"op.execute({py(self._update_sql(t, assignment, where, from_sql=from_sql, join_on=join_on, alias=alias))})"
                )
            ]
        ref = f"{alias or qt(t.qualified_name)}.{qi(pk)}"
        rng = f"{ref} >= :lo AND {ref} <= :hi"
        update = self._update_sql(
            t,
            assignment,
            " AND ".join(x for x in (rng, where) if x),
            from_sql=from_sql,
            join_on=join_on,
            alias=alias,
        )
        select_first = f"SELECT {qi(pk)} FROM {qt(t.qualified_name)} ORDER BY {qi(pk)} LIMIT {self.ctx.batch_size}"
        select_next = (
            f"SELECT {qi(pk)} FROM {qt(t.qualified_name)} WHERE {qi(pk)} > :last "
            f"ORDER BY {qi(pk)} LIMIT {self.ctx.batch_size}"
        )
        code = f"""# keyset batches of {self.ctx.batch_size:,} rows on {pk}, each committed on its own
bind = op.get_bind()
batch = sa.text({py(update)})
last = None
while True:
    if last is None:
        found = bind.execute(sa.text({py(select_first)}))
    else:
        found = bind.execute(sa.text({py(select_next)}), {{"last": last}})
    # offline (alembic --sql) nothing comes back: show one batch's statement
    if found is None:
        bind.execute(batch, {{"lo": 0, "hi": 0}})
        break
    keys = found.scalars().all()
    if not keys:
        break
    bind.execute(batch, {{"lo": keys[0], "hi": keys[-1]}})
    last = keys[-1]"""
        self.out.notes.append(
            f"backfill of {t.name} in keyset batches of {self.ctx.batch_size:,} rows, each its own "
            "transaction (row locks held briefly, no long-running transaction)"
        )
        return [Step(code=code, autocommit=True)]

    def _backfill(self, op: P.Backfill) -> list[Step]:
        t = self.table(op.table)
        self.column(op.table, op.column)
        self._update(
            t,
            f"{qi(op.column)} = {op.value}",
            op.where,
            from_sql=op.from_sql,
            join_on=op.join_on,
            alias=op.alias,
        )
        if op.reverse is None:
            before = self.ctx.snapshot.table(op.table)
            if before is None or before.column(op.column) is None:
                return []  # a column the revision adds: its downgrade drops it
            # the values the backfill overwrote are kept nowhere: a `pass` that says so
            self.out.data_loss.append(f"the values of {t.name}.{op.column} the backfill replaced")
            self.out.irreversible = self.out.irreversible or (
                f"the backfill of {t.name}.{op.column} overwrites values that are not kept anywhere"
            )
            return [
                Step(
                    code=f"# {t.name}.{op.column}: the values the upgrade replaced are not kept "
                    "anywhere, so there is nothing to restore\npass"
                )
            ]
        down: list[Step] = []
        self._update(t, f"{qi(op.column)} = {op.reverse}", None, steps=down)
        return down

    def _raw_sql(self, op: P.RawSQL) -> list[Step]:
        if op.upgrade.strip():
            self.up(f"op.execute({py(op.upgrade)})", op.autocommit)
        if op.downgrade is None:
            self.out.irreversible = self.out.irreversible or f"no reverse for: {op.upgrade[:80]}"
            return []
        if not op.downgrade.strip():  # nothing to undo (one of several statements)
            return []
        return [Step(code=f"op.execute({py(op.downgrade)})", autocommit=op.autocommit)]


def lower(plan: P.DraftPlan, ctx: LowerContext) -> Lowered:
    """Lower a plan to upgrade/downgrade steps (raises LoweringError)."""
    out = _Lowerer(ctx).lower(plan)
    if plan.irreversible and not out.irreversible:
        out.irreversible = plan.irreversible
    return out


# ---------------------------------------------------------------- utilities
def _is_identifier(s: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", s))


def _rebuildable(ix, column: str) -> bool:
    """An index on `column` alone (no expression, INCLUDE or predicate): the online key
    type change rebuilds it CONCURRENTLY on the shadow column under the same name."""
    return ix.keys == [column] and not ix.include and not ix.predicate and not ix.constraint


def _on_new_row(expr: str, t: Table) -> str:
    """`coalesce(name, '')` -> `coalesce(NEW.name, '')`: an expression over `t`'s columns as a
    row trigger computes it (string literals and function names are left alone)."""
    names = sorted((c.name for c in t.columns), key=len, reverse=True)
    parts = re.split(r"('(?:[^']|'')*')", expr)
    for i in range(0, len(parts), 2):
        for n in names:
            parts[i] = re.sub(
                rf'(?<![\w."$:])(?:"{re.escape(n)}"|{re.escape(n)})(?![\w"$])(?!\s*\()',
                f"NEW.{qi(n)}",
                parts[i],
            )
    return "".join(parts)


def _mentions(expr: str, column: str) -> bool:
    return bool(re.search(rf"(?<![\w.]){re.escape(column)}(?!\w)", expr))


def _is_utc_reading(using: str, column: str) -> bool:
    """`col AT TIME ZONE 'UTC'`: the USING a timestamp <-> timestamptz change needs
    when the stored values are UTC."""
    pattern = rf'"?{re.escape(column)}"?\s+AT\s+TIME\s+ZONE\s+\'(?:UTC|Etc/UTC)\''
    return re.fullmatch(pattern, using.strip(), re.I) is not None


def _reads_only(expr: str | None, column: str, t: Table) -> bool:
    """Whether a USING expression reads no column of `t` but `column` (so a row
    trigger can compute it from NEW)."""
    if expr is None:
        return True
    return not any(_mentions(expr, other.name) for other in t.columns if other.name != column)


def _shadow_name(column: str, sql_type: str) -> str:
    """`seq_no` + `bigint` -> `seq_no_bigint`: the shadow column of an online type change."""
    word = re.sub(r"\W+", "_", sql_type).strip("_")
    return _ident_trunc(f"{column}_{word}")


def _ident_trunc(name: str) -> str:
    return name[:63]


def _single_pk(t: Table) -> str | None:
    pk = next((k for k in t.constraints if k.kind == "primary_key"), None)
    if pk and len(pk.columns) == 1:
        return pk.columns[0]
    return None


def _zero_value(sql_type: str) -> str:
    fam = type_family(sql_type)
    return {
        "int": "0", "num": "0", "text": "''", "boolean": "false", "timestamp": "'epoch'",
        "date": "'epoch'", "jsonb": "'{}'", "json": "'{}'", "uuid": "'00000000-0000-0000-0000-000000000000'",
        "array": "'{}'", "bytea": "''",
    }.get(fam, "''")  # fmt: skip


def _auto_using(column: str, old: str, new: str, enums: set[str]) -> str | None:
    """A USING clause when PostgreSQL has no assignment cast from old to new."""
    fo, fn = type_family(old), type_family(new)
    if normalize_type(old) == normalize_type(new):
        return None
    if fo == fn and fo in ("int", "num", "text", "timestamp"):
        return None
    if {fo, fn} <= {"int", "num"}:
        return None
    if fn == "text" and fo not in enums and _bare(old) not in enums:
        return None
    if fo == "timestamp" and fn == "date":
        return None
    if fn in enums or _bare(new) in enums:
        return f"{qi(column)}::text::{new}"
    if fo in enums or _bare(old) in enums:
        return f"{qi(column)}::text::{new}"
    if {fn, fo} == {"json", "jsonb"}:
        return None
    return f"{qi(column)}::{new}"


def _recast_default(default: str, new_type: str) -> str | None:
    m = re.fullmatch(r"('(?:[^']|'')*')(::[\w\s.\"\[\]()]+)?", default.strip())
    if m:
        return f"{m.group(1)}::{new_type}"
    if re.fullmatch(r"-?\d+(\.\d+)?", default.strip()):
        return default
    return None


def _raw_alter_type(table: str, column: str, new: str, using: str | None) -> str:
    sql = f"ALTER TABLE {qt(table)} ALTER COLUMN {qi(column)} TYPE {new}"
    if using:
        sql += f" USING {using}"
    return f"op.execute({py(sql)})"


def table_ddl(t: Table, snap: SchemaSnapshot) -> list[str]:
    """Statements that recreate a table as the snapshot knows it (for downgrades)."""
    stmts: list[str] = []
    cols = []
    for c in sorted(t.columns, key=lambda c: c.position):
        if c.default and "nextval(" in c.default:
            m = re.search(r"nextval\('([^']+)'", c.default)
            if m:
                seq_name = m.group(1)
                seq = snap.sequences.get(_qual(seq_name)) or next(
                    (s for s in snap.sequences.values() if s.name == _bare(seq_name)), None
                )
                stmts.append(f"CREATE SEQUENCE {seq_name} AS {seq.data_type if seq else 'integer'}")
        parts = [qi(c.name), c.type]
        if c.generated:
            parts.append(f"GENERATED ALWAYS AS ({c.generated}) STORED")
        elif c.identity:
            parts.append(f"GENERATED {c.identity.upper()} AS IDENTITY")
        elif c.default is not None:
            parts.append(f"DEFAULT {c.default}")
        if not c.nullable:
            parts.append("NOT NULL")
        cols.append(" ".join(parts))
    for k in t.constraints:
        if k.kind in ("primary_key", "unique", "check", "exclusion"):
            cols.append(f"CONSTRAINT {qi(k.name)} {k.definition}")
    stmts.append(f"CREATE TABLE {qt(t.qualified_name)} ({', '.join(cols)})")
    for c in t.columns:
        if c.default and "nextval(" in c.default:
            m = re.search(r"nextval\('([^']+)'", c.default)
            if m:
                stmts.append(
                    f"ALTER SEQUENCE {m.group(1)} OWNED BY {qt(t.qualified_name)}.{qi(c.name)}"
                )
    for k in t.constraints:
        if k.kind == "foreign_key":
            stmts.append(
                f"ALTER TABLE {qt(t.qualified_name)} ADD CONSTRAINT {qi(k.name)} {k.definition}"
            )
    for ix in t.indexes:
        if not ix.constraint and not ix.primary:
            stmts.append(ix.definition)
    if t.comment:
        stmts.append(f"COMMENT ON TABLE {qt(t.qualified_name)} IS {lit(t.comment)}")
    return stmts
