"""monitoring schedule, notifications and their outbox, forgotten passwords

Revision ID: a10b0c0d0006
Revises: a10b0c0d0005
Create Date: 2026-11-30 19:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a10b0c0d0006'
down_revision = 'a10b0c0d0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('funds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_cadence', sa.String(length=20), server_default='termly', nullable=False))
        batch_op.add_column(sa.Column('final_report_weeks', sa.Integer(), server_default='6', nullable=False))
        batch_op.add_column(sa.Column('claim_deadline_weeks', sa.Integer(), server_default='4', nullable=False))
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('interim_report_dates', sa.JSON(), nullable=True))
    with op.batch_alter_table('application_partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('declined_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('declined_reason', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('starts_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ends_on', sa.Date(), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notification_preferences', sa.JSON(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('last_digest_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('calendar_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_users_calendar_token_hash', ['calendar_token_hash'])
    with op.batch_alter_table('set_password_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=10), server_default='new', nullable=False))

    op.create_table(
        'schedule_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=True),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('completed_on', sa.Date(), nullable=True),
        sa.Column('report_id', sa.Integer(), nullable=True),
        sa.Column('waived_reason', sa.Text(), server_default='', nullable=False),
        sa.Column('next_reminder_on', sa.Date(), nullable=True),
        sa.Column('reminders_sent', sa.Integer(), server_default='0', nullable=False),
        sa.Column('escalated_on', sa.Date(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id']),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id']),
        sa.ForeignKeyConstraint(['report_id'], ['impact_reports.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('schedule_items', schema=None) as batch_op:
        batch_op.create_index('ix_schedule_items_application_id', ['application_id'], unique=False)
        batch_op.create_index('ix_schedule_items_status_due_on', ['status', 'due_on'], unique=False)
        batch_op.create_index('ix_schedule_items_next_reminder_on', ['next_reminder_on'], unique=False)

    op.create_table(
        'outbound_emails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('to_address', sa.String(length=254), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('sensitive', sa.Boolean(), server_default='0', nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('lease_token', sa.String(length=64), nullable=True),
        sa.Column('leased_until', sa.DateTime(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.String(length=500), server_default='', nullable=False),
        sa.Column('provider_reference', sa.String(length=100), server_default='', nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('outbound_emails', schema=None) as batch_op:
        batch_op.create_index('ix_outbound_emails_user_id', ['user_id'], unique=False)
        batch_op.create_index(
            'ix_outbound_emails_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False
        )

    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('link', sa.String(length=500), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.Column('delivery', sa.String(length=10), nullable=False),
        sa.Column('email_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id']),
        sa.ForeignKeyConstraint(['email_id'], ['outbound_emails.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_application_id', ['application_id'], unique=False)
        batch_op.create_index('ix_notifications_user_id_id', ['user_id', 'id'], unique=False)
        batch_op.create_index('ix_notifications_user_id_read_at', ['user_id', 'read_at'], unique=False)
        batch_op.create_index('ix_notifications_digest', ['delivery', 'email_id', 'user_id'], unique=False)

    op.create_table(
        'password_reset_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('password_reset_requests', schema=None) as batch_op:
        batch_op.create_index('ix_password_reset_requests_email_at', ['email', 'at'], unique=False)
        batch_op.create_index('ix_password_reset_requests_address_at', ['address', 'at'], unique=False)


def downgrade():
    op.drop_table('password_reset_requests')
    op.drop_table('notifications')
    op.drop_table('outbound_emails')
    op.drop_table('schedule_items')
    with op.batch_alter_table('set_password_links', schema=None) as batch_op:
        batch_op.drop_column('purpose')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_calendar_token_hash', type_='unique')
        batch_op.drop_column('calendar_token_hash')
        batch_op.drop_column('last_digest_on')
        batch_op.drop_column('notification_preferences')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_column('ends_on')
        batch_op.drop_column('starts_on')
    with op.batch_alter_table('application_partners', schema=None) as batch_op:
        batch_op.drop_column('declined_reason')
        batch_op.drop_column('declined_at')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('interim_report_dates')
    with op.batch_alter_table('funds', schema=None) as batch_op:
        batch_op.drop_column('claim_deadline_weeks')
        batch_op.drop_column('final_report_weeks')
        batch_op.drop_column('report_cadence')
