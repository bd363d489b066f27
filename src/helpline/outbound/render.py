"""The seam between the outbox and the dialects: a renderer turns one core event into vendor payloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import msgspec

from helpline.core.model import Conversation, Event
from helpline.outbound.model import PlannedDelivery
from helpline.store.unit_of_work import UnitOfWork


class Renderer(Protocol):
    """Given an event of a conversation the dialect opened, which endpoints get which JSON bodies."""

    def __call__(
        self, uow: UnitOfWork, event: Event, conversation: Conversation
    ) -> list[PlannedDelivery]: ...


Trigger = Callable[[Event, Conversation], dict[str, Any] | None]


def to_token_webhook(trigger_for: Trigger) -> Renderer:
    """A renderer that POSTs ``trigger_for``'s body (None: nothing to say) as JSON to the webhook URL set
    with the token that opened the conversation: how the APIs whose token carries one webhook deliver."""

    def render(uow: UnitOfWork, event: Event, conversation: Conversation) -> list[PlannedDelivery]:
        if conversation.origin_token_id is None:
            return []
        trigger = trigger_for(event, conversation)
        if trigger is None:
            return []
        token = uow.tokens.get(conversation.origin_token_id)
        if token is None or token.endpoint_id is None:
            return []
        return [PlannedDelivery(endpoint_id=token.endpoint_id, body=msgspec.json.encode(trigger).decode())]

    return render
