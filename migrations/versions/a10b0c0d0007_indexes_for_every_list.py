"""Indexes for every filter and sort the pages and API lists use (issue 13)

Revision ID: a10b0c0d0007
Revises: a10b0c0d0006
"""
from alembic import op

revision = 'a10b0c0d0007'
down_revision = 'a10b0c0d0006'
branch_labels = None
depends_on = None

#: (table, index name, columns)
INDEXES = [
    ('applications', 'ix_applications_status_id', ['status', 'id']),
    ('applications', 'ix_applications_fund_id_id', ['fund_id', 'id']),
    ('applications', 'ix_applications_status_submitted_at', ['status', 'submitted_at', 'id']),
    ('applications', 'ix_applications_lead_school_id_updated_at', ['lead_school_id', 'updated_at', 'id']),
    ('applications', 'ix_applications_created_by_id', ['created_by_id']),
    ('backfill_claims', 'ix_backfill_claims_status_created_at', ['status', 'created_at', 'id']),
    ('backfill_claims', 'ix_backfill_claims_status_verified_at', ['status', 'verified_at', 'id']),
    (
        'backfill_claims',
        'ix_backfill_claims_application_id_period_start',
        ['application_id', 'period_start', 'id'],
    ),
    ('disbursements', 'ix_disbursements_fund_id_id', ['fund_id', 'id']),
    ('impact_reports', 'ix_impact_reports_status_created_at', ['status', 'created_at', 'id']),
    ('events', 'ix_events_application_id_seq', ['application_id', 'seq']),
    ('events', 'ix_events_fund_id_seq', ['fund_id', 'seq']),
    ('schools', 'ix_schools_name_id', ['name', 'id']),
    ('users', 'ix_users_active_name_id', ['active', 'name', 'id']),
]


def upgrade():
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
