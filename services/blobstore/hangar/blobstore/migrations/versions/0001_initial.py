"""Read models: upload sessions and blobs.

Revision ID: b0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "b0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_sessions",
        sa.Column("upload_id", sa.String(32), primary_key=True),
        sa.Column("owner", sa.String(512), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "blobs",
        sa.Column("digest", sa.String(200), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("blobs")
    op.drop_table("upload_sessions")
