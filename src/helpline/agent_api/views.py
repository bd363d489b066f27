"""JSON views of what agents read."""

from __future__ import annotations

from typing import Any

from helpline.core.model import Agent, Contact, Conversation, HistoryEntry, Message
from helpline.core.serialize import agent_message, agent_record, conversation_view, message_view, without


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


def message_item(message: Message, sender_name: str | None = None) -> dict[str, Any]:
    """The same shape the websocket's message events carry (:func:`helpline.core.serialize.agent_message`)."""
    return agent_message(message_view(message, sender_name))


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
