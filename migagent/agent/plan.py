"""The backend-neutral plan: what a migration changes, before anyone writes code.

A backend (the offline planner, Claude, or the desired-schema diff) turns a
request into a `DraftPlan`: a list of typed operations plus the intent,
assumptions and warnings behind them. `migagent.agent.lower` turns each
operation into Alembic op-code that is safe for the table's size and the
server's version, so lock safety lives in one place whoever planned.

Names are plain identifiers; a table is `name` or `schema.name` (public by
default). SQL expressions (defaults, checks, predicates, index expressions,
backfill values) are SQL text, exactly as they would appear in DDL.
"""

from __future__ import annotations

from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from migagent.tools.introspect.model import SchemaSnapshot


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def tables(self) -> list[str]:
        """Tables this operation touches (for sizes and the spec)."""
        table = getattr(self, "table", None)
        return [table] if table else []


class ColumnDef(BaseModel):
    """A column as DDL needs it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    type: str  # SQL type text: "bigint", "character varying(32)", "timestamp with time zone"
    nullable: bool = True
    default: str | None = None  # SQL expression
    generated: str | None = None  # expression of a STORED generated column
    generated_kind: Literal["stored", "virtual"] | None = None  # None: stored
    identity: Literal["always", "by default"] | None = None
    primary_key: bool = False
    autoincrement: bool | None = None  # False: never SERIAL (SQLAlchemy's integer-key default)


# ------------------------------------------------------------------ tables
class CreateTable(_Op):
    op: Literal["create_table"] = "create_table"
    table: str
    columns: list[ColumnDef]
    primary_key: list[str] = Field(default_factory=list)  # when not on a column
    unique: list[list[str]] = Field(default_factory=list)
    foreign_keys: list[AddForeignKey] = Field(default_factory=list)
    checks: list[AddCheck] = Field(default_factory=list)


class DropTable(_Op):
    op: Literal["drop_table"] = "drop_table"
    table: str


class RenameTable(_Op):
    op: Literal["rename_table"] = "rename_table"
    table: str
    new_name: str


# ----------------------------------------------------------------- columns
class AddColumn(_Op):
    op: Literal["add_column"] = "add_column"
    table: str
    column: ColumnDef


class DropColumn(_Op):
    op: Literal["drop_column"] = "drop_column"
    table: str
    column: str


class RenameColumn(_Op):
    op: Literal["rename_column"] = "rename_column"
    table: str
    column: str
    new_name: str


class AlterColumnType(_Op):
    op: Literal["alter_type"] = "alter_type"
    table: str
    column: str
    new_type: str
    using: str | None = None  # USING expression (upgrade)
    reverse_using: str | None = None  # USING expression for the downgrade


class SetNotNull(_Op):
    op: Literal["set_not_null"] = "set_not_null"
    table: str
    column: str
    backfill: str | None = None  # SQL value for existing NULLs, if any


class DropNotNull(_Op):
    op: Literal["drop_not_null"] = "drop_not_null"
    table: str
    column: str


class SetDefault(_Op):
    op: Literal["set_default"] = "set_default"
    table: str
    column: str
    default: str | None  # None drops the default


# ----------------------------------------------------- indexes, constraints
IndexMethod = Literal["btree", "hash", "gin", "gist", "brin", "spgist"]


class CreateIndex(_Op):
    op: Literal["create_index"] = "create_index"
    table: str
    name: str
    keys: list[str]  # column names or SQL expressions (expressions are parenthesised)
    method: IndexMethod = "btree"
    opclasses: dict[str, str] = Field(default_factory=dict)  # key -> operator class
    unique: bool = False
    where: str | None = None
    include: list[str] = Field(default_factory=list)
    nulls_not_distinct: bool = False  # UNIQUE ... NULLS NOT DISTINCT (PostgreSQL 15+)
    kind: str = "plain"  # plain, unique, partial, expression, gin, trigram, fts, covering


class DropIndex(_Op):
    op: Literal["drop_index"] = "drop_index"
    table: str
    name: str


class AddForeignKey(_Op):
    op: Literal["add_foreign_key"] = "add_foreign_key"
    table: str
    name: str
    columns: list[str]
    ref_table: str
    ref_columns: list[str]
    on_delete: str | None = None  # CASCADE, SET NULL, RESTRICT, ...
    on_update: str | None = None

    def tables(self) -> list[str]:
        return [self.table, self.ref_table]


class AddCheck(_Op):
    op: Literal["add_check"] = "add_check"
    table: str
    name: str
    expression: str


class AddUnique(_Op):
    op: Literal["add_unique"] = "add_unique"
    table: str
    name: str
    columns: list[str]


class DropConstraint(_Op):
    op: Literal["drop_constraint"] = "drop_constraint"
    table: str
    name: str


class AddPrimaryKey(_Op):
    op: Literal["add_primary_key"] = "add_primary_key"
    table: str
    name: str
    columns: list[str]


# ----------------------------------------------------------- types, extensions
class CreateEnum(_Op):
    op: Literal["create_enum"] = "create_enum"
    name: str
    labels: list[str]


class AddEnumValue(_Op):
    op: Literal["add_enum_value"] = "add_enum_value"
    name: str
    value: str
    before: str | None = None
    after: str | None = None


class DropEnum(_Op):
    op: Literal["drop_enum"] = "drop_enum"
    name: str


class CreateExtension(_Op):
    op: Literal["create_extension"] = "create_extension"
    name: str


class AlterSequenceType(_Op):
    op: Literal["alter_sequence_type"] = "alter_sequence_type"
    name: str  # qualified or bare sequence name
    new_type: str


# ------------------------------------------------------------------ data
class Backfill(_Op):
    """Set `column` of existing rows to `value` (an SQL expression over the row).

    `from_sql` adds an `UPDATE ... FROM` clause (a join to another table);
    `where` restricts the rows. `reverse` is the downgrade's value for a
    column that existed before (None: the downgrade need not touch data,
    e.g. when the column is dropped again).
    """

    op: Literal["backfill"] = "backfill"
    table: str
    column: str
    value: str
    from_sql: str | None = None  # e.g. "customers AS c" (joined in with `join_on`)
    join_on: str | None = None
    where: str | None = None
    reverse: str | None = None
    alias: str | None = None  # alias of `table` used inside value/where


class RawSQL(_Op):
    """Anything without a typed operation: SQL for upgrade and its reverse."""

    op: Literal["raw_sql"] = "raw_sql"
    upgrade: str
    downgrade: str | None = None  # None: irreversible
    table: str | None = None
    autocommit: bool = False


Operation = Annotated[
    CreateTable
    | DropTable
    | RenameTable
    | AddColumn
    | DropColumn
    | RenameColumn
    | AlterColumnType
    | SetNotNull
    | DropNotNull
    | SetDefault
    | CreateIndex
    | DropIndex
    | AddForeignKey
    | AddCheck
    | AddUnique
    | DropConstraint
    | AddPrimaryKey
    | CreateEnum
    | AddEnumValue
    | DropEnum
    | CreateExtension
    | AlterSequenceType
    | Backfill
    | RawSQL,
    Field(discriminator="op"),
]

CreateTable.model_rebuild()


class DraftPlan(BaseModel):
    """What a backend decided: operations plus the reasoning a reviewer needs."""

    model_config = ConfigDict(extra="forbid")

    intent: str  # one-line summary, e.g. "Add full-text search to sections"
    slug: str = ""  # file-name part, e.g. "add_fulltext_search_to_sections"
    operations: list[Operation] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    irreversible: str | None = None  # reason, when the downgrade cannot restore everything
    backend: str = "offline"
    categories: list[str] = Field(default_factory=list)  # e.g. ["add_column", "fts"]

    def tables(self) -> list[str]:
        seen: list[str] = []
        for op in self.operations:
            for t in op.tables():
                if t not in seen:
                    seen.append(t)
        return seen

    @property
    def data_migration(self) -> bool:
        return any(isinstance(op, Backfill) for op in self.operations) or any(
            isinstance(op, AlterColumnType) and op.using for op in self.operations
        )


class Facts(BaseModel):
    """What a backend may know about the database when it plans."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    snapshot: SchemaSnapshot
    rows: dict[str, int] = Field(default_factory=dict)  # overrides: table -> rows
    server_version: int = 180000
    large_rows: int | None = None  # --large-rows (None: tools.policy.LARGE_ROWS)

    def large(self, table: str) -> bool:
        """Whether `table` takes the online forms, under the one policy and --large-rows."""
        from migagent.tools.policy import is_large

        return is_large(self.row_count(table), large_rows=self.large_rows)

    def row_count(self, table: str) -> int:
        for key in (table, table.split(".")[-1], f"public.{table}"):
            if key in self.rows:
                return self.rows[key]
        t = self.snapshot.table(table)
        return max(t.row_estimate, 0) if t else 0


class Backend(Protocol):
    """A planner: request + facts -> plan. Offline parser, Claude, desired-schema diff."""

    name: str

    def plan(self, request: str, facts: Facts) -> DraftPlan: ...
