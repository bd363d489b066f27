"""Omnidesk live chat: chat tokens, chat configuration, brands, sessions and hookpoints.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Helpers shared with 0001: SQLite only auto-numbers an INTEGER PRIMARY KEY.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.Float(precision=53)


def upgrade() -> None:
    # A chat token pair (chatAccountToken / chatServerToken), only their SHA-256 kept, bound to one
    # department; the secret that signs the hookpoint calls of its sessions; "hide when offline".
    op.create_table(
        "omnidesk_chat_tokens",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False, index=True),
        sa.Column("department_id", Id, sa.ForeignKey("departments.id"), nullable=False),
        sa.Column("account_token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("server_token_hash", sa.Text, nullable=False),
        sa.Column("prefix", sa.Text, nullable=False),
        sa.Column("signing_secret", sa.Text, nullable=False),
        sa.Column("hide_when_offline", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", Time),
        sa.Column("revoked_at", Time),
    )
    # The chat widget's look and texts per account: only what the operator changed (JSON object).
    op.create_table(
        "omnidesk_chat_configs",
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("settings", sa.Text, nullable=False, server_default="{}"),
        sa.Column("updated_at", Time),
    )
    op.create_table(
        "omnidesk_brands",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False, index=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("department_id", Id, sa.ForeignKey("departments.id")),
        sa.Column("created_at", Time),
    )
    # One row per ticket a chat session opened: the caller's session id, its conversation, and the
    # endpoint (the session's ``chatServer`` hookpoint base) its agent-side events are POSTed to.
    op.create_table(
        "omnidesk_sessions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("chat_token_id", Id, sa.ForeignKey("omnidesk_chat_tokens.id"), nullable=False),
        sa.Column("session_key", sa.Text, nullable=False),
        sa.Column("conversation_id", Id, sa.ForeignKey("conversations.id"), nullable=False, unique=True),
        sa.Column("endpoint_id", Id, sa.ForeignKey("endpoints.id"), nullable=False),
        sa.Column("chat_server", sa.Text, nullable=False),
        sa.Column("created_at", Time),
    )
    op.create_index("ix_omnidesk_sessions_token_key", "omnidesk_sessions", ["chat_token_id", "session_key"])
    op.create_index("ix_omnidesk_sessions_key", "omnidesk_sessions", ["session_key"])
    # Deliveries that are not a JSON POST to the endpoint's URL: the body's media type (NULL: JSON), a
    # path under the endpoint's URL, and a stored file sent as a multipart part (JSON: field, key, name,
    # content type), read from the file store at send time.
    op.add_column("deliveries", sa.Column("content_type", sa.Text))
    op.add_column("deliveries", sa.Column("path", sa.Text))
    op.add_column("deliveries", sa.Column("file", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("file")
        batch.drop_column("path")
        batch.drop_column("content_type")
    op.drop_index("ix_omnidesk_sessions_key", table_name="omnidesk_sessions")
    op.drop_index("ix_omnidesk_sessions_token_key", table_name="omnidesk_sessions")
    op.drop_table("omnidesk_sessions")
    op.drop_table("omnidesk_brands")
    op.drop_table("omnidesk_chat_configs")
    op.drop_table("omnidesk_chat_tokens")
