"""accept: one conversation, one agent."""

from __future__ import annotations

import pytest
from core_fakes import World

from helpline.core import agents, routing
from helpline.core import events as ev
from helpline.core.errors import Conflict
from helpline.core.model import Actor, ActorType, ConversationState, FinishReason, Presence


def test_accept_assigns_and_announces(world: World) -> None:
    support = world.department(auto_assign=True)
    alice = world.agent("Alice", [support])
    conversation = world.start(support)
    assert world.conversation(conversation).offered_to == alice.id
    before = world.store.events[-1].seq

    returned = world.run(agents.accept, alice, conversation)

    stored = world.conversation(conversation)
    assert stored.state is ConversationState.ASSIGNED
    assert (stored.assignee_id, stored.assigned_at) == (alice.id, world.store.now)
    assert (stored.offered_to, stored.offered_at) == (None, None)
    assert (returned.state, returned.assignee_id) == (ConversationState.ASSIGNED, alice.id)
    (accepted,) = world.store.events_after(before)
    assert accepted.type == ev.CONVERSATION_ACCEPTED
    assert accepted.actor == Actor(ActorType.AGENT, alice.id)
    assert accepted.data == {"agent": {"id": alice.id, "name": "Alice", "photo": None}}
    assert (accepted.agent_id, accepted.department_id, accepted.conversation_id) == (
        alice.id,
        support.id,
        stored.id,
    )


def test_second_agent_gets_conflict(world: World) -> None:
    support = world.department()
    alice, bob = world.agent("Alice", [support]), world.agent("Bob", [support])
    conversation = world.start(support)
    world.run(agents.accept, alice, conversation)
    before = world.store.events[-1].seq

    with pytest.raises(Conflict, match="another agent has already accepted"):
        world.run(agents.accept, bob, conversation)

    assert world.conversation(conversation).assignee_id == alice.id
    assert world.store.events_after(before) == []


def test_loser_holding_a_stale_copy_gets_conflict_from_the_atomic_transition(world: World) -> None:
    """Two requests loaded the conversation while queued; the second one's transition finds it taken."""
    support = world.department()
    alice, bob = world.agent("Alice", [support]), world.agent("Bob", [support])
    conversation = world.start(support)
    stale = world.conversation(conversation)
    world.store.write(lambda uow: agents.accept(uow, alice, world.conversation(conversation)))
    before = world.store.events[-1].seq

    with pytest.raises(Conflict, match="another agent has already accepted"):
        world.store.write(lambda uow: agents.accept(uow, bob, stale))

    assert world.conversation(conversation).assignee_id == alice.id
    assert world.store.events_after(before) == []


def test_same_agent_accepting_twice_is_idempotent(world: World) -> None:
    support = world.department()
    alice = world.agent("Alice", [support])
    conversation = world.start(support)
    world.run(agents.accept, alice, conversation)
    first = world.conversation(conversation)
    before = world.store.events[-1].seq
    world.store.advance(5)

    again = world.run(agents.accept, alice, conversation)

    assert (again.state, again.assignee_id) == (ConversationState.ASSIGNED, alice.id)
    assert world.conversation(conversation) == first
    assert world.store.events_after(before) == []


@pytest.mark.parametrize("who", ["contact", "agent", "system"])
def test_finished_conversation_cannot_be_accepted(world: World, who: str) -> None:
    support = world.department(queued_max_time=10)
    alice = world.agent("Alice", [support])
    conversation = world.start(support)
    if who == "contact":
        from helpline.core.conversations import contact_finish

        world.run(contact_finish, conversation)
    elif who == "agent":
        world.run(agents.finish, alice, conversation)
    else:
        world.store.advance(10)
        world.store.write(routing.expire_waiting)
    assert world.conversation(conversation).state is ConversationState.FINISHED

    with pytest.raises(Conflict, match="already finished"):
        world.run(agents.accept, alice, conversation)


def test_bot_owned_conversation_cannot_be_accepted(world: World) -> None:
    support = world.department()
    alice = world.agent("Alice", [support])
    conversation = world.start(support)
    world.store.write(lambda uow: uow.conversations.update(conversation.id, {"state": "bot"}))
    with pytest.raises(Conflict, match="is bot, not waiting"):
        world.run(agents.accept, alice, conversation)


def test_accepting_counts_towards_capacity(world: World) -> None:
    support = world.department(capacity=1, auto_assign=True)
    alice = world.agent("Alice", [support])
    first = world.start(support)
    world.run(agents.accept, alice, first)

    second = world.start(support)

    assert world.conversation(second).offered_to is None
    assert world.store.read(lambda uow: uow.agents.assigned_count(alice.id)) == 1


def test_refused_accept_writes_nothing(world: World) -> None:
    support = world.department()
    alice = world.agent("Alice", [support], presence=Presence.OFFLINE)
    conversation = world.start(support)
    world.run(agents.finish, alice, conversation)
    snapshot = world.store.db.snapshot()

    with pytest.raises(Conflict):
        world.run(agents.accept, alice, conversation)

    assert world.store.db == snapshot
    assert world.conversation(conversation).finish_reason is FinishReason.RESOLVED
