"""The seam between the outbox and the dialects: a renderer turns one core event into vendor payloads."""

from __future__ import annotations

from typing import Protocol

from helpline.core.model import Conversation, Event
from helpline.outbound.model import PlannedDelivery
from helpline.store.unit_of_work import UnitOfWork


class Renderer(Protocol):
    """Given an event of a conversation the dialect opened, which endpoints get which JSON bodies."""

    def __call__(
        self, uow: UnitOfWork, event: Event, conversation: Conversation
    ) -> list[PlannedDelivery]: ...
