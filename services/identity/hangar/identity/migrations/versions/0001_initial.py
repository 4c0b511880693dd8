"""Identity read models: orgs, users, teams, memberships.

Revision ID: i0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "i0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orgs",
        sa.Column("org_id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.UniqueConstraint("name", name="uq_orgs_name"),
    )
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "teams",
        sa.Column("org_id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
    )
    op.create_table(
        "memberships",
        sa.Column("org_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("team", sa.String(64), primary_key=True),
        sa.Column("roles", sa.JSON, nullable=False),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_memberships_user_id", "memberships")
    op.drop_table("memberships")
    op.drop_table("teams")
    op.drop_table("users")
    op.drop_table("orgs")
