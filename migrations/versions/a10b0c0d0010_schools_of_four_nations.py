"""schools of the four nations: nation, official identifier, local authority GSS code

Revision ID: a10b0c0d0010
Revises: a10b0c0d0009
Create Date: 2026-11-30 23:30:00

"""

from alembic import op
import sqlalchemy as sa


revision = "a10b0c0d0010"
down_revision = "a10b0c0d0009"
branch_labels = None
depends_on = None


def upgrade():
    # Every school so far is English: its identifier is its URN.
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("nation", sa.String(length=20), server_default="england", nullable=False)
        )
        batch_op.add_column(sa.Column("identifier", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("gss_code", sa.String(length=9), server_default="", nullable=False))
    op.execute("UPDATE schools SET identifier = urn")
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.alter_column("identifier", existing_type=sa.String(length=12), nullable=False)
        batch_op.alter_column("urn", existing_type=sa.String(length=6), nullable=True)
        batch_op.create_unique_constraint(op.f("uq_schools_nation"), ["nation", "identifier"])
        batch_op.create_check_constraint(
            "nation", "nation IN ('england', 'wales', 'scotland', 'northern_ireland')"
        )


def downgrade():
    # Only English schools fit the old table (URN required): the others are removed; a school
    # still named on a bid or account makes the foreign keys refuse the downgrade.
    op.execute("DELETE FROM schools WHERE nation <> 'england'")
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_schools_nation"), type_="check")
        batch_op.drop_constraint(op.f("uq_schools_nation"), type_="unique")
        batch_op.alter_column("urn", existing_type=sa.String(length=6), nullable=False)
        batch_op.drop_column("gss_code")
        batch_op.drop_column("identifier")
        batch_op.drop_column("nation")
