"""Clause accounting: every step of a request of several must be planned, or it is refused."""

from __future__ import annotations

import re

from migagent.agent import plan as P
from migagent.agent.errors import UnderstandingError
from migagent.agent.offline import data_intents
from migagent.agent.offline.common import idx_name
from migagent.agent.offline.lexicon import ref_action
from migagent.agent.offline.reading import Reading
from migagent.agent.offline.resolve import Resolver

# a request of several steps: where one ends and the next (with its own verb) starts
_STEP_VERBS = r"add|create|introduce|drop|remove|delete|rename|index|make|get\s+rid\s+of"
_STEP_BOUNDARY = re.compile(
    rf"\s*;\s*|\.\s+|,\s*(?:and\s+)?(?:then\s+)?(?:also\s+)?(?=(?:{_STEP_VERBS})\b)|"
    rf"\s+and\s+(?:then\s+)?(?:also\s+)?(?=(?:{_STEP_VERBS})\b)|\s+then\s+(?=(?:{_STEP_VERBS})\b)"
)
# the operations a step's verb can stand for
_STEP_OPS: dict[str, tuple[type, ...]] = {
    "add": (P.AddColumn, P.CreateTable, P.CreateIndex, P.AddForeignKey, P.AddCheck, P.AddUnique,
            P.CreateEnum, P.AddEnumValue, P.CreateExtension, P.SetDefault, P.RawSQL),
    "drop": (P.DropColumn, P.DropIndex, P.DropTable, P.DropConstraint, P.SetDefault,
             P.DropNotNull, P.RawSQL),
    "rename": (P.RenameColumn, P.RenameTable),
    "index": (P.CreateIndex, P.AddUnique),
}  # fmt: skip
_STEP_FAMILY = {"create": "add", "introduce": "add", "remove": "drop", "delete": "drop"}


def account_clauses(plan: P.DraftPlan, reading: Reading) -> None:
    """Each step of a request of several ("rename a to b and drop c") must be planned:
    a step whose verb no operation of the plan stands for is refused, naming it, rather
    than drafted as less than was asked."""
    text = reading.low
    masked = data_intents.mask(text)
    bounds = list(_STEP_BOUNDARY.finditer(masked))
    starts = [0] + [m.end() for m in bounds]
    ends = [m.start() for m in bounds] + [len(text)]
    steps = [text[a:b].strip(" ,;.") for a, b in zip(starts, ends, strict=True)]
    steps = [x for x in steps if x]
    if len(steps) < 2 and not re.match(r"(?:please\s+)?make\b", steps[0] if steps else ""):
        return
    for i, step in enumerate(steps):
        vm = re.match(rf"(?:please\s+)?(?:also\s+)?({_STEP_VERBS})\b", step)
        if not vm:
            continue
        verb = re.sub(r"\s+", " ", vm.group(1))
        verb = "drop" if verb == "get rid of" else _STEP_FAMILY.get(verb, verb)
        kinds = _STEP_OPS.get(verb)
        if ref_action(step) and any(isinstance(op, P.AddForeignKey) for op in plan.operations):
            continue  # "... and delete orders with their customer": the key's ON DELETE
        if (
            verb == "add"
            and re.search(r"\bnot\s+null\b|\bnon-?null\b", step)
            and not re.search(r"\bcolumn\b|\bfield\b", step)
        ):
            verb = "make"  # "then add the NOT NULL": the property, as "make it NOT NULL"
        if verb == "make":
            if _make_step_planned(plan, reading, step):
                continue
        elif (
            kinds is None
            or any(isinstance(op, kinds) for op in plan.operations)
            or (
                verb == "index" and i and _index_the_column_named(plan, reading, step, steps[i - 1])
            )
        ):
            continue
        understood = "; ".join(steps[:i]) if i else plan.intent
        raise UnderstandingError(
            f"I understood {understood!r} but could not plan {step!r}",
            [f"the draft would only: {plan.intent}"],
            "ask for one change per request, or spell each step out "
            "('rename orders.note to memo; drop orders.legacy_code')",
        )


def _make_step_planned(plan: P.DraftPlan, reading: Reading, step: str) -> bool:
    """'make <column> unique / required / optional' is planned when an operation gives
    that column that property (a step naming no column, or another property, passes)."""
    props = [
        (r"\bunique\b", lambda op, c: (isinstance(op, P.AddUnique) and c in op.columns)
         or (isinstance(op, P.CreateIndex) and op.unique
             and any(re.search(rf"\b{re.escape(c)}\b", k) for k in op.keys))),
        (r"\brequired\b|\bnot\s+null\b|\bmandatory\b|\bnon-?null",
         lambda op, c: (isinstance(op, P.SetNotNull) and op.column == c)
         or (isinstance(op, P.AddColumn) and op.column.name == c and not op.column.nullable)),
        (r"\boptional\b|\bnullable\b",
         lambda op, c: (isinstance(op, P.DropNotNull) and op.column == c)
         or (isinstance(op, P.AddColumn) and op.column.name == c and op.column.nullable)),
    ]  # fmt: skip
    prop = next((fn for pattern, fn in props if re.search(pattern, step)), None)
    if prop is None:
        return True
    r = Resolver(reading.snap, step)
    named = [c for m, c in r.dotted()]
    if not named:
        tables = {t for op in plan.operations if isinstance(t := getattr(op, "table", None), str)}
        for t in tables:
            tt = reading.snap.table(t)
            if tt is not None:
                named += [m.column for m in r.column_mentions(tt) if m.column]
    added = [op.column.name for op in plan.operations if isinstance(op, P.AddColumn)]
    if re.search(r"\b(?:it|them)\b", step) and not named:
        named = added
    if not named:
        return True
    return all(any(prop(op, c) for op in plan.operations) for c in named)


_IT = re.compile(
    r"index\s+(?:it|that|this|them|the\s+(?:new\s+|renamed\s+)?(?:column|field))"
    r"(?:\s+(?:too|as\s+well|also))?(?:\s+(?:concurrently|for\s+lookups))?\s*$"
)


def _index_the_column_named(plan: P.DraftPlan, reading: Reading, step: str, prev: str) -> bool:
    """'... and index it' after a step that names one column (a rename, an added
    column): a plain index on that column, added to the plan; False when "it" is not
    one column (the step before lists several, or the plan names several) or the column
    is indexed already (then the step is refused)."""
    if not _IT.match(step) or re.search(r",|\band\b|\+", data_intents.mask(prev)):
        return False
    named: list[tuple[str, str]] = []
    for op in plan.operations:
        if isinstance(op, P.RenameColumn):
            named.append((op.table, op.new_name))
        elif isinstance(op, P.AddColumn):
            named.append((op.table, op.column.name))
    if len(set(named)) != 1:
        return False
    table, column = named[0]
    t = reading.snap.table(table)
    if t is None:
        return False
    renamed = next((op.column for op in plan.operations if isinstance(op, P.RenameColumn)), column)
    if any(ix.keys and ix.keys[0] == renamed and len(ix.keys) == 1 for ix in t.indexes):
        return False  # already indexed (a rename keeps its index)
    name = idx_name(t.name, [column], "idx")
    taken = {ix.name for x in reading.snap.tables.values() for ix in x.indexes}
    if name in taken:
        return False
    plan.operations.append(P.CreateIndex(table=table, name=name, keys=[column], kind="plain"))
    plan.intent = f"{plan.intent}; index {t.name}.{column}"
    if "index" not in plan.categories:
        plan.categories = [*plan.categories, "index"]
    return True
