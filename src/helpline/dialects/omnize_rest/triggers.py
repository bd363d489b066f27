"""Core events → the seed's triggers, POSTed to the webhook URL set with the conversation's token.

Exactly ``{"status": "accepted"|"unavailable"|"finish"|"typing"|"cleared", "clientId": ...}`` and
``{"message": "...", "clientId": ...}``; a message sent by a department's bot carries ``"sender": "bot"``.
"""

from __future__ import annotations

from typing import Any

from helpline.core import events as ev
from helpline.core.interactive import plain_message
from helpline.core.model import Conversation, Event
from helpline.outbound.render import to_token_webhook


def trigger_for(event: Event, conversation: Conversation) -> dict[str, Any] | None:
    client_id = conversation.extra.get("clientId", conversation.origin_key)
    kind = event.type
    if kind in (ev.CONVERSATION_ACCEPTED, ev.BOT_ACCEPTED) or (
        kind == ev.CONVERSATION_TRANSFERRED and event.data.get("to_agent") is not None
    ):
        return {"status": "accepted", "clientId": client_id}
    if kind == ev.CONVERSATION_FINISHED:
        if event.data["reason"] == "unavailable":
            return {"status": "unavailable", "clientId": client_id}
        if event.actor.type.value == "contact":
            return None  # the customer app ended it itself
        return {"status": "finish", "clientId": client_id}
    if kind == ev.AGENT_TYPING:
        return {"status": "typing" if event.data["typing"] else "cleared", "clientId": client_id}
    if kind == ev.MESSAGE_CREATED:
        message = plain_message(event.data["message"])  # a card or quick reply arrives as numbered text
        if message["direction"] != "outbound":
            return None
        text = message["content"]
        if message.get("url"):  # this API has no attachments: the customer gets the file's link
            text = f"{text}\n{message['url']}" if text else message["url"]
        trigger: dict[str, Any] = {"message": text, "clientId": client_id}
        if message["sender"]["type"] == "bot":
            trigger["sender"] = "bot"
        return trigger
    return None


render = to_token_webhook(trigger_for)
