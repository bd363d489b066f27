"""transfer: to another department's queue, or straight to a named agent."""

from __future__ import annotations

import pytest
from core_fakes import World

from helpline.core import agents
from helpline.core import events as ev
from helpline.core.errors import Conflict, Invalid
from helpline.core.model import Actor, ActorType, Agent, Conversation, ConversationState, Presence, Role


@pytest.fixture
def held(world: World) -> tuple[World, Agent, Conversation]:
    support = world.department()
    alice = world.agent("Alice", [support])
    conversation = world.start(support)
    world.run(agents.accept, alice, conversation)
    return world, alice, world.conversation(conversation)


def _transfer(world: World, agent: Agent, conversation: Conversation, **target: int | None) -> Conversation:
    return world.run(lambda uow, a, c: agents.transfer(uow, a, c, **target), agent, conversation)


def test_transfer_to_department_requeues_there(held: tuple[World, Agent, Conversation]) -> None:
    world, alice, conversation = held
    sales = world.department("Sales")
    waiting = world.start(sales)
    world.store.advance(1)
    before = world.store.events[-1].seq

    _transfer(world, alice, conversation, department_id=sales.id)

    stored = world.conversation(conversation)
    assert stored.state is ConversationState.QUEUED
    assert (stored.department_id, stored.origin_department_id) == (sales.id, conversation.department_id)
    assert stored.assignee_id is None
    assert stored.queued_at == world.store.now
    transferred, queued = world.store.events_after(before)
    actor = Actor(ActorType.AGENT, alice.id)
    assert (transferred.type, transferred.actor) == (ev.CONVERSATION_TRANSFERRED, actor)
    assert transferred.data == {
        "from_department_id": conversation.department_id,
        "from_agent_id": alice.id,
        "to_department_id": sales.id,
        "to_agent": None,
    }
    assert (transferred.department_id, transferred.prev_department_id) == (
        sales.id,
        conversation.department_id,
    )
    assert (transferred.agent_id, transferred.prev_agent_id) == (None, alice.id)
    assert (queued.type, queued.actor, queued.data) == (
        ev.CONVERSATION_QUEUED,
        actor,
        {"position": 2, "department_id": sales.id},
    )
    assert [c.id for c in world.store.read(lambda uow: uow.conversations.queued_in_department(sales.id))] == [
        waiting.id,
        conversation.id,
    ]
    assert world.store.read(lambda uow: uow.agents.assigned_count(alice.id)) == 0


def test_transfer_to_auto_assign_department_offers_there(held: tuple[World, Agent, Conversation]) -> None:
    world, alice, conversation = held
    sales = world.department("Sales", auto_assign=True)
    carol = world.agent("Carol", [sales])
    _transfer(world, alice, conversation, department_id=sales.id)
    assert world.conversation(conversation).offered_to == carol.id
    assert world.store.events[-1].type == ev.CONVERSATION_OFFERED


def test_transfer_to_closed_department_with_nobody_online_is_conflict(
    held: tuple[World, Agent, Conversation],
) -> None:
    world, alice, conversation = held
    night = world.department("Night", queue_enabled=False)
    world.agent("Owl", [night], presence=Presence.AWAY)
    before = world.store.events[-1].seq
    with pytest.raises(Conflict, match=rf"nobody is available in department {night.id} \(Night\)"):
        _transfer(world, alice, conversation, department_id=night.id)
    assert world.conversation(conversation).assignee_id == alice.id
    assert world.store.events_after(before) == []


def test_transfer_to_inactive_or_unknown_department_is_invalid(
    held: tuple[World, Agent, Conversation],
) -> None:
    world, alice, conversation = held
    old = world.department("Old", active=False)
    with pytest.raises(Invalid, match=rf"department {old.id} \(Old\) is not active"):
        _transfer(world, alice, conversation, department_id=old.id)
    with pytest.raises(Invalid, match="department 404 does not exist"):
        _transfer(world, alice, conversation, department_id=404)


def test_transfer_to_online_agent_assigns_directly(held: tuple[World, Agent, Conversation]) -> None:
    world, alice, conversation = held
    bob = world.agent("Bob", [], presence=Presence.AWAY)
    before = world.store.events[-1].seq

    _transfer(world, alice, conversation, agent_id=bob.id)

    stored = world.conversation(conversation)
    assert (stored.state, stored.assignee_id, stored.department_id) == (
        ConversationState.ASSIGNED,
        bob.id,
        conversation.department_id,
    )
    (transferred,) = world.store.events_after(before)
    assert transferred.actor == Actor(ActorType.AGENT, alice.id)
    assert transferred.data["to_agent"] == {"id": bob.id, "name": "Bob", "photo": None}
    assert transferred.data["to_department_id"] is None
    assert (transferred.agent_id, transferred.prev_agent_id) == (bob.id, alice.id)
    assert transferred.department_id == transferred.prev_department_id == conversation.department_id


def test_transfer_of_a_queued_conversation_to_an_agent(world: World) -> None:
    support = world.department()
    alice, bob = world.agent("Alice", [support]), world.agent("Bob", [support])
    conversation = world.start(support)
    _transfer(world, alice, conversation, agent_id=bob.id)
    assert world.conversation(conversation).assignee_id == bob.id
    assert world.store.events[-1].data["from_agent_id"] is None


def test_transfer_to_offline_agent_is_conflict(held: tuple[World, Agent, Conversation]) -> None:
    world, alice, conversation = held
    bob = world.agent("Bob", [], presence=Presence.OFFLINE)
    before = world.store.events[-1].seq
    with pytest.raises(Conflict, match=rf"agent {bob.id} \(Bob\) is offline"):
        _transfer(world, alice, conversation, agent_id=bob.id)
    assert world.conversation(conversation).assignee_id == alice.id
    assert world.store.events_after(before) == []


def test_transfer_to_unknown_or_foreign_agent_is_invalid(held: tuple[World, Agent, Conversation]) -> None:
    world, alice, conversation = held
    stranger = world.agent("Stranger", [], account=world.other_account())
    for agent_id in (stranger.id, 999):
        with pytest.raises(Invalid, match=f"agent {agent_id} does not exist"):
            _transfer(world, alice, conversation, agent_id=agent_id)


@pytest.mark.parametrize("target", [{}, {"department_id": 1, "agent_id": 1}])
def test_transfer_needs_exactly_one_target(
    held: tuple[World, Agent, Conversation], target: dict[str, int]
) -> None:
    world, alice, conversation = held
    with pytest.raises(Invalid, match="exactly one of department_id or agent_id"):
        _transfer(world, alice, conversation, **target)


def test_only_the_assignee_or_an_admin_may_transfer(held: tuple[World, Agent, Conversation]) -> None:
    world, _alice, conversation = held
    bob = world.agent("Bob", [])
    boss = world.agent("Boss", [], role=Role.ADMIN)
    with pytest.raises(Conflict, match="belongs to another agent"):
        _transfer(world, bob, conversation, agent_id=bob.id)
    _transfer(world, boss, conversation, agent_id=bob.id)
    assert world.conversation(conversation).assignee_id == bob.id
    assert world.store.events[-1].actor == Actor(ActorType.AGENT, boss.id)


def test_finished_conversation_cannot_be_transferred(held: tuple[World, Agent, Conversation]) -> None:
    world, alice, conversation = held
    world.run(agents.finish, alice, conversation)
    with pytest.raises(Invalid, match="already finished"):
        _transfer(world, alice, conversation, department_id=conversation.department_id)


def test_only_the_assignee_or_an_admin_may_finish(held: tuple[World, Agent, Conversation]) -> None:
    world, alice, conversation = held
    bob = world.agent("Bob", [])
    boss = world.agent("Boss", [], role=Role.ADMIN)
    with pytest.raises(Conflict, match="belongs to another agent"):
        world.run(agents.finish, bob, conversation)
    world.run(agents.finish, boss, conversation)
    stored = world.conversation(conversation)
    assert (stored.finished_by_type, stored.finished_by_id) == (ActorType.AGENT, boss.id)
    finished = world.store.events[-1]
    assert finished.type == ev.CONVERSATION_FINISHED
    assert finished.actor == Actor(ActorType.AGENT, boss.id)
    assert finished.data == {"reason": "resolved", "finished_by": {"type": "agent", "id": boss.id}}
    assert finished.agent_id == alice.id
    with pytest.raises(Invalid, match="already finished"):
        world.run(agents.finish, alice, conversation)
