"""The offline planner: a deterministic reading of a one-line request.

`plan_request(request, facts)` reads the request once (`reading.read_request`),
tries the intents of `intents.REGISTRY` in order, each with a fresh `Ctx`, and
returns the first `DraftPlan` one makes; then every clause of the request must be
accounted for by the plan (`clauses`, `data_intents.account_data_clauses`).
Whatever it cannot pin down raises `UnderstandingError` or `AmbiguousRequest`
with what it considered: it never guesses silently. Inferred details (a type from
a column name, a text search configuration) are recorded as plan assumptions,
which the spec shows for review.
"""

from __future__ import annotations

import re

from migagent.agent import plan as P
from migagent.agent.errors import UnderstandingError
from migagent.agent.offline import data_intents
from migagent.agent.offline.clauses import account_clauses
from migagent.agent.offline.context import Ctx
from migagent.agent.offline.contradictions import (
    refuse_contradictions,
    refuse_contradictory_words,
)
from migagent.agent.offline.intents import REGISTRY
from migagent.agent.offline.lexicon import restore_quoted, singular, snake
from migagent.agent.offline.listed_columns import add_listed_columns
from migagent.agent.offline.reading import Reading, read_request

_NO_TABLES_NEEDED = re.compile(r"\bcreate\b.*\btable\b|\bextension\b|\benum\b")
# words only a change to the database schema (or its data) is asked in
_SCHEMA_WORDS = re.compile(
    r"\b(?:columns?|fields?|tables?|index\w*|idx|constraints?|keys?|fk|checks?|unique\w*|defaults?|"
    r"null\w*|required|optional|mandatory|types?|enum\w*|referenc\w*|foreign|renam\w*|drop\w*|"
    r"add\w*|creat\w*|alter\w*|migrat\w*|backfill\w*|populat\w*|extensions?|partition\w*|"
    r"schema|rows?|records?|store|track|enforce\w*|never|always|must|cannot|can't|convert\w*|"
    r"change|switch|split|merge|remove|delete|update|insert|set|length|characters?|"
    r"varchar|text|integer|bigint|boolean|jsonb|uuid|timestamp\w*|numeric|date|search|lookups?|"
    r"duplicat\w*|overlap\w*|rid|widen\w*|enable|install|rules?|"
    r"allow\w*|limit\w*|cascad\w*|sort\w*|queries|query|select|where|fill\w*|copy|"
    r"normali[sz]\w*|format\w*|length|size)\b"
)


def plan_request(request: str, facts: P.Facts) -> P.DraftPlan:
    """The offline planner's reading of `request` against `facts` (or an error)."""
    reading = read_request(request, facts)
    try:
        refuse_contradictory_words(reading)
        plan = _first_plan(reading)
        plan = add_listed_columns(plan, reading, lambda one: plan_request(one, facts))
    except UnderstandingError as exc:
        if reading.quoted:  # say the names as the user wrote them, not their tokens
            exc.problem = restore_quoted(exc.problem, reading.quoted)
            exc.args = (str(exc),)
        raise
    plan = data_intents.account_data_clauses(plan, reading.request, facts)
    account_clauses(_with_nested_keys(plan), reading)
    refuse_contradictions(plan, reading)
    if reading.quoted:
        _restore(plan, reading.quoted)
        plan.slug = snake(plan.slug)
    return plan


def _first_plan(reading: Reading) -> P.DraftPlan:
    """The plan of the first registered intent whose trigger matches and that plans."""
    if not reading.request:
        raise UnderstandingError("the request is empty")
    if not reading.r.tables and not _NO_TABLES_NEEDED.search(reading.low):
        raise UnderstandingError("the schema has no tables to change")
    if not _SCHEMA_WORDS.search(reading.low) and not _names_an_object(reading):
        raise not_understood(reading)
    for intent in REGISTRY:
        if intent.trigger.search(reading.low):
            result = intent.plan(Ctx(reading))
            if result is not None:
                return result
    raise not_understood(reading)


def _names_an_object(reading: Reading) -> bool:
    """Whether the words name a table, or a column, index, constraint or type of the schema."""
    if reading.r.table_mentions():
        return True
    snap = reading.snap
    names = {e.name.lower() for e in snap.enums.values()}
    for t in reading.r.tables:
        names |= {c.name.lower() for c in t.columns if len(c.name) > 3}
        names |= {ix.name.lower() for ix in t.indexes} | {k.name.lower() for k in t.constraints}
    return any(w in names or singular(w) in names for w in re.findall(r"[a-z_][\w$]*", reading.low))


def not_understood(reading: Reading) -> UnderstandingError:
    """A refusal in the user's words: what was understood, what is missing, an example."""
    named = list(dict.fromkeys(m.table.name for m in reading.r.table_mentions()))
    t = next((x for x in reading.r.tables if x.name in named), None) or (
        reading.r.tables[0] if reading.r.tables else None
    )
    example = (
        f"e.g. 'add a notes text column to {t.name}', 'index {t.name}.{t.columns[-1].name}'"
        if t is not None and t.columns
        else "e.g. 'create table notes: id bigserial primary key, body text'"
    )
    fix = (
        f"say what to change and where, {example}; or pass the target schema with "
        "--desired desired.sql, or use --backend claude"
    )
    if not _SCHEMA_WORDS.search(reading.low):
        understood = (
            f"it mentions {', '.join(named)} but asks for no change to them"
            if named
            else f"it names none of the tables ({', '.join(x.name for x in reading.r.tables[:8])})"
        )
        return UnderstandingError(
            "this does not read as a schema change (a job, a report or a message is not "
            "something a migration does)",
            [understood],
            fix,
        )
    considered = (
        [f"it names {', '.join(named)}, but no change to make to it"]
        if named
        else [f"tables in the schema: {', '.join(x.name for x in reading.r.tables[:10])}"]
    )
    return UnderstandingError("could not tell what change this request asks for", considered, fix)


def _with_nested_keys(plan: P.DraftPlan) -> P.DraftPlan:
    """The plan as clause accounting sees it: a new table's foreign keys count as foreign
    keys ("... removing the links when either side is deleted" is their ON DELETE)."""
    nested = [
        fk for op in plan.operations if isinstance(op, P.CreateTable) for fk in op.foreign_keys
    ]
    if not nested:
        return plan
    return plan.model_copy(update={"operations": [*plan.operations, *nested]})


def _restore(obj: object, tokens: dict[str, str]) -> object:
    """Put quoted identifiers back in every string of a plan (in place for models)."""
    from pydantic import BaseModel

    if isinstance(obj, str):
        return restore_quoted(obj, tokens)
    if isinstance(obj, list):
        return [_restore(x, tokens) for x in obj]
    if isinstance(obj, tuple):
        return tuple(_restore(x, tokens) for x in obj)
    if isinstance(obj, dict):
        return {_restore(k, tokens): _restore(v, tokens) for k, v in obj.items()}
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            setattr(obj, name, _restore(getattr(obj, name), tokens))
    return obj
