"""`.claude/architecture.md` generated from a schema snapshot."""

from __future__ import annotations

from pathlib import Path

from migagent.render import render_architecture
from migagent.tools.introspect.model import (
    Column,
    Constraint,
    Enum,
    Extension,
    Index,
    SchemaSnapshot,
    Table,
    View,
)

ROOT = Path(__file__).resolve().parent.parent


def demo_snapshot() -> SchemaSnapshot:
    """The bundled demo domain (documents and their sections) at production size."""
    documents = Table(
        schema_name="public",
        name="documents",
        row_estimate=48_000,
        total_bytes=9_437_184,
        comment="One uploaded document; versions are separate rows.",
        columns=[
            Column(name="id", type="uuid", nullable=False, position=1),
            Column(name="title", type="character varying(255)", nullable=False, position=2),
            Column(name="version", type="character varying(50)", nullable=False, position=3),
            Column(
                name="created_at",
                type="timestamp with time zone",
                nullable=False,
                default="now()",
                position=4,
            ),
        ],
        constraints=[
            Constraint(
                name="documents_pkey",
                kind="primary_key",
                definition="PRIMARY KEY (id)",
                columns=["id"],
                index="documents_pkey",
            )
        ],
        indexes=[
            Index(
                name="documents_pkey",
                table="public.documents",
                method="btree",
                unique=True,
                primary=True,
                keys=["id"],
                constraint="documents_pkey",
                definition="CREATE UNIQUE INDEX documents_pkey ON public.documents USING btree (id)",
            )
        ],
    )
    sections = Table(
        schema_name="public",
        name="sections",
        row_estimate=5_100_000,
        total_bytes=2_362_232_012,
        columns=[
            Column(name="id", type="bigint", nullable=False, identity="by default", position=1),
            Column(name="document_id", type="uuid", nullable=False, position=2),
            Column(name="position", type="integer", nullable=False, position=3),
            Column(name="title", type="text", position=4),
            Column(name="content", type="text", position=5),
        ],
        constraints=[
            Constraint(
                name="sections_pkey",
                kind="primary_key",
                definition="PRIMARY KEY (id)",
                columns=["id"],
                index="sections_pkey",
            ),
            Constraint(
                name="sections_document_id_fkey",
                kind="foreign_key",
                definition="FOREIGN KEY (document_id) REFERENCES documents(id) ON DELETE CASCADE",
                columns=["document_id"],
                ref_table="public.documents",
                ref_columns=["id"],
                on_delete="CASCADE",
            ),
        ],
        indexes=[
            Index(
                name="sections_pkey",
                table="public.sections",
                method="btree",
                unique=True,
                primary=True,
                keys=["id"],
                constraint="sections_pkey",
                definition="CREATE UNIQUE INDEX sections_pkey ON public.sections USING btree (id)",
            ),
            Index(
                name="sections_document_id_idx",
                table="public.sections",
                method="btree",
                keys=["document_id"],
                definition=(
                    "CREATE INDEX sections_document_id_idx ON public.sections "
                    "USING btree (document_id)"
                ),
            ),
        ],
    )
    return SchemaSnapshot(
        server_version=180001,
        server_version_text="PostgreSQL 18.1",
        database="docs",
        schemas=["public"],
        tables={"public.sections": sections, "public.documents": documents},
        enums={
            "public.document_status": Enum(
                schema_name="public", name="document_status", labels=["draft", "published"]
            )
        },
        views={
            "public.document_outline": View(
                schema_name="public",
                name="document_outline",
                definition=" SELECT d.title, s.position, s.title AS section\n   FROM documents d\n"
                "     JOIN sections s ON s.document_id = d.id;",
            )
        },
        extensions={"plpgsql": Extension(name="plpgsql", version="1.0", schema_name="pg_catalog")},
        alembic_revisions=["a1f0c0de0001"],
    )


def test_architecture_lists_tables_with_sizes_and_large_flag() -> None:
    md = render_architecture(demo_snapshot())
    assert md.startswith("# Database Architecture\n")
    assert "| `public.documents` | 48,000 | 9.0 MB |  |" in md
    assert "| `public.sections` | 5,100,000 | 2.2 GB | **large**: online patterns only |" in md
    # tables in name order, whatever the snapshot's dict order
    assert md.index("### `public.documents`") < md.index("### `public.sections`")
    assert "- Alembic revision: a1f0c0de0001" in md
    assert "- Extensions: plpgsql 1.0" in md


def test_a_table_over_a_gigabyte_is_large_whatever_its_rows() -> None:
    snap = demo_snapshot()
    snap.tables["public.documents"].total_bytes = 2 * 1024**3
    md = render_architecture(snap)
    assert "| `public.documents` | 48,000 | 2.0 GB | **large**: online patterns only |" in md


def test_columns_constraints_and_own_indexes() -> None:
    md = render_architecture(demo_snapshot())
    sections = md[md.index("### `public.sections`") :]
    assert "| `id` | bigint (identity by default) | no |  |" in sections
    assert "| `title` | text | yes |  |" in sections
    assert (
        "- `sections_document_id_fkey`: FOREIGN KEY (document_id) REFERENCES documents(id)"
        in sections
    )
    assert "- `sections_document_id_idx`: CREATE INDEX sections_document_id_idx" in sections
    # an index that backs a constraint is listed once, as the constraint
    assert "- `sections_pkey`: PRIMARY KEY (id)" in sections
    assert "CREATE UNIQUE INDEX sections_pkey" not in sections
    documents = md[md.index("### `public.documents`") : md.index("### `public.sections`")]
    assert "One uploaded document; versions are separate rows." in documents
    assert "| `created_at` | timestamp with time zone | no | `now()` |" in documents


def test_views_enums_and_table_cells_are_escaped() -> None:
    snap = demo_snapshot()
    snap.tables["public.documents"].columns[1].default = "'a' || 'b'"
    md = render_architecture(snap)
    assert "| `title` | character varying(255) | no | `'a' \\|\\| 'b'` |" in md
    assert "- `public.document_status`: draft, published" in md
    assert "- `public.document_outline`: SELECT d.title, s.position, s.title AS section FROM" in md


def test_empty_database() -> None:
    md = render_architecture(SchemaSnapshot(server_version=150004))
    assert "| (none) | | | |" in md
    assert "- Alembic revision: none" in md
    assert "## Views" not in md


def test_shipped_sample_is_what_the_renderer_produces() -> None:
    sample = (ROOT / ".claude" / "architecture.md").read_text()
    assert sample == render_architecture(demo_snapshot())
