"""Messages, stored files and a conversation's earlier history."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from helpline.core.model import (
    HistoryEntry,
    Message,
    StoredFile,
)
from helpline.store import rows
from helpline.store.rows import dumps
from helpline.store.statements import Db
from helpline.store.statements import every as _all
from helpline.store.statements import insert as _insert
from helpline.store.statements import insert_known as _insert_known
from helpline.store.statements import one as _one


class Messages:
    def __init__(self, db: Db) -> None:
        self.db = db

    def add(self, message: Message) -> Message:
        m = message
        m.updated_at = m.updated_at or m.created_at
        values = {
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
        }
        if m.id:  # handed out with the seq (PostgreSQL): nothing to read back
            _insert_known(self.db, "messages", {"id": m.id, **values})
        else:
            m.id = _insert(self.db, "messages", values)
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
