"""schools keep their GIAS establishment status

Revision ID: a10b0c0d0004
Revises: a10b0c0d0003
Create Date: 2026-11-30 16:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a10b0c0d0004'
down_revision = 'a10b0c0d0003'
branch_labels = None
depends_on = None


def upgrade():
    # Every school imported so far was open (the import skipped closed establishments).
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), server_default='open', nullable=False))
        batch_op.create_check_constraint(
            'status', "status IN ('open', 'proposed_to_close', 'proposed_to_open', 'closed')"
        )


def downgrade():
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_schools_status'), type_='check')
        batch_op.drop_column('status')
