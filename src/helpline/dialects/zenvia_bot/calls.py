"""Core events → the seed's calls to a department's bot, and what happens when the bot cannot be reached.

:func:`render` is a planner *observer*: it sees the events of conversations that any API opened, and plans
a call to the bot endpoint only for what happened while that bot held the conversation:

- ``conversation.bot_started`` → ``new_interaction``;
- a message from the customer → ``new_message`` (with ``content_type``; files carry ``attachment.url``);
- the conversation ended by anyone but the bot → ``finished_interaction``.

"While the bot held it" is read from the event log itself (the latest hand-over event before this one), so
an event planned after a transfer is judged by when it happened, and after a transfer the bot gets nothing.

:func:`give_up` is the delivery worker's hook: a call to a bot that failed for good makes the conversation
fall through to the humans of its department, and what still waited for that bot about it is dropped.
"""

from __future__ import annotations

from typing import Any

import msgspec

from helpline.core import bots
from helpline.core import events as ev
from helpline.core.model import ActorType, Conversation, Event
from helpline.outbound.model import Delivery, PlannedDelivery
from helpline.outbound.repository import Deliveries
from helpline.store.unit_of_work import UnitOfWork

# Events that change who holds a conversation; the latest one before an event says who held it then.
HAND_OVERS = (
    ev.BOT_STARTED,
    ev.BOT_ACCEPTED,
    ev.BOT_FELL_THROUGH,
    ev.CONVERSATION_QUEUED,
    ev.CONVERSATION_ACCEPTED,
    ev.CONVERSATION_TRANSFERRED,
    ev.CONVERSATION_FINISHED,
)
_HELD_BY_BOT = (ev.BOT_STARTED, ev.BOT_ACCEPTED)


def _holding_bot(uow: UnitOfWork, event: Event) -> int | None:
    """The bot endpoint that held the event's conversation when the event happened, if a bot did."""
    assert event.conversation_id is not None
    last = uow.events.last_of_types(event.conversation_id, event.seq, HAND_OVERS)
    if last is None or last.type not in _HELD_BY_BOT:
        return None
    endpoint_id = last.data.get("endpoint_id")
    return int(endpoint_id) if endpoint_id is not None else None


def call_for(uow: UnitOfWork, event: Event, conversation: Conversation) -> tuple[int, dict[str, Any]] | None:
    """``(bot endpoint, body)`` for this event, or None when the bot is not to hear of it."""
    if conversation.bot_endpoint_id is None:  # never held by a bot: the common case costs nothing
        return None
    body: dict[str, Any]
    if event.type == ev.BOT_STARTED:
        return int(event.data["endpoint_id"]), {
            "type": "new_interaction",
            "interaction_hash": conversation.hash,
            "department_id": event.data["department_id"],
        }
    if event.type == ev.MESSAGE_CREATED:
        message = event.data["message"]
        if message["direction"] != "inbound":
            return None
        body = {
            "type": "new_message",
            "interaction_hash": conversation.hash,
            "content": message["content"],
            "content_type": message["type"],
        }
        if message.get("url"):
            body["attachment"] = {"url": message["url"]}
    elif event.type == ev.CONVERSATION_FINISHED:
        if event.actor.type is ActorType.BOT:
            return None  # the bot ended it itself
        body = {"type": "finished_interaction", "interaction_hash": conversation.hash}
    else:
        return None
    endpoint_id = _holding_bot(uow, event)
    return (endpoint_id, body) if endpoint_id is not None else None


def render(uow: UnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
    found = call_for(uow, event, conversation)
    if found is None:
        return []
    endpoint_id, body = found
    return [PlannedDelivery(endpoint_id=endpoint_id, body=msgspec.json.encode(body).decode())]


def give_up(uow: UnitOfWork, delivery: Delivery, gone: bool, error: str) -> None:
    """A delivery failed for good; if it was a call to a bot, humans take over what that bot held."""
    endpoint = uow.endpoints.get(delivery.endpoint_id)
    if endpoint is None or endpoint.kind != bots.ENDPOINT_KIND:
        return
    if gone:
        bots.endpoint_gone(uow, endpoint.id, error)
        return
    if delivery.conversation_id is None:
        return
    if bots.delivery_failed(uow, endpoint.id, delivery.conversation_id, error):
        Deliveries.from_uow(uow).fail_pending_for_line(
            endpoint.id,
            delivery.conversation_id,
            f"not sent: the conversation fell through to humans after delivery {delivery.id} failed",
            uow.now,
        )
