"""each organisation's audit-chain checks: audit_verifications.organisation_id

Revision ID: a10b0c0d0011
Revises: a10b0c0d0010
Create Date: 2026-12-01 01:10:00

"""

from alembic import op
import sqlalchemy as sa


revision = "a10b0c0d0011"
down_revision = "a10b0c0d0010"
branch_labels = None
depends_on = None


def upgrade():
    # Checks recorded so far covered the one chain there was: the first organisation's.
    with op.batch_alter_table("audit_verifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_verifications_organisation_id_organisations"),
            "organisations",
            ["organisation_id"],
            ["id"],
        )
        batch_op.create_index(
            "ix_audit_verifications_organisation_id_at", ["organisation_id", "at", "id"], unique=False
        )
    op.execute(
        "UPDATE audit_verifications SET organisation_id = (SELECT MIN(id) FROM organisations)"
    )


def downgrade():
    with op.batch_alter_table("audit_verifications", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_verifications_organisation_id_at")
        batch_op.drop_constraint(
            batch_op.f("fk_audit_verifications_organisation_id_organisations"), type_="foreignkey"
        )
        batch_op.drop_column("organisation_id")
