"""The registry read models: repositories, blobs, manifests, manifest_references, tags.

Revision ID: r0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None


def _sorted_text(length: int) -> sa.types.TypeEngine:
    # Byte-order comparison everywhere: SQLite's default BINARY, PostgreSQL's "C" collation.
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "repositories",
        sa.Column("name", _sorted_text(255), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "blobs",
        sa.Column("repository", _sorted_text(255), primary_key=True),
        sa.Column("digest", sa.String(135), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_blobs_digest", "blobs", ["digest"])
    op.create_table(
        "manifests",
        sa.Column("repository", _sorted_text(255), primary_key=True),
        sa.Column("digest", sa.String(135), primary_key=True),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("subject_digest", sa.String(135), nullable=False),
        sa.Column("artifact_type", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_manifests_subject", "manifests", ["repository", "subject_digest"])
    op.create_table(
        "manifest_references",
        sa.Column("repository", _sorted_text(255), primary_key=True),
        sa.Column("parent_digest", sa.String(135), primary_key=True),
        sa.Column("child_digest", sa.String(135), primary_key=True),
    )
    op.create_index("ix_manifest_references_child", "manifest_references", ["repository", "child_digest"])
    op.create_table(
        "tags",
        sa.Column("repository", _sorted_text(255), primary_key=True),
        sa.Column("tag", _sorted_text(128), primary_key=True),
        sa.Column("digest", sa.String(135), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tags_digest", "tags", ["repository", "digest"])


def downgrade() -> None:
    op.drop_index("ix_tags_digest", "tags")
    op.drop_table("tags")
    op.drop_index("ix_manifest_references_child", "manifest_references")
    op.drop_table("manifest_references")
    op.drop_index("ix_manifests_subject", "manifests")
    op.drop_table("manifests")
    op.drop_index("ix_blobs_digest", "blobs")
    op.drop_table("blobs")
    op.drop_table("repositories")
