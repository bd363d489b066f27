"""Contacts and conversations: lookups, the atomic state transitions routing relies on, the queues and
timers jobs scan, and the agent-scoped listing and search.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import Any

from helpline.core.model import (
    Contact,
    Conversation,
    ConversationState,
    MessageSeq,
)
from helpline.store import rows
from helpline.store.rows import dumps
from helpline.store.statements import Db, is_sqlite
from helpline.store.statements import every as _all
from helpline.store.statements import insert as _insert
from helpline.store.statements import marks as _marks
from helpline.store.statements import one as _one
from helpline.store.statements import set_clause as _set_clause


def _agent_scope(
    column: str,
    account_id: int,
    department_ids: Sequence[int],
    agent_id: int,
    state: ConversationState | None,
    include_all: bool,
) -> tuple[builtins.list[str], builtins.list[Any]]:
    """WHERE terms for the conversations an agent may see: their account, and (unless an admin) their
    departments or their own work; ``column`` prefixes the names (a table alias such as ``c.``)."""
    where = [f"{column}account_id = ?"]
    params: builtins.list[Any] = [account_id]
    if not include_all:
        scope = [f"{column}assignee_id = ?"]
        params.append(agent_id)
        if department_ids:
            scope.append(f"{column}department_id IN ({_marks(department_ids)})")
            params.extend(department_ids)
        where.append("(" + " OR ".join(scope) + ")")
    if state is not None:
        where.append(f"{column}state = ?")
        params.append(state.value)
    return where, params


class Contacts:
    def __init__(self, db: Db) -> None:
        self.db = db

    def create(self, contact: Contact) -> Contact:
        contact.id = _insert(
            self.db,
            "contacts",
            {
                "account_id": contact.account_id,
                "name": contact.name,
                "email": contact.email,
                "phone": contact.phone,
                "document": contact.document,
                "attributes": dumps(contact.attributes),
                "created_at": contact.created_at,
            },
        )
        return contact

    def get(self, contact_id: int) -> Contact | None:
        row = _one(self.db, "SELECT * FROM contacts WHERE id = ?", [contact_id])
        return rows.contact(row) if row else None


_JSON_COLUMNS = {"extra", "tags", "feedback"}


def _conversation_fields(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: dumps(v) if k in _JSON_COLUMNS else v for k, v in fields.items()}


_CLAIM_BY_HASH_POSTGRES = (
    "UPDATE conversations SET last_message_seq = last_message_seq + 1"
    " WHERE hash = ? AND account_id = ? AND state <> 'finished'"
    " RETURNING id, account_id, department_id, contact_id, assignee_id, last_message_seq,"
    " nextval('messages_id_seq') AS message_id"
)
# SQLite has one writer at a time, so reading the seq and then writing it back by key is as safe as one
# UPDATE ... RETURNING, and cheaper: SQLite builds a RETURNING clause's rows in a table of their own
# (measured: 7.3 µs for the UPDATE ... RETURNING, 5.4 µs for the two statements).
_OPEN_BY_HASH_SQLITE = (
    "SELECT id, account_id, department_id, contact_id, assignee_id, last_message_seq FROM conversations"
    " WHERE hash = ? AND account_id = ? AND state <> 'finished'"
)
_SET_MESSAGE_SEQ_SQLITE = "UPDATE conversations SET last_message_seq = ? WHERE id = ?"


class Conversations:
    def __init__(self, db: Db) -> None:
        self.db = db

    def create(self, conversation: Conversation) -> Conversation:
        c = conversation
        c.id = _insert(
            self.db,
            "conversations",
            {
                "hash": c.hash,
                "account_id": c.account_id,
                "department_id": c.department_id,
                "origin_department_id": c.origin_department_id,
                "contact_id": c.contact_id,
                "state": c.state.value,
                "origin_dialect": c.origin_dialect,
                "origin_token_id": c.origin_token_id,
                "origin_key": c.origin_key,
                "extra": dumps(c.extra),
                "external_history_url": c.external_history_url,
                "history_status": c.history_status.value,
                "tags": dumps(c.tags),
                "created_at": c.created_at,
                "updated_at": c.updated_at,
            },
        )
        return c

    def get(self, account_id: int, conversation_id: int) -> Conversation | None:
        row = _one(
            self.db,
            "SELECT * FROM conversations WHERE id = ? AND account_id = ?",
            [conversation_id, account_id],
        )
        return rows.conversation(row) if row else None

    def by_hash(self, account_id: int, conversation_hash: str) -> Conversation | None:
        row = _one(
            self.db,
            "SELECT * FROM conversations WHERE hash = ? AND account_id = ?",
            [conversation_hash, account_id],
        )
        return rows.conversation(row) if row else None

    def by_ids(self, conversation_ids: Iterable[int]) -> dict[int, Conversation]:
        """Conversations by id, whatever their account (for jobs that follow the event log)."""
        wanted = sorted(conversation_ids)
        found: dict[int, Conversation] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for row in _all(self.db, f"SELECT * FROM conversations WHERE id IN ({_marks(chunk)})", chunk):  # noqa: S608
                found[row["id"]] = rows.conversation(row)
        return found

    def by_id_any_account(self, conversation_id: int) -> Conversation | None:
        row = _one(self.db, "SELECT * FROM conversations WHERE id = ?", [conversation_id])
        return rows.conversation(row) if row else None

    def hold(self, conversation_id: int) -> Conversation | None:
        lock = "" if is_sqlite(self.db) else " FOR NO KEY UPDATE SKIP LOCKED"  # SQLite: one writer anyway
        row = _one(self.db, f"SELECT * FROM conversations WHERE id = ?{lock}", [conversation_id])  # noqa: S608
        return rows.conversation(row) if row else None

    def update(self, conversation_id: int, fields: dict[str, Any]) -> None:
        clause, values = _set_clause(_conversation_fields(fields))
        self.db.execute(f"UPDATE conversations SET {clause} WHERE id = ?", [*values, conversation_id])  # noqa: S608

    def transition(
        self, conversation_id: int, from_states: Iterable[ConversationState], fields: dict[str, Any]
    ) -> bool:
        states = [s.value for s in from_states]
        clause, values = _set_clause(_conversation_fields(fields))
        cursor = self.db.execute(
            f"UPDATE conversations SET {clause} WHERE id = ? AND state IN ({_marks(states)})",  # noqa: S608
            [*values, conversation_id, *states],
        )
        return cursor.rowcount == 1

    def next_message_seq(self, conversation_id: int) -> int:
        if is_sqlite(self.db):  # one writer: read, then write back (see _OPEN_BY_HASH_SQLITE)
            row = _one(self.db, "SELECT last_message_seq FROM conversations WHERE id = ?", [conversation_id])
            assert row is not None
            seq = int(row["last_message_seq"]) + 1
            self.db.execute(_SET_MESSAGE_SEQ_SQLITE, [seq, conversation_id])
            return seq
        row = _one(
            self.db,
            "UPDATE conversations SET last_message_seq = last_message_seq + 1 WHERE id = ? RETURNING last_message_seq",
            [conversation_id],
        )
        assert row is not None
        return int(row["last_message_seq"])

    def claim_message_seq_by_hash(self, account_id: int, conversation_hash: str) -> MessageSeq | None:
        """On PostgreSQL the message's id comes with its seq, from the sequence, while the conversation's
        row is locked: ids stay in seq order within a conversation (lists sort by id), and the message's
        INSERT needs no ``RETURNING``, so the writer's pipeline does not wait for it."""
        if is_sqlite(self.db):
            row = _one(self.db, _OPEN_BY_HASH_SQLITE, [conversation_hash, account_id])
            if row is None:
                return None
            seq = row["last_message_seq"] + 1
            self.db.execute(_SET_MESSAGE_SEQ_SQLITE, [seq, row["id"]])
            message_id = 0
        else:
            row = _one(self.db, _CLAIM_BY_HASH_POSTGRES, [conversation_hash, account_id])
            if row is None:
                return None
            seq, message_id = row["last_message_seq"], row["message_id"]
        return MessageSeq(
            row["id"],
            row["account_id"],
            row["department_id"],
            row["contact_id"],
            row["assignee_id"],
            seq,
            message_id,
        )

    def queued_in_department(self, department_id: int) -> builtins.list[Conversation]:
        return [
            rows.conversation(r)
            for r in _all(
                self.db,
                "SELECT * FROM conversations WHERE department_id = ? AND state = 'queued' ORDER BY queued_at, id",
                [department_id],
            )
        ]

    def list_for_agent(
        self,
        account_id: int,
        department_ids: Sequence[int],
        agent_id: int,
        state: ConversationState | None,
        include_all: bool,
        limit: int,
    ) -> builtins.list[Conversation]:
        where, params = _agent_scope("", account_id, department_ids, agent_id, state, include_all)
        order = "queued_at, id" if state is ConversationState.QUEUED else "id DESC"
        sql = f"SELECT * FROM conversations WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"  # noqa: S608
        return [rows.conversation(r) for r in _all(self.db, sql, [*params, limit])]

    def queued_older_than(self, now: float) -> builtins.list[Conversation]:
        return [
            rows.conversation(r)
            for r in _all(
                self.db,
                "SELECT c.* FROM conversations c JOIN departments d ON d.id = c.department_id"
                " WHERE c.state = 'queued' AND c.queued_at + d.queued_max_time <= ? ORDER BY c.queued_at, c.id",
                [now],
            )
        ]

    def offers_older_than(self, now: float) -> builtins.list[Conversation]:
        return [
            rows.conversation(r)
            for r in _all(
                self.db,
                "SELECT c.* FROM conversations c JOIN departments d ON d.id = c.department_id"
                " WHERE c.state = 'queued' AND c.offered_to IS NOT NULL"
                " AND c.offered_at + d.ringing_max_time <= ? ORDER BY c.offered_at, c.id",
                [now],
            )
        ]

    def open_by_origin_key(self, token_id: int, key: str) -> Conversation | None:
        row = _one(
            self.db,
            "SELECT * FROM conversations WHERE origin_token_id = ? AND origin_key = ? AND state <> 'finished'"
            " ORDER BY id DESC LIMIT 1",
            [token_id, key],
        )
        return rows.conversation(row) if row else None

    def bots_unaccepted_older_than(self, now: float) -> builtins.list[Conversation]:
        return [
            rows.conversation(r)
            for r in _all(
                self.db,
                "SELECT c.* FROM conversations c JOIN departments d ON d.id = c.department_id"
                " WHERE c.state = 'bot' AND c.bot_accepted_at IS NULL"
                " AND c.bot_started_at + d.bot_accept_timeout <= ? ORDER BY c.bot_started_at, c.id",
                [now],
            )
        ]

    def held_by_bot(self, endpoint_id: int) -> builtins.list[Conversation]:
        return [
            rows.conversation(r)
            for r in _all(
                self.db,
                "SELECT * FROM conversations WHERE state = 'bot' AND bot_endpoint_id = ? ORDER BY id",
                [endpoint_id],
            )
        ]

    def pending_history(self, limit: int) -> builtins.list[Conversation]:
        return [
            rows.conversation(r)
            for r in _all(
                self.db,
                "SELECT * FROM conversations WHERE history_status = 'pending' ORDER BY id LIMIT ?",
                [limit],
            )
        ]

    def assigned_count(self, agent_id: int) -> int:
        row = _one(
            self.db,
            "SELECT COUNT(*) AS n FROM conversations WHERE assignee_id = ? AND state = 'assigned'",
            [agent_id],
        )
        return int(row["n"]) if row else 0

    def workload(self, agent_id: int) -> int:
        row = _one(
            self.db,
            "SELECT COUNT(*) AS n FROM conversations WHERE (assignee_id = ? AND state = 'assigned')"
            " OR (offered_to = ? AND state = 'queued')",
            [agent_id, agent_id],
        )
        return int(row["n"]) if row else 0

    def average_answer_seconds(self, account_id: int, department_id: int | None, last: int) -> float | None:
        """Mean time from entering the queue to an agent's accept, over the last ``last`` answered ones."""
        scope, params = "account_id = ?", [account_id]
        if department_id is not None:
            scope += " AND department_id = ?"
            params.append(department_id)
        row = _one(
            self.db,
            f"SELECT AVG(assigned_at - queued_at) AS average FROM (SELECT assigned_at, queued_at FROM conversations"  # noqa: S608
            f" WHERE {scope} AND assigned_at IS NOT NULL AND queued_at IS NOT NULL ORDER BY id DESC LIMIT ?) AS recent",
            [*params, last],
        )
        return float(row["average"]) if row and row["average"] is not None else None


def _like(text: str) -> str:
    """A case-insensitive ``LIKE`` pattern matching ``text`` anywhere, with its wildcards taken literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ConversationSearch:
    """Find conversations an agent may see by the customer's name, email or phone, or by message text."""

    def __init__(self, db: Db) -> None:
        self.db = db

    def search(
        self,
        account_id: int,
        department_ids: Sequence[int],
        agent_id: int,
        state: ConversationState | None,
        include_all: bool,
        text: str,
        limit: int,
    ) -> builtins.list[Conversation]:
        where, params = _agent_scope("c.", account_id, department_ids, agent_id, state, include_all)
        pattern = _like(text)
        where.append(
            "(LOWER(COALESCE(p.name, '')) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(p.email, '')) LIKE ? ESCAPE '\\'"
            " OR LOWER(COALESCE(p.phone, '')) LIKE ? ESCAPE '\\' OR c.hash = ?"
            " OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id"
            " AND LOWER(m.content) LIKE ? ESCAPE '\\'))"
        )
        params.extend([pattern, pattern, pattern, text.strip().lower(), pattern])
        sql = (
            "SELECT c.* FROM conversations c LEFT JOIN contacts p ON p.id = c.contact_id"  # noqa: S608
            f" WHERE {' AND '.join(where)} ORDER BY c.id DESC LIMIT ?"
        )
        return [rows.conversation(r) for r in _all(self.db, sql, [*params, limit])]
