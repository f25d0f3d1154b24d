"""auditor data rules: delivery period, claim staff, payment dates, report rules

Revision ID: a10b0c0d0001
Revises: 9c898da0c4d2
Create Date: 2026-11-30 16:30:00

"""
from datetime import date, timedelta

from alembic import op
import sqlalchemy as sa


revision = 'a10b0c0d0001'
down_revision = '9c898da0c4d2'
branch_labels = None
depends_on = None


def upgrade():
    # Funds gain the end of their delivery period; existing funds get a year after closing.
    with op.batch_alter_table('funds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_ends_on', sa.Date(), nullable=True))
    funds = sa.table('funds', sa.column('id', sa.Integer()), sa.column('closes_on', sa.Date()),
                     sa.column('delivery_ends_on', sa.Date()))
    connection = op.get_bind()
    for fund_id, closes_on in connection.execute(sa.select(funds.c.id, funds.c.closes_on)).all():
        if isinstance(closes_on, str):  # SQLite without type conversion
            closes_on = date.fromisoformat(closes_on)
        connection.execute(
            funds.update().where(funds.c.id == fund_id).values(delivery_ends_on=_a_year_after(closes_on))
        )
    with op.batch_alter_table('funds', schema=None) as batch_op:
        batch_op.alter_column('delivery_ends_on', existing_type=sa.Date(), nullable=False)

    # Claims name the person released (existing claims: their role text, the best we have),
    # and carry the claim on another bid they overlap (possible double funding).
    with op.batch_alter_table('backfill_claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('overlaps_claim_id', sa.Integer(), nullable=True))
    claims = sa.table('backfill_claims', sa.column('staff_released', sa.String()),
                      sa.column('staff_name', sa.String()))
    connection.execute(claims.update().values(staff_name=sa.func.substr(claims.c.staff_released, 1, 200)))
    with op.batch_alter_table('backfill_claims', schema=None) as batch_op:
        batch_op.alter_column('staff_name', existing_type=sa.String(length=200), nullable=False)
        batch_op.create_index(batch_op.f('ix_backfill_claims_overlaps_claim_id'), ['overlaps_claim_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_backfill_claims_overlaps_claim_id_backfill_claims'),
                                    'backfill_claims', ['overlaps_claim_id'], ['id'])


def downgrade():
    with op.batch_alter_table('backfill_claims', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_backfill_claims_overlaps_claim_id_backfill_claims'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_backfill_claims_overlaps_claim_id'))
        batch_op.drop_column('overlaps_claim_id')
        batch_op.drop_column('staff_name')
    with op.batch_alter_table('funds', schema=None) as batch_op:
        batch_op.drop_column('delivery_ends_on')


def _a_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day + timedelta(days=365)
