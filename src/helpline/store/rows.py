"""Row ↔ entity mapping shared by both backends (rows are mappings keyed by column name)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

import msgspec

from helpline.core.model import (
    Account,
    Actor,
    ActorType,
    Agent,
    ApiToken,
    Contact,
    Conversation,
    ConversationState,
    Department,
    Direction,
    Endpoint,
    Event,
    FinishReason,
    HistoryEntry,
    HistoryStatus,
    Message,
    MessageKind,
    Presence,
    Role,
    StoredFile,
)
from helpline.store import secret_box

Row = Mapping[str, Any]


def dumps(value: Any) -> str:
    return msgspec.json.encode(value).decode()


# msgspec rather than the json module: these run for every row and every event on the hot path.
loads = msgspec.json.decode


def _hashed(row: Row) -> Row:
    """An SQLite row as a dict, for the wide rows read on every message: ``sqlite3.Row`` finds a column
    by comparing its name with each column's in turn, so 34 lookups cost more than building one dict."""
    if isinstance(row, sqlite3.Row):
        return dict(zip(row.keys(), tuple(row), strict=True))
    return row


def account(row: Row) -> Account:
    return Account(id=row["id"], name=row["name"], created_at=row["created_at"])


def department(row: Row) -> Department:
    return Department(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        active=bool(row["active"]),
        queue_enabled=bool(row["queue_enabled"]),
        queued_max_time=row["queued_max_time"],
        ringing_max_time=row["ringing_max_time"],
        capacity=row["capacity"],
        auto_assign=bool(row["auto_assign"]),
        bot_url=row["bot_url"],
        bot_endpoint_id=row["bot_endpoint_id"],
        bot_accept_timeout=row["bot_accept_timeout"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def agent(row: Row, department_ids: list[int]) -> Agent:
    return Agent(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        email=row["email"],
        password_hash=row["password_hash"],
        role=Role(row["role"]),
        presence=Presence(row["presence"]),
        photo_url=row["photo_url"],
        department_ids=department_ids,
        created_at=row["created_at"],
    )


def token(row: Row) -> ApiToken:
    return ApiToken(
        id=row["id"],
        account_id=row["account_id"],
        prefix=row["prefix"],
        endpoint_id=row["endpoint_id"],
        active=bool(row["active"]),
        created_at=row["created_at"],
    )


def endpoint(row: Row) -> Endpoint:
    return Endpoint(
        id=row["id"],
        account_id=row["account_id"],
        kind=row["kind"],
        url=row["url"],
        secret=secret_box.open_secret(row["secret"]),
        enabled=bool(row["enabled"]),
        disabled_reason=row["disabled_reason"],
        created_at=row["created_at"],
        headers=secret_box.open_json(row["headers"]),
    )


def contact(row: Row) -> Contact:
    return Contact(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        email=row["email"],
        phone=row["phone"],
        document=row["document"],
        attributes=loads(row["attributes"]),
        created_at=row["created_at"],
    )


def conversation(row: Row) -> Conversation:
    row = _hashed(row)
    return Conversation(
        id=row["id"],
        hash=row["hash"],
        account_id=row["account_id"],
        department_id=row["department_id"],
        origin_department_id=row["origin_department_id"],
        contact_id=row["contact_id"],
        state=ConversationState(row["state"]),
        origin_dialect=row["origin_dialect"],
        origin_token_id=row["origin_token_id"],
        origin_key=row["origin_key"],
        assignee_id=row["assignee_id"],
        offered_to=row["offered_to"],
        offered_at=row["offered_at"],
        extra=loads(row["extra"]),
        external_history_url=row["external_history_url"],
        history_status=HistoryStatus(row["history_status"]),
        history_error=row["history_error"],
        mood=row["mood"],
        tags=loads(row["tags"]),
        note=row["note"],
        customer_key=row["customer_key"],
        created_at=row["created_at"],
        queued_at=row["queued_at"],
        assigned_at=row["assigned_at"],
        finished_at=row["finished_at"],
        finish_reason=FinishReason(row["finish_reason"]) if row["finish_reason"] else None,
        finished_by_type=ActorType(row["finished_by_type"]) if row["finished_by_type"] else None,
        finished_by_id=row["finished_by_id"],
        bot_endpoint_id=row["bot_endpoint_id"],
        bot_started_at=row["bot_started_at"],
        bot_accepted_at=row["bot_accepted_at"],
        last_message_seq=row["last_message_seq"],
        updated_at=row["updated_at"],
        feedback=loads(row["feedback"]) if row["feedback"] else None,
    )


def message(row: Row) -> Message:
    row = _hashed(row)
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        seq=row["seq"],
        hash=row["hash"],
        direction=Direction(row["direction"]),
        sender_type=ActorType(row["sender_type"]),
        sender_id=row["sender_id"],
        content=row["content"],
        kind=MessageKind(row["kind"]),
        file_url=row["file_url"],
        status=row["status"],
        idempotency_key=row["idempotency_key"],
        created_at=row["created_at"],
        file_id=row["file_id"],
        updated_at=row["updated_at"] or row["created_at"],
        content_attributes=loads(row["content_attributes"]) if row["content_attributes"] else {},
        selected_value=row["selected_value"],
        reply_to_id=row["reply_to_id"],
        deleted_at=row["deleted_at"],
    )


def stored_file(row: Row) -> StoredFile:
    return StoredFile(
        id=row["id"],
        account_id=row["account_id"],
        conversation_id=row["conversation_id"],
        key=row["key"],
        original_name=row["original_name"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
        uploaded_by=Actor(ActorType(row["uploaded_by_type"]), row["uploaded_by_id"]),
        created_at=row["created_at"],
    )


def history_entry(row: Row) -> HistoryEntry:
    return HistoryEntry(
        conversation_id=row["conversation_id"],
        position=row["position"],
        time=row["time"],
        direction=row["direction"],
        content=row["content"],
    )


def event(row: Row) -> Event:
    row = _hashed(row)
    return Event(
        seq=row["seq"],
        account_id=row["account_id"],
        type=row["type"],
        data=loads(row["data"]),
        actor=Actor(ActorType(row["actor_type"]), row["actor_id"]),
        created_at=row["created_at"],
        conversation_id=row["conversation_id"],
        department_id=row["department_id"],
        agent_id=row["agent_id"],
        prev_department_id=row["prev_department_id"],
        prev_agent_id=row["prev_agent_id"],
    )
