"""Uploaded files (the shared file store) and message attachments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Helpers shared with 0001: SQLite only auto-numbers an INTEGER PRIMARY KEY.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False, index=True),
        sa.Column("conversation_id", Id, sa.ForeignKey("conversations.id"), index=True),
        sa.Column("key", sa.Text, nullable=False, unique=True),
        sa.Column("original_name", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("uploaded_by_type", sa.Text, nullable=False),
        sa.Column("uploaded_by_id", Id),
        sa.Column("created_at", Time),
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("file_id", Id, sa.ForeignKey("files.id", name="fk_messages_file_id")))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("file_id")
    op.drop_table("files")
