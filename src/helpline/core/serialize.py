"""Plain-JSON views of core entities, carried inside events so every renderer sees the same facts."""

from __future__ import annotations

from helpline.core.model import Agent, Conversation, JsonObject, Message


def message_view(message: Message, sender_name: str | None = None) -> JsonObject:
    return {
        "id": message.id,
        "hash": message.hash,
        "seq": message.seq,
        "direction": message.direction.value,
        "sender": {"type": message.sender_type.value, "id": message.sender_id, "name": sender_name},
        "content": message.content,
        "type": message.kind.value,
        "url": message.file_url,
        "file_id": message.file_id,
        "status": message.status,
        "created_at": message.created_at,
        "updated_at": message.updated_at or message.created_at,
        "content_attributes": message.content_attributes,
        "selected_value": message.selected_value,
        "reply_to_id": message.reply_to_id,
        "idempotency_key": message.idempotency_key,
        "deleted": message.deleted_at is not None,
    }


def agent_message(view: JsonObject) -> JsonObject:
    """A message as agents read it, on the agent API and its websocket alike: the names the agent API's
    requests use (``content_type``, ``reply_to``); the client's idempotency key stays inside. Events
    stored by older versions may lack newer keys: those read as null."""
    return {
        "history": False,
        "id": view.get("id"),
        "hash": view.get("hash"),
        "seq": view.get("seq"),
        "direction": view.get("direction"),
        "sender": view.get("sender"),
        "content": view.get("content"),
        "content_type": view.get("type"),
        "url": view.get("url"),
        "file_id": view.get("file_id"),
        "status": view.get("status"),
        "created_at": view.get("created_at"),
        "updated_at": view.get("updated_at"),
        "content_attributes": view.get("content_attributes"),
        "selected_value": view.get("selected_value"),
        "reply_to": view.get("reply_to_id"),
        "deleted": bool(view.get("deleted")),
    }


def agent_brief(agent: Agent) -> JsonObject:
    return {"id": agent.id, "name": agent.name, "photo": agent.photo_url}


def conversation_view(conversation: Conversation) -> JsonObject:
    return {
        "id": conversation.id,
        "hash": conversation.hash,
        "account_id": conversation.account_id,
        "department_id": conversation.department_id,
        "origin_department_id": conversation.origin_department_id,
        "contact_id": conversation.contact_id,
        "state": conversation.state.value,
        "assignee_id": conversation.assignee_id,
        "offered_to": conversation.offered_to,
        "origin": {"dialect": conversation.origin_dialect, "key": conversation.origin_key},
        "extra": conversation.extra,
        "external_history": {
            "url": conversation.external_history_url,
            "status": conversation.history_status.value,
            "error": conversation.history_error,
        },
        "mood": conversation.mood,
        "tags": conversation.tags,
        "note": conversation.note,
        "created_at": conversation.created_at,
        "queued_at": conversation.queued_at,
        "assigned_at": conversation.assigned_at,
        "finished_at": conversation.finished_at,
        "finish_reason": conversation.finish_reason.value if conversation.finish_reason else None,
        "finished_by": (
            {"type": conversation.finished_by_type.value, "id": conversation.finished_by_id}
            if conversation.finished_by_type
            else None
        ),
        "last_message_seq": conversation.last_message_seq,
        "feedback": conversation.feedback,
    }
