"""JSON views of what agents read."""

from __future__ import annotations

from typing import Any

from helpline.core.model import Agent, Contact, Conversation, HistoryEntry, Message
from helpline.core.serialize import agent_record, conversation_view, without


def agent_view(agent: Agent) -> dict[str, Any]:
    return without(agent_record(agent), "created_at")


def contact_view(contact: Contact | None) -> dict[str, Any] | None:
    if contact is None:
        return None
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "document": contact.document,
        "attributes": contact.attributes,
    }


def conversation_with_contact(
    conversation: Conversation, contact: Contact | None, position: int
) -> dict[str, Any]:
    view = conversation_view(conversation)
    view["contact"] = contact_view(contact)
    view["queue_position"] = position or None
    return view


def message_item(message: Message) -> dict[str, Any]:
    return {
        "history": False,
        "id": message.id,
        "hash": message.hash,
        "seq": message.seq,
        "direction": message.direction.value,
        "sender": {"type": message.sender_type.value, "id": message.sender_id},
        "content": message.content,
        "content_type": message.kind.value,
        "url": message.file_url,
        "file_id": message.file_id,
        "status": message.status,
        "created_at": message.created_at,
        "updated_at": message.updated_at or message.created_at,
        "content_attributes": message.content_attributes,
        "selected_value": message.selected_value,
        "reply_to": message.reply_to_id,
        "deleted": message.deleted_at is not None,
    }


def history_item(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "history": True,
        "position": entry.position,
        "time": entry.time,
        "direction": "inbound" if entry.direction == "contact" else "outbound",
        "sender": {"type": entry.direction, "id": None},
        "content": entry.content,
        "content_type": "text",
    }
