"""Foundation: accounts, departments, agents, tokens, endpoints, contacts, conversations, messages,
history, the event outbox and the delivery log.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# SQLite only auto-numbers an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT identities.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.Float(precision=53)


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "accounts", _id(), sa.Column("name", sa.Text, nullable=False), sa.Column("created_at", Time)
    )
    op.create_table(
        "departments",
        _id(),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False, index=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("queue_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("queued_max_time", sa.Integer, nullable=False),
        sa.Column("ringing_max_time", sa.Integer, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("auto_assign", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("bot_url", sa.Text),
        sa.Column("created_at", Time),
        sa.Column("updated_at", Time),
    )
    op.create_table(
        "agents",
        _id(),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False, index=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("presence", sa.Text, nullable=False, server_default="offline"),
        sa.Column("presence_changed_at", Time),
        sa.Column("photo_url", sa.Text),
        sa.Column("created_at", Time),
    )
    op.create_table(
        "agent_departments",
        sa.Column("agent_id", Id, sa.ForeignKey("agents.id"), primary_key=True),
        sa.Column("department_id", Id, sa.ForeignKey("departments.id"), primary_key=True, index=True),
    )
    op.create_table(
        "agent_keys",
        _id(),
        sa.Column("agent_id", Id, sa.ForeignKey("agents.id"), nullable=False, index=True),
        sa.Column("key_hash", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", Time),
    )
    op.create_table(
        "endpoints",
        _id(),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False, index=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("created_at", Time),
    )
    op.create_table(
        "api_tokens",
        _id(),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False, index=True),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("prefix", sa.Text, nullable=False),
        sa.Column("endpoint_id", Id, sa.ForeignKey("endpoints.id")),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", Time),
        sa.Column("revoked_at", Time),
    )
    op.create_table(
        "contacts",
        _id(),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False, index=True),
        sa.Column("name", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("document", sa.Text),
        sa.Column("attributes", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created_at", Time),
    )
    op.create_table(
        "conversations",
        _id(),
        sa.Column("hash", sa.Text, nullable=False, unique=True),
        sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("department_id", Id, sa.ForeignKey("departments.id"), nullable=False),
        sa.Column("origin_department_id", Id, sa.ForeignKey("departments.id"), nullable=False),
        sa.Column("contact_id", Id, sa.ForeignKey("contacts.id")),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("origin_dialect", sa.Text, nullable=False),
        sa.Column("origin_token_id", Id, sa.ForeignKey("api_tokens.id")),
        sa.Column("origin_key", sa.Text),
        sa.Column("assignee_id", Id, sa.ForeignKey("agents.id")),
        sa.Column("offered_to", Id, sa.ForeignKey("agents.id")),
        sa.Column("offered_at", Time),
        sa.Column("extra", sa.Text, nullable=False, server_default="{}"),
        sa.Column("external_history_url", sa.Text),
        sa.Column("history_status", sa.Text, nullable=False, server_default="none"),
        sa.Column("history_error", sa.Text),
        sa.Column("mood", sa.Text),
        sa.Column("tags", sa.Text, nullable=False, server_default="[]"),
        sa.Column("note", sa.Text),
        sa.Column("customer_key", sa.Text),
        sa.Column("created_at", Time),
        sa.Column("queued_at", Time),
        sa.Column("assigned_at", Time),
        sa.Column("finished_at", Time),
        sa.Column("finish_reason", sa.Text),
        sa.Column("finished_by_type", sa.Text),
        sa.Column("finished_by_id", Id),
        sa.Column("last_message_seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", Time),
    )
    op.create_index("ix_conversations_queue", "conversations", ["department_id", "state", "queued_at"])
    op.create_index("ix_conversations_assignee", "conversations", ["assignee_id", "state"])
    op.create_index("ix_conversations_account_state", "conversations", ["account_id", "state"])
    op.create_index(
        "ix_conversations_origin_key", "conversations", ["origin_token_id", "origin_key", "state"]
    )
    op.create_table(
        "messages",
        _id(),
        sa.Column("conversation_id", Id, sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.Text, nullable=False, unique=True),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("sender_type", sa.Text, nullable=False),
        sa.Column("sender_id", Id),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("file_url", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.Text),
        sa.Column("created_at", Time),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        sa.UniqueConstraint("conversation_id", "idempotency_key", name="uq_messages_idempotency"),
    )
    op.create_table(
        "history_entries",
        sa.Column("conversation_id", Id, sa.ForeignKey("conversations.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("time", sa.Text),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(
        sa.table("counters", sa.column("name", sa.Text), sa.column("value", sa.BigInteger)),
        [{"name": "events", "value": 0}, {"name": "planned_events", "value": 0}],
    )
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("actor_type", sa.Text, nullable=False),
        sa.Column("actor_id", Id),
        sa.Column("conversation_id", Id),
        sa.Column("department_id", Id),
        sa.Column("agent_id", Id),
        sa.Column("prev_department_id", Id),
        sa.Column("prev_agent_id", Id),
        sa.Column("created_at", Time),
    )
    op.create_index("ix_events_account_seq", "events", ["account_id", "seq"])
    op.create_table(
        "deliveries",
        _id(),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("event_seq", sa.BigInteger, nullable=False),
        sa.Column("endpoint_id", Id, sa.ForeignKey("endpoints.id"), nullable=False),
        sa.Column("conversation_id", Id),
        sa.Column("webhook_id", sa.Text, nullable=False, unique=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", Time, nullable=False),
        sa.Column("locked_until", Time),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", Time),
        sa.Column("finished_at", Time),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_deliveries_order", "deliveries", ["endpoint_id", "conversation_id", "state", "id"])
    op.create_table(
        "delivery_attempts",
        _id(),
        sa.Column("delivery_id", Id, sa.ForeignKey("deliveries.id"), nullable=False, index=True),
        sa.Column("attempted_at", Time, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("latency_ms", sa.Float),
        sa.Column("error", sa.Text),
        sa.Column("response_excerpt", sa.Text),
    )


def downgrade() -> None:
    for table in (
        "delivery_attempts",
        "deliveries",
        "events",
        "counters",
        "history_entries",
        "messages",
        "conversations",
        "contacts",
        "api_tokens",
        "endpoints",
        "agent_keys",
        "agent_departments",
        "agents",
        "departments",
        "accounts",
    ):
        op.drop_table(table)
