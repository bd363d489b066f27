"""The hub with subscribers of several protocols: one encoding per event per protocol, contacts' sockets
limited to their own conversations (including those they start while connected)."""

from __future__ import annotations

import asyncio

from helpline.core import events as ev
from helpline.core.model import Actor, ActorType, Event
from helpline.realtime.hub import ContactSubscriber, FrameQueue, Hub, Subscriber


async def _nothing(after: int, limit: int) -> list[Event]:
    return []


def event(
    seq: int, kind: str, conversation_id: int, actor: Actor | None = None, account_id: int = 1
) -> Event:
    return Event(
        seq=seq,
        account_id=account_id,
        type=kind,
        data={"n": seq},
        actor=actor or Actor(ActorType.SYSTEM),
        created_at=float(seq),
        conversation_id=conversation_id,
        department_id=1,
    )


def drained(queue: FrameQueue[str]) -> list[int]:
    if not queue:
        return []
    return [seq for seq, _ in asyncio.run(queue.take())]


def test_each_protocol_encodes_an_event_once_and_contacts_see_only_theirs() -> None:
    encoded: list[int] = []

    def encoder(e: Event) -> str | None:
        encoded.append(e.seq)
        return None if e.type == ev.CONTACT_TYPING else f"frame {e.seq}"

    hub = Hub(_nothing, start_seq=0)
    phone = ContactSubscriber[str](
        account_id=1, contact_id=7, conversation_ids={10}, protocol="sdk", encoder=encoder
    )
    tablet = ContactSubscriber[str](
        account_id=1, contact_id=7, conversation_ids={10}, protocol="sdk", encoder=encoder
    )
    stranger = ContactSubscriber[str](
        account_id=1, contact_id=8, conversation_ids={11}, protocol="sdk", encoder=encoder
    )
    agent = Subscriber(account_id=1, agent_id=1, department_ids=frozenset({1}), is_admin=False)
    for subscriber in (phone, tablet, stranger, agent):
        hub.subscribe(subscriber)

    hub.publish(
        [
            event(1, ev.MESSAGE_CREATED, 10),
            event(2, ev.CONTACT_TYPING, 10),
            event(3, ev.CONVERSATION_STARTED, 12, Actor(ActorType.CONTACT, 7)),  # a new one of contact 7
            event(4, ev.MESSAGE_CREATED, 12),
            event(5, ev.MESSAGE_CREATED, 11),
            event(
                6, ev.CONVERSATION_STARTED, 13, Actor(ActorType.CONTACT, 7), account_id=2
            ),  # another tenant
            event(7, ev.MESSAGE_CREATED, 13, account_id=2),
        ]
    )
    assert encoded == [1, 2, 3, 4, 5]  # once per event for the whole protocol, never per socket
    assert drained(phone.queue) == drained(tablet.queue) == [1, 3, 4]
    assert drained(stranger.queue) == [5]
    assert phone.conversation_ids == {10, 12}
    assert drained(agent.queue) == [1, 2, 3, 4, 5]
