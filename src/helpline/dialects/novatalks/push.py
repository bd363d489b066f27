"""Push notifications to the inbox's webhook, for a contact whose app is not connected.

On a new message from an agent or a bot, and on a change of the conversation's status, the server POSTs
(through the outbox: signed, retried, logged) to the push webhook configured for the conversation's inbox::

    {"type": "ntk.sdk.chat", "event_name": "conversation_new_message" | "conversation_status_change",
     "push_tokens": ["<device token>", ...], "payload": {...}, "additional_params": {...}}

``push_tokens`` are the devices the contact registered; with none, nothing is sent. ``payload`` names the
conversation (``conversation_id``, ``dialog_id``, ``status``, ``substatus``) and, for a message, carries it
as the REST API shows it plus a ready ``notification`` title and body. ``additional_params`` are the
operator's, configured with the webhook.
"""

from __future__ import annotations

from typing import Any

import msgspec

from helpline.core import events as ev
from helpline.core.interactive import fallback_text
from helpline.core.model import Conversation, Event
from helpline.dialects.novatalks import views
from helpline.outbound.model import PlannedDelivery
from helpline.store.unit_of_work import UnitOfWork

TYPE = "ntk.sdk.chat"
NEW_MESSAGE = "conversation_new_message"
STATUS_CHANGE = "conversation_status_change"


def _preview(message: dict[str, Any]) -> str:
    if message.get("content"):
        return fallback_text(message["content_type"], message["content"], message["content_attributes"])
    for attachment in message.get("attachments", []):
        return f"[{attachment['file_type']}]"
    return ""


def render(uow: UnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
    view = event.data.get("message") if event.type == ev.MESSAGE_CREATED else None
    state = views.announced_state(event)
    if view is not None:
        if view["direction"] != "outbound":
            return []
        name = NEW_MESSAGE
    elif state is not None:
        name = STATUS_CHANGE
    else:
        return []
    if conversation.contact_id is None:
        return []
    inbox = uow.sdk.inboxes.get(conversation.origin_department_id)
    if inbox is None or inbox.push_endpoint_id is None:
        return []
    token = uow.sdk.contact_tokens.by_contact(conversation.contact_id)
    devices = uow.sdk.push_tokens.for_contact_token(token.id) if token is not None else []
    if not devices:
        return []
    status, substatus = views.status_of(state if state is not None else conversation.state)
    payload: dict[str, Any] = {
        "account_id": conversation.account_id,
        "inbox_id": conversation.origin_department_id,
        "conversation_id": conversation.id,
        "dialog_id": conversation.hash,
        "status": status,
        "substatus": substatus,
    }
    if view is not None:
        stored = uow.sdk.messages.get(int(view["id"]))
        if stored is None:
            return []
        message = views.message_json(views.Lookup(uow), views.overlay(stored, view))
        payload["message"] = message
        payload["notification"] = {"title": message["sender"]["name"], "body": _preview(message)}
    body = {
        "type": TYPE,
        "event_name": name,
        "push_tokens": devices,
        "payload": payload,
        "additional_params": inbox.push_params,
    }
    return [PlannedDelivery(endpoint_id=inbox.push_endpoint_id, body=msgspec.json.encode(body).decode())]
