"""The delivery log: outbound HTTP calls planned from the event log, their attempts and the planning cursor.

Owned by ``outbound`` (the store knows nothing of deliveries); built from a unit of work's connection
with ``Deliveries.from_uow(uow)``, so it joins that unit of work's transaction.
"""

from __future__ import annotations

import builtins
from typing import Any

from helpline.outbound.model import JSON, Attempt, Delivery, DeliveryFile, DeliveryState
from helpline.store.rows import Row, dumps, loads
from helpline.store.statements import Db, is_sqlite
from helpline.store.statements import every as _all
from helpline.store.statements import insert as _insert
from helpline.store.statements import one as _one
from helpline.store.unit_of_work import UnitOfWork


def _delivery_file(text: str | None) -> DeliveryFile | None:
    """The file a delivery sends as a multipart part, kept as a JSON object (NULL: none)."""
    if not text:
        return None
    found = loads(text)
    return DeliveryFile(
        field=found["field"], key=found["key"], name=found["name"], content_type=found["content_type"]
    )


def _delivery_file_json(file: DeliveryFile | None) -> str | None:
    if file is None:
        return None
    return dumps({"field": file.field, "key": file.key, "name": file.name, "content_type": file.content_type})


def _delivery(row: Row) -> Delivery:
    return Delivery(
        id=row["id"],
        account_id=row["account_id"],
        event_seq=row["event_seq"],
        endpoint_id=row["endpoint_id"],
        conversation_id=row["conversation_id"],
        webhook_id=row["webhook_id"],
        event_type=row["event_type"],
        body=row["body"],
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_status=row["last_status"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        content_type=row["content_type"] or JSON,
        path=row["path"] or "",
        file=_delivery_file(row["file"]),
    )


class Deliveries:
    """Outbound HTTP calls to make, in order per (endpoint, conversation), with their attempts."""

    def __init__(self, db: Db) -> None:
        self.db = db

    @classmethod
    def from_uow(cls, uow: UnitOfWork) -> Deliveries:
        """The delivery log inside ``uow``'s transaction."""
        return cls(uow.db)

    def planned_up_to(self) -> int:
        row = _one(self.db, "SELECT value FROM counters WHERE name = 'planned_events'")
        return int(row["value"]) if row else 0

    def claim_planning(self) -> int | None:
        """Hold the planning cursor for this transaction and return it; None when another process holds it
        right now (PostgreSQL): that one is planning, this one skips rather than queue behind it."""
        if is_sqlite(self.db):  # one writer: nobody else can hold it
            row = _one(self.db, "SELECT value FROM counters WHERE name = 'planned_events'")
            return int(row["value"]) if row else 0
        row = _one(
            self.db, "SELECT value FROM counters WHERE name = 'planned_events' FOR NO KEY UPDATE SKIP LOCKED"
        )
        return int(row["value"]) if row else None

    def set_planned_up_to(self, seq: int) -> None:
        self.db.execute("UPDATE counters SET value = ? WHERE name = 'planned_events'", [seq])

    def add(
        self,
        account_id: int,
        event_seq: int,
        endpoint_id: int,
        conversation_id: int | None,
        webhook_id: str,
        event_type: str,
        body: str,
        now: float,
        content_type: str = JSON,
        path: str = "",
        file: DeliveryFile | None = None,
    ) -> int:
        return int(
            _insert(
                self.db,
                "deliveries",
                {
                    "account_id": account_id,
                    "event_seq": event_seq,
                    "endpoint_id": endpoint_id,
                    "conversation_id": conversation_id,
                    "webhook_id": webhook_id,
                    "event_type": event_type,
                    "body": body,
                    "content_type": None if content_type == JSON else content_type,
                    "path": path or None,
                    "file": _delivery_file_json(file),
                    "state": DeliveryState.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                },
            )
        )

    def due(self, now: float, limit: int) -> builtins.list[Delivery]:
        """The head of each (endpoint, conversation) line whose time has come and that no worker holds.

        Only the oldest pending delivery of a line may go, so a conversation's triggers arrive in order.
        """
        found = _all(
            self.db,
            "SELECT d.* FROM deliveries d WHERE d.state = 'pending' AND d.next_attempt_at <= ?"
            " AND (d.locked_until IS NULL OR d.locked_until <= ?)"
            " AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.state = 'pending' AND e.endpoint_id = d.endpoint_id"
            " AND e.conversation_id IS NOT DISTINCT FROM d.conversation_id AND e.id < d.id)"
            " ORDER BY d.next_attempt_at, d.id LIMIT ?",
            [now, now, limit],
        )
        return [_delivery(r) for r in found]

    def claim(self, now: float, until: float, limit: int) -> builtins.list[Delivery]:
        """Take up to ``limit`` due line heads for this worker until ``until``, in one statement.

        The inner SELECT skips rows another process is claiming right now (PostgreSQL); the outer UPDATE
        re-checks what it read on the row it locked. A delivery is taken only while it is pending, due,
        unleased (or its lease ran out), the oldest pending one of its (endpoint, conversation) line, and
        no other delivery of that line holds a lease (a replayed older one waits for the one in flight);
        ``uq_deliveries_in_flight_line`` enforces the last point whatever the query saw. Each claim counts
        an attempt: the returned ``attempts`` is this worker's fencing token (see :meth:`settle`).
        Leases that ran out are dropped first, so a crashed worker's lease never blocks its line.
        """
        lock = "" if is_sqlite(self.db) else " FOR NO KEY UPDATE SKIP LOCKED"
        self.db.execute(
            "UPDATE deliveries SET locked_until = NULL WHERE id IN (SELECT id FROM deliveries"  # noqa: S608
            f" WHERE locked_until IS NOT NULL AND locked_until <= ?{lock})",
            [now],
        )
        # A materialized CTE: as a plain ``IN (SELECT … LIMIT …)`` PostgreSQL may run the subquery again
        # per row it updates, and take more than ``limit``.
        found = _all(
            self.db,
            "WITH picked AS MATERIALIZED (SELECT d.id FROM deliveries d WHERE d.state = 'pending'"  # noqa: S608
            " AND d.next_attempt_at <= ? AND (d.locked_until IS NULL OR d.locked_until <= ?)"
            " AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.endpoint_id = d.endpoint_id"
            " AND e.conversation_id IS NOT DISTINCT FROM d.conversation_id AND e.id <> d.id"
            " AND ((e.state = 'pending' AND e.id < d.id) OR e.locked_until > ?))"
            f" ORDER BY d.next_attempt_at, d.id LIMIT ?{lock})"
            " UPDATE deliveries SET locked_until = ?, attempts = attempts + 1"
            " WHERE id IN (SELECT id FROM picked)"
            " AND state = 'pending' AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until <= ?)"
            " RETURNING *",
            [now, now, now, limit, until, now, now],
        )
        return sorted((_delivery(r) for r in found), key=lambda d: (d.next_attempt_at, d.id))

    def settle(
        self,
        delivery_id: int,
        attempt: int,
        now: float,
        state: DeliveryState,
        status: int | None,
        error: str | None,
        retry_at: float | None = None,
    ) -> bool:
        """Record the outcome of claim number ``attempt`` (the fencing token), unless the lease ran out
        meanwhile: then it records nothing and returns False (the delivery went, or goes, again under a
        newer claim, whose outcome is the one that counts). ``state`` pending with ``retry_at``: try again
        then."""
        if state is DeliveryState.PENDING:
            assert retry_at is not None
            cursor = self.db.execute(
                "UPDATE deliveries SET next_attempt_at = ?, last_status = ?, last_error = ?, locked_until = NULL"
                " WHERE id = ? AND attempts = ? AND state = 'pending' AND locked_until >= ?",
                [retry_at, status, error, delivery_id, attempt, now],
            )
        else:
            cursor = self.db.execute(
                "UPDATE deliveries SET state = ?, last_status = ?, last_error = ?, finished_at = ?,"
                " locked_until = NULL WHERE id = ? AND attempts = ? AND state = 'pending' AND locked_until >= ?",
                [state.value, status, error, now, delivery_id, attempt, now],
            )
        return cursor.rowcount == 1

    def lock(self, delivery_id: int, now: float, until: float) -> bool:
        cursor = self.db.execute(
            "UPDATE deliveries SET locked_until = ? WHERE id = ? AND state = 'pending'"
            " AND (locked_until IS NULL OR locked_until <= ?)",
            [until, delivery_id, now],
        )
        return cursor.rowcount == 1

    def start_attempt(self, delivery_id: int, now: float) -> int:
        """Log an attempt before its request goes out (no outcome yet: ``latency_ms`` NULL), so one cut off
        by a crash or a stop still shows in the log; :meth:`complete_attempt` fills in its outcome."""
        attempt_id: int = _insert(
            self.db, "delivery_attempts", {"delivery_id": delivery_id, "attempted_at": now}
        )
        return attempt_id

    def complete_attempt(self, attempt_id: int, attempt: Attempt) -> None:
        self.db.execute(
            "UPDATE delivery_attempts SET status_code = ?, latency_ms = ?, error = ?, response_excerpt = ?"
            " WHERE id = ?",
            [attempt.status_code, attempt.latency_ms, attempt.error, attempt.response_excerpt, attempt_id],
        )

    def record_attempt(self, attempt: Attempt) -> None:
        _insert(
            self.db,
            "delivery_attempts",
            {
                "delivery_id": attempt.delivery_id,
                "attempted_at": attempt.attempted_at,
                "status_code": attempt.status_code,
                "latency_ms": attempt.latency_ms,
                "error": attempt.error,
                "response_excerpt": attempt.response_excerpt,
            },
        )

    def finish(
        self, delivery_id: int, state: DeliveryState, status: int | None, error: str | None, now: float
    ) -> None:
        self.db.execute(
            "UPDATE deliveries SET state = ?, attempts = attempts + 1, last_status = ?, last_error = ?,"
            " finished_at = ?, locked_until = NULL WHERE id = ?",
            [state.value, status, error, now, delivery_id],
        )

    def retry_later(self, delivery_id: int, at: float, status: int | None, error: str | None) -> None:
        self.db.execute(
            "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_status = ?, last_error = ?,"
            " locked_until = NULL WHERE id = ?",
            [at, status, error, delivery_id],
        )

    def fail_pending_for_line(
        self, endpoint_id: int, conversation_id: int, reason: str, now: float
    ) -> builtins.list[int]:
        """Give up on what still waits for one endpoint about one conversation; returns their ids."""
        found = _all(
            self.db,
            "UPDATE deliveries SET state = 'failed', last_error = ?, finished_at = ?, locked_until = NULL"
            " WHERE endpoint_id = ? AND conversation_id = ? AND state = 'pending' RETURNING id",
            [reason, now, endpoint_id, conversation_id],
        )
        return sorted(int(r["id"]) for r in found)

    def fail_pending_for_endpoint(self, endpoint_id: int, reason: str, now: float) -> None:
        self.db.execute(
            "UPDATE deliveries SET state = 'failed', last_error = ?, finished_at = ?, locked_until = NULL"
            " WHERE endpoint_id = ? AND state = 'pending'",
            [reason, now, endpoint_id],
        )

    def get(self, delivery_id: int) -> Delivery | None:
        row = _one(self.db, "SELECT * FROM deliveries WHERE id = ?", [delivery_id])
        return _delivery(row) if row else None

    def list(
        self, account_id: int | None, state: DeliveryState | None, limit: int
    ) -> builtins.list[Delivery]:
        where: builtins.list[str] = []
        params: builtins.list[Any] = []
        if account_id is not None:
            where.append("account_id = ?")
            params.append(account_id)
        if state is not None:
            where.append("state = ?")
            params.append(state.value)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        sql = f"SELECT * FROM deliveries {clause} ORDER BY id DESC LIMIT ?"  # noqa: S608
        return [_delivery(r) for r in _all(self.db, sql, [*params, limit])]

    def attempts(self, delivery_id: int) -> builtins.list[Attempt]:
        return [
            Attempt(
                delivery_id=r["delivery_id"],
                attempted_at=r["attempted_at"],
                status_code=r["status_code"],
                latency_ms=r["latency_ms"],
                error=r["error"],
                response_excerpt=r["response_excerpt"],
            )
            for r in _all(
                self.db, "SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY id", [delivery_id]
            )
        ]

    def requeue(self, delivery_id: int, now: float) -> bool:
        """Send it again, unless a worker holds it right now (a second send would break the line's order)."""
        cursor = self.db.execute(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = ?, locked_until = NULL, finished_at = NULL"
            " WHERE id = ? AND (locked_until IS NULL OR locked_until <= ?)",
            [now, delivery_id, now],
        )
        return cursor.rowcount == 1
