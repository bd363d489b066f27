"""Receipts in the core (in-memory ports): forward-only statuses, who may mark what, one event per change."""

from __future__ import annotations

from typing import Any

import pytest
from core_fakes import FakeStore, World

from helpline.core import agents, channel, receipts
from helpline.core import events as ev
from helpline.core.channel import OpenedChannel
from helpline.core.conversations import ContactDetails, contact_message
from helpline.core.errors import Invalid, NotFound
from helpline.core.model import Agent, Conversation, Department, Message, MessageKind


def open_contact(world: World, department: Department, name: str = "Olena") -> OpenedChannel:
    return world.store.write(
        lambda uow: channel.open_channel(uow, department, "sdk", ContactDetails(name=name))
    )


def answered(world: World) -> tuple[Department, Agent, OpenedChannel]:
    support = world.department()
    ana = world.agent("Ana", [support])
    opened = open_contact(world, support)
    world.run(agents.accept, ana, opened.conversation)
    return support, ana, opened


def agent_says(world: World, ana: Agent, conversation: Conversation, text: str) -> Message:
    def work(uow: Any) -> Message:
        fresh = uow.conversations.get(conversation.account_id, conversation.id)
        return agents.send_message(uow, uow.agents.get(ana.id), fresh, text, MessageKind.TEXT, None)

    return world.store.write(work)


def updates(store: FakeStore, after: int) -> list[tuple[int, str, str]]:
    return [
        (e.data["message"]["id"], e.data["message"]["status"], e.actor.type.value)
        for e in store.events_after(after)
        if e.type == ev.MESSAGE_UPDATED
    ]


@pytest.mark.parametrize(
    ("current", "new", "moves"),
    [
        ("sent", "delivered", True),
        ("sent", "seen", True),
        ("sent", "failed", True),
        ("delivered", "seen", True),
        ("delivered", "sent", False),
        ("seen", "delivered", False),
        ("seen", "failed", False),
        ("failed", "delivered", True),
        ("failed", "sent", False),
        ("seen", "seen", False),
    ],
)
def test_statuses_only_move_forward(current: str, new: str, moves: bool) -> None:
    assert receipts.moves(current, new) is moves


def test_the_contact_marks_the_agents_messages(world: World, fake_store: FakeStore) -> None:
    _, ana, opened = answered(world)
    one = agent_says(world, ana, opened.conversation, "one")
    two = agent_says(world, ana, opened.conversation, "two")
    mine = world.run(contact_message, opened.conversation, "mine")
    mark = fake_store.events[-1].seq

    changed = world.store.write(
        lambda uow: receipts.mark_by_contact(uow, opened.token, [one.id, two.id, mine.id], "delivered")
    )
    assert [m.id for m in changed] == [one.id, two.id]
    assert updates(fake_store, mark) == [(one.id, "delivered", "contact"), (two.id, "delivered", "contact")]
    again = world.store.write(
        lambda uow: receipts.mark_by_contact(uow, opened.token, [one.id, one.id], "delivered")
    )
    assert again == []
    stored = fake_store.db.messages
    assert (stored[one.id].status, stored[two.id].status, stored[mine.id].status) == (
        "delivered",
        "delivered",
        "sent",
    )
    assert stored[one.id].updated_at == fake_store.now


def test_unknown_or_foreign_ids_change_nothing(world: World, fake_store: FakeStore) -> None:
    support, ana, opened = answered(world)
    other = open_contact(world, support, "Bob")
    theirs = world.run(contact_message, other.conversation, "theirs")
    one = agent_says(world, ana, opened.conversation, "one")
    for ids in ([one.id, theirs.id], [one.id, 999]):
        with pytest.raises(NotFound):
            world.store.write(lambda uow, ids=ids: receipts.mark_by_contact(uow, opened.token, ids, "seen"))
    assert fake_store.db.messages[one.id].status == "sent"
    with pytest.raises(Invalid, match="status must be one of"):
        world.store.write(lambda uow: receipts.mark_by_contact(uow, opened.token, [one.id], "read"))


def test_the_agents_console_marks_the_contacts_messages_delivered_forward_only(
    world: World, fake_store: FakeStore
) -> None:
    _, ana, opened = answered(world)
    first, second, third = (world.run(contact_message, opened.conversation, f"m{n}") for n in range(3))
    mark = fake_store.events[-1].seq

    def got(up_to: int | None, mark_as: Any = receipts.mark_delivered_by_agent) -> list[int]:
        def work(uow: Any) -> list[int]:
            conversation = uow.conversations.get(opened.conversation.account_id, opened.conversation.id)
            return [m.id for m in mark_as(uow, uow.agents.get(ana.id), conversation, up_to)]

        return world.store.write(work)

    assert got(first.id) == [first.id]
    assert got(first.id) == []
    assert fake_store.db.messages[first.id].status == "delivered"
    assert got(second.id, receipts.mark_seen_by_agent) == [first.id, second.id]
    assert got(None) == [third.id]  # the seen ones stay seen
    assert got(None) == []
    assert updates(fake_store, mark) == [
        (first.id, "delivered", "agent"),
        (first.id, "seen", "agent"),
        (second.id, "seen", "agent"),
        (third.id, "delivered", "agent"),
    ]
    with pytest.raises(NotFound):
        got(10_000)


def test_the_agent_reading_marks_the_contacts_messages_seen(world: World, fake_store: FakeStore) -> None:
    _, ana, opened = answered(world)
    first, second, third = (world.run(contact_message, opened.conversation, f"m{n}") for n in range(3))
    mark = fake_store.events[-1].seq

    def read(up_to: int | None) -> list[int]:
        def work(uow: Any) -> list[int]:
            conversation = uow.conversations.get(opened.conversation.account_id, opened.conversation.id)
            return [
                m.id for m in receipts.mark_seen_by_agent(uow, uow.agents.get(ana.id), conversation, up_to)
            ]

        return world.store.write(work)

    assert read(second.id) == [first.id, second.id]
    assert read(None) == [third.id]
    assert read(None) == []
    assert updates(fake_store, mark) == [
        (first.id, "seen", "agent"),
        (second.id, "seen", "agent"),
        (third.id, "seen", "agent"),
    ]
    with pytest.raises(NotFound):
        read(10_000)
