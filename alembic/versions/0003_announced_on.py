"""papers.announced_on: the day a listing says a paper was announced

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("papers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("announced_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_papers_announced_on"), ["announced_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("papers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_papers_announced_on"))
        batch_op.drop_column("announced_on")
