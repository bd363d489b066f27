"""The SQL repositories, written once for both backends.

Statements (``store.statements``) use ``?`` placeholders; the PostgreSQL connection rewrites them to
``%s``. Every query the application makes lives here or in the dialects' repository modules beside it,
and none of these methods commits: the store's ``write`` does, once per unit of work (or once per group
of them on SQLite).
"""

from __future__ import annotations

import builtins
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar, overload

from helpline.core.events import NewEvent
from helpline.core.model import (
    Account,
    Agent,
    ApiToken,
    Contact,
    Conversation,
    ConversationState,
    Department,
    Endpoint,
    Event,
    HistoryEntry,
    Message,
    MessageSeq,
    Presence,
    StoredFile,
)
from helpline.outbound.model import JSON, Attempt, Delivery, DeliveryFile, DeliveryState
from helpline.store import rows
from helpline.store.rows import Row, dumps
from helpline.store.sql_omnidesk import OmnideskRepository
from helpline.store.sql_sdk import SdkRepositories
from helpline.store.sql_widget import WidgetRepository
from helpline.store.statements import Db
from helpline.store.statements import every as _all
from helpline.store.statements import insert as _insert
from helpline.store.statements import marks as _marks
from helpline.store.statements import one as _one


def _set_clause(fields: dict[str, Any]) -> tuple[str, list[Any]]:
    return ", ".join(f"{name} = ?" for name in fields), list(fields.values())


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


class Accounts:
    def __init__(self, db: Db) -> None:
        self.db = db

    def create(self, name: str, now: float) -> Account:
        account_id = _insert(self.db, "accounts", {"name": name, "created_at": now})
        return Account(id=account_id, name=name, created_at=now)

    def get(self, account_id: int) -> Account | None:
        row = _one(self.db, "SELECT * FROM accounts WHERE id = ?", [account_id])
        return rows.account(row) if row else None

    def list(self) -> builtins.list[Account]:
        return [rows.account(r) for r in _all(self.db, "SELECT * FROM accounts ORDER BY id")]


class Departments:
    def __init__(self, db: Db) -> None:
        self.db = db

    def create(self, department: Department) -> Department:
        department.id = _insert(
            self.db,
            "departments",
            {
                "account_id": department.account_id,
                "name": department.name,
                "active": department.active,
                "queue_enabled": department.queue_enabled,
                "queued_max_time": department.queued_max_time,
                "ringing_max_time": department.ringing_max_time,
                "capacity": department.capacity,
                "auto_assign": department.auto_assign,
                "bot_url": department.bot_url,
                "bot_endpoint_id": department.bot_endpoint_id,
                "bot_accept_timeout": department.bot_accept_timeout,
                "created_at": department.created_at,
                "updated_at": department.updated_at,
            },
        )
        return department

    def get(self, account_id: int, department_id: int) -> Department | None:
        row = _one(
            self.db, "SELECT * FROM departments WHERE id = ? AND account_id = ?", [department_id, account_id]
        )
        return rows.department(row) if row else None

    def list(self, account_id: int | None = None) -> builtins.list[Department]:
        if account_id is None:
            found = _all(self.db, "SELECT * FROM departments ORDER BY id")
        else:
            found = _all(self.db, "SELECT * FROM departments WHERE account_id = ? ORDER BY id", [account_id])
        return [rows.department(r) for r in found]

    def update(self, department_id: int, fields: dict[str, Any]) -> None:
        clause, values = _set_clause(fields)
        self.db.execute(f"UPDATE departments SET {clause} WHERE id = ?", [*values, department_id])  # noqa: S608


class Agents:
    def __init__(self, db: Db) -> None:
        self.db = db

    def _departments_of(self, agent_ids: Sequence[int]) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {agent_id: [] for agent_id in agent_ids}
        if agent_ids:
            for row in _all(
                self.db,
                f"SELECT agent_id, department_id FROM agent_departments WHERE agent_id IN ({_marks(agent_ids)})"  # noqa: S608
                " ORDER BY department_id",
                list(agent_ids),
            ):
                found[row["agent_id"]].append(row["department_id"])
        return found

    def _hydrate(self, found: builtins.list[Row]) -> builtins.list[Agent]:
        departments = self._departments_of([r["id"] for r in found])
        return [rows.agent(r, departments[r["id"]]) for r in found]

    def create(self, agent: Agent) -> Agent:
        agent.id = _insert(
            self.db,
            "agents",
            {
                "account_id": agent.account_id,
                "name": agent.name,
                "email": agent.email,
                "password_hash": agent.password_hash,
                "role": agent.role.value,
                "presence": agent.presence.value,
                "photo_url": agent.photo_url,
                "created_at": agent.created_at,
            },
        )
        for department_id in agent.department_ids:
            self.db.execute(
                "INSERT INTO agent_departments (agent_id, department_id) VALUES (?, ?)",
                [agent.id, department_id],
            )
        return agent

    def get(self, agent_id: int) -> Agent | None:
        found = self._hydrate(_all(self.db, "SELECT * FROM agents WHERE id = ?", [agent_id]))
        return found[0] if found else None

    def by_email(self, email: str) -> Agent | None:
        found = self._hydrate(_all(self.db, "SELECT * FROM agents WHERE email = ?", [email]))
        return found[0] if found else None

    def list(self, account_id: int | None = None) -> builtins.list[Agent]:
        if account_id is None:
            return self._hydrate(_all(self.db, "SELECT * FROM agents ORDER BY id"))
        return self._hydrate(
            _all(self.db, "SELECT * FROM agents WHERE account_id = ? ORDER BY id", [account_id])
        )

    def set_presence(self, agent_id: int, presence: Presence, now: float) -> None:
        self.db.execute(
            "UPDATE agents SET presence = ?, presence_changed_at = ? WHERE id = ?",
            [presence.value, now, agent_id],
        )

    def online_in_department(self, department_id: int) -> builtins.list[Agent]:
        return self._hydrate(
            _all(
                self.db,
                "SELECT a.* FROM agents a JOIN agent_departments d ON d.agent_id = a.id"
                " WHERE d.department_id = ? AND a.presence = 'online' ORDER BY a.id",
                [department_id],
            )
        )

    def online(self, account_id: int, department_id: int | None) -> builtins.list[Agent]:
        if department_id is None:
            return self._hydrate(
                _all(
                    self.db,
                    "SELECT * FROM agents WHERE account_id = ? AND presence = 'online' ORDER BY id",
                    [account_id],
                )
            )
        return self.online_in_department(department_id)

    def add_key(self, agent_id: int, key_hash: str, now: float) -> None:
        _insert(self.db, "agent_keys", {"agent_id": agent_id, "key_hash": key_hash, "created_at": now})

    def by_key_hash(self, key_hash: str) -> Agent | None:
        found = self._hydrate(
            _all(
                self.db,
                "SELECT a.* FROM agents a JOIN agent_keys k ON k.agent_id = a.id WHERE k.key_hash = ?",
                [key_hash],
            )
        )
        return found[0] if found else None

    def assigned_count(self, agent_id: int) -> int:
        row = _one(
            self.db,
            "SELECT COUNT(*) AS n FROM conversations WHERE assignee_id = ? AND state = 'assigned'",
            [agent_id],
        )
        return int(row["n"]) if row else 0


# Every request of the customer-facing APIs presents a token. Active tokens found by hash are remembered
# for a second: a revocation in this process forgets them at once, one made by another process (the CLI,
# another server) takes effect within TOKEN_CACHE_SECONDS.
TOKEN_CACHE_SECONDS = 1.0
_active_tokens: dict[str, tuple[float, ApiToken]] = {}


class Tokens:
    def __init__(self, db: Db) -> None:
        self.db = db

    def create(
        self, account_id: int, token_hash: str, prefix: str, endpoint_id: int | None, now: float
    ) -> ApiToken:
        token_id = _insert(
            self.db,
            "api_tokens",
            {
                "account_id": account_id,
                "token_hash": token_hash,
                "prefix": prefix,
                "endpoint_id": endpoint_id,
                "active": True,
                "created_at": now,
            },
        )
        return ApiToken(token_id, account_id, prefix, endpoint_id, True, now)

    def by_hash(self, token_hash: str) -> ApiToken | None:
        remembered = _active_tokens.get(token_hash)
        now = time.monotonic()
        if remembered is not None and remembered[0] > now:
            return remembered[1]
        row = _one(self.db, "SELECT * FROM api_tokens WHERE token_hash = ?", [token_hash])
        token = rows.token(row) if row else None
        if token is not None and token.active:
            _active_tokens[token_hash] = (now + TOKEN_CACHE_SECONDS, token)
        else:
            _active_tokens.pop(token_hash, None)
        return token

    def get(self, token_id: int) -> ApiToken | None:
        row = _one(self.db, "SELECT * FROM api_tokens WHERE id = ?", [token_id])
        return rows.token(row) if row else None

    def list(self, account_id: int | None = None) -> builtins.list[ApiToken]:
        if account_id is None:
            return [rows.token(r) for r in _all(self.db, "SELECT * FROM api_tokens ORDER BY id")]
        return [
            rows.token(r)
            for r in _all(self.db, "SELECT * FROM api_tokens WHERE account_id = ? ORDER BY id", [account_id])
        ]

    def revoke(self, token_id: int, now: float) -> None:
        self.db.execute("UPDATE api_tokens SET active = FALSE, revoked_at = ? WHERE id = ?", [now, token_id])
        _active_tokens.clear()

    def hold(self, token_id: int) -> None:
        # A no-op UPDATE takes the row lock on PostgreSQL (SQLite has one writer anyway), portably.
        self.db.execute("UPDATE api_tokens SET active = active WHERE id = ?", [token_id])


class Endpoints:
    def __init__(self, db: Db) -> None:
        self.db = db

    def create(self, account_id: int, kind: str, url: str, secret: str, now: float) -> Endpoint:
        endpoint_id = _insert(
            self.db,
            "endpoints",
            {
                "account_id": account_id,
                "kind": kind,
                "url": url,
                "secret": secret,
                "enabled": True,
                "created_at": now,
            },
        )
        return Endpoint(endpoint_id, account_id, kind, url, secret, True, None, now)

    def get(self, endpoint_id: int) -> Endpoint | None:
        row = _one(self.db, "SELECT * FROM endpoints WHERE id = ?", [endpoint_id])
        return rows.endpoint(row) if row else None

    def accounts_with_enabled(self, account_ids: Iterable[int]) -> set[int]:
        """Which of these accounts have at least one enabled endpoint."""
        wanted = sorted(set(account_ids))
        if not wanted:
            return set()
        found = _all(
            self.db,
            f"SELECT DISTINCT account_id FROM endpoints WHERE enabled AND account_id IN ({_marks(wanted)})",  # noqa: S608
            wanted,
        )
        return {row["account_id"] for row in found}

    def disable(self, endpoint_id: int, reason: str) -> None:
        self.db.execute(
            "UPDATE endpoints SET enabled = FALSE, disabled_reason = ? WHERE id = ?", [reason, endpoint_id]
        )

    def update_url(self, endpoint_id: int, url: str) -> None:
        self.db.execute(
            "UPDATE endpoints SET url = ?, enabled = TRUE, disabled_reason = NULL WHERE id = ?",
            [url, endpoint_id],
        )


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
        row = _one(
            self.db,
            "UPDATE conversations SET last_message_seq = last_message_seq + 1 WHERE id = ? RETURNING last_message_seq",
            [conversation_id],
        )
        assert row is not None
        return int(row["last_message_seq"])

    def claim_message_seq_by_hash(self, account_id: int, conversation_hash: str) -> MessageSeq | None:
        row = _one(
            self.db,
            "UPDATE conversations SET last_message_seq = last_message_seq + 1"
            " WHERE hash = ? AND account_id = ? AND state <> 'finished'"
            " RETURNING id, account_id, department_id, contact_id, assignee_id, last_message_seq",
            [conversation_hash, account_id],
        )
        if row is None:
            return None
        return MessageSeq(
            row["id"],
            row["account_id"],
            row["department_id"],
            row["contact_id"],
            row["assignee_id"],
            row["last_message_seq"],
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


class Messages:
    def __init__(self, db: Db) -> None:
        self.db = db

    def add(self, message: Message) -> Message:
        m = message
        m.updated_at = m.updated_at or m.created_at
        m.id = _insert(
            self.db,
            "messages",
            {
                "conversation_id": m.conversation_id,
                "seq": m.seq,
                "hash": m.hash,
                "direction": m.direction.value,
                "sender_type": m.sender_type.value,
                "sender_id": m.sender_id,
                "content": m.content,
                "kind": m.kind.value,
                "file_url": m.file_url,
                "status": m.status,
                "idempotency_key": m.idempotency_key,
                "created_at": m.created_at,
                "file_id": m.file_id,
                "updated_at": m.updated_at,
                "content_attributes": dumps(m.content_attributes),
                "selected_value": m.selected_value,
                "reply_to_id": m.reply_to_id,
            },
        )
        return m

    def by_idempotency_key(self, conversation_id: int, key: str) -> Message | None:
        row = _one(
            self.db,
            "SELECT * FROM messages WHERE conversation_id = ? AND idempotency_key = ?",
            [conversation_id, key],
        )
        return rows.message(row) if row else None

    def list(self, conversation_id: int) -> builtins.list[Message]:
        return [
            rows.message(r)
            for r in _all(
                self.db, "SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq", [conversation_id]
            )
        ]


class Files:
    def __init__(self, db: Db) -> None:
        self.db = db

    def add(self, file: StoredFile) -> StoredFile:
        file.id = _insert(
            self.db,
            "files",
            {
                "account_id": file.account_id,
                "conversation_id": file.conversation_id,
                "key": file.key,
                "original_name": file.original_name,
                "content_type": file.content_type,
                "size": file.size,
                "sha256": file.sha256,
                "uploaded_by_type": file.uploaded_by.type.value,
                "uploaded_by_id": file.uploaded_by.id,
                "created_at": file.created_at,
            },
        )
        return file

    def get(self, file_id: int) -> StoredFile | None:
        row = _one(self.db, "SELECT * FROM files WHERE id = ?", [file_id])
        return rows.stored_file(row) if row else None

    def by_key(self, key: str) -> StoredFile | None:
        row = _one(self.db, "SELECT * FROM files WHERE key = ?", [key])
        return rows.stored_file(row) if row else None


class History:
    def __init__(self, db: Db) -> None:
        self.db = db

    def add_many(self, entries: Sequence[HistoryEntry]) -> None:
        for entry in entries:
            self.db.execute(
                "INSERT INTO history_entries (conversation_id, position, time, direction, content)"
                " VALUES (?, ?, ?, ?, ?)",
                [entry.conversation_id, entry.position, entry.time, entry.direction, entry.content],
            )

    def list(self, conversation_id: int) -> builtins.list[HistoryEntry]:
        return [
            rows.history_entry(r)
            for r in _all(
                self.db,
                "SELECT * FROM history_entries WHERE conversation_id = ? ORDER BY position",
                [conversation_id],
            )
        ]


class Events:
    """The outbox. Sequence numbers are gap-free and in commit order: on PostgreSQL they come from a
    counter row (its lock serialises writers from their first event until they commit), on SQLite from
    the rowid (one writer at a time)."""

    def __init__(self, db: Db) -> None:
        self.db = db
        # SQLite has one writer at a time, so the rowid it hands out (the largest seq plus one) is already
        # gap-free and in commit order; the counter row would add a statement and a page to every commit.
        self._seq_is_rowid = isinstance(db, sqlite3.Connection)

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
            counted = _one(
                self.db, "UPDATE counters SET value = value + 1 WHERE name = 'events' RETURNING value"
            )
            assert counted is not None
            values = {"seq": counted["value"], **values}
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
        file=rows.delivery_file(row["file"]),
    )


class Deliveries:
    """Outbound HTTP calls to make, in order per (endpoint, conversation), with their attempts."""

    def __init__(self, db: Db) -> None:
        self.db = db

    def planned_up_to(self) -> int:
        row = _one(self.db, "SELECT value FROM counters WHERE name = 'planned_events'")
        return int(row["value"]) if row else 0

    def claim_planning(self) -> int:
        """Lock the planning cursor for this transaction (PostgreSQL) and return it."""
        row = _one(self.db, "UPDATE counters SET value = value WHERE name = 'planned_events' RETURNING value")
        return int(row["value"]) if row else 0

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
                    "file": rows.delivery_file_json(file),
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

    def lock(self, delivery_id: int, now: float, until: float) -> bool:
        cursor = self.db.execute(
            "UPDATE deliveries SET locked_until = ? WHERE id = ? AND state = 'pending'"
            " AND (locked_until IS NULL OR locked_until <= ?)",
            [until, delivery_id, now],
        )
        return cursor.rowcount == 1

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


class ConsoleSessions:
    """Browser sessions of the agent console: the SHA-256 of a random cookie token, and when it expires."""

    def __init__(self, db: Db) -> None:
        self.db = db

    def create(self, agent_id: int, token_hash: str, now: float, expires_at: float) -> int:
        return int(
            _insert(
                self.db,
                "console_sessions",
                {"agent_id": agent_id, "token_hash": token_hash, "created_at": now, "expires_at": expires_at},
            )
        )

    def agent_id(self, token_hash: str, now: float) -> int | None:
        """The agent a session belongs to, while it has not expired."""
        row = _one(
            self.db,
            "SELECT agent_id FROM console_sessions WHERE token_hash = ? AND expires_at > ?",
            [token_hash, now],
        )
        return int(row["agent_id"]) if row else None

    def delete(self, token_hash: str) -> bool:
        cursor = self.db.execute("DELETE FROM console_sessions WHERE token_hash = ?", [token_hash])
        return cursor.rowcount == 1

    def delete_expired(self, now: float) -> int:
        return self.db.execute("DELETE FROM console_sessions WHERE expires_at <= ?", [now]).rowcount


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


R = TypeVar("R")


class _Lazy(Generic[R]):
    """A repository made on first use and then kept as a plain attribute of the unit of work.

    (``functools.cached_property`` does the same but takes a lock on every first access in Python 3.11.)
    """

    def __init__(self, factory: Callable[[Db], R]) -> None:
        self.factory = factory

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> _Lazy[R]: ...
    @overload
    def __get__(self, instance: SqlUnitOfWork, owner: type) -> R: ...
    def __get__(self, instance: SqlUnitOfWork | None, owner: type) -> R | _Lazy[R]:
        if instance is None:
            return self
        made = self.factory(instance.db)
        instance.__dict__[self.name] = made
        return made


class SqlUnitOfWork:
    """Every repository over one connection inside one transaction; events appended are kept for fan-out.

    Repositories are made on first use: a request touches three or four of them, and building all of
    them for every unit of work showed up on the hot path.
    """

    accounts = _Lazy(Accounts)
    departments = _Lazy(Departments)
    agents = _Lazy(Agents)
    tokens = _Lazy(Tokens)
    endpoints = _Lazy(Endpoints)
    contacts = _Lazy(Contacts)
    conversations = _Lazy(Conversations)
    messages = _Lazy(Messages)
    history = _Lazy(History)
    files = _Lazy(Files)
    events = _Lazy(Events)
    deliveries = _Lazy(Deliveries)
    console_sessions = _Lazy(ConsoleSessions)
    conversation_search = _Lazy(ConversationSearch)
    omnidesk = _Lazy(OmnideskRepository)
    sdk = _Lazy(SdkRepositories)
    widget = _Lazy(WidgetRepository)

    def __init__(self, db: Db, now: float) -> None:
        self.db = db
        self.now = now
        self.recorded: builtins.list[Event] = []

    def emit(self, event: NewEvent) -> Event:
        stored = self.events.append(event, self.now)
        self.recorded.append(stored)
        return stored


Work = Callable[[SqlUnitOfWork], Any]
