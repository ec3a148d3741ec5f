"""FK prescriptions.patient_id -> patients.id ON DELETE CASCADE

prescriptions_patient_id_idx already covers the column (cascading deletes
and the validation scan use it).
1. add the FK NOT VALID: a brief lock, no scan;
2. VALIDATE in its own transaction: SHARE UPDATE EXCLUSIVE, writes go on.
"""

from alembic import op

revision = "f5e0c0de0501"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.execute(
        "ALTER TABLE prescriptions ADD CONSTRAINT prescriptions_patient_id_fkey "
        "FOREIGN KEY (patient_id) REFERENCES patients (id) ON DELETE CASCADE NOT VALID"
    )
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE prescriptions VALIDATE CONSTRAINT prescriptions_patient_id_fkey")


def downgrade():
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint("prescriptions_patient_id_fkey", "prescriptions", type_="foreignkey")
