"""Core events → the seed's triggers, POSTed to the webhook URL set with the interaction's token."""

from __future__ import annotations

from typing import Any

from helpline.core import events as ev
from helpline.core.interactive import plain_message
from helpline.core.model import Conversation, Event
from helpline.outbound.render import to_token_webhook


def trigger_for(event: Event, conversation: Conversation) -> dict[str, Any] | None:
    base: dict[str, Any] = {"interaction_hash": conversation.hash}
    kind = event.type
    if kind in (ev.CONVERSATION_QUEUED, ev.QUEUE_POSITION_CHANGED):
        base |= {"state": "queued", "position": event.data["position"]}
    elif kind in (ev.CONVERSATION_ACCEPTED, ev.BOT_ACCEPTED) or (
        kind == ev.CONVERSATION_TRANSFERRED and event.data.get("to_agent") is not None
    ):
        base["state"] = "accepted"
    elif kind == ev.CONVERSATION_FINISHED:
        if event.data["reason"] == "unavailable":
            base["state"] = "unavailable"
        elif event.actor.type.value == "contact":
            return None  # the customer app ended it itself; the seed's trigger is for the agent side
        else:
            base["state"] = "finished"
    elif kind == ev.AGENT_TYPING:
        base["state"] = "typing" if event.data["typing"] else "cleared"
    elif kind == ev.MESSAGE_CREATED:
        message = plain_message(event.data["message"])  # a card or quick reply arrives as numbered text
        if message["direction"] != "outbound":
            return None
        body: dict[str, Any] = {
            "hash": message["hash"],
            "content": message["content"],
            "type": message["type"],
        }
        if message.get("url"):
            body["url"] = message["url"]
        base["message"] = body
        sender = message["sender"]
        base["agent"] = {"id": sender["id"], "name": sender["name"]}
        if sender["type"] == "bot":  # sent by the department's bot, not by a person
            base["agent"]["id"] = None
            base["sender"] = "bot"
    else:
        return None
    base["extra"] = conversation.extra
    return base


render = to_token_webhook(trigger_for)
