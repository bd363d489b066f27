"""Turns outbox events into delivery rows: which endpoint gets which body, decided once per event.

The planning cursor (``counters.planned_events``), the events read after it and the deliveries inserted
all move in one unit of work: a crash either keeps the whole plan of a batch or none of it, so no event is
planned twice or skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from helpline.core.model import Conversation, Event
from helpline.outbound.render import Renderer
from helpline.outbound.repository import Deliveries
from helpline.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def _continuing(recent: Sequence[Event], cursor: int, batch: int) -> Sequence[Event]:
    """The first ``batch`` of ``recent`` that directly follow ``cursor``, if ``recent`` has them."""
    if not recent or recent[0].seq > cursor + 1 or recent[-1].seq <= cursor:
        return ()
    start = cursor + 1 - recent[0].seq
    found = recent[start : start + batch]
    if not found or found[0].seq != cursor + 1 or found[-1].seq - found[0].seq != len(found) - 1:
        return ()  # not the gap-free run it should be: the log is the authority
    return found


def webhook_id(event_seq: int, endpoint_id: int, index: int = 0) -> str:
    """The id receivers deduplicate with; stable across retries and replays of one delivery."""
    base = f"evt_{event_seq}_{endpoint_id}"
    return base if index == 0 else f"{base}_{index}"


class Planner:
    """Renders each new event with the renderer of the dialect that opened its conversation, then with
    every observer: renderers that see the events of conversations of any dialect (a department's bot)."""

    def __init__(
        self, renderers: Mapping[str, Renderer], observers: Mapping[str, Renderer] | None = None
    ) -> None:
        self.renderers = dict(renderers)
        self.observers = dict(observers or {})

    def register(self, dialect: str, renderer: Renderer) -> None:
        self.renderers[dialect] = renderer

    def observe(self, name: str, observer: Renderer) -> None:
        self.observers[name] = observer

    def plan(self, uow: UnitOfWork, batch: int = 500, recent: Sequence[Event] = ()) -> int:
        """Plan up to ``batch`` events past the cursor; returns how many events it consumed.

        A result equal to ``batch`` means there may be more: call again.
        """
        return self.plan_up_to(uow, batch, recent)[0]

    def plan_up_to(self, uow: UnitOfWork, batch: int = 500, recent: Sequence[Event] = ()) -> tuple[int, int]:
        """:meth:`plan`, also returning the cursor it leaves (the last event planned).

        ``recent``: committed events, in order and without gaps, that this process already holds (the
        realtime hub's dispatch). When they continue the cursor they are planned as they are instead of
        being read back from the log, which is what every commit would otherwise cost.

        When another process holds the cursor (it is planning), nothing is planned: ``(0, -1)``.
        """
        cursor = Deliveries.from_uow(uow).claim_planning()
        if cursor is None:  # another process is planning these events right now
            return 0, -1
        events = _continuing(recent, cursor, batch) or uow.events.after(cursor, batch)
        if not events:
            return 0, cursor
        # Every delivery goes to an enabled endpoint of the event's account: the events of accounts
        # without one cannot yield any, and their conversations need not be loaded.
        accounts = uow.endpoints.accounts_with_enabled({e.account_id for e in events})
        relevant = [e for e in events if e.conversation_id is not None and e.account_id in accounts]
        # One query for the batch's conversations, not one per event (the planner runs for every commit).
        conversations = uow.conversations.by_ids({e.conversation_id for e in relevant if e.conversation_id})
        for event in relevant:
            assert event.conversation_id is not None
            conversation = conversations.get(event.conversation_id)
            if conversation is None:
                continue
            seen: dict[int, int] = {}
            renderer = self.renderers.get(conversation.origin_dialect)
            if renderer is not None:
                self._plan_one(uow, event, conversation, conversation.origin_dialect, renderer, seen)
            for name, observer in self.observers.items():
                self._plan_one(uow, event, conversation, name, observer, seen)
        Deliveries.from_uow(uow).set_planned_up_to(events[-1].seq)
        return len(events), events[-1].seq

    @staticmethod
    def _plan_one(
        uow: UnitOfWork,
        event: Event,
        conversation: Conversation,
        name: str,
        renderer: Renderer,
        seen: dict[int, int],
    ) -> None:
        try:
            planned = renderer(uow, event, conversation)
        except Exception:  # one bad event must not stop every webhook behind it
            log.exception(
                "the %s renderer failed on event %s (%s); no delivery planned for it",
                name,
                event.seq,
                event.type,
            )
            return
        for delivery in planned:
            endpoint = uow.endpoints.get(delivery.endpoint_id)
            if endpoint is None or not endpoint.enabled:
                continue
            if endpoint.account_id != event.account_id:
                log.error(
                    "%s renderer planned event %s of account %s for endpoint %s of account %s; skipped",
                    name,
                    event.seq,
                    event.account_id,
                    endpoint.id,
                    endpoint.account_id,
                )
                continue
            index = seen.get(endpoint.id, 0)
            seen[endpoint.id] = index + 1
            Deliveries.from_uow(uow).add(
                account_id=event.account_id,
                event_seq=event.seq,
                endpoint_id=endpoint.id,
                conversation_id=event.conversation_id,
                webhook_id=webhook_id(event.seq, endpoint.id, index),
                event_type=event.type,
                body=delivery.body,
                now=uow.now,
                content_type=delivery.content_type,
                path=delivery.path,
                file=delivery.file,
            )
