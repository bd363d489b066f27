"""External bots owning departments (Zenvia External bot) and the older Omnize ClientApi REST.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Helpers shared with 0001: SQLite only auto-numbers an INTEGER PRIMARY KEY.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.Float(precision=53)


def upgrade() -> None:
    # A department's bot: the endpoint its calls go to (with its own signing secret) and how long it may
    # take to accept a conversation before the conversation falls through to the department's humans.
    with op.batch_alter_table("departments") as batch:
        batch.add_column(
            sa.Column(
                "bot_endpoint_id", Id, sa.ForeignKey("endpoints.id", name="fk_departments_bot_endpoint_id")
            )
        )
        batch.add_column(sa.Column("bot_accept_timeout", sa.Integer, nullable=False, server_default="30"))
    # While a conversation is in state ``bot``: which bot endpoint holds it, since when, accepted when.
    op.add_column("conversations", sa.Column("bot_endpoint_id", Id))
    op.add_column("conversations", sa.Column("bot_started_at", Time))
    op.add_column("conversations", sa.Column("bot_accepted_at", Time))
    op.create_index("ix_conversations_bot", "conversations", ["state", "bot_endpoint_id"])
    # The bot renderer asks "who held this conversation when this event happened?" of the event log.
    op.create_index("ix_events_conversation_seq", "events", ["conversation_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_events_conversation_seq", table_name="events")
    op.drop_index("ix_conversations_bot", table_name="conversations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("bot_accepted_at")
        batch.drop_column("bot_started_at")
        batch.drop_column("bot_endpoint_id")
    with op.batch_alter_table("departments") as batch:
        batch.drop_column("bot_accept_timeout")
        batch.drop_column("bot_endpoint_id")
