"""What a contact's websocket is sent for each core event: rendered once per event (with a store read)
and shared by every socket that gets it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from helpline.core import events as ev
from helpline.core.model import ConversationState, Event
from helpline.dialects.novatalks import conversation_views, views
from helpline.store.unit_of_work import UnitOfWork

MESSAGE_FRAMES = {
    ev.MESSAGE_CREATED: "message.created",
    ev.MESSAGE_UPDATED: "message.updated",
    ev.MESSAGE_DELETED: "message.deleted",
    ev.MESSAGE_REACTION_UPDATED: "message.reaction_updated",
}
TYPING_EVENTS = {ev.AGENT_TYPING, ev.CONTACT_TYPING}


def dumps(payload: Any) -> str:
    return msgspec.json.encode(payload).decode()


def frame_for(uow: UnitOfWork, event: Event) -> dict[str, Any] | None:
    """The frame a contact gets for ``event``, or None when contacts are not told of it."""
    name = MESSAGE_FRAMES.get(event.type)
    if name is not None:
        view = event.data["message"]
        stored = uow.sdk.messages.get(int(view["id"]))
        if stored is None:
            return None
        return {"event": name, "data": views.message_json(views.Lookup(uow), views.overlay(stored, view))}
    if event.type == ev.AGENT_TYPING:
        if not event.data.get("typing"):
            return None
        agent = event.data.get("agent") or {}
        sender = {"id": agent.get("id"), "name": agent.get("name")}
        return _typing(event, sender, "User")
    if event.type == ev.CONTACT_TYPING:
        if not event.data.get("typing"):
            return None
        contact = uow.contacts.get(event.actor.id) if event.actor.id is not None else None
        sender = {"id": event.actor.id, "name": contact.name if contact else None}
        return _typing(event, sender, "Contact")
    state = views.announced_state(event)
    if state is None or event.conversation_id is None:
        return None
    conversation = uow.conversations.by_id_any_account(event.conversation_id)
    if conversation is None:
        return None
    assignee = event.agent_id if state in (ConversationState.ASSIGNED, ConversationState.FINISHED) else None
    data = conversation_views.conversation_full(views.Lookup(uow), conversation, state, assignee)
    return {"event": "conversation.status_changed", "data": data}


def _typing(event: Event, sender: dict[str, Any], sender_type: str) -> dict[str, Any]:
    return {
        "event": "typing",
        "data": {"conversation_id": event.conversation_id, "sender": sender, "sender_type": sender_type},
    }


def may_render(event: Event) -> bool:
    """A cheap check before any store read: could contacts be told of this event at all?"""
    if event.type in MESSAGE_FRAMES or event.type in views.STATUS_EVENTS:
        return True
    return event.type in TYPING_EVENTS and bool(event.data.get("typing"))


class DeferredFrame:
    """One event's frame, rendered (with a store read) the first time a socket needs it and shared by
    every socket of the protocol that gets the event."""

    __slots__ = ("_event", "_render", "_task")

    def __init__(self, event: Event, render: Callable[[Event], Awaitable[str | None]]) -> None:
        self._event = event
        self._render = render
        self._task: asyncio.Future[str | None] | None = None

    async def text(self) -> str | None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._render(self._event))
        return await asyncio.shield(self._task)
