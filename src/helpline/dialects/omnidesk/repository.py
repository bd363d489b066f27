"""The Omnidesk dialect's tables: chat tokens, per-account chat configuration, brands and chat sessions.

The dialect owns these tables (the store knows nothing of them): ``OmnideskRepository.from_uow(uow)``
builds the repository on the unit of work's connection, inside its transaction; nothing in it commits.
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass
from typing import Any

from helpline.store import secret_box
from helpline.store.rows import Row, dumps
from helpline.store.statements import Db
from helpline.store.statements import every as _all
from helpline.store.statements import insert as _insert
from helpline.store.statements import one as _one
from helpline.store.unit_of_work import UnitOfWork


@dataclass(slots=True)
class ChatToken:
    """A ``chatAccountToken`` / ``chatServerToken`` pair (only their hashes kept) bound to a department."""

    id: int
    account_id: int
    department_id: int
    prefix: str
    server_token_hash: str
    signing_secret: str  # signs the hookpoint calls of the sessions started with this token
    hide_when_offline: bool
    active: bool
    created_at: float
    require_token: bool = False  # notifyUserNewChatEvent / notifyUserEndChat must present this token


@dataclass(slots=True)
class Brand:
    id: int
    account_id: int
    name: str
    department_id: int | None
    created_at: float


@dataclass(slots=True)
class ChatSession:
    """One ticket a caller's chat session opened: its conversation and its ``chatServer`` endpoint."""

    id: int
    account_id: int
    chat_token_id: int
    session_key: str
    conversation_id: int
    endpoint_id: int
    chat_server: str
    created_at: float


def _token(row: Row) -> ChatToken:
    return ChatToken(
        id=row["id"],
        account_id=row["account_id"],
        department_id=row["department_id"],
        prefix=row["prefix"],
        server_token_hash=row["server_token_hash"],
        signing_secret=secret_box.open_secret(row["signing_secret"]),
        hide_when_offline=bool(row["hide_when_offline"]),
        active=bool(row["active"]),
        created_at=row["created_at"],
        require_token=bool(row["require_token"]),
    )


def _brand(row: Row) -> Brand:
    return Brand(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        department_id=row["department_id"],
        created_at=row["created_at"],
    )


def _session(row: Row) -> ChatSession:
    return ChatSession(
        id=row["id"],
        account_id=row["account_id"],
        chat_token_id=row["chat_token_id"],
        session_key=row["session_key"],
        conversation_id=row["conversation_id"],
        endpoint_id=row["endpoint_id"],
        chat_server=row["chat_server"],
        created_at=row["created_at"],
    )


class OmnideskRepository:
    def __init__(self, db: Db) -> None:
        self.db = db

    @classmethod
    def from_uow(cls, uow: UnitOfWork) -> OmnideskRepository:
        return cls(uow.db)

    # -- chat tokens ---------------------------------------------------------------------------------

    def create_token(
        self,
        account_id: int,
        department_id: int,
        account_token_hash: str,
        server_token_hash: str,
        prefix: str,
        signing_secret: str,
        hide_when_offline: bool,
        now: float,
    ) -> ChatToken:
        token_id = _insert(
            self.db,
            "omnidesk_chat_tokens",
            {
                "account_id": account_id,
                "department_id": department_id,
                "account_token_hash": account_token_hash,
                "server_token_hash": server_token_hash,
                "prefix": prefix,
                "signing_secret": secret_box.seal(signing_secret),
                "hide_when_offline": hide_when_offline,
                "active": True,
                "created_at": now,
            },
        )
        return ChatToken(
            token_id,
            account_id,
            department_id,
            prefix,
            server_token_hash,
            signing_secret,
            hide_when_offline,
            True,
            now,
        )

    def token_by_hash(self, account_token_hash: str) -> ChatToken | None:
        row = _one(
            self.db, "SELECT * FROM omnidesk_chat_tokens WHERE account_token_hash = ?", [account_token_hash]
        )
        return _token(row) if row else None

    def token(self, token_id: int) -> ChatToken | None:
        row = _one(self.db, "SELECT * FROM omnidesk_chat_tokens WHERE id = ?", [token_id])
        return _token(row) if row else None

    def tokens(self, account_id: int | None = None) -> builtins.list[ChatToken]:
        if account_id is None:
            found = _all(self.db, "SELECT * FROM omnidesk_chat_tokens ORDER BY id")
        else:
            found = _all(
                self.db, "SELECT * FROM omnidesk_chat_tokens WHERE account_id = ? ORDER BY id", [account_id]
            )
        return [_token(r) for r in found]

    def set_hide_when_offline(self, token_id: int, hide: bool) -> None:
        self.db.execute(
            "UPDATE omnidesk_chat_tokens SET hide_when_offline = ? WHERE id = ?", [hide, token_id]
        )

    def set_require_token(self, token_id: int, required: bool) -> None:
        self.db.execute(
            "UPDATE omnidesk_chat_tokens SET require_token = ? WHERE id = ?", [required, token_id]
        )

    def revoke_token(self, token_id: int, now: float) -> None:
        self.db.execute(
            "UPDATE omnidesk_chat_tokens SET active = FALSE, revoked_at = ? WHERE id = ?", [now, token_id]
        )

    def hold_token(self, token_id: int) -> None:
        """Lock the token's row until the unit of work ends: two first messages of one session make one."""
        self.db.execute("UPDATE omnidesk_chat_tokens SET active = active WHERE id = ?", [token_id])

    # -- chat configuration --------------------------------------------------------------------------

    def config(self, account_id: int) -> dict[str, Any]:
        """What the operator set for the account (keys they never set are absent)."""
        row = _one(self.db, "SELECT settings FROM omnidesk_chat_configs WHERE account_id = ?", [account_id])
        found: dict[str, Any] = json.loads(row["settings"]) if row else {}
        return found

    def save_config(self, account_id: int, settings: dict[str, Any], now: float) -> None:
        text = dumps(settings)
        updated = self.db.execute(
            "UPDATE omnidesk_chat_configs SET settings = ?, updated_at = ? WHERE account_id = ?",
            [text, now, account_id],
        )
        if updated.rowcount == 0:
            self.db.execute(
                "INSERT INTO omnidesk_chat_configs (account_id, settings, updated_at) VALUES (?, ?, ?)",
                [account_id, text, now],
            )

    # -- brands --------------------------------------------------------------------------------------

    def create_brand(self, account_id: int, name: str, department_id: int | None, now: float) -> Brand:
        brand_id = _insert(
            self.db,
            "omnidesk_brands",
            {"account_id": account_id, "name": name, "department_id": department_id, "created_at": now},
        )
        return Brand(brand_id, account_id, name, department_id, now)

    def brand(self, account_id: int, brand_id: int) -> Brand | None:
        row = _one(
            self.db, "SELECT * FROM omnidesk_brands WHERE account_id = ? AND id = ?", [account_id, brand_id]
        )
        return _brand(row) if row else None

    def brands(self, account_id: int | None = None) -> builtins.list[Brand]:
        if account_id is None:
            found = _all(self.db, "SELECT * FROM omnidesk_brands ORDER BY id")
        else:
            found = _all(
                self.db, "SELECT * FROM omnidesk_brands WHERE account_id = ? ORDER BY id", [account_id]
            )
        return [_brand(r) for r in found]

    # -- chat sessions -------------------------------------------------------------------------------

    def add_session(
        self,
        account_id: int,
        chat_token_id: int,
        session_key: str,
        conversation_id: int,
        endpoint_id: int,
        chat_server: str,
        now: float,
    ) -> ChatSession:
        session_id = _insert(
            self.db,
            "omnidesk_sessions",
            {
                "account_id": account_id,
                "chat_token_id": chat_token_id,
                "session_key": session_key,
                "conversation_id": conversation_id,
                "endpoint_id": endpoint_id,
                "chat_server": chat_server,
                "created_at": now,
            },
        )
        return ChatSession(
            session_id, account_id, chat_token_id, session_key, conversation_id, endpoint_id, chat_server, now
        )

    def latest_session(self, chat_token_id: int, session_key: str) -> ChatSession | None:
        """The newest ticket the session opened with this token."""
        row = _one(
            self.db,
            "SELECT * FROM omnidesk_sessions WHERE chat_token_id = ? AND session_key = ? ORDER BY id DESC LIMIT 1",
            [chat_token_id, session_key],
        )
        return _session(row) if row else None

    def sessions_by_key(self, session_key: str, limit: int = 50) -> builtins.list[ChatSession]:
        """Sessions of any token with this key, newest first (callers narrow them down by chatServer)."""
        found = _all(
            self.db,
            "SELECT * FROM omnidesk_sessions WHERE session_key = ? ORDER BY id DESC LIMIT ?",
            [session_key, limit],
        )
        return [_session(r) for r in found]

    def session_for_conversation(self, conversation_id: int) -> ChatSession | None:
        row = _one(self.db, "SELECT * FROM omnidesk_sessions WHERE conversation_id = ?", [conversation_id])
        return _session(row) if row else None

    def move_session(self, session_id: int, chat_server: str) -> None:
        """The caller gave another ``chatServer``: the session's hookpoints go there from now on."""
        self.db.execute(
            "UPDATE omnidesk_sessions SET chat_server = ? WHERE id = ?", [chat_server, session_id]
        )
