"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('change',
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('formation_id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('numero', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('op', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('flow_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_formation_id'), ['formation_id'], unique=False)

    op.create_table('connector_state',
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('cursor', sa.JSON(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('source')
    )
    counter = op.create_table('counter',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    # Seeded here so that concurrent first flows only ever lock it, never race to create it.
    op.bulk_insert(counter, [{'name': 'change_seq', 'value': 0}])
    op.create_table('flow',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('archive_path', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('lheo_version', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('encoding', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('formations', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('stale', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('flow', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_source'), ['source'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_status'), ['status'], unique=False)

    op.create_table('flow_rejection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flow_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('numero', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('line', sa.Integer(), nullable=True),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('flow_rejection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_rejection_flow_id'), ['flow_id'], unique=False)

    op.create_table('organisme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('numero', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('siret', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('raison_sociale', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'key')
    )
    with op.batch_alter_table('organisme', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisme_siret'), ['siret'], unique=False)

    op.create_table('source',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('formation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('numero', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('datemaj', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('intitule', sa.Text(), nullable=True),
    sa.Column('formacode', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.Column('certifiante', sa.Boolean(), nullable=True),
    sa.Column('organisme_id', sa.Integer(), nullable=True),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('fragment', sa.Text(), nullable=False),
    sa.Column('harmonised', sa.JSON(), nullable=True),
    sa.Column('language_kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('flow_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisme_id'], ['organisme.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'numero')
    )
    with op.batch_alter_table('formation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_formation_formacode'), ['formacode'], unique=False)
        batch_op.create_index(batch_op.f('ix_formation_language_kind'), ['language_kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_formation_region'), ['region'], unique=False)
        batch_op.create_index(batch_op.f('ix_formation_seq'), ['seq'], unique=False)

    op.create_table('action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('formation_id', sa.Integer(), nullable=False),
    sa.Column('numero', sa.Text(), nullable=True),
    sa.Column('codepostal', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
    sa.Column('ville', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
    sa.Column('departement', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('siret_formateur', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('financeurs', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['formation_id'], ['formation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_formation_id'), ['formation_id'], unique=False)

    op.create_table('formation_issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('formation_id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['formation_id'], ['formation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('formation_issue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_formation_issue_formation_id'), ['formation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_formation_issue_source'), ['source'], unique=False)

    op.create_table('session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('formation_id', sa.Integer(), nullable=False),
    sa.Column('numero', sa.Text(), nullable=True),
    sa.Column('debut', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('fin', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.ForeignKeyConstraint(['action_id'], ['action.id'], ),
    sa.ForeignKeyConstraint(['formation_id'], ['formation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_action_id'), ['action_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_session_formation_id'), ['formation_id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_formation_id'))
        batch_op.drop_index(batch_op.f('ix_session_action_id'))

    op.drop_table('session')
    with op.batch_alter_table('formation_issue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_formation_issue_source'))
        batch_op.drop_index(batch_op.f('ix_formation_issue_formation_id'))

    op.drop_table('formation_issue')
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_formation_id'))

    op.drop_table('action')
    with op.batch_alter_table('formation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_formation_seq'))
        batch_op.drop_index(batch_op.f('ix_formation_region'))
        batch_op.drop_index(batch_op.f('ix_formation_language_kind'))
        batch_op.drop_index(batch_op.f('ix_formation_formacode'))

    op.drop_table('formation')
    op.drop_table('source')
    with op.batch_alter_table('organisme', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisme_siret'))

    op.drop_table('organisme')
    with op.batch_alter_table('flow_rejection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_rejection_flow_id'))

    op.drop_table('flow_rejection')
    with op.batch_alter_table('flow', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_status'))
        batch_op.drop_index(batch_op.f('ix_flow_source'))

    op.drop_table('flow')
    op.drop_table('counter')
    op.drop_table('connector_state')
    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_formation_id'))

    op.drop_table('change')
    
