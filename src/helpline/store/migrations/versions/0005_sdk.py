"""Novatalks SDK: contact tokens, inboxes, receipts, interactive messages, reactions, push.

- departments: open to SDK clients (``sdk_enabled``) under a public identifier, and the push webhook of
  that inbox (an endpoint of kind ``push``) with the extra parameters its body carries;
- endpoints: extra headers sent with every call (a push service's ``Authorization``, custom headers);
- contact_tokens: a contact's credential for its conversations in one inbox (only the SHA-256 of the
  token is kept), and the contact's public identifier;
- messages: receipts (``status`` plus ``updated_at``), interactive ``content_attributes`` and the
  contact's ``selected_value``, the message replied to, deletion; reactions in their own table;
- conversations: the contact's feedback (rating) and a lookup by contact;
- push_tokens: the devices of a contact that receive push notifications.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Helpers shared with 0001: SQLite only auto-numbers an INTEGER PRIMARY KEY.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.Float(precision=53)


def upgrade() -> None:
    with op.batch_alter_table("departments") as batch:
        batch.add_column(sa.Column("sdk_enabled", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("sdk_identifier", sa.Text))
        batch.add_column(
            sa.Column(
                "push_endpoint_id", Id, sa.ForeignKey("endpoints.id", name="fk_departments_push_endpoint_id")
            )
        )
        batch.add_column(sa.Column("push_params", sa.Text))
        batch.create_unique_constraint("uq_departments_sdk_identifier", ["sdk_identifier"])
    op.add_column("endpoints", sa.Column("headers", sa.Text))

    op.create_table(
        "contact_tokens",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("department_id", Id, sa.ForeignKey("departments.id"), nullable=False),
        sa.Column("contact_id", Id, sa.ForeignKey("contacts.id"), nullable=False, unique=True),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("identifier", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", Time),
    )
    op.create_table(
        "push_tokens",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("contact_token_id", Id, sa.ForeignKey("contact_tokens.id"), nullable=False),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("created_at", Time),
        sa.UniqueConstraint("contact_token_id", "token", name="uq_push_tokens_contact_token"),
    )

    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("updated_at", Time))
        batch.add_column(sa.Column("content_attributes", sa.Text, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("selected_value", sa.Text))
        batch.add_column(
            sa.Column("reply_to_id", Id, sa.ForeignKey("messages.id", name="fk_messages_reply_to_id"))
        )
        batch.add_column(sa.Column("deleted_at", Time))
    op.execute("UPDATE messages SET updated_at = created_at")
    op.create_index("ix_messages_conversation_updated", "messages", ["conversation_id", "updated_at"])
    op.create_table(
        "message_reactions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("message_id", Id, sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("actor_type", sa.Text, nullable=False),
        sa.Column("actor_id", Id, nullable=False),
        sa.Column("reaction", sa.Text, nullable=False),
        sa.Column("created_at", Time),
        sa.UniqueConstraint("message_id", "actor_type", "actor_id", name="uq_message_reactions_actor"),
    )

    op.add_column("conversations", sa.Column("feedback", sa.Text))
    op.create_index("ix_conversations_contact", "conversations", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_conversations_contact", table_name="conversations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("feedback")
    op.drop_table("message_reactions")
    op.drop_index("ix_messages_conversation_updated", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("deleted_at")
        batch.drop_column("reply_to_id")
        batch.drop_column("selected_value")
        batch.drop_column("content_attributes")
        batch.drop_column("updated_at")
    op.drop_table("push_tokens")
    op.drop_table("contact_tokens")
    with op.batch_alter_table("endpoints") as batch:
        batch.drop_column("headers")
    with op.batch_alter_table("departments") as batch:
        batch.drop_constraint("uq_departments_sdk_identifier", type_="unique")
        batch.drop_column("push_params")
        batch.drop_column("push_endpoint_id")
        batch.drop_column("sdk_identifier")
        batch.drop_column("sdk_enabled")
