"""manifest_blobs: which manifests name a blob as config or layer (blob deletes refuse those), backfilled.

Revision ID: r0002
Revises: r0001
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None

# Frozen copies of what the registry knew when this revision was written (migrations never import the app).
_IMAGE_MANIFEST_TYPES = frozenset(
    {"application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"}
)
_FOREIGN_LAYER_TYPES = frozenset(
    {
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    }
)
_BATCH = 500


def _sorted_text(length: int) -> sa.types.TypeEngine:
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def _named_blobs(content: bytes) -> list[str]:
    try:
        document = json.loads(content)
    except ValueError:
        return []
    if not isinstance(document, dict):
        return []
    named: dict[str, None] = {}
    config = document.get("config")
    if isinstance(config, dict) and isinstance(config.get("digest"), str):
        named[config["digest"]] = None
    layers = document.get("layers")
    for layer in layers if isinstance(layers, list) else ():
        if not isinstance(layer, dict) or not isinstance(layer.get("digest"), str):
            continue
        if layer.get("urls") and layer.get("mediaType") in _FOREIGN_LAYER_TYPES:
            continue
        named[layer["digest"]] = None
    return list(named)


def upgrade() -> None:
    table = op.create_table(
        "manifest_blobs",
        sa.Column("repository", _sorted_text(255), primary_key=True),
        sa.Column("manifest_digest", sa.String(135), primary_key=True),
        sa.Column("blob_digest", sa.String(135), primary_key=True),
    )
    op.create_index("ix_manifest_blobs_blob", "manifest_blobs", ["repository", "blob_digest"])
    manifests = sa.table(
        "manifests",
        sa.column("repository", sa.String),
        sa.column("digest", sa.String),
        sa.column("media_type", sa.String),
        sa.column("content", sa.LargeBinary),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(manifests.c.repository, manifests.c.digest, manifests.c.content).where(
            manifests.c.media_type.in_(sorted(_IMAGE_MANIFEST_TYPES))
        )
    )
    pending: list[dict[str, str]] = []
    for row in rows:
        pending += [
            {"repository": row.repository, "manifest_digest": row.digest, "blob_digest": blob}
            for blob in _named_blobs(row.content)
        ]
        if len(pending) >= _BATCH:
            op.bulk_insert(table, pending)
            pending = []
    if pending:
        op.bulk_insert(table, pending)


def downgrade() -> None:
    op.drop_index("ix_manifest_blobs_blob", "manifest_blobs")
    op.drop_table("manifest_blobs")
