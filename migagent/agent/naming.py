"""Names of new indexes and constraints, in the project's own conventions.

The offline planner names what it creates the way PostgreSQL would
(`orders_status_idx`, `orders_customer_id_fkey`, `orders_total_check`,
`orders_email_key`, `orders_pkey`). A team usually has its own pattern; this
module finds it and renames the planner's generated names to it, once, before
lowering (so the lowered steps, the downgrade and the spec all use the new name):

1. the naming table of the project's `.claude/conventions.md` (what
   `migagent init` installs: `| index | ix_<table>_<column>[_<column>] | ...`);
2. failing that, the pattern the existing schema already uses, per kind of
   object (its indexes say `ix_<table>_<columns>` or `<table>_<columns>_idx`,
   its foreign keys `fk_...` or `..._fkey`, ...); a kind without evidence keeps
   the planner's name.

Only names the planner generated are renamed (they have its exact shape); a
name given in the request, and every existing object, keeps its name. A new
name that is taken already, or too long for PostgreSQL, is not used.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field

from migagent.agent import plan as P
from migagent.tools.introspect.model import SchemaSnapshot

KINDS = ("index", "unique", "fk", "check", "pk", "fts")
MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1 (bytes)

#: the families a schema's names are recognised in, per kind ({t} table, {c} columns)
FAMILIES: dict[str, dict[str, str]] = {
    "conventions": {
        "index": "ix_<table>_<columns>",
        "unique": "uq_<table>_<columns>",
        "fk": "fk_<table>_<columns>_<ref_table>",
        "check": "ck_<table>_<what>",
        "pk": "pk_<table>",
    },
    "idx_prefix": {"index": "idx_<table>_<columns>"},
    "postgres": {
        "index": "<table>_<columns>_idx",
        "unique": "<table>_<columns>_key",
        "fk": "<table>_<columns>_fkey",
        "check": "<table>_<what>_check",
        "pk": "<table>_pkey",
    },
}

#: how the offline planner shapes a generated name: kind -> (prefix, suffix) around
#: `<table>_` ... ; the middle is the columns / what part
_PLANNER = {
    "index": ("", "_idx"),
    "trigram": ("", "_trgm_idx"),
    "unique": ("", "_key"),
    "fk": ("", "_fkey"),
    "check": ("", "_check"),
}


class Naming(BaseModel):
    """Patterns per kind (`ix_<table>_<columns>`) and where they come from."""

    patterns: dict[str, str] = Field(default_factory=dict)
    source: str = ""

    def name(
        self,
        kind: str,
        table: str,
        columns: str = "",
        *,
        ref_table: str = "",
        what: str = "",
    ) -> str | None:
        """The name `kind` gets on `table`, or None when the project has no pattern for it."""
        pattern = self.patterns.get(kind)
        if not pattern:
            return None
        name = (
            pattern.replace("<column>[_<column>]", "<columns>")
            .replace("<columns>", columns or what)
            .replace("<column>", columns or what)
            .replace("<ref_table>", _bare(ref_table))
            .replace("<what>", what or columns)
            .replace("<table>", _bare(table))
        )
        name = re.sub(r"_+", "_", name).strip("_")
        if "<" in name or not re.fullmatch(r"[a-z_][a-z0-9_$]*", name):
            return None  # a placeholder this module does not know, or a quoted identifier
        if len(name.encode()) > MAX_IDENTIFIER:
            return None
        return name


# ------------------------------------------------------------------ finding the conventions
def from_conventions(text: str) -> Naming | None:
    """Patterns from the naming table of a conventions file (`| index | \\`ix_...\\` | ...`)."""
    patterns: dict[str, str] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not line.lstrip().startswith("|"):
            continue
        found = re.search(r"`([^`]*<table>[^`]*)`", cells[1])
        kind = _kind_of(cells[0])
        if found and kind and kind not in patterns:
            patterns[kind] = found.group(1).strip()
    return Naming(patterns=patterns, source=".claude/conventions.md") if patterns else None


def _kind_of(label: str) -> str | None:
    low = label.lower()
    for words, kind in (
        (("full-text", "full text", "gin", "fts"), "fts"),
        (("unique",), "unique"),
        (("foreign",), "fk"),
        (("check",), "check"),
        (("primary",), "pk"),
        (("index",), "index"),
    ):
        if any(w in low for w in words):
            return kind
    return None


def from_schema(snap: SchemaSnapshot) -> Naming | None:
    """Per kind, the family most of the schema's existing names follow (at least two
    names, and more than half of that kind's); None when nothing is clear."""
    votes: dict[str, Counter] = {k: Counter() for k in KINDS}
    seen: Counter = Counter()
    for t in snap.tables.values():
        backing = {c.index or c.name for c in t.constraints if c.kind in ("primary_key", "unique")}
        for ix in t.indexes:
            if ix.primary or ix.name in backing or ix.constraint or ix.parent:
                continue
            cols = "_".join(k for k in ix.keys if re.fullmatch(r"[a-z_][a-z0-9_]*", k))
            kind = "unique" if ix.unique else "index"
            _vote(votes, seen, kind, ix.name, t.name, cols)
        for k in t.constraints:
            if k.inherited:
                continue
            cols = "_".join(k.columns)
            if k.kind == "foreign_key":
                ref = (k.ref_table or "").rpartition(".")[2]
                _vote(votes, seen, "fk", k.name, t.name, cols, ref=ref)
            elif k.kind == "unique":
                _vote(votes, seen, "unique", k.name, t.name, cols)
            elif k.kind == "primary_key":
                _vote(votes, seen, "pk", k.name, t.name, cols)
            elif k.kind == "check":
                _vote(votes, seen, "check", k.name, t.name, cols)
    patterns: dict[str, str] = {}
    for kind, counter in votes.items():
        if not counter:
            continue
        family, n = counter.most_common(1)[0]
        if n >= 2 and n * 2 > seen[kind]:
            patterns[kind] = FAMILIES[family][kind]
    return Naming(patterns=patterns, source="the existing schema's names") if patterns else None


def _vote(votes, seen, kind: str, name: str, table: str, cols: str, *, ref: str = "") -> None:
    seen[kind] += 1
    for family, patterns in FAMILIES.items():
        pattern = patterns.get(kind)
        if pattern and _matches(pattern, name, table, cols, ref):
            votes[kind][family] += 1
            return


def _matches(pattern: str, name: str, table: str, cols: str, ref: str) -> bool:
    """Whether `name` has `pattern`'s shape for this table (the columns part may be any
    words when the object's columns are not plain, or when it is a check's `what`)."""
    regex = re.escape(pattern)
    for token, value in (
        ("<table>", re.escape(table)),
        ("<ref_table>", re.escape(ref) if ref else r"\w+"),
        ("<columns>", r"\w+"),
        ("<what>", r"\w+"),
    ):
        regex = regex.replace(re.escape(token), value)
    return re.fullmatch(regex, name) is not None


def project_naming(conventions_file: str | Path | None, snap: SchemaSnapshot) -> Naming | None:
    """The project's conventions file when it has a naming table, else the schema's."""
    if conventions_file:
        try:
            text = Path(conventions_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        found = from_conventions(text)
        if found:
            return found
    return from_schema(snap)


# ------------------------------------------------------------------ renaming a plan
def apply_naming(
    plan: P.DraftPlan, naming: Naming, request: str, snap: SchemaSnapshot
) -> list[tuple[str, str]]:
    """Rename, in place, the names the planner generated for new objects in `plan` to
    `naming`'s patterns; return the (old, new) pairs."""
    taken = _existing_names(snap)
    asked = set(re.findall(r"[\w$]+", request.lower()))
    renamed: dict[str, str] = {}

    def rename(op, kind: str, columns: str = "", *, ref: str = "", what: str = "") -> None:
        old = op.name
        if old.lower() in asked or old in renamed:
            return
        new = naming.name(kind, op.table, columns, ref_table=ref, what=what)
        if not new or new == old or new in taken or new in renamed.values():
            return
        renamed[old] = new
        op.name = new

    def visit(op) -> None:
        table = _bare(getattr(op, "table", "") or "")
        if isinstance(op, P.CreateIndex):
            if op.kind == "fts" and op.name == f"idx_{table}_fts":
                rename(op, "fts")
                return
            if op.unique:
                middle = _middle(op.name, table, "unique")
                if middle is not None:
                    rename(op, "unique", middle)
            elif (middle := _middle(op.name, table, "trigram")) is not None:
                rename(op, "index", f"{middle}_trgm")
            elif (middle := _middle(op.name, table, "index")) is not None:
                rename(op, "index", middle)
        elif isinstance(op, P.AddForeignKey):
            middle = _middle(op.name, table, "fk")
            if middle is not None:
                rename(op, "fk", "_".join(op.columns) or middle, ref=op.ref_table)
        elif isinstance(op, P.AddCheck):
            middle = _middle(op.name, table, "check")
            if middle is not None:
                rename(op, "check", what=middle)
        elif isinstance(op, P.AddUnique):
            middle = _middle(op.name, table, "unique")
            if middle is not None:
                rename(op, "unique", "_".join(op.columns) or middle)
        elif isinstance(op, P.AddPrimaryKey):
            if op.name == f"{table}_pkey":
                rename(op, "pk", "_".join(op.columns))
        elif isinstance(op, P.CreateTable):
            for sub in [*op.foreign_keys, *op.checks]:
                visit(sub)

    for op in plan.operations:
        if isinstance(op, P.DropIndex | P.DropConstraint) and op.name in renamed:
            op.name = renamed[op.name]  # dropping what this plan created (a replace)
        else:
            visit(op)
    if renamed:
        plan.warnings = [_replace(w, renamed) for w in plan.warnings]
        plan.assumptions = [_replace(a, renamed) for a in plan.assumptions]
        plan.assumptions.append(
            f"names follow {naming.source}: "
            + ", ".join(f"{new} (not {old})" for old, new in renamed.items())
        )
    return list(renamed.items())


def _middle(name: str, table: str, kind: str) -> str | None:
    """The columns part of a planner-generated name (`orders_customer_id_idx` ->
    `customer_id`), or None when `name` does not have the planner's shape."""
    prefix, suffix = _PLANNER[kind]
    head = f"{prefix}{table}_"
    if name.startswith(head) and name.endswith(suffix) and len(name) > len(head) + len(suffix):
        return name[len(head) : len(name) - len(suffix)]
    return None


def _existing_names(snap: SchemaSnapshot) -> set[str]:
    names: set[str] = set()
    for t in snap.tables.values():
        names.update(ix.name for ix in t.indexes)
        names.update(k.name for k in t.constraints)
        names.add(t.name)
    return names


def _replace(text: str, renamed: dict[str, str]) -> str:
    for old, new in renamed.items():
        text = re.sub(rf"\b{re.escape(old)}\b", new, text)
    return text


def _bare(name: str) -> str:
    return name.rpartition(".")[2].strip('"')
