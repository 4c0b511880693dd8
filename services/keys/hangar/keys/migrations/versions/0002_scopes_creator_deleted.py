"""Service keys, legacy keys and deletion: api_keys.scopes, created_by, deleted; listing and sweep indexes.

Existing rows are personal keys their owner issued: no scopes, created by their owner, not deleted.

Revision ID: ks0002
Revises: ks0001
"""

import sqlalchemy as sa
from alembic import op

revision = "ks0002"
down_revision = "ks0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("scopes", sa.JSON, nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("created_by", sa.String(128), nullable=False, server_default=""))
        batch.add_column(sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()))
    op.execute("UPDATE api_keys SET created_by = owner_user_id WHERE created_by = ''")
    op.create_index("ix_api_keys_org_created", "api_keys", ["org", "created_at", "key_id"])
    op.create_index("ix_api_keys_expiry", "api_keys", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_api_keys_expiry", "api_keys")
    op.drop_index("ix_api_keys_org_created", "api_keys")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("deleted")
        batch.drop_column("created_by")
        batch.drop_column("scopes")
