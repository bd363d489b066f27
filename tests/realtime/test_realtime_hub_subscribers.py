"""The hub with subscribers of several protocols: one encoding per event per protocol, contacts' sockets
limited to their own conversations (including those they start while connected)."""

from __future__ import annotations

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
    return [seq for seq, _ in queue.take_nowait()]


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


class CountingSubscriber(Subscriber):
    """An agent's socket that counts how often the hub asks it whether it wants an event."""

    asked: int = 0

    def wants(self, event: Event) -> bool:
        self.asked += 1
        return super().wants(event)


def test_only_the_sockets_filed_under_an_events_keys_are_asked() -> None:
    hub = Hub(_nothing, start_seq=0)
    assignee = CountingSubscriber(account_id=1, agent_id=1, department_ids=frozenset({1}), is_admin=False)
    colleague = CountingSubscriber(account_id=1, agent_id=2, department_ids=frozenset({1}), is_admin=False)
    elsewhere = CountingSubscriber(account_id=1, agent_id=3, department_ids=frozenset({2}), is_admin=False)
    other_tenant = CountingSubscriber(account_id=2, agent_id=1, department_ids=frozenset({1}), is_admin=False)
    admin = CountingSubscriber(account_id=1, agent_id=9, department_ids=frozenset(), is_admin=True)
    for subscriber in (assignee, colleague, elsewhere, other_tenant, admin):
        hub.subscribe(subscriber)
    said = event(1, ev.MESSAGE_CREATED, 10)
    said.agent_id = 1  # assigned: what is said in it is the assignee's (and admins')
    hub.publish([said])
    assert [drained(s.queue) for s in (assignee, colleague, elsewhere, other_tenant, admin)] == [
        [1],
        [],
        [],
        [],
        [1],
    ]
    assert (elsewhere.asked, other_tenant.asked) == (0, 0)  # not even asked
    # Same department, but what is said in an assigned conversation is private: not asked either, so
    # a department's thousands of idle consoles cost its messages nothing.
    assert colleague.asked == 0
    moved = event(2, ev.CONVERSATION_TRANSFERRED, 10)
    moved.agent_id = 1  # that the conversation moved is the department's to hear
    hub.publish([moved])
    assert [drained(s.queue) for s in (assignee, colleague, elsewhere, other_tenant, admin)] == [
        [2],
        [2],
        [],
        [],
        [2],
    ]
    assert (colleague.asked, elsewhere.asked, other_tenant.asked) == (1, 0, 0)


def test_thousands_of_idle_sockets_elsewhere_are_never_asked() -> None:
    hub = Hub(_nothing, start_seq=0)
    idle = [
        CountingSubscriber(account_id=2 + n % 3, agent_id=n, department_ids=frozenset({n}), is_admin=False)
        for n in range(3000)
    ]
    for subscriber in idle:
        hub.subscribe(subscriber)
    agent = Subscriber(account_id=1, agent_id=1, department_ids=frozenset({1}), is_admin=False)
    hub.subscribe(agent)
    hub.publish([event(seq, ev.MESSAGE_CREATED, 10) for seq in range(1, 101)])
    assert len(drained(agent.queue)) == 100
    assert sum(s.asked for s in idle) == 0


def test_a_contact_socket_refiled_after_learning_a_conversation_gets_its_events() -> None:
    hub = Hub(_nothing, start_seq=0)
    contact = ContactSubscriber[str](
        account_id=1, contact_id=7, conversation_ids=set(), protocol="sdk", encoder=lambda e: f"f{e.seq}"
    )
    hub.subscribe(contact)
    contact.conversation_ids.add(10)
    hub.publish([event(1, ev.MESSAGE_CREATED, 10)])
    assert drained(contact.queue) == []  # filed under what it knew when it subscribed
    hub.refile(contact)
    hub.publish([event(2, ev.MESSAGE_CREATED, 10)])
    assert drained(contact.queue) == [2]


def test_an_unsubscribed_socket_is_filed_nowhere() -> None:
    hub = Hub(_nothing, start_seq=0)
    agent = CountingSubscriber(account_id=1, agent_id=1, department_ids=frozenset({1, 2}), is_admin=False)
    hub.subscribe(agent)
    assert hub.subscriber_count == 1
    hub.unsubscribe(agent)
    hub.unsubscribe(agent)  # twice is harmless
    assert hub.subscriber_count == 0
    hub.publish([event(1, ev.CONVERSATION_QUEUED, 10)])
    assert agent.asked == 0
