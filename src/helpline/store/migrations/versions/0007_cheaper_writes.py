"""Cheaper writes per message.

- The idempotency key of messages is unique per conversation only where there is one: a partial unique
  index, so the messages without a key (nearly all) add no index entry, and no index page to the commit.
- Messages lose their (conversation, updated_at) index: it put one more page into every commit for the
  one query that uses it (the Novatalks SDK's "changed since", which now reads the conversation's
  messages through their (conversation, seq) index instead: one conversation's messages, not a table).
- Endpoints get an index on their account: the delivery planner asks, for every batch of events, which
  of their accounts have an enabled endpoint at all.
- On SQLite the event sequence number becomes the table's rowid (``INTEGER PRIMARY KEY``): the events
  table no longer carries a second B-tree just for its primary key, and new events take the next rowid
  instead of bumping the ``events`` counter row (which SQLite leaves alone from here on). PostgreSQL keeps
  its BIGINT key and its counter.

Both rebuild a table on SQLite (it cannot drop a constraint in place); nothing else changes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_HAS_KEY = sa.text("idempotency_key IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("uq_messages_idempotency", type_="unique")
    op.create_index(
        "uq_messages_idempotency",
        "messages",
        ["conversation_id", "idempotency_key"],
        unique=True,
        sqlite_where=_HAS_KEY,
        postgresql_where=_HAS_KEY,
    )
    op.drop_index("ix_messages_conversation_updated", table_name="messages")
    op.create_index("ix_endpoints_account", "endpoints", ["account_id"])
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("events", recreate="always") as batch:
            batch.alter_column(
                "seq", existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # From 0007 on, SQLite numbers events by rowid and leaves the counter row alone: catch it up.
        op.execute(
            "UPDATE counters SET value = (SELECT COALESCE(MAX(seq), 0) FROM events) WHERE name = 'events'"
        )
        with op.batch_alter_table("events", recreate="always") as batch:
            batch.alter_column(
                "seq", existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False
            )
    op.drop_index("ix_endpoints_account", table_name="endpoints")
    op.create_index("ix_messages_conversation_updated", "messages", ["conversation_id", "updated_at"])
    op.drop_index("uq_messages_idempotency", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.create_unique_constraint("uq_messages_idempotency", ["conversation_id", "idempotency_key"])
