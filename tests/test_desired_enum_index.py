"""The desired-schema path where an index depends on a type or an access method the
planner's typed operations do not cover; each draft is applied on a real database."""

from __future__ import annotations

import pytest
from test_desired_fixes import assert_reproduces

# slow: about 9 s on 2 cores for 3 tests: each drafts from a desired schema and proves it
pytestmark = pytest.mark.slow

STATUS = "CREATE TYPE status AS ENUM ('new', 'paid');\n"


def test_enum_value_added_under_a_partial_index_on_it(sandbox):
    """ALTER TYPE ... ADD VALUE upgrades; the downgrade recreates the type, so the partial
    index whose predicate names a label must be dropped first and put back after."""
    current = (
        STATUS + "CREATE TABLE orders (id int PRIMARY KEY, status status NOT NULL);\n"
        "CREATE INDEX ix_open ON orders (id) WHERE status = 'new';\n"
    )
    desired = current.replace("'paid')", "'paid', 'shipped')")
    assert_reproduces(sandbox, current, desired)


def test_enum_value_added_under_an_expression_index_and_a_check(sandbox):
    """The same for an expression index and a CHECK that hold a label of the type."""
    current = (
        STATUS + "CREATE TABLE orders (id int PRIMARY KEY, status status NOT NULL DEFAULT 'new',"
        " CONSTRAINT ck_paid CHECK (status <> 'paid' OR id > 0));\n"
        "CREATE INDEX ix_is_new ON orders ((status = 'new'));\n"
        "CREATE INDEX ix_status ON orders (status);\n"
    )
    desired = current.replace("'paid');", "'paid', 'shipped');")
    assert_reproduces(sandbox, current, desired)


def test_index_with_an_extension_access_method(sandbox):
    """An index whose method is not one of the built-in ones (bloom) is created as written."""
    base = "CREATE EXTENSION bloom;\nCREATE TABLE t (id int PRIMARY KEY, a int, b int);\n"
    desired = base + "CREATE INDEX ix_t_bloom ON t USING bloom (a, b);\n"
    assert_reproduces(sandbox, base, desired)
