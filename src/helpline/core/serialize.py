"""Plain-JSON views of core entities, carried inside events so every renderer sees the same facts."""

from __future__ import annotations

from helpline.core.model import Agent, ApiToken, Conversation, Department, Endpoint, JsonObject, Message


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


def agent_record(agent: Agent) -> JsonObject:
    """An agent as the APIs and the CLI show it (never a password or key); a surface leaves out what it
    does not show by deleting keys, so that every surface reads the same names from one place."""
    return {
        "id": agent.id,
        "account_id": agent.account_id,
        "name": agent.name,
        "email": agent.email,
        "role": agent.role.value,
        "presence": agent.presence.value,
        "photo_url": agent.photo_url,
        "department_ids": agent.department_ids,
        "created_at": agent.created_at,
    }


def department_record(department: Department) -> JsonObject:
    """A department as the admin API and the CLI show it (see :func:`agent_record`)."""
    d = department
    return {
        "id": d.id,
        "account_id": d.account_id,
        "name": d.name,
        "active": d.active,
        "queue_enabled": d.queue_enabled,
        "queued_max_time": d.queued_max_time,
        "ringing_max_time": d.ringing_max_time,
        "capacity": d.capacity,
        "auto_assign": d.auto_assign,
        "bot_url": d.bot_url,
        "bot_accept_timeout": d.bot_accept_timeout,
        "created_at": d.created_at,
    }


def token_record(token: ApiToken, endpoint: Endpoint | None) -> JsonObject:
    """An API token (never its secret) with its webhook, as the admin API and the CLI show it."""
    return {
        "id": token.id,
        "account_id": token.account_id,
        "prefix": token.prefix,
        "active": token.active,
        "webhook_url": endpoint.url if endpoint else None,
        "webhook_enabled": endpoint.enabled if endpoint else None,
        "created_at": token.created_at,
    }


def without(record: JsonObject, *keys: str) -> JsonObject:
    for key in keys:
        del record[key]
    return record
