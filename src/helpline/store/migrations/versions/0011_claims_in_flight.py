"""Work claimed once across processes: at most one delivery of an (endpoint, conversation) line in flight;
an external history fetched by one process at a time (``history_locked_until``, its lease).

A delivery is in flight while it holds a lease (``locked_until`` set); the unique partial index makes a
second lease in the same line impossible, whatever the claiming query saw. Leases left from before are
dropped (a delivery they held goes again with the same ``webhook-id``: deliveries are at least once).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

IN_FLIGHT = "locked_until IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("history_locked_until", sa.Float(precision=53)))
    op.execute("UPDATE deliveries SET locked_until = NULL")
    op.create_index(
        "uq_deliveries_in_flight_line",
        "deliveries",
        ["endpoint_id", sa.text("COALESCE(conversation_id, 0)")],
        unique=True,
        postgresql_where=sa.text(IN_FLIGHT),
        sqlite_where=sa.text(IN_FLIGHT),
    )


def downgrade() -> None:
    op.drop_index("uq_deliveries_in_flight_line", table_name="deliveries")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("history_locked_until")
