"""Omnidesk chat tokens may require themselves on every call.

The seed's ``notifyUserNewChatEvent`` and ``notifyUserEndChat`` carry no token: the chat session id and
its ``chatServer`` find the session. ``require_token`` (off by default, as the seed behaves) makes those
calls present the session's ``chatAccountToken`` too.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("omnidesk_chat_tokens") as batch:
        batch.add_column(sa.Column("require_token", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("omnidesk_chat_tokens") as batch:
        batch.drop_column("require_token")
