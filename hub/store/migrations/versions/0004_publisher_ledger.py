"""publisher ledger: partner cursors, deliveries, files, attempts and holdings

Revision ID: 0004_publisher_ledger
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0004_publisher_ledger'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('publisher_state',
    sa.Column('publisher', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('cursor_delivered', sa.BigInteger(), nullable=True),
    sa.Column('cursor_acknowledged', sa.BigInteger(), nullable=True),
    sa.Column('filter_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('last_full_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_success_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('publisher')
    )
    op.create_table('publisher_delivery',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('publisher', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('from_cursor', sa.BigInteger(), nullable=True),
    sa.Column('to_cursor', sa.BigInteger(), nullable=False),
    sa.Column('filter_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('formations', sa.Integer(), nullable=False),
    sa.Column('deletions', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('acknowledged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ack_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('publisher_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publisher_delivery_publisher'), ['publisher'], unique=False)
        batch_op.create_index(batch_op.f('ix_publisher_delivery_status'), ['status'], unique=False)

    op.create_table('publisher_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['publisher_delivery.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('publisher_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publisher_file_delivery_id'), ['delivery_id'], unique=False)

    op.create_table('publisher_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publisher', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('delivery_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('replica', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('publisher_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publisher_attempt_delivery_id'), ['delivery_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_publisher_attempt_publisher'), ['publisher'], unique=False)

    op.create_table('publisher_holding',
    sa.Column('publisher', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('numero', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('delivery_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.PrimaryKeyConstraint('publisher', 'source', 'numero')
    )


def downgrade() -> None:
    op.drop_table('publisher_holding')
    with op.batch_alter_table('publisher_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publisher_attempt_publisher'))
        batch_op.drop_index(batch_op.f('ix_publisher_attempt_delivery_id'))

    op.drop_table('publisher_attempt')
    with op.batch_alter_table('publisher_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publisher_file_delivery_id'))

    op.drop_table('publisher_file')
    with op.batch_alter_table('publisher_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publisher_delivery_status'))
        batch_op.drop_index(batch_op.f('ix_publisher_delivery_publisher'))

    op.drop_table('publisher_delivery')
    op.drop_table('publisher_state')
