"""each bid's running figures: bid_figures, kept with every change to the bid

Revision ID: a10b0c0d0012
Revises: a10b0c0d0011
Create Date: 2026-12-01 04:30:00

"""

from alembic import op
import sqlalchemy as sa


revision = "a10b0c0d0012"
down_revision = "a10b0c0d0011"
branch_labels = None
depends_on = None

# The figures of every bid there is, worked out as fundflow.services.bid_figures did when this
# migration was written (a migration keeps its own copy: the service may change later).
BACKFILL = """
INSERT INTO bid_figures (
    application_id, claimed_pence, claimed_days, paid_pence, value_for_money_score,
    impact_rating, supported_partners, planned_days, measures, achieved, part_way,
    not_achieved, no_result_yet
)
SELECT a.id, COALESCE(c.pence, 0), COALESCE(c.days, 0), COALESCE(p.pence, 0), r.score,
       e.rating, COALESCE(s.schools, 0), pl.days, COALESCE(m.measures, 0),
       COALESCE(m.achieved, 0), COALESCE(m.part_way, 0), COALESCE(m.not_achieved, 0),
       COALESCE(m.no_result_yet, 0)
FROM applications a
LEFT JOIN (SELECT application_id, SUM(amount_pence) AS pence, SUM(days) AS days
           FROM backfill_claims WHERE status IN ('verified', 'paid')
           GROUP BY application_id) c ON c.application_id = a.id
LEFT JOIN (SELECT bc.application_id, SUM(d.amount_pence) AS pence
           FROM disbursements d JOIN backfill_claims bc ON bc.id = d.claim_id
           GROUP BY bc.application_id) p ON p.application_id = a.id
LEFT JOIN (SELECT application_id, value_for_money AS score,
                  ROW_NUMBER() OVER (PARTITION BY application_id ORDER BY id DESC) AS newest
           FROM reviews) r ON r.application_id = a.id AND r.newest = 1
LEFT JOIN (SELECT ir.application_id, ie.rating,
                  ROW_NUMBER() OVER (PARTITION BY ir.application_id ORDER BY ie.id DESC) AS newest
           FROM impact_evaluations ie JOIN impact_reports ir ON ir.id = ie.report_id
          ) e ON e.application_id = a.id AND e.newest = 1
LEFT JOIN (SELECT application_id, COUNT(id) AS schools FROM application_partners
           WHERE role = 'supported' GROUP BY application_id) s ON s.application_id = a.id
LEFT JOIN (SELECT application_id, SUM(days) AS days FROM activities
           GROUP BY application_id) pl ON pl.application_id = a.id
LEFT JOIN (SELECT application_id, COUNT(*) AS measures,
                  SUM(CASE WHEN result = 'achieved' THEN 1 ELSE 0 END) AS achieved,
                  SUM(CASE WHEN result = 'part_way' THEN 1 ELSE 0 END) AS part_way,
                  SUM(CASE WHEN result = 'not_achieved' THEN 1 ELSE 0 END) AS not_achieved,
                  SUM(CASE WHEN result = 'no_result_yet' THEN 1 ELSE 0 END) AS no_result_yet
           FROM (SELECT ms.application_id,
                        CASE WHEN x.actual IS NULL THEN 'no_result_yet'
                             WHEN (ms.target >= ms.baseline AND x.actual >= ms.target)
                               OR (ms.target < ms.baseline AND x.actual <= ms.target) THEN 'achieved'
                             WHEN (ms.target > ms.baseline AND x.actual > ms.baseline)
                               OR (ms.target < ms.baseline AND x.actual < ms.baseline) THEN 'part_way'
                             ELSE 'not_achieved' END AS result
                 FROM measures ms
                 LEFT JOIN (SELECT measure_id, actual,
                                   ROW_NUMBER() OVER (PARTITION BY measure_id ORDER BY id DESC) AS newest
                            FROM impact_results) x ON x.measure_id = ms.id AND x.newest = 1
                ) results
           GROUP BY application_id) m ON m.application_id = a.id
"""


def upgrade():
    op.create_table(
        "bid_figures",
        sa.Column("application_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("claimed_pence", sa.BigInteger(), nullable=False),
        sa.Column("claimed_days", sa.Numeric(precision=12, scale=1), nullable=False),
        sa.Column("paid_pence", sa.BigInteger(), nullable=False),
        sa.Column("value_for_money_score", sa.Integer(), nullable=True),
        sa.Column("impact_rating", sa.String(length=20), nullable=True),
        sa.Column("supported_partners", sa.Integer(), nullable=False),
        sa.Column("planned_days", sa.Numeric(precision=12, scale=1), nullable=True),
        sa.Column("measures", sa.Integer(), nullable=False),
        sa.Column("achieved", sa.Integer(), nullable=False),
        sa.Column("part_way", sa.Integer(), nullable=False),
        sa.Column("not_achieved", sa.Integer(), nullable=False),
        sa.Column("no_result_yet", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"], name=op.f("fk_bid_figures_application_id_applications")
        ),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_bid_figures")),
    )
    with op.batch_alter_table("impact_results", schema=None) as batch_op:
        batch_op.create_index("ix_impact_results_measure_id_id", ["measure_id", "id"], unique=False)
    op.execute(BACKFILL)


def downgrade():
    with op.batch_alter_table("impact_results", schema=None) as batch_op:
        batch_op.drop_index("ix_impact_results_measure_id_id")
    op.drop_table("bid_figures")
