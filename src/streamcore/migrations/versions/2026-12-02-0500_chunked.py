"""chunked transcoding: a job's params and result, an asset's chunk plan and whether
its frame rate is variable; the attempts a job lost to outages

Revision ID: 0011_chunked
Revises: 0010_analytics
Create Date: 2026-12-02 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_chunked"
down_revision: str | None = "0010_analytics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("result", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("outages", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chunk_plan", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("variable_frame_rate", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("variable_frame_rate")
        batch_op.drop_column("chunk_plan")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("outages")
        batch_op.drop_column("result")
        batch_op.drop_column("params")
