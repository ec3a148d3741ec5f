"""The Alembic revision renderer: file names, formatting, imports, and that Alembic runs the result."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import subprocess
import sys
import types
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from pydantic import ValidationError

from migagent.errors import UsageError
from migagent.files import write_atomic
from migagent.render import (
    Raw,
    RevisionNaming,
    RevisionPlan,
    call,
    execute,
    render_revision,
    revision_filename,
    revision_naming,
)

CREATE_DATE = dt.datetime(2025, 1, 15, 14, 30, 7, 123456)

FTS_COLUMN_SQL = """
ALTER TABLE sections
ADD COLUMN search_vector tsvector
GENERATED ALWAYS AS (
    to_tsvector('english', coalesce(title, '') || ' ' || coalesce(content, ''))
) STORED
"""


def fts_plan(**overrides) -> RevisionPlan:
    """The template's example migration, as a planner would hand it over."""
    fields = dict(
        message="add full-text search index",
        revision="abc123def456",
        down_revision="0123456789ab",
        create_date=CREATE_DATE,
        upgrade_ops=[
            "# Add generated column for search vector\n" + execute(FTS_COLUMN_SQL),
            "# Create GIN index\n"
            + call(
                "op.create_index",
                "idx_sections_fts",
                "sections",
                ["search_vector"],
                postgresql_using="gin",
            ),
        ],
        downgrade_ops=[
            "# Drop index first\n"
            + call("op.drop_index", "idx_sections_fts", table_name="sections"),
            "# Drop column\n" + call("op.drop_column", "sections", "search_vector"),
        ],
    )
    fields.update(overrides)
    return RevisionPlan(**fields)


def load_module(source: str, tmp_path: Path, name: str = "rendered_revision") -> types.ModuleType:
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def offline_sql(fn) -> str:
    """What `fn` (upgrade or downgrade) emits through Alembic Operations in --sql mode."""
    buf = io.StringIO()
    ctx = MigrationContext.configure(
        dialect_name="postgresql", opts={"as_sql": True, "output_buffer": buf}
    )
    with Operations.context(ctx):
        fn()
    return buf.getvalue()


def ruff(*args: str, source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--isolated", "--stdin-filename", "rev.py", "-"],
        input=source,
        capture_output=True,
        text=True,
    )


# --- file names --------------------------------------------------------------------------


def test_default_name_is_the_templates_convention() -> None:
    plan = fts_plan(message="add fulltext search index")
    assert revision_filename(plan) == "2025_01_15_1430_add_fulltext_search_index.py"
    assert render_revision(plan).filename == "2025_01_15_1430_add_fulltext_search_index.py"


def test_name_uses_file_template_tokens() -> None:
    plan = fts_plan()
    naming = RevisionNaming(
        file_template="%(rev)s_%(year)d%(month).2d%(day).2d_%(hour).2d%(minute).2d%(second).2d_%(slug)s"
    )
    assert (
        revision_filename(plan, naming)
        == "abc123def456_20250115_143007_add_full_text_search_index.py"
    )
    epoch = RevisionNaming(file_template="%(epoch)s_%(slug)s")
    assert (
        revision_filename(plan, epoch)
        == f"{int(CREATE_DATE.timestamp())}_add_full_text_search_index.py"
    )


def test_bad_file_template_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="file_template"):
        revision_filename(fts_plan(), RevisionNaming(file_template="%(nope)s"))


def _alembic_project(
    tmp_path: Path, file_template: str | None, slug_length: int | None = None
) -> Path:
    cfg = Config(str(tmp_path / "alembic.ini"))
    command.init(cfg, str(tmp_path / "migrations"))
    ini = tmp_path / "alembic.ini"
    text = ini.read_text()
    lines = [
        line
        for line in text.splitlines()
        if not line.startswith(("file_template", "truncate_slug_length"))
    ]
    at = lines.index("[alembic]") + 1
    extra = []
    if file_template is not None:
        extra.append(f"file_template = {file_template}")
    if slug_length is not None:
        extra.append(f"truncate_slug_length = {slug_length}")
    ini.write_text("\n".join([*lines[:at], *extra, *lines[at:]]) + "\n")
    return ini


def test_name_matches_what_alembic_revision_writes(tmp_path: Path) -> None:
    ini = _alembic_project(tmp_path, "%%(rev)s_%%(slug)s", slug_length=20)
    message = "Add a very long message about search vectors, on sections!"
    cfg = Config(str(ini))
    script = command.revision(cfg, message=message, rev_id="feedface0001")
    naming = revision_naming(ini)
    assert naming.file_template == "%(rev)s_%(slug)s"
    assert naming.truncate_slug_length == 20
    assert naming.versions_dir == tmp_path / "migrations" / "versions"
    plan = fts_plan(message=message, revision="feedface0001", down_revision=None)
    assert revision_filename(plan, naming) == Path(script.path).name


def test_ini_without_file_template_gets_the_templates_convention(tmp_path: Path) -> None:
    ini = _alembic_project(tmp_path, None)
    naming = revision_naming(ini)
    assert revision_filename(fts_plan(), naming) == "2025_01_15_1430_add_full_text_search_index.py"


def test_pyproject_alembic_section_is_read(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[tool.alembic]\nscript_location = "migrations"\n'
        'file_template = "%%(year)d-%%(month).2d-%%(day).2d_%%(rev)s"\n'
    )
    naming = revision_naming(pyproject)
    assert revision_filename(fts_plan(), naming) == "2025-01-15_abc123def456.py"


def test_missing_config_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no Alembic config"):
        revision_naming(tmp_path / "alembic.ini")
    assert revision_naming(None) == RevisionNaming()


# --- the source ----------------------------------------------------------------------------


def test_header_and_identifiers_follow_the_template_example() -> None:
    source = render_revision(fts_plan(), reformat=False).source
    assert source.startswith(
        '"""add full-text search index\n\n'
        "Revision ID: abc123def456\n"
        "Revises: 0123456789ab\n"
        "Create Date: 2025-01-15 14:30:07\n\n"
        '"""\n'
    )
    assert '\nrevision = "abc123def456"\ndown_revision = "0123456789ab"\n' in source
    assert "\nbranch_labels = None\ndepends_on = None\n" in source
    first = render_revision(fts_plan(down_revision=None), reformat=False).source
    assert "Revises:\n" in first and "\ndown_revision = None\n" in first


def test_output_is_ruff_formatted_and_lint_clean_without_a_formatter() -> None:
    for plan in (
        fts_plan(),
        fts_plan(upgrade_ops=[], downgrade_ops=[]),
        fts_plan(downgrade_ops=[], irreversible_reason="the old values are not kept anywhere " * 3),
        fts_plan(
            upgrade_ops=[
                call(
                    "op.add_column",
                    "documents",
                    Raw(call("sa.Column", "meta", Raw("postgresql.JSONB()"), nullable=True)),
                )
            ]
        ),
    ):
        source = render_revision(plan, reformat=False).source
        formatted = ruff("format", "--diff", source=source)
        assert formatted.returncode == 0, formatted.stdout + formatted.stderr
        # line length is the formatter's call: long string literals stay long
        linted = ruff("check", "--select", "E,F,W,I,UP,B", "--ignore", "E501", source=source)
        assert linted.returncode == 0, linted.stdout + linted.stderr


def test_formatter_is_applied_when_installed_and_changes_nothing_on_clean_output() -> None:
    clean = render_revision(fts_plan())
    assert clean.formatted_with == "ruff"  # ruff is a test dependency
    assert clean.source == render_revision(fts_plan(), reformat=False).source
    sloppy = fts_plan(upgrade_ops=["op.execute( 'SELECT 1' )", "x = [1,2 ,3]"])
    assert "    op.execute( 'SELECT 1' )\n" in render_revision(sloppy, reformat=False).source
    tidy = render_revision(sloppy).source
    assert '    op.execute("SELECT 1")\n\n    x = [1, 2, 3]\n' in tidy


def test_whitespace_inside_strings_is_kept(tmp_path: Path) -> None:
    block = 'op.execute("""\nSELECT 1\n   \n  ;""")'
    source = render_revision(fts_plan(upgrade_ops=[block]), reformat=False).source
    assert '    op.execute("""\nSELECT 1\n   \n  ;""")\n' in source


def test_fstrings_spanning_lines_are_not_reindented(tmp_path: Path) -> None:
    block = 'table = "sections"\nop.execute(f"""\nANALYZE {table}\n""")'
    source = render_revision(fts_plan(upgrade_ops=[block]), reformat=False).source
    assert '    op.execute(f"""\nANALYZE {table}\n""")\n' in source
    assert "ANALYZE sections" in offline_sql(load_module(source, tmp_path).upgrade)


def test_only_used_imports_are_written(tmp_path: Path) -> None:
    plain = render_revision(fts_plan(), reformat=False).source
    assert "from alembic import op\n" in plain
    assert "sqlalchemy" not in plain
    with_sa = render_revision(
        fts_plan(
            upgrade_ops=[
                'op.add_column("documents", sa.Column("meta", postgresql.JSONB(), nullable=True))'
            ],
            downgrade_ops=['op.drop_column("documents", "meta")'],
        ),
        reformat=False,
    ).source
    assert (
        "\n\nimport sqlalchemy as sa\nfrom alembic import op\nfrom sqlalchemy.dialects import postgresql\n\n"
        in with_sa
    )
    empty = render_revision(fts_plan(upgrade_ops=[], downgrade_ops=[]), reformat=False).source
    assert "import" not in empty
    assert "def upgrade() -> None:\n    pass\n" in empty
    module = load_module(empty, tmp_path)
    assert module.upgrade() is None and module.downgrade() is None


def test_rendered_module_imports_and_emits_the_expected_sql(tmp_path: Path) -> None:
    module = load_module(render_revision(fts_plan()).source, tmp_path)
    assert module.revision == "abc123def456"
    assert module.down_revision == "0123456789ab"
    assert module.branch_labels is None and module.depends_on is None

    up = offline_sql(module.upgrade)
    # the SQL inside the triple-quoted string reaches the database byte for byte
    for line in FTS_COLUMN_SQL.strip().splitlines():
        assert line in up
    assert "CREATE INDEX idx_sections_fts ON sections USING gin (search_vector);" in up
    assert up.index("ADD COLUMN search_vector") < up.index("CREATE INDEX")

    down = offline_sql(module.downgrade)
    assert "DROP INDEX idx_sections_fts;" in down
    assert "ALTER TABLE sections DROP COLUMN search_vector;" in down
    assert down.index("DROP INDEX") < down.index("DROP COLUMN")


def test_blocks_keep_multiline_strings_and_nested_code(tmp_path: Path) -> None:
    plan = fts_plan(
        upgrade_ops=[
            "op.execute(\"SET LOCAL lock_timeout = '5s'\")",
            "with op.get_context().autocommit_block():\n"
            + "    "
            + call(
                "op.create_index",
                "idx_sections_fts",
                "sections",
                ["search_vector"],
                postgresql_using="gin",
                postgresql_concurrently=True,
            ).replace("\n", "\n    "),
            'op.execute("""\nUPDATE sections\n   SET position = position + 1\n""")',
        ]
    )
    source = render_revision(plan, reformat=False).source
    assert '    op.execute("""\nUPDATE sections\n   SET position = position + 1\n""")\n' in source
    assert "    with op.get_context().autocommit_block():\n        op.create_index(\n" in source
    up = offline_sql(load_module(source, tmp_path).upgrade)
    assert "SET LOCAL lock_timeout = '5s';" in up
    assert "CREATE INDEX CONCURRENTLY idx_sections_fts ON sections USING gin (search_vector);" in up
    assert "UPDATE sections\n   SET position = position + 1" in up


def test_irreversible_revision_raises_in_downgrade(tmp_path: Path) -> None:
    plan = fts_plan(downgrade_ops=[], irreversible_reason="drops sections.legacy and its data")
    module = load_module(render_revision(plan).source, tmp_path)
    with pytest.raises(
        NotImplementedError, match=r"irreversible: drops sections\.legacy and its data"
    ):
        module.downgrade()
    with pytest.raises(ValidationError, match="no downgrade_ops"):
        fts_plan(irreversible_reason="lossy")
    with pytest.raises(ValidationError, match="say why"):
        fts_plan(downgrade_ops=[], irreversible_reason=" ")


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        (["op.drop_table(documents)"], "undefined name"),
        (["text('x')"], "undefined name"),
        (["op.execute('x'"], "not valid Python"),
    ],
)
def test_bad_op_code_is_rejected_before_rendering(ops: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        fts_plan(upgrade_ops=ops)


def test_block_local_names_and_imports_are_allowed() -> None:
    plan = fts_plan(
        upgrade_ops=[
            "from sqlalchemy import text\nconn = op.get_bind()",
            "for batch in range(3):\n    conn.execute(text('SELECT 1'))",
        ]
    )
    assert "conn = op.get_bind()" in render_revision(plan, reformat=False).source


def test_revision_ids_are_checked_and_generated() -> None:
    with pytest.raises(ValidationError):
        fts_plan(revision="abc'; import os")
    plan = RevisionPlan(message="x", upgrade_ops=["op.execute('SELECT 1')"])
    assert len(plan.revision) == 12 and int(plan.revision, 16) >= 0
    assert plan.create_date.microsecond == 0


def test_message_with_quotes_cannot_break_the_docstring(tmp_path: Path) -> None:
    plan = fts_plan(message='fix """ docstring \\ escapes\nand newlines')
    source = render_revision(plan, reformat=False).source
    module = load_module(source, tmp_path)
    assert module.__doc__.splitlines()[0] == 'fix """ docstring \\ escapes and newlines'


# --- Alembic runs it -------------------------------------------------------------------------


def _write_chain(tmp_path: Path, db_url: str) -> tuple[Config, list[str]]:
    ini = _alembic_project(tmp_path, None)
    cfg = Config(str(ini))
    cfg.set_main_option("sqlalchemy.url", db_url)
    naming = revision_naming(ini)
    base = RevisionPlan(
        message="create sections",
        revision="a1f0c0de0001",
        create_date=CREATE_DATE - dt.timedelta(days=1),
        upgrade_ops=[
            execute(
                "CREATE TABLE sections (id bigint PRIMARY KEY, position integer NOT NULL, "
                "title text, content text)"
            )
        ],
        downgrade_ops=[call("op.drop_table", "sections")],
    )
    fts = fts_plan(down_revision=base.revision)
    names = []
    for plan in (base, fts):
        rendered = render_revision(plan, naming)
        write_atomic(naming.versions_dir / rendered.filename, rendered.source)
        names.append(rendered.filename)
    return cfg, names


def test_alembic_loads_the_rendered_chain(tmp_path: Path) -> None:
    cfg, names = _write_chain(tmp_path, "postgresql://unused/db")
    script = ScriptDirectory.from_config(cfg)
    assert script.get_current_head() == "abc123def456"
    assert script.get_revision("abc123def456").down_revision == "a1f0c0de0001"
    assert sorted(p.name for p in (tmp_path / "migrations" / "versions").glob("*.py")) == sorted(
        names
    )

    buf = io.StringIO()
    cfg.output_buffer = buf
    command.upgrade(cfg, "head", sql=True)
    sql = buf.getvalue()
    assert "CREATE TABLE sections" in sql
    assert "CREATE INDEX idx_sections_fts ON sections USING gin (search_vector);" in sql
    assert "UPDATE alembic_version SET version_num='abc123def456'" in sql


def test_rendered_chain_upgrades_and_downgrades_on_postgres(tmp_path: Path, scratch) -> None:
    cfg, _ = _write_chain(tmp_path, scratch.sqlalchemy_url)
    command.upgrade(cfg, "head")
    with scratch.connect() as conn:
        indexes = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_sections_fts'"
        ).fetchall()
        assert indexes and "gin (search_vector)" in indexes[0][0]
        assert (
            conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "abc123def456"
        )
    command.downgrade(cfg, "-1")
    with scratch.connect() as conn:
        columns = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'sections'"
            )
        }
        assert columns == {"id", "position", "title", "content"}
    command.upgrade(cfg, "head")


def test_indented_blocks_are_dedented_but_their_strings_are_not(tmp_path: Path) -> None:
    block = '\n        op.execute("""\n  keep  \n""")\n        op.execute("SELECT 2")\n'
    plan = fts_plan(upgrade_ops=[block])
    assert plan.upgrade_ops == ['op.execute("""\n  keep  \n""")\nop.execute("SELECT 2")']
    source = render_revision(plan, reformat=False).source
    assert '\n    op.execute("""\n  keep  \n""")\n    op.execute("SELECT 2")\n' in source
    up = offline_sql(load_module(source, tmp_path).upgrade)
    assert "keep;" in up and "SELECT 2;" in up
