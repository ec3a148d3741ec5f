"""The one proof stage: every way a revision arrives gets the same verdict on the same target.

The target is a database with real rows on the PostgreSQL 15 server when CI has one
(`target_db`), the sandbox the embedded PostgreSQL 18: the proof crosses servers and
major versions, as it does for a user.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from migagent.agent.pipeline import DraftOptions, SchemaSource, draft
from migagent.agent.toolbox import Toolbox
from migagent.tools.proof import ProofInputs, prove
from migagent.tools.sandbox import Sandbox

# slow: about 18 s on 2 cores: one revision proven through every entry point
pytestmark = pytest.mark.slow

MIGAGENT = str(Path(sys.executable).parent / "migagent")

SHOP = """
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    phone text
);
CREATE TABLE products (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku text,
    name text NOT NULL
);
CREATE TABLE order_items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id bigint NOT NULL,
    quantity integer NOT NULL DEFAULT 1
);
INSERT INTO customers (email, phone)
    SELECT 'c' || g || '@example.com', CASE WHEN g % 5 = 0 THEN NULL ELSE '555-' || g END
    FROM generate_series(1, 300) g;
INSERT INTO products (sku, name) SELECT 'SKU-' || g, 'product ' || g FROM generate_series(1, 200) g;
INSERT INTO order_items (product_id, quantity)
    SELECT 1 + (g % 200), 1 + g % 3 FROM generate_series(1, 600) g;
"""


def revision(upgrade: str, downgrade: str, rev: str = "a1b2c3d4e5f6") -> str:
    return textwrap.dedent(
        f'''\
        """proof test

        Revision ID: {rev}
        """
        import sqlalchemy as sa
        from alembic import op

        revision = "{rev}"
        down_revision = None
        branch_labels = None
        depends_on = None


        def upgrade() -> None:
        {textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")}


        def downgrade() -> None:
        {textwrap.indent(textwrap.dedent(downgrade).strip(), "    ")}
        '''
    )


BACKFILL_PHONE = revision(
    """
    op.execute("UPDATE customers SET phone = 'unknown' WHERE phone IS NULL")
    """,
    "pass",
)

SKU_REQUIRED = revision(
    """
    op.alter_column("products", "sku", existing_type=sa.Text(), nullable=False)
    """,
    """
    op.alter_column("products", "sku", existing_type=sa.Text(), nullable=True)
    """,
)

NOTHING = revision("pass", "pass")


@pytest.fixture
def shop(target_db) -> str:
    return target_db(SHOP)


@pytest.fixture
def embedded() -> Sandbox:
    return Sandbox.open()


def test_a_data_migration_is_a_change_and_its_lossy_downgrade_is_measured(shop, embedded):
    proof = prove(BACKFILL_PHONE, ProofInputs.for_target(embedded, shop))
    assert proof.passed, proof.detail
    assert proof.changes == []
    assert any("phone" in c for c in proof.data_changes), proof.data_changes
    assert proof.data_restored is False
    assert "not the changed rows" in proof.detail


def test_a_revision_that_changes_nothing_is_no_draft_but_verifies(shop, embedded):
    inputs = ProofInputs.for_target(embedded, shop)
    assert not prove(NOTHING, inputs).passed
    assert "changed nothing" in prove(NOTHING, inputs).detail
    assert prove(NOTHING, inputs, require_change=False).passed


def test_the_spec_of_a_data_migration_says_it_cannot_be_reversed(shop, embedded, tmp_path):
    from migagent.agent.pipeline import DraftResult
    from migagent.agent.plan import DraftPlan

    result = DraftResult(
        request="fill in missing phones",
        backend="offline",
        plan=DraftPlan(intent="fill in missing phones"),
        lowered=__import__("migagent.agent.lower", fromlist=["Lowered"]).Lowered(),
        filename="x.py",
        revision_id="a1b2c3d4e5f6",
        revision_source=BACKFILL_PHONE,
        before=ProofInputs.for_target(embedded, shop).before,
    )
    from migagent.agent.pipeline import _attach_proof
    from migagent.agent.plan import Facts
    from migagent.agent.specfill import fill_spec

    _attach_proof(result, prove(BACKFILL_PHONE, ProofInputs.for_target(embedded, shop)))
    spec = fill_spec(result, Facts(snapshot=result.before))
    assert spec.rollback.reversible.value is False
    assert spec.rollback.reversible.source == "measured"
    assert "phone" in spec.rollback.reversible.evidence


def _verdict(proof) -> tuple:
    preflight = sorted(
        (r.status, r.message) for r in (proof.preflight.results if proof.preflight else [])
    )
    return (proof.passed, sorted(proof.lint_errors), preflight, sorted(proof.changes))


def test_one_source_one_verdict_through_offline_toolbox_mcp_and_cli(shop, embedded, tmp_path):
    """The offline draft's own revision, proven again by the Claude/MCP toolbox, by the MCP
    server and by `migagent verify --db`: the same verdict, the same preflight."""
    result = draft(
        "make products.sku required",
        SchemaSource.url(shop),
        options=DraftOptions(backend="offline", estimate=False),
        sandbox=embedded,
    )
    source = result.revision_source
    offline = result.verification
    assert offline.passed, offline.detail

    box = Toolbox.for_target(shop, sandbox=embedded)
    toolbox = box.prove(source)
    assert _verdict(toolbox) == _verdict(offline)
    summary = box.verify_revision(source)
    assert summary.ok is True

    path = tmp_path / "rev.py"
    path.write_text(source)
    cli = subprocess.run(
        [MIGAGENT, "verify", str(path), "--db", shop, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "MIGAGENT_DATABASE_URL": "", "DATABASE_URL": ""},
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    data = json.loads(cli.stdout)
    assert data["passed"] is True
    statuses = sorted(r["status"] for r in data["preflight"]["results"])
    assert statuses == sorted(r.status for r in offline.preflight.results)

    # the Claude backend, scripted against the fake Messages API: verify, then submit
    from fake_anthropic import FakeAnthropic, reply, tool_use
    from test_claude import SPEC

    script = [
        reply(tool_use("verify_revision", {"source": source})),
        reply(tool_use("submit_draft", {"revision_source": source, "spec": SPEC})),
    ]
    with FakeAnthropic(script) as fake:
        env = {"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": fake.url}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            claude = draft(
                "make products.sku required",
                SchemaSource.url(shop),
                options=DraftOptions(backend="claude", estimate=False),
                sandbox=embedded,
            )
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    assert claude.backend == "claude"
    assert _verdict(claude.verification) == _verdict(offline)

    import anyio
    from test_mcp import connect, text_of

    async def main() -> None:
        async with connect("--db", shop) as s:
            answer = await s.call_tool("verify_revision", {"source": source})
            assert not answer.is_error, text_of(answer)
            assert answer.structured_content["ok"] is True
            lines = answer.structured_content["details"]["target_preflight"]
            assert sorted(lines) == sorted(
                f"{r.status}: {r.message}" for r in offline.preflight.results
            )

    anyio.run(main)


def test_an_offline_draft_never_imports_the_anthropic_sdk(tmp_path):
    code = textwrap.dedent(
        """
        import sys
        from migagent.agent.pipeline import DraftOptions, SchemaSource, draft
        r = draft("add column nickname text to users", SchemaSource.sql(
            "CREATE TABLE users (id bigint PRIMARY KEY, name text);"),
            options=DraftOptions(backend="offline", estimate=False))
        assert r.verified, r.verification_detail
        print("anthropic" in sys.modules)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_model_written_code_is_read_in_the_fence_and_a_downgrade_that_raises_still_lints(
    shop, embedded
):
    """Untrusted: the offline SQL comes from the fenced child. A downgrade that refuses
    (irreversible) blocks neither lint nor the preflight; a forbidden import ends the proof."""
    inputs = ProofInputs.for_target(embedded, shop)
    irreversible = revision(
        """
        op.execute("UPDATE customers SET phone = 'unknown' WHERE phone IS NULL")
        """,
        'raise NotImplementedError("irreversible")',
        rev="b1b2c3d4e5f6",
    )
    proof = prove(irreversible, inputs, untrusted=True)
    assert proof.lint is not None, proof.lint_errors
    assert not proof.lint_errors
    evil = revision("__import__('os').system('true')", "pass", rev="c1b2c3d4e5f6")
    refused = prove(evil, inputs, untrusted=True)
    assert not refused.passed and "__import__" in refused.detail, refused.detail
