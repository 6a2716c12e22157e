"""account emails in the delivery ledger (the durable outbox)

An account email (confirm, manage, welcome, preferences changed) is a ``deliveries`` row with no
edition and a ``kind`` naming its template, so it shares the digests' claims, leases, retries,
ambiguity rule and bounce counting.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

KINDS = ('digest', 'confirm', 'manage', 'welcome', 'preferences_changed')


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'kind', sa.Enum(*KINDS, name='delivery_kind', native_enum=False, length=24),
            server_default='digest', nullable=False,
        ))
        batch_op.alter_column('edition_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(
            'ix_deliveries_outbox', ['edition_id', 'status', 'next_attempt_at'], unique=False
        )


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE edition_id IS NULL")
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_outbox')
        batch_op.alter_column('edition_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('kind')
