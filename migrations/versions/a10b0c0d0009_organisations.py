"""Organisations (issue 15): a council or partnership of councils runs funds; its member
local authorities; council staff belong to one. Today's data moves into a first organisation
built from the settings FUNDER_ORG_ID / FUNDER_ORG_NAME / FUNDER_ORG_SLUG / REFERENCE_PREFIX.

Revision ID: a10b0c0d0009
Revises: a10b0c0d0008
"""
import sqlalchemy as sa
from alembic import op

revision = 'a10b0c0d0009'
down_revision = 'a10b0c0d0008'
branch_labels = None
depends_on = None

#: The settings' defaults (config.py), for a migration run without an application.
DEFAULTS = {
    'FUNDER_ORG_ID': 'GB-LAE-SLG',
    'FUNDER_ORG_NAME': 'Slough Borough Council',
    'FUNDER_ORG_SLUG': 'slough',
    'REFERENCE_PREFIX': 'LSIF',
}
#: The local authority a known funder identifier is (others get none: an admin adds them).
KNOWN_COUNCILS = {'GB-LAE-SLG': ('E06000039', 'Slough', 'england')}


def _setting(name):
    try:
        from flask import current_app

        return current_app.config.get(name) or DEFAULTS[name]
    except RuntimeError:  # no application context
        return DEFAULTS[name]


def upgrade():
    op.create_table(
        'local_authorities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('gss_code', sa.String(length=9), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('nation', sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_local_authorities')),
        sa.UniqueConstraint('gss_code', name=op.f('uq_local_authorities_gss_code')),
    )
    op.create_table(
        'organisations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('funder_id', sa.String(length=60), nullable=False),
        sa.Column('reference_prefix', sa.String(length=12), nullable=False),
        sa.Column('term_calendar', sa.String(length=20), server_default='three_terms', nullable=False),
        sa.Column('audit_genesis', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
        sa.UniqueConstraint('slug', name=op.f('uq_organisations_slug')),
        sa.UniqueConstraint('reference_prefix', name='uq_organisations_reference_prefix'),
    )
    op.create_table(
        'organisation_local_authorities',
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('local_authority_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['local_authority_id'], ['local_authorities.id'],
            name=op.f('fk_organisation_local_authorities_local_authority_id_local_authorities'),
        ),
        sa.ForeignKeyConstraint(
            ['organisation_id'], ['organisations.id'], ondelete='CASCADE',
            name=op.f('fk_organisation_local_authorities_organisation_id_organisations'),
        ),
        sa.PrimaryKeyConstraint(
            'organisation_id', 'local_authority_id', name=op.f('pk_organisation_local_authorities')
        ),
    )
    op.create_table(
        'fund_local_authorities',
        sa.Column('fund_id', sa.Integer(), nullable=False),
        sa.Column('local_authority_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['fund_id'], ['funds.id'], ondelete='CASCADE', name=op.f('fk_fund_local_authorities_fund_id_funds')
        ),
        sa.ForeignKeyConstraint(
            ['local_authority_id'], ['local_authorities.id'],
            name=op.f('fk_fund_local_authorities_local_authority_id_local_authorities'),
        ),
        sa.PrimaryKeyConstraint('fund_id', 'local_authority_id', name=op.f('pk_fund_local_authorities')),
    )

    # the first organisation: today's council, from the settings
    funder_id = _setting('FUNDER_ORG_ID')
    bind = op.get_bind()
    now = sa.func.current_timestamp()
    organisations = sa.table(
        'organisations',
        *(sa.column(c) for c in ('id', 'slug', 'name', 'funder_id', 'reference_prefix', 'term_calendar',
                                 'audit_genesis')),
        sa.column('created_at', sa.DateTime()), sa.column('updated_at', sa.DateTime()),
    )
    bind.execute(
        organisations.insert().values(
            slug=_setting('FUNDER_ORG_SLUG'), name=_setting('FUNDER_ORG_NAME'), funder_id=funder_id,
            reference_prefix=_setting('REFERENCE_PREFIX'),
            term_calendar='four_terms' if funder_id.startswith('GB-LAS-') else 'three_terms',
            created_at=now, updated_at=now,
            # its chain is the trail from before organisations, which began at all zeros
            audit_genesis='0' * 64,
        )
    )
    organisation_id = bind.execute(sa.text('SELECT min(id) FROM organisations')).scalar_one()
    if funder_id in KNOWN_COUNCILS:
        gss_code, name, nation = KNOWN_COUNCILS[funder_id]
        bind.execute(
            sa.text('INSERT INTO local_authorities (gss_code, name, nation) VALUES (:g, :n, :nation)'),
            {'g': gss_code, 'n': name, 'nation': nation},
        )
        bind.execute(
            sa.text(
                'INSERT INTO organisation_local_authorities (organisation_id, local_authority_id)'
                ' SELECT :o, id FROM local_authorities'
            ),
            {'o': organisation_id},
        )

    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_users_organisation_id_organisations'), 'organisations', ['organisation_id'], ['id']
        )
    # council staff (anyone with a role besides headteacher) work for it
    bind.execute(
        sa.text(
            'UPDATE users SET organisation_id = :o WHERE EXISTS (SELECT 1 FROM user_roles'
            " WHERE user_roles.user_id = users.id AND user_roles.role NOT IN ('headteacher', 'service_admin'))"
        ),
        {'o': organisation_id},
    )

    with op.batch_alter_table('funds') as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
    bind.execute(sa.text('UPDATE funds SET organisation_id = :o'), {'o': organisation_id})
    with op.batch_alter_table('funds') as batch_op:
        batch_op.alter_column('organisation_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_funds_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_funds_organisation_id_organisations'), 'organisations', ['organisation_id'], ['id']
        )
    # the trail so far is the first organisation's chain; each organisation numbers its own
    with op.batch_alter_table('events') as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
    bind.execute(sa.text('UPDATE events SET organisation_id = :o'), {'o': organisation_id})
    with op.batch_alter_table('events') as batch_op:
        batch_op.drop_constraint('uq_events_seq', type_='unique')
        batch_op.create_unique_constraint('uq_events_organisation_id_seq', ['organisation_id', 'seq'])
        batch_op.create_foreign_key(
            batch_op.f('fk_events_organisation_id_organisations'), 'organisations', ['organisation_id'], ['id']
        )
    op.create_index(
        'uq_events_service_seq', 'events', ['seq'], unique=True,
        sqlite_where=sa.text('organisation_id IS NULL'), postgresql_where=sa.text('organisation_id IS NULL'),
    )

    # every fund takes bids from the organisation's member councils
    bind.execute(
        sa.text(
            'INSERT INTO fund_local_authorities (fund_id, local_authority_id)'
            ' SELECT funds.id, ola.local_authority_id FROM funds'
            ' JOIN organisation_local_authorities ola ON ola.organisation_id = funds.organisation_id'
        )
    )


def downgrade():
    op.drop_index('uq_events_service_seq', table_name='events')
    with op.batch_alter_table('events') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_events_organisation_id_organisations'), type_='foreignkey')
        batch_op.drop_constraint('uq_events_organisation_id_seq', type_='unique')
    # one chain again: renumber every event in order (their hashes no longer verify: the
    # separate chains cannot be joined without rewriting them)
    op.execute('UPDATE events SET seq = -id')
    op.execute('UPDATE events SET seq = (SELECT count(*) FROM events e WHERE e.id <= -events.seq)')
    with op.batch_alter_table('events') as batch_op:
        batch_op.create_unique_constraint('uq_events_seq', ['seq'])
        batch_op.drop_column('organisation_id')
    with op.batch_alter_table('funds') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_funds_organisation_id_organisations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_funds_organisation_id'))
        batch_op.drop_column('organisation_id')
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_organisation_id_organisations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_organisation_id'))
        batch_op.drop_column('organisation_id')
    op.execute("DELETE FROM user_roles WHERE role = 'service_admin'")
    op.drop_table('fund_local_authorities')
    op.drop_table('organisation_local_authorities')
    op.drop_table('organisations')
    op.drop_table('local_authorities')
