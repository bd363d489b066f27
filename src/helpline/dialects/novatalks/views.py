"""The SDK's JSON shapes (seed 004 and the vendor's OpenAPI schema): contact, conversation, message,
attachment, sender. Times are milliseconds; ``dialog_id`` is the conversation's UUID; a field the seed
shows as null (a contact's email, ``reply``, ``avatar_url``) is null when there is nothing to say.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from helpline.core import events as ev
from helpline.core.channel import Reaction
from helpline.core.model import (
    ActorType,
    Agent,
    Contact,
    Conversation,
    ConversationState,
    Department,
    Direction,
    Event,
    Message,
    MessageKind,
    StoredFile,
)
from helpline.store.unit_of_work import UnitOfWork

JSON = dict[str, Any]
ECHO_PREFIX = "echo:"
CHANNEL = "Sdk"
STATUS: dict[ConversationState, tuple[str, str]] = {
    ConversationState.QUEUED: ("open", "inqueue"),
    ConversationState.ASSIGNED: ("open", "interacting"),
    ConversationState.BOT: ("pending", "oninbox"),
    ConversationState.FINISHED: ("resolved", "oninbox"),
}
SENDER_TYPES = {
    ActorType.CONTACT: "Contact",
    ActorType.AGENT: "User",
    ActorType.BOT: "AgentBot",
    ActorType.SYSTEM: "AgentBot",
}
FILE_TYPES = {
    MessageKind.IMAGE: "image",
    MessageKind.AUDIO: "audio",
    MessageKind.VIDEO: "video",
    MessageKind.FILE: "file",
}


def ms(seconds: float | None) -> int:
    return int(seconds * 1000) if seconds else 0


def echo_key(echo_id: str) -> str:
    """How the client's ``echo_id`` is kept: as the message's idempotency key, apart from other callers'."""
    return ECHO_PREFIX + echo_id


def echo_id_of(message: Message) -> str:
    key = message.idempotency_key
    if key:
        return key[len(ECHO_PREFIX) :] if key.startswith(ECHO_PREFIX) else key
    return message.hash.replace("-", "")[:12]


def status_of(state: ConversationState) -> tuple[str, str]:
    return STATUS[state]


STATUS_EVENTS = {
    ev.CONVERSATION_QUEUED,
    ev.CONVERSATION_ACCEPTED,
    ev.CONVERSATION_TRANSFERRED,
    ev.BOT_STARTED,
    ev.CONVERSATION_FINISHED,
}


def announced_state(event: Event) -> ConversationState | None:
    """The state a conversation event moved the conversation to, when it changed what the SDK shows."""
    if event.type == ev.CONVERSATION_QUEUED:
        return ConversationState.QUEUED
    if event.type == ev.CONVERSATION_ACCEPTED:
        return ConversationState.ASSIGNED
    if event.type == ev.CONVERSATION_TRANSFERRED:
        return ConversationState.ASSIGNED if event.data.get("to_agent") else None
    if event.type == ev.BOT_STARTED:
        return ConversationState.BOT
    if event.type == ev.CONVERSATION_FINISHED:
        return ConversationState.FINISHED
    return None


class Lookup:
    """What the JSON needs from the store, fetched at most once per unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._conversations: dict[int, Conversation] = {}
        self._agents: dict[int, Agent | None] = {}
        self._contacts: dict[int, Contact | None] = {}
        self._departments: dict[int, Department | None] = {}
        self._files: dict[int, StoredFile | None] = {}
        self._messages: dict[int, Message | None] = {}

    def conversation(self, conversation_id: int) -> Conversation:
        found = self._conversations.get(conversation_id)
        if found is None:
            found = self.uow.conversations.by_id_any_account(conversation_id)
            assert found is not None
            self._conversations[conversation_id] = found
        return found

    def agent(self, agent_id: int) -> Agent | None:
        if agent_id not in self._agents:
            self._agents[agent_id] = self.uow.agents.get(agent_id)
        return self._agents[agent_id]

    def contact(self, contact_id: int) -> Contact | None:
        if contact_id not in self._contacts:
            self._contacts[contact_id] = self.uow.contacts.get(contact_id)
        return self._contacts[contact_id]

    def department(self, account_id: int, department_id: int) -> Department | None:
        if department_id not in self._departments:
            self._departments[department_id] = self.uow.departments.get(account_id, department_id)
        return self._departments[department_id]

    def file(self, file_id: int) -> StoredFile | None:
        if file_id not in self._files:
            self._files[file_id] = self.uow.files.get(file_id)
        return self._files[file_id]

    def message(self, message_id: int) -> Message | None:
        if message_id not in self._messages:
            self._messages[message_id] = self.uow.sdk.messages.get(message_id)
        return self._messages[message_id]


# -- who ---------------------------------------------------------------------------------------------


def sender_json(lookup: Lookup, message: Message, conversation: Conversation) -> JSON:
    sender_id = message.sender_id or 0
    name: str = "System"
    display: str | None = None
    avatar: str | None = None
    if message.sender_type is ActorType.AGENT:
        agent = lookup.agent(sender_id)
        name = agent.name if agent else ""
        display = name
        avatar = agent.photo_url if agent else None
    elif message.sender_type is ActorType.CONTACT:
        contact = lookup.contact(sender_id)
        name = (contact.name if contact else None) or ""
    elif message.sender_type is ActorType.BOT:
        department = lookup.department(conversation.account_id, sender_id)
        name = f"{department.name} bot" if department else "bot"
        display = name
    return {
        "id": sender_id,
        "name": name,
        "display_name": display,
        "displayName": display,
        "avatar_url": avatar,
    }


def contact_json(contact: Contact) -> JSON:
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "phone_number": contact.phone,
        "custom_attributes": contact.attributes.get("custom_attributes", {}),
        "additional_attributes": contact.attributes.get("additional_attributes", {}),
    }


def contact_meta(contact: Contact, identifier: str | None) -> JSON:
    return {
        "additional_attributes": contact.attributes.get("additional_attributes", {}),
        "custom_attributes": contact.attributes.get("custom_attributes", {}),
        "email": contact.email,
        "id": contact.id,
        "identifier": identifier,
        "name": contact.name,
        "phone_number": contact.phone,
        "thumbnail": "",
        "type": "contact",
        "labels": [],
        "avatar_url": None,
    }


def assignee_meta(agent: Agent | None) -> JSON | None:
    if agent is None:
        return None
    return {
        "id": agent.id,
        "name": agent.name,
        "available_name": agent.name,
        "avatar_url": agent.photo_url,
        "type": "user",
        "availability_status": agent.presence.value,
    }


# -- messages ----------------------------------------------------------------------------------------


def _extension(name: str) -> str | None:
    suffix = PurePosixPath(name).suffix
    return suffix[1:].lower() if len(suffix) > 1 else None


def attachments_json(lookup: Lookup, message: Message, conversation: Conversation) -> list[JSON]:
    if message.deleted_at is not None or not message.file_url:
        return []
    stored = lookup.file(message.file_id) if message.file_id is not None else None
    mime: str | None
    if stored is not None:
        name, size, mime = stored.original_name, stored.size, stored.content_type
        attachment_id = stored.id
    else:
        name = PurePosixPath(urlsplit(message.file_url).path).name
        size, mime, attachment_id = 0, mimetypes.guess_type(name)[0], message.id
    return [
        {
            "id": attachment_id,
            "message_id": message.id,
            "account_id": conversation.account_id,
            "file_type": FILE_TYPES.get(message.kind, "file"),
            "fallback_title": None,
            "extension": _extension(name),
            "data_url": message.file_url,
            "thumb_url": message.file_url,
            "file_size": size,
            "mime_type": mime,
        }
    ]


def _message_type(message: Message) -> str:
    if message.direction is Direction.INBOUND:
        return "incoming"
    return "activity" if message.sender_type is ActorType.SYSTEM else "outgoing"


def _content_type(message: Message) -> str:
    if message.kind in (MessageKind.CARD, MessageKind.QUICK_REPLY, MessageKind.FEEDBACK):
        return message.kind.value
    return "text"


def _content_attributes(message: Message) -> JSON:
    if message.deleted_at is not None:
        return {"deleted": True}
    attributes: JSON = dict(message.content_attributes)
    # A quick reply and a feedback always show their choice (null until made); a card, and the contact's
    # answer message, once there is one.
    if message.kind in (MessageKind.QUICK_REPLY, MessageKind.FEEDBACK) or message.selected_value is not None:
        attributes["selected_value"] = message.selected_value
    if message.reply_to_id is not None:
        attributes["in_reply_to"] = message.reply_to_id
    return attributes


def reply_json(lookup: Lookup, message: Message) -> JSON | None:
    if message.reply_to_id is None:
        return None
    target = lookup.message(message.reply_to_id)
    if target is None:
        return None
    conversation = lookup.conversation(target.conversation_id)
    return {
        "id": target.id,
        "content": None if target.deleted_at is not None else (target.content or None),
        "sender": sender_json(lookup, target, conversation),
        "message_type": _message_type(target),
        "content_type": _content_type(target),
        "attachments": attachments_json(lookup, target, conversation),
        "created_at": ms(target.created_at),
    }


def reactions_json(reactions: list[Reaction]) -> list[JSON]:
    return [
        {"reaction": r.reaction, "sender_type": SENDER_TYPES[r.actor.type], "sender_id": r.actor.id}
        for r in reactions
    ]


def message_json(lookup: Lookup, message: Message, reactions: list[Reaction] | None = None) -> JSON:
    conversation = lookup.conversation(message.conversation_id)
    attachments = attachments_json(lookup, message, conversation)
    content: str | None = message.content
    if message.deleted_at is not None or (not content and attachments):
        content = None
    if reactions is None:
        reactions = lookup.uow.sdk.reactions.for_messages([message.id]).get(message.id, [])
    return {
        "id": message.id,
        "account_id": conversation.account_id,
        "content": content,
        "inbox_id": conversation.origin_department_id,
        "conversation_id": conversation.id,
        "dialog_id": conversation.hash,
        "message_type": _message_type(message),
        "content_type": _content_type(message),
        "private": False,
        "pinned": False,
        "status": message.status,
        "source_id": None,
        "content_attributes": _content_attributes(message),
        "sender_type": SENDER_TYPES[message.sender_type],
        "sender_id": message.sender_id or 0,
        "external_source_ids": {},
        "created_at": ms(message.created_at),
        "updated_at": ms(message.updated_at or message.created_at),
        "echo_id": echo_id_of(message),
        "attachments": attachments,
        "sender": sender_json(lookup, message, conversation),
        "reply": reply_json(lookup, message),
        "reactions": reactions_json(reactions),
    }


def messages_json(lookup: Lookup, messages: list[Message]) -> list[JSON]:
    reactions = lookup.uow.sdk.reactions.for_messages([m.id for m in messages])
    return [message_json(lookup, m, reactions.get(m.id, [])) for m in messages]


def overlay(message: Message, view: JSON) -> Message:
    """The message as an event saw it: what may change after sending (status, content, choice, deletion)
    taken from the event's view, the rest from the stored row."""
    message.status = view.get("status", message.status)
    message.content = view.get("content", message.content)
    message.file_url = view.get("url", message.file_url)
    message.content_attributes = view.get("content_attributes", message.content_attributes) or {}
    message.selected_value = view.get("selected_value", message.selected_value)
    message.updated_at = view.get("updated_at", message.updated_at) or message.created_at
    if view.get("deleted"):
        message.deleted_at = message.deleted_at or message.updated_at
    elif "deleted" in view:
        message.deleted_at = None
    return message
