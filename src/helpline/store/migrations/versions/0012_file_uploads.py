"""Uploads to the database file store that have not finished: one row each, so that what an upload cut
short by a crash left in ``file_chunks`` can be found and removed without reading the chunks.

Chunks already left without a file are taken in as uploads last heard of now: the sweep removes them
once they have been quiet for its grace period.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "file_uploads",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("heard_at", sa.Float(precision=53), nullable=False),
    )
    op.create_index("ix_file_uploads_heard_at", "file_uploads", ["heard_at"])
    op.get_bind().execute(
        sa.text(
            "INSERT INTO file_uploads (key, heard_at) SELECT DISTINCT key, :now FROM file_chunks"
            " WHERE key NOT IN (SELECT key FROM file_blobs)"
        ),
        {"now": time.time()},
    )


def downgrade() -> None:
    op.drop_index("ix_file_uploads_heard_at", table_name="file_uploads")
    op.drop_table("file_uploads")
