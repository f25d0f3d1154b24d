"""impact report and free-text rules

Revision ID: a10b0c0d0005
Revises: a10b0c0d0004
Create Date: 2026-11-30 16:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a10b0c0d0005'
down_revision = 'a10b0c0d0004'
branch_labels = None
depends_on = None


def upgrade():
    # A measure due after the fund's delivery period states why it is followed up later.
    with op.batch_alter_table('measures', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('follow_up_reason', sa.String(length=1000), server_default='', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('measures', schema=None) as batch_op:
        batch_op.drop_column('follow_up_reason')
