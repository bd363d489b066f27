"""The event log (outbox) every change appends to."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from helpline.core.events import NewEvent
from helpline.core.model import (
    Event,
)
from helpline.store import rows
from helpline.store.rows import dumps
from helpline.store.statements import Db, is_sqlite
from helpline.store.statements import every as _all
from helpline.store.statements import insert as _insert
from helpline.store.statements import insert_known as _insert_known
from helpline.store.statements import marks as _marks
from helpline.store.statements import one as _one


def _take_seq(db: Db) -> int | None:
    """The PostgreSQL writer's group takes a range of numbers once (``store.pg_db.SeqRange``)."""
    take = getattr(db, "take_seq", None)
    return None if take is None else take()


def _last_taken_seq(db: Db) -> int | None:
    last = getattr(db, "last_taken_seq", None)
    return None if last is None else last()


class Events:
    """The outbox. Sequence numbers are gap-free and in commit order: on PostgreSQL they come from a
    counter row (its lock serialises writers from their first event until they commit), on SQLite from
    the rowid (one writer at a time)."""

    def __init__(self, db: Db) -> None:
        self.db = db
        # SQLite has one writer at a time, so the rowid it hands out (the largest seq plus one) is already
        # gap-free and in commit order; the counter row would add a statement and a page to every commit.
        self._seq_is_rowid = is_sqlite(db)

    def append(self, event: NewEvent, now: float) -> Event:
        values: dict[str, Any] = {
            "account_id": event.account_id,
            "type": event.type,
            "data": dumps(event.data),
            "actor_type": event.actor.type.value,
            "actor_id": event.actor.id,
            "conversation_id": event.conversation_id,
            "department_id": event.department_id,
            "agent_id": event.agent_id,
            "prev_department_id": event.prev_department_id,
            "prev_agent_id": event.prev_agent_id,
            "created_at": now,
        }
        if not self._seq_is_rowid:
            taken = _take_seq(self.db)
            if taken is None:
                counted = _one(
                    self.db, "UPDATE counters SET value = value + 1 WHERE name = 'events' RETURNING value"
                )
                assert counted is not None
                taken = counted["value"]
            seq = int(taken)
            _insert_known(self.db, "events", {"seq": seq, **values})
        else:
            seq = int(_insert(self.db, "events", values, returning="seq"))
        return Event(
            seq=seq,
            account_id=event.account_id,
            type=event.type,
            data=event.data,
            actor=event.actor,
            created_at=now,
            conversation_id=event.conversation_id,
            department_id=event.department_id,
            agent_id=event.agent_id,
            prev_department_id=event.prev_department_id,
            prev_agent_id=event.prev_agent_id,
        )

    def after(self, seq: int, limit: int, account_id: int | None = None) -> builtins.list[Event]:
        if account_id is None:
            found = _all(self.db, "SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", [seq, limit])
        else:
            found = _all(
                self.db,
                "SELECT * FROM events WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                [account_id, seq, limit],
            )
        return [rows.event(r) for r in found]

    def last_seq(self) -> int:
        if self._seq_is_rowid:
            row = _one(self.db, "SELECT COALESCE(MAX(seq), 0) AS value FROM events")
        else:
            pending = _last_taken_seq(self.db)
            if pending is not None:
                return pending
            row = _one(self.db, "SELECT value FROM counters WHERE name = 'events'")
        return int(row["value"]) if row else 0

    def last_of_types(self, conversation_id: int, before_seq: int, types: Sequence[str]) -> Event | None:
        """The conversation's latest event of one of ``types`` before ``before_seq``: what held at that point."""
        row = _one(
            self.db,
            f"SELECT * FROM events WHERE conversation_id = ? AND seq < ? AND type IN ({_marks(types)})"  # noqa: S608
            " ORDER BY seq DESC LIMIT 1",
            [conversation_id, before_seq, *types],
        )
        return rows.event(row) if row else None

    def first_seq(self) -> int:
        row = _one(self.db, "SELECT MIN(seq) AS seq FROM events")
        return int(row["seq"]) if row and row["seq"] is not None else 0
