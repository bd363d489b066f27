"""Who and what an account is made of: accounts, departments, agents, API tokens, webhook endpoints and
console sessions.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import Any

from helpline.core.model import (
    Account,
    Agent,
    ApiToken,
    Department,
    Endpoint,
    Presence,
)
from helpline.store import rows, secret_box
from helpline.store.rows import Row
from helpline.store.sql.token_cache import ACTIVE_TOKENS
from helpline.store.statements import Db, is_sqlite
from helpline.store.statements import every as _all
from helpline.store.statements import insert as _insert
from helpline.store.statements import marks as _marks
from helpline.store.statements import one as _one
from helpline.store.statements import set_clause as _set_clause


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

    def lock_for_assignment(self, agent_ids: Iterable[int]) -> None:
        ids = sorted(set(agent_ids))
        if not ids or is_sqlite(self.db):  # SQLite's one writer already serialises assignments
            return
        # The event sequence first: every unit of work that emits holds it from its first event to its
        # commit, and many emit before they assign (a conversation starts, then is offered). Taking the
        # agents before it could make a circle with one of those (agents -> sequence, sequence -> agents).
        _one(self.db, "SELECT value FROM counters WHERE name = 'events' FOR NO KEY UPDATE")
        _all(self.db, f"SELECT id FROM agents WHERE id IN ({_marks(ids)}) ORDER BY id FOR NO KEY UPDATE", ids)  # noqa: S608

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
        remembered = ACTIVE_TOKENS.get(token_hash)
        if remembered is not None:
            return remembered
        row = _one(self.db, "SELECT * FROM api_tokens WHERE token_hash = ?", [token_hash])
        token = rows.token(row) if row else None
        ACTIVE_TOKENS.remember(token_hash, token)
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
        ACTIVE_TOKENS.clear()

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
                "secret": secret_box.seal(secret),
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
