"""The web widget: each SDK inbox's allowed origins and the settings its widget shows.

- widget_settings: one row per department open to SDK clients that an operator configured for the web
  widget: the origins (``https://shop.example``, or ``*``) whose pages may call the SDK API from a
  browser, the greeting, the colour, and which pre-chat fields (name, email) the widget asks for.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Helpers shared with 0001: SQLite only auto-numbers an INTEGER PRIMARY KEY.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "widget_settings",
        sa.Column(
            "department_id", Id, sa.ForeignKey("departments.id"), primary_key=True, autoincrement=False
        ),
        sa.Column("allowed_origins", sa.Text, nullable=False, server_default="[]"),
        sa.Column("greeting", sa.Text),
        sa.Column("color", sa.Text),
        sa.Column("prechat", sa.Text, nullable=False, server_default="none"),
        sa.Column("updated_at", Time),
    )


def downgrade() -> None:
    op.drop_table("widget_settings")
