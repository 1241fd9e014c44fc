"""library: video metadata and tombstones, list indexes, project settings and deletion,
ended sessions

Revision ID: 0008_library
Revises: 0007_invitations
Create Date: 2026-11-22 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_library"
down_revision: str | None = "0007_invitations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("passthrough", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("user_metadata", sa.JSON(), server_default="{}", nullable=False)
        )
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_assets_project_created", ["project_id", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_assets_created", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "uq_assets_project_external_id", ["project_id", "external_id"], unique=True
        )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("playback_ttl_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("ended_at")
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("playback_ttl_seconds")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index("uq_assets_project_external_id")
        batch_op.drop_index("ix_assets_created")
        batch_op.drop_index("ix_assets_project_created")
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("user_metadata")
        batch_op.drop_column("passthrough")
        batch_op.drop_column("external_id")
        batch_op.drop_column("description")
        batch_op.drop_column("title")
