"""formation.raw_hash: skip an unchanged formation before parsing it

Revision ID: 0011_raw_hash
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0011_raw_hash'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('formation', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('raw_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table('formation', schema=None) as batch_op:
        batch_op.drop_column('raw_hash')
