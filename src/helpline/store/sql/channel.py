"""Contact channels (SDK clients) and rich messages: contact tokens, SDK inboxes and their push webhooks,
message receipts, paging and changes, reactions, device push tokens, and the event-log lookups the
contact websocket resumes with.

Exposed as ``SqlUnitOfWork.sdk`` ("SDK" as in a contact's app or web SDK, not one vendor's); like every repository here, nothing in it commits.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from typing import Any

from helpline.core.channel import ContactToken, Reaction
from helpline.core.inboxes import Inbox
from helpline.core.model import Actor, ActorType, Conversation, Event, JsonObject, Message
from helpline.store import rows, secret_box
from helpline.store.rows import Row, dumps
from helpline.store.statements import Db
from helpline.store.statements import every as _all
from helpline.store.statements import insert as _insert
from helpline.store.statements import marks as _marks
from helpline.store.statements import one as _one


def _contact_token(row: Row) -> ContactToken:
    return ContactToken(
        id=row["id"],
        account_id=row["account_id"],
        department_id=row["department_id"],
        contact_id=row["contact_id"],
        identifier=row["identifier"],
        created_at=row["created_at"],
    )


class ContactTokens:
    def __init__(self, db: Db) -> None:
        self.db = db

    def create(self, token: ContactToken, token_hash: str) -> ContactToken:
        token.id = int(
            _insert(
                self.db,
                "contact_tokens",
                {
                    "account_id": token.account_id,
                    "department_id": token.department_id,
                    "contact_id": token.contact_id,
                    "token_hash": token_hash,
                    "identifier": token.identifier,
                    "created_at": token.created_at,
                },
            )
        )
        return token

    def by_hash(self, token_hash: str) -> ContactToken | None:
        row = _one(self.db, "SELECT * FROM contact_tokens WHERE token_hash = ?", [token_hash])
        return _contact_token(row) if row else None

    def by_contact(self, contact_id: int) -> ContactToken | None:
        row = _one(self.db, "SELECT * FROM contact_tokens WHERE contact_id = ?", [contact_id])
        return _contact_token(row) if row else None

    def get(self, token_id: int) -> ContactToken | None:
        row = _one(self.db, "SELECT * FROM contact_tokens WHERE id = ?", [token_id])
        return _contact_token(row) if row else None


class ContactConversations:
    def __init__(self, db: Db) -> None:
        self.db = db

    def latest_for_contact(self, contact_id: int) -> Conversation | None:
        row = _one(
            self.db, "SELECT * FROM conversations WHERE contact_id = ? ORDER BY id DESC LIMIT 1", [contact_id]
        )
        return rows.conversation(row) if row else None

    def ids_for_contact(self, contact_id: int) -> builtins.list[int]:
        return [
            int(r["id"])
            for r in _all(
                self.db, "SELECT id FROM conversations WHERE contact_id = ? ORDER BY id", [contact_id]
            )
        ]


_MESSAGE_COLUMNS = {
    "status",
    "updated_at",
    "selected_value",
    "content",
    "file_url",
    "content_attributes",
    "deleted_at",
}


class MessageChanges:
    """Reading messages by id and page, and changing what may change after a message is sent."""

    def __init__(self, db: Db) -> None:
        self.db = db

    def get(self, message_id: int) -> Message | None:
        row = _one(self.db, "SELECT * FROM messages WHERE id = ?", [message_id])
        return rows.message(row) if row else None

    def get_many(self, message_ids: Sequence[int]) -> builtins.list[Message]:
        if not message_ids:
            return []
        found = _all(
            self.db,
            f"SELECT * FROM messages WHERE id IN ({_marks(message_ids)}) ORDER BY id",  # noqa: S608
            list(message_ids),
        )
        return [rows.message(r) for r in found]

    def update(self, message_id: int, fields: dict[str, Any]) -> None:
        unknown = set(fields) - _MESSAGE_COLUMNS
        if unknown:
            raise KeyError(f"messages cannot change {', '.join(sorted(unknown))}")
        values = {k: dumps(v) if k == "content_attributes" else v for k, v in fields.items()}
        clause = ", ".join(f"{name} = ?" for name in values)
        self.db.execute(f"UPDATE messages SET {clause} WHERE id = ?", [*values.values(), message_id])  # noqa: S608

    def unseen_inbound(self, conversation_id: int, up_to: int | None) -> builtins.list[Message]:
        sql = (
            "SELECT * FROM messages WHERE conversation_id = ? AND direction = 'inbound' AND status <> 'seen'"
        )
        params: builtins.list[Any] = [conversation_id]
        if up_to is not None:
            sql += " AND id <= ?"
            params.append(up_to)
        return [rows.message(r) for r in _all(self.db, sql + " ORDER BY id", params)]

    def page(
        self,
        conversation_id: int,
        *,
        before: int | None = None,
        after: int | None = None,
        updated_after: float | None = None,
        limit: int | None = 20,
    ) -> builtins.list[Message]:
        """Messages of a conversation, oldest first: ids between ``after`` and ``before``, changed at or
        after ``updated_after``. With ``updated_after`` the first ``limit`` changed ones (by change time);
        with ``after`` alone the ``limit`` next after it; otherwise the ``limit`` newest (before ``before``)."""
        where = ["conversation_id = ?"]
        params: builtins.list[Any] = [conversation_id]
        if before is not None:
            where.append("id < ?")
            params.append(before)
        if after is not None:
            where.append("id > ?")
            params.append(after)
        if updated_after is not None:
            where.append("updated_at >= ?")
            params.append(updated_after)
        if updated_after is not None:
            order, newest_first = "updated_at, id", False
        elif after is not None:
            order, newest_first = "id", False
        else:
            order, newest_first = "id DESC", True
        sql = f"SELECT * FROM messages WHERE {' AND '.join(where)} ORDER BY {order}"  # noqa: S608
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        found = [rows.message(r) for r in _all(self.db, sql, params)]
        return found[::-1] if newest_first else found


class Reactions:
    def __init__(self, db: Db) -> None:
        self.db = db

    def put(self, message_id: int, actor: Actor, reaction: str, now: float) -> None:
        changed = self.db.execute(
            "UPDATE message_reactions SET reaction = ?, created_at = ? WHERE message_id = ? AND actor_type = ?"
            " AND actor_id = ?",
            [reaction, now, message_id, actor.type.value, actor.id],
        )
        if changed.rowcount == 0:
            self.db.execute(
                "INSERT INTO message_reactions (message_id, actor_type, actor_id, reaction, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [message_id, actor.type.value, actor.id, reaction, now],
            )

    def remove(self, message_id: int, actor: Actor) -> bool:
        cursor = self.db.execute(
            "DELETE FROM message_reactions WHERE message_id = ? AND actor_type = ? AND actor_id = ?",
            [message_id, actor.type.value, actor.id],
        )
        return cursor.rowcount == 1

    def for_messages(self, message_ids: Sequence[int]) -> dict[int, builtins.list[Reaction]]:
        found: dict[int, builtins.list[Reaction]] = {}
        if not message_ids:
            return found
        for row in _all(
            self.db,
            f"SELECT * FROM message_reactions WHERE message_id IN ({_marks(message_ids)}) ORDER BY id",  # noqa: S608
            list(message_ids),
        ):
            found.setdefault(row["message_id"], []).append(
                Reaction(
                    message_id=row["message_id"],
                    actor=Actor(ActorType(row["actor_type"]), row["actor_id"]),
                    reaction=row["reaction"],
                    created_at=row["created_at"],
                )
            )
        return found


def _inbox(row: Row) -> Inbox:
    return Inbox(
        department_id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        enabled=bool(row["sdk_enabled"]),
        identifier=row["sdk_identifier"],
        push_endpoint_id=row["push_endpoint_id"],
        push_params=json.loads(row["push_params"]) if row["push_params"] else {},
    )


_INBOX_COLUMNS = "id, account_id, name, sdk_enabled, sdk_identifier, push_endpoint_id, push_params"


class Inboxes:
    def __init__(self, db: Db) -> None:
        self.db = db

    def get(self, department_id: int) -> Inbox | None:
        row = _one(self.db, f"SELECT {_INBOX_COLUMNS} FROM departments WHERE id = ?", [department_id])  # noqa: S608
        return _inbox(row) if row else None

    def by_identifier(self, identifier: str) -> Inbox | None:
        row = _one(
            self.db,
            f"SELECT {_INBOX_COLUMNS} FROM departments WHERE sdk_identifier = ?",  # noqa: S608
            [identifier],
        )
        return _inbox(row) if row else None

    def enabled(self, account_id: int | None = None) -> builtins.list[Inbox]:
        sql = f"SELECT {_INBOX_COLUMNS} FROM departments WHERE sdk_enabled = TRUE"  # noqa: S608
        params: builtins.list[Any] = []
        if account_id is not None:
            sql += " AND account_id = ?"
            params.append(account_id)
        return [_inbox(r) for r in _all(self.db, sql + " ORDER BY id", params)]

    def set_enabled(self, department_id: int, enabled: bool, identifier: str | None) -> None:
        self.db.execute(
            "UPDATE departments SET sdk_enabled = ?, sdk_identifier = COALESCE(sdk_identifier, ?) WHERE id = ?",
            [enabled, identifier, department_id],
        )

    def set_push(self, department_id: int, endpoint_id: int | None, params: JsonObject | None) -> None:
        self.db.execute(
            "UPDATE departments SET push_endpoint_id = ?, push_params = ? WHERE id = ?",
            [endpoint_id, dumps(params) if params is not None else None, department_id],
        )


class PushTokens:
    def __init__(self, db: Db) -> None:
        self.db = db

    def add(self, contact_token_id: int, token: str, now: float) -> bool:
        """Keep a device's push token; False when it was already kept."""
        exists = _one(
            self.db,
            "SELECT id FROM push_tokens WHERE contact_token_id = ? AND token = ?",
            [contact_token_id, token],
        )
        if exists is not None:
            return False
        self.db.execute(
            "INSERT INTO push_tokens (contact_token_id, token, created_at) VALUES (?, ?, ?)",
            [contact_token_id, token, now],
        )
        return True

    def remove(self, contact_token_id: int, token: str) -> bool:
        cursor = self.db.execute(
            "DELETE FROM push_tokens WHERE contact_token_id = ? AND token = ?", [contact_token_id, token]
        )
        return cursor.rowcount == 1

    def for_contact_token(self, contact_token_id: int) -> builtins.list[str]:
        return [
            r["token"]
            for r in _all(
                self.db,
                "SELECT token FROM push_tokens WHERE contact_token_id = ? ORDER BY id",
                [contact_token_id],
            )
        ]


class EndpointHeaders:
    def __init__(self, db: Db) -> None:
        self.db = db

    def set(self, endpoint_id: int, headers: dict[str, str]) -> None:
        self.db.execute(
            "UPDATE endpoints SET headers = ? WHERE id = ?",
            [secret_box.seal_json(headers), endpoint_id],
        )


class ContactEvents:
    """The event log as a contact's websocket reads it when it (re)connects."""

    def __init__(self, db: Db) -> None:
        self.db = db

    def for_conversations_after(
        self, conversation_ids: Sequence[int], seq: int, until: int, limit: int
    ) -> builtins.list[Event]:
        """Events of these conversations with ``seq < seq' <= until``, in order."""
        if not conversation_ids:
            return []
        found = _all(
            self.db,
            f"SELECT * FROM events WHERE conversation_id IN ({_marks(conversation_ids)}) AND seq > ?"  # noqa: S608
            " AND seq <= ? ORDER BY seq LIMIT ?",
            [*conversation_ids, seq, until, limit],
        )
        return [rows.event(r) for r in found]

    def seq_of_message(self, message: Message) -> int | None:
        """The sequence number of the event that announced ``message``."""
        for row in _all(
            self.db,
            "SELECT * FROM events WHERE conversation_id = ? AND type = 'message.created' AND created_at = ?"
            " ORDER BY seq",
            [message.conversation_id, message.created_at],
        ):
            if rows.event(row).data.get("message", {}).get("id") == message.id:
                return int(row["seq"])
        return None

    def last_seq_before(self, conversation_ids: Sequence[int], time: float) -> int:
        """The last event of these conversations strictly before ``time`` (0 if none)."""
        if not conversation_ids:
            return 0
        row = _one(
            self.db,
            f"SELECT MAX(seq) AS seq FROM events WHERE conversation_id IN ({_marks(conversation_ids)})"  # noqa: S608
            " AND created_at < ?",
            [*conversation_ids, time],
        )
        return int(row["seq"]) if row and row["seq"] is not None else 0


class SdkRepositories:
    def __init__(self, db: Db) -> None:
        self.contact_tokens = ContactTokens(db)
        self.conversations = ContactConversations(db)
        self.messages = MessageChanges(db)
        self.reactions = Reactions(db)
        self.inboxes = Inboxes(db)
        self.push_tokens = PushTokens(db)
        self.endpoint_headers = EndpointHeaders(db)
        self.events = ContactEvents(db)
