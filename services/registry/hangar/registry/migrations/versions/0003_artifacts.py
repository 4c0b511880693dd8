"""Models, resources and charts: repository_info (every repository; backfilled), repository_labels, versions,
version_files.

Revision ID: r0003
Revises: r0002
"""

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None

_BATCH = 500
# Frozen copies of what the registry knew when this revision was written (migrations never import the app).
_EMPTY_METADATA = (
    '{"application":"","built_by":"","description":"","display_name":"","format":"","framework":"",'
    '"labels":[],"overview":"","precision":"","publisher":"","quick_start":"","release_notes":"","setup":""}'
)
_ARTIFACT_KINDS = ("model", "resource", "chart")


def _sorted_text(length: int) -> sa.types.TypeEngine:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    info = op.create_table(
        "repository_info",
        sa.Column("name", _sorted_text(255), primary_key=True),
        sa.Column("namespace", _sorted_text(255), nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("latest_version", _sorted_text(128), nullable=False),
        sa.Column("latest_policy", sa.String(8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_repository_info_namespace", "repository_info", ["namespace", "name"])
    op.create_table(
        "repository_labels",
        sa.Column("repository", _sorted_text(255), primary_key=True),
        sa.Column("label", sa.String(64), primary_key=True),
    )
    op.create_index("ix_repository_labels_label", "repository_labels", ["label", "repository"])
    op.create_table(
        "versions",
        sa.Column("repository", _sorted_text(255), primary_key=True),
        sa.Column("version", _sorted_text(128), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("base_version", _sorted_text(128), nullable=False),
        sa.Column("manifest_digest", sa.String(135), nullable=False),
        sa.Column("config_digest", sa.String(135), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_position", sa.BigInteger, nullable=False),
        sa.Column("sort_key", _sorted_text(512), nullable=False),
    )
    op.create_index("ix_versions_sort", "versions", ["repository", "sort_key"])
    op.create_index("ix_versions_created", "versions", ["repository", "created_position"])
    op.create_table(
        "version_files",
        sa.Column("repository", _sorted_text(255), primary_key=True),
        sa.Column("version", _sorted_text(128), primary_key=True),
        sa.Column("path", _sorted_text(1024), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(135), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("upload_id", sa.String(256), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Every repository already there gets its row (no metadata, latest unset), as its creation would give.
    repositories = sa.table(
        "repositories",
        sa.column("name", sa.String),
        sa.column("kind", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(repositories.c.name, repositories.c.kind, repositories.c.created_at))
    pending: list[dict[str, object]] = []
    for row in rows:
        pending.append(
            {
                "name": row.name,
                "namespace": row.name.rsplit("/", 1)[0],
                "metadata": _EMPTY_METADATA,
                "latest_version": "",
                "latest_policy": "auto" if row.kind in _ARTIFACT_KINDS else "",
                "updated_at": row.created_at,
            }
        )
        if len(pending) >= _BATCH:
            op.bulk_insert(info, pending)
            pending = []
    if pending:
        op.bulk_insert(info, pending)


def downgrade() -> None:
    op.drop_table("version_files")
    op.drop_index("ix_versions_created", "versions")
    op.drop_index("ix_versions_sort", "versions")
    op.drop_table("versions")
    op.drop_index("ix_repository_labels_label", "repository_labels")
    op.drop_table("repository_labels")
    op.drop_index("ix_repository_info_namespace", "repository_info")
    op.drop_table("repository_info")
