"""The keys read model: api_keys.

Revision ID: ks0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "ks0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(128), primary_key=True),
        sa.Column("key_type", sa.String(16), nullable=False),
        sa.Column("org", sa.String(128), nullable=False),
        sa.Column("owner_user_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(128), nullable=False),
        sa.Column("services", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ux_api_keys_prefix", "api_keys", ["prefix"], unique=True)
    op.create_index("ix_api_keys_owner", "api_keys", ["owner_user_id", "created_at"])
    op.create_index("ix_api_keys_org_owner", "api_keys", ["org", "owner_user_id"])


def downgrade() -> None:
    op.drop_index("ix_api_keys_org_owner", "api_keys")
    op.drop_index("ix_api_keys_owner", "api_keys")
    op.drop_index("ux_api_keys_prefix", "api_keys")
    op.drop_table("api_keys")
