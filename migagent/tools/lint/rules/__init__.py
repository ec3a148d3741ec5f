"""Lint rules, one module per family, registered in `RULES` (id -> `Rule`).

| module | rules |
|---|---|
| `indexes` | index-not-concurrent, drop-index-not-concurrent, reindex-not-concurrent, concurrently-in-transaction, detach-partition-not-concurrent |
| `columns` | add-column-volatile-default, add-column-default-before-11, add-column-not-null-without-default, add-column-rewrite, set-not-null-scan, prefer-jsonb, column-type-rewrite |
| `constraints` | constraint-without-not-valid, validate-same-transaction, unique-constraint-builds-index, foreign-key-without-index, domain-constraint |
| `destructive` | rename-column, rename-table, drop-column, drop-table, drop-database, truncate, enum-add-value, enum-rename-value |
| `maintenance` | vacuum-full, vacuum-in-transaction, cluster, set-logged, unbatched-dml |
| `transactions` | missing-lock-timeout |

plus `data-migration-not-linted`, which the engine emits for revisions whose
upgrade() needs query results.
"""

from migagent.tools.lint.rules import (  # noqa: F401  (imported to register their rules)
    columns,
    constraints,
    destructive,
    indexes,
    maintenance,
    transactions,
)
from migagent.tools.lint.rules.base import ENGINE_RULES, RULES, Rule, rules_for

ALL_RULE_IDS: tuple[str, ...] = tuple(sorted([*RULES, *ENGINE_RULES]))

__all__ = ["ALL_RULE_IDS", "ENGINE_RULES", "RULES", "Rule", "rules_for"]
