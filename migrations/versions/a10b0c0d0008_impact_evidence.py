"""Value-for-money and impact evidence (issue 14): school size and free school meals share
from GIAS, when each bid was decided, and a record of every full check of the audit trail

Revision ID: a10b0c0d0008
Revises: a10b0c0d0007
"""
import sqlalchemy as sa
from alembic import op

revision = 'a10b0c0d0008'
down_revision = 'a10b0c0d0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('applications') as batch:
        batch.add_column(sa.Column('decided_at', sa.DateTime(), nullable=True))
    # a bid decided before this column existed: the time of its latest approve or reject
    op.execute(
        "UPDATE applications SET decided_at = (SELECT max(events.at) FROM events"
        " WHERE events.application_id = applications.id AND events.subject_type = 'application'"
        " AND events.action IN ('approve', 'reject'))"
    )
    with op.batch_alter_table('schools') as batch:
        batch.add_column(sa.Column('pupils', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('fsm_percent', sa.Numeric(5, 1), nullable=True))
    op.create_table(
        'audit_verifications',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('checked_by', sa.String(254), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('events_checked', sa.Integer(), nullable=False),
        sa.Column('first_bad_event_id', sa.Integer(), nullable=True),
        sa.Column('problem', sa.Text(), nullable=False, server_default=''),
    )
    op.create_index('ix_audit_verifications_at', 'audit_verifications', ['at', 'id'])


def downgrade():
    op.drop_index('ix_audit_verifications_at', table_name='audit_verifications')
    op.drop_table('audit_verifications')
    with op.batch_alter_table('schools') as batch:
        batch.drop_column('fsm_percent')
        batch.drop_column('pupils')
    with op.batch_alter_table('applications') as batch:
        batch.drop_column('decided_at')
