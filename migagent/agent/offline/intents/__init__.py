"""The offline intents as one explicit, ordered registry.

`plan_request` tries each `Intent` in `REGISTRY` order whose trigger matches the
normalised request (`Reading.low`) and takes the first plan one returns. An intent
returns None when the request is not its kind after all, or raises
`UnderstandingError`/`AmbiguousRequest` to refuse with a reason. Order is priority:
specific intents (data statements, drops of indexes, search, tables) come before
the broad catch-alls (`alter_type`'s verbs, a bare "add"). To add an intent, write
`(ctx) -> DraftPlan | None` in its family module and place it here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from migagent.agent import plan as P
from migagent.agent.offline import data_intents, rules
from migagent.agent.offline.context import Ctx
from migagent.agent.offline.intents import (
    columns,
    constraints,
    data,
    drops,
    enums,
    extensions,
    indexes,
    reshape,
    search,
    tables,
    types,
)


@dataclass(frozen=True)
class Intent:
    name: str  # shown in tests and debugging, never in a refusal
    trigger: re.Pattern[str]  # searched in the lower-cased normalised request
    plan: Callable[[Ctx], P.DraftPlan | None]


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


REGISTRY: tuple[Intent, ...] = (
    Intent(
        "data_statement",
        _re(data_intents.TRIGGER),
        data.data_statement,
    ),
    Intent(
        "drop_index_in_words",
        _re(
            r"^\s*(?:please\s+)?(?:drop|remove|delete|get\s+rid\s+of)\b[^,;]*\b(?:index|indexes|idx)\b"
        ),
        indexes.drop_index_in_words,
    ),
    Intent(
        "full_text",
        _re(r"\bfull[- ]?text\b|\bfts\b|\btsvector\b|\btext[- ]search\b|\bsearch[_ ]vector\b"),
        search.full_text,
    ),
    Intent(
        "trigram",
        _re(r"\btrigram|\bpg_trgm\b|\btrgm\b|\bilike\s+'%|\bsimilarity\s+search|\bfuzzy\s+search"),
        search.trigram,
    ),
    Intent(
        "create_table",
        _re(
            r"\b(?:create|add|new|make|introduce)\b.{0,40}\btable\b|\b(?:a|an)\s+(?:new\s+)?[a-z_]+\s+table\s*[(:]|\bmany[- ]to[- ]many\b|\bcreate\s+table\b|\bnew\s+\w+\s+table\b"
        ),
        tables.create_table,
    ),
    Intent(
        "exclusion",
        _re(r"\boverlap|\bdouble[- ]book|\bexclu(?:de|sion)\s+constraint"),
        constraints.exclusion,
    ),
    Intent(
        "rename",
        _re(r"\brename\b|\bshould\s+be\s+called\b|\bcall\s+it\b|->"),
        tables.rename,
    ),
    Intent(
        "split",
        _re(r"\bsplit\b"),
        reshape.split,
    ),
    Intent(
        "merge",
        _re(r"\b(?:merge|combine|concatenate|join)\b.{0,80}\binto\b"),
        reshape.merge,
    ),
    Intent(
        "timezone",
        _re(r"\btime\s*zones?\b|\bfrom\s+utc\b|\bto\s+utc\b|\blocal\s+time\b"),
        types.timezone,
    ),
    Intent(
        "maybe_add_column",
        _re(r"\b(?:add|adding|new|need|needs|introduce|want|store|track|create)\b"),
        columns.maybe_add_column,
    ),
    Intent(
        "backfill",
        _re(
            r"\bbackfill|\bpopulate\b|\bfill\s+(?:in\s+)?(?!.*\bnull)|\bcopy\b.{0,60}\b(?:into|to|from)\b"
        ),
        data.backfill,
    ),
    Intent(
        "enum",
        _re(r"\benum\b|\benumerat"),
        enums.enum,
    ),
    Intent(
        "add_column",
        _re(
            r"\b(?:add|adding|need|needs|new|store|track|introduce|want|create)\b.{0,80}\b(?:column|field|attribute)\b|\badd\s+(?:a\s+|an\s+)?(?:nullable\s+|new\s+)?[a-z_]+\s+(?:to|on)\s+(?:the\s+)?[a-z_]+"
        ),
        columns.add_column,
    ),
    Intent(
        "index",
        _re(
            r"\bindex(?:es|ed)?\b|\bidx\b|\bspeed\b|\bslow\b|\blookups?\b|\bfaster\b|\bseq(?:uential)?\s+scan|\bbrin\b|\bgin\b|\bgist\b"
        ),
        indexes.index,
    ),
    Intent(
        "foreign_key",
        _re(
            # "referenc" not inside a dotted column name (shipments.reference)
            r"\bforeign\s+key|\bfk\b|(?<![.\w])referenc|\bpoint(?:s|ing)?\s+(?:at|to)\b|\blink(?:ed)?\s+to\b"
            r"|\blink\s+[a-z_]\w*\.[a-z_]\w*\s+to\b"
        ),
        constraints.foreign_key,
    ),
    Intent(
        "rule_check",
        _re(rules.RULE_TRIGGER),
        constraints.rule_check,
    ),
    Intent(
        "check",
        _re(
            r"\bcheck\b|\bonly\s+(?:ever\s+)?be\b|\bmust\s+be\s+one\s+of\b|\ballowed\s+values\b|\bnever\s+be\s+negative|\bmust\s+(?:be|not\s+be)\s+(?:positive|negative|non-negative|between|greater|less|at\s+least|at\s+most)|\bcan(?:not|'t)\s+be\s+negative|\bpositive\b|\bnon-negative\b|\bbetween\b.+\band\b"
        ),
        constraints.check,
    ),
    Intent(
        "default",
        _re(r"\bdefault"),
        columns.default,
    ),
    Intent(
        "business_default",
        _re(
            r"\bnew\s+[a-z_]\w*(?:\s+[a-z_]\w*)?\s+(?:should\s+|will\s+|must\s+|always\s+)*(?:start|begin|get)s?\b"
        ),
        columns.business_default,
    ),
    Intent(
        "nullability",
        _re(
            r"\ballow\b[^;]{0,60}?\bto\s+be\s+(?:null|empty|missing|blank|unset)\b|\brequired\b|\bnot\s+null\b|\bnon-?null(?:able)?\b|\bmandatory\b|\bnever\s+(?:be\s+)?null\b|\bnot\s+be\s+null\b|\bcan(?:not|'t|\s+not)\s+be\s+(?:null|empty|missing)|\bmust\s+(?:always\s+)?(?:be\s+set|have\s+a)\b|\boptional\b|\bnullable\b|\ballow\s+nulls?\b|\bdrop\s+not\s+null\b"
        ),
        columns.nullability,
    ),
    Intent(
        "unique",
        _re(
            r"\bunique\b|\buniqueness\b|\bduplicates?\b|\bdistinct\b|\bno\s+two\b|"
            r"\b(?:share|have|use|reuse)\s+the\s+same\b|\bsame\s+\w+(?:\s+\w+)?\s+(?:twice|more\s+than\s+once)\b"
        ),
        indexes.make_unique,
    ),
    Intent(
        "drop",
        _re(r"\b(?:drop|remove|delete|get\s+rid\s+of|delete)\b"),
        drops.drop,
    ),
    Intent(
        "alter_type",
        _re(
            r"\b(?:change|convert|switch|make|bump|widen|alter|increase|extend|cap|limit|shorten|turn|migrate|move|allow)\b|\boverflow|\btype\b|\b(?:to|be|become|as)\s+(?:an?\s+)?(?:bigint|text|varchar|jsonb|uuid|integer|boolean|timestamptz|citext|numeric|date)\b"
        ),
        types.alter_type,
    ),
    Intent(
        "add_column_verb",
        _re(r"\b(?:add|adding)\b"),
        columns.add_column,
    ),
    Intent(
        "extension",
        _re(r"\bextension\b|\benable\b|\binstall\b"),
        extensions.extension,
    ),
    Intent(
        "data_statement_final",
        _re(data_intents.TRIGGER),
        data.data_statement_final,
    ),
)
