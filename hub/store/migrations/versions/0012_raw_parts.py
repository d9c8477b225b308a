"""flows made of archived files (raw bytes + HTTP metadata); held, superseded, replay times

Revision ID: 0012_raw_parts
Revises: 0002_tokens, 0004_publisher_ledger, 0006_sync_runs, 0011_raw_hash
Create Date: 2026-12-06

Each flow's files move to ``flow_part`` (the flow's own ``archive_path`` and ``sha256``
described its one file); ``as_of`` orders flows for time-safe replays (a replay keeps its
original's); findings get the file they are in; sync
runs sum their flows.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0012_raw_parts'
down_revision = ('0002_tokens', '0004_publisher_ledger', '0006_sync_runs', '0011_raw_hash')
branch_labels = None
depends_on = None

_RUN_COUNTS = (
    'flows', 'formations', 'created', 'updated', 'unchanged', 'deleted', 'rejected', 'stale',
    'kept_newer', 'held',
)


def upgrade() -> None:
    op.create_table('flow_part',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flow_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('etag', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('last_modified', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('archive_path', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('flow_part', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_part_flow_id'), ['flow_id'], unique=False)
    op.execute(
        "INSERT INTO flow_part (flow_id, position, name, archive_path, sha256, size_bytes) "
        "SELECT id, 0, source || '.xml', archive_path, sha256, size_bytes FROM flow"
    )
    with op.batch_alter_table('flow', schema=None) as batch_op:
        batch_op.add_column(sa.Column('connector', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('as_of', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('kept_newer', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('replay_of', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.drop_column('archive_path')
        batch_op.drop_column('sha256')
    op.execute("UPDATE flow SET as_of = received_at")
    op.execute(
        "UPDATE flow SET replay_of = (SELECT max(r.replay_of) FROM sync_run r "
        "WHERE r.flow_id = flow.id AND r.replay_of IS NOT NULL)"
    )
    with op.batch_alter_table('flow', schema=None) as batch_op:
        batch_op.alter_column('as_of', existing_type=sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False)
        batch_op.alter_column('kept_newer', server_default=None)
    with op.batch_alter_table('flow_rejection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        for name in _RUN_COUNTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        for name in _RUN_COUNTS:
            batch_op.alter_column(name, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        for name in _RUN_COUNTS:
            batch_op.drop_column(name)
    with op.batch_alter_table('flow_rejection', schema=None) as batch_op:
        batch_op.drop_column('file')
    with op.batch_alter_table('flow', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archive_path', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True))
        batch_op.add_column(sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.execute(
        "UPDATE flow SET archive_path = (SELECT p.archive_path FROM flow_part p "
        "WHERE p.flow_id = flow.id AND p.position = 0), sha256 = (SELECT p.sha256 FROM "
        "flow_part p WHERE p.flow_id = flow.id AND p.position = 0)"
    )
    with op.batch_alter_table('flow', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('replay_of')
        batch_op.drop_column('kept_newer')
        batch_op.drop_column('as_of')
        batch_op.drop_column('connector')
    with op.batch_alter_table('flow_part', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_part_flow_id'))
    op.drop_table('flow_part')
