"""Garbage collection: blob_collection (one row per digest the registry reported on).

Revision ID: b0002
Revises: b0001
"""

import sqlalchemy as sa
from alembic import op

revision = "b0002"
down_revision = "b0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blob_collection",
        sa.Column("digest", sa.String(200), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("generation", sa.BigInteger, nullable=False),
        sa.Column("condemned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_blob_collection_due", "blob_collection", ["state", "condemned_at"])


def downgrade() -> None:
    op.drop_index("ix_blob_collection_due", "blob_collection")
    op.drop_table("blob_collection")
