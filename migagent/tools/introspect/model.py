"""The schema snapshot: everything introspection knows about a database.

This model is the contract between introspection, the schema diff, verify, lint,
the planners and the spec. Objects are keyed by qualified name
(`schema.name`, or `schema.table.name` for objects that live on a table), and
every list is kept in a deterministic order so two snapshots of the same schema
serialise identically. Definitions use PostgreSQL's own deparsers
(`pg_get_indexdef`, `pg_get_constraintdef`, `format_type`, ...), so equality
of text means equality of object.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=False, extra="forbid")


class Column(_Model):
    name: str
    type: str  # format_type(): "character varying(255)", "timestamp with time zone"
    nullable: bool = True
    default: str | None = None  # pg_get_expr of the default, None when absent
    identity: Literal["always", "by default"] | None = None
    generated: str | None = None  # expression of a STORED/VIRTUAL generated column
    generated_kind: Literal["stored", "virtual"] | None = None
    collation: str | None = None  # only when it differs from the type's default
    comment: str | None = None
    position: int = 0  # attnum; order matters for DDL, not for equality of columns
    inherited: bool = False  # comes from a parent (partition or INHERITS), not declared locally


ConstraintKind = Literal["primary_key", "foreign_key", "unique", "check", "exclusion", "not_null"]


class Constraint(_Model):
    name: str
    kind: ConstraintKind
    definition: str  # pg_get_constraintdef(oid)
    columns: list[str] = Field(default_factory=list)
    validated: bool = True
    deferrable: bool = False
    initially_deferred: bool = False
    index: str | None = None  # index that backs a PK/UNIQUE/EXCLUDE constraint
    # foreign keys
    ref_table: str | None = None  # qualified name
    ref_columns: list[str] = Field(default_factory=list)
    on_update: str | None = None  # "NO ACTION", "CASCADE", ...
    on_delete: str | None = None
    comment: str | None = None
    inherited: bool = False  # cloned from a parent table (partitions, INHERITS)


class Index(_Model):
    name: str
    table: str  # qualified table name
    method: str  # btree, gin, gist, hash, brin, spgist, ...
    unique: bool = False
    primary: bool = False
    keys: list[str] = Field(default_factory=list)  # column names or expressions, in order
    opclasses: list[str | None] = Field(default_factory=list)  # None = default opclass
    include: list[str] = Field(default_factory=list)
    predicate: str | None = None
    nulls_not_distinct: bool = False
    valid: bool = True
    constraint: str | None = None  # constraint this index backs, if any
    definition: str  # pg_get_indexdef(oid)
    size_bytes: int = 0  # statistic, not part of equality
    comment: str | None = None
    parent: str | None = None  # qualified name of the partitioned index this one is attached to


class Trigger(_Model):
    name: str
    table: str
    definition: str  # pg_get_triggerdef(oid)
    enabled: Literal["origin", "always", "replica", "disabled"] = "origin"
    inherited: bool = False  # cloned from a partitioned table's trigger
    comment: str | None = None


class Policy(_Model):
    name: str
    table: str
    command: str  # ALL, SELECT, INSERT, UPDATE, DELETE
    permissive: bool = True
    roles: list[str] = Field(default_factory=list)
    using: str | None = None
    with_check: str | None = None
    comment: str | None = None


class Table(_Model):
    schema_name: str
    name: str
    kind: Literal["table", "partitioned"] = "table"
    columns: list[Column] = Field(default_factory=list)
    constraints: list[Constraint] = Field(default_factory=list)
    indexes: list[Index] = Field(default_factory=list)
    triggers: list[Trigger] = Field(default_factory=list)
    policies: list[Policy] = Field(default_factory=list)
    rls_enabled: bool = False
    rls_forced: bool = False
    persistence: Literal["permanent", "unlogged"] = "permanent"
    partition_key: str | None = None  # pg_get_partkeydef
    partition_of: str | None = None  # qualified parent
    partition_bound: str | None = None  # pg_get_expr(relpartbound)
    inherits: list[str] = Field(default_factory=list)  # INHERITS parents (not partitions)
    options: list[str] = Field(default_factory=list)  # reloptions, e.g. "fillfactor=70"
    comment: str | None = None
    # statistics: facts about size, never part of schema equality
    row_estimate: int = 0  # reltuples, 0 when never analysed and empty
    total_bytes: int = 0  # pg_total_relation_size
    table_bytes: int = 0  # pg_relation_size

    @property
    def qualified_name(self) -> str:
        return f"{self.schema_name}.{self.name}"

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


class View(_Model):
    schema_name: str
    name: str
    materialized: bool = False
    definition: str  # pg_get_viewdef
    columns: list[Column] = Field(default_factory=list)
    indexes: list[Index] = Field(default_factory=list)  # materialized views only
    triggers: list[Trigger] = Field(default_factory=list)  # INSTEAD OF triggers
    options: list[str] = Field(default_factory=list)  # reloptions, e.g. "security_invoker=true"
    depends_on: list[str] = Field(default_factory=list)  # relations the view reads (qualified)
    comment: str | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema_name}.{self.name}"


class Enum(_Model):
    schema_name: str
    name: str
    labels: list[str]
    comment: str | None = None


class Domain(_Model):
    schema_name: str
    name: str
    base_type: str
    nullable: bool = True
    default: str | None = None
    checks: list[str] = Field(default_factory=list)  # pg_get_constraintdef of each CHECK
    comment: str | None = None


class CompositeType(_Model):
    schema_name: str
    name: str
    attributes: list[tuple[str, str]]  # (name, type)
    comment: str | None = None


class Sequence(_Model):
    schema_name: str
    name: str
    data_type: str
    start: int
    increment: int
    min_value: int
    max_value: int
    cycle: bool = False
    cache: int = 1
    owned_by: str | None = (
        None  # "schema.table.column" (serial ownership; identity sequences are omitted)
    )
    last_value: int | None = None  # statistic, not part of equality
    comment: str | None = None


class Function(_Model):
    schema_name: str
    name: str
    identity_args: str  # pg_get_function_identity_arguments
    kind: Literal["function", "procedure", "aggregate", "window"] = "function"
    returns: str | None = None
    language: str
    definition: str  # pg_get_functiondef (None-safe: aggregates get a synthetic text)
    sql_body: bool = False  # SQL-standard body (BEGIN ATOMIC): parsed at creation time
    comment: str | None = None

    @property
    def signature(self) -> str:
        return f"{self.schema_name}.{self.name}({self.identity_args})"


class Extension(_Model):
    name: str
    version: str
    schema_name: str


class SchemaSnapshot(_Model):
    """One database's schema at one moment, plus the sizes that inform safety."""

    server_version: int  # server_version_num, e.g. 180001
    server_version_text: str = ""
    database: str = ""
    schemas: list[str] = Field(default_factory=list)  # user schemas, sorted
    tables: dict[str, Table] = Field(default_factory=dict)
    views: dict[str, View] = Field(default_factory=dict)
    enums: dict[str, Enum] = Field(default_factory=dict)
    domains: dict[str, Domain] = Field(default_factory=dict)
    composite_types: dict[str, CompositeType] = Field(default_factory=dict)
    sequences: dict[str, Sequence] = Field(default_factory=dict)
    functions: dict[str, Function] = Field(default_factory=dict)  # keyed by signature
    extensions: dict[str, Extension] = Field(default_factory=dict)
    alembic_revisions: list[str] = Field(default_factory=list)  # alembic_version rows
    # objects a sandbox stand-in created (e.g. uuid-ossp shim): excluded from diffs
    stand_ins: list[str] = Field(default_factory=list)

    def table(self, name: str) -> Table | None:
        """Look a table up by `schema.name`, or by bare name in any schema (public first)."""
        if name in self.tables:
            return self.tables[name]
        if "." not in name:
            if f"public.{name}" in self.tables:
                return self.tables[f"public.{name}"]
            matches = [t for t in self.tables.values() if t.name == name]
            if len(matches) == 1:
                return matches[0]
        return None

    def row_counts(self) -> dict[str, int]:
        """Estimated rows per qualified table name (catalog estimates)."""
        return {k: t.row_estimate for k, t in self.tables.items()}
