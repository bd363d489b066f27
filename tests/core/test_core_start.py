"""start_conversation: who waits, with which position, and who is told."""

from __future__ import annotations

import pytest
from core_fakes import World

from helpline.core import events as ev
from helpline.core.conversations import ContactDetails, StartConversation, start_conversation
from helpline.core.errors import Invalid
from helpline.core.model import (
    SYSTEM,
    Actor,
    ActorType,
    ConversationState,
    FinishReason,
    HistoryStatus,
    Presence,
)


def test_started_conversation_is_queued_with_position_and_announced(world: World) -> None:
    support = world.department()
    first = world.start(support, "Ana")
    second = world.start(support, "Bia")
    third = world.start(support)

    for conversation in (first, second, third):
        stored = world.conversation(conversation)
        assert stored.state is ConversationState.QUEUED
        assert stored.queued_at == world.store.now
        assert stored.department_id == stored.origin_department_id == support.id
    queued = [e for e in world.store.events if e.type == ev.CONVERSATION_QUEUED]
    assert [(e.conversation_id, e.data["position"]) for e in queued] == [
        (first.id, 1),
        (second.id, 2),
        (third.id, 3),
    ]


def test_start_records_contact_and_emits_started_then_queued_by_the_contact(world: World) -> None:
    support = world.department()
    details = ContactDetails(name="Ana", email="ana@example.com", attributes={"plan": "gold", "seats": 3})
    command = StartConversation(
        account_id=world.account.id,
        department_id=support.id,
        origin_dialect="omnize_v1",
        origin_token_id=None,
        origin_key="client-7",
        contact=details,
        extra={"channel": "web"},
    )
    conversation = world.store.write(lambda uow: start_conversation(uow, command))

    stored = world.conversation(conversation)
    assert stored.contact_id is not None
    contact = world.store.db.contacts[stored.contact_id]
    assert (contact.name, contact.email, contact.attributes) == (
        "Ana",
        "ana@example.com",
        {"plan": "gold", "seats": 3},
    )
    assert contact.account_id == world.account.id
    assert (stored.origin_dialect, stored.origin_key, stored.extra) == (
        "omnize_v1",
        "client-7",
        {"channel": "web"},
    )
    assert stored.history_status is HistoryStatus.NONE

    started, queued = world.store.events
    contact_actor = Actor(ActorType.CONTACT, stored.contact_id)
    assert (started.type, started.actor, started.seq) == (ev.CONVERSATION_STARTED, contact_actor, 1)
    assert started.data == {"department_id": support.id, "origin": "omnize_v1"}
    assert (queued.type, queued.actor, queued.seq) == (ev.CONVERSATION_QUEUED, contact_actor, 2)
    assert queued.data == {"position": 1, "department_id": support.id}
    assert queued.conversation_id == conversation.id
    assert queued.department_id == support.id


def test_anonymous_start_is_acted_by_a_contact_without_id(world: World) -> None:
    conversation = world.start(world.department())
    assert world.conversation(conversation).contact_id is None
    assert {e.actor for e in world.store.events} == {Actor(ActorType.CONTACT, None)}


def test_external_history_url_marks_history_pending(world: World) -> None:
    conversation = world.start(world.department(), external_history_url="https://example.com/history/1")
    stored = world.conversation(conversation)
    assert stored.history_status is HistoryStatus.PENDING
    assert stored.external_history_url == "https://example.com/history/1"


def test_nobody_online_and_queue_disabled_ends_as_unavailable(world: World) -> None:
    closed = world.department("Night", queue_enabled=False)
    world.agent("Away", [closed], presence=Presence.AWAY)

    conversation = world.start(closed, "Ana")

    stored = world.conversation(conversation)
    assert stored.state is ConversationState.FINISHED
    assert stored.finish_reason is FinishReason.UNAVAILABLE
    assert (stored.finished_by_type, stored.finished_by_id) == (ActorType.SYSTEM, None)
    assert stored.finished_at == world.store.now
    types = [e.type for e in world.store.events]
    assert types == [ev.CONVERSATION_STARTED, ev.CONVERSATION_FINISHED]
    finished = world.store.events[-1]
    assert finished.actor == SYSTEM
    assert finished.data == {
        "reason": "unavailable",
        "finished_by": {"type": "system", "id": None},
        "why": "no agent online",
    }


def test_queue_disabled_with_an_agent_online_still_queues(world: World) -> None:
    closed = world.department("Night", queue_enabled=False)
    world.agent("Alice", [closed])
    conversation = world.start(closed)
    assert world.conversation(conversation).state is ConversationState.QUEUED


def test_queue_enabled_with_nobody_online_queues(world: World) -> None:
    conversation = world.start(world.department())
    assert world.conversation(conversation).state is ConversationState.QUEUED


def test_unavailable_start_does_not_announce_positions_to_those_waiting(world: World) -> None:
    night = world.department("Night")
    alice = world.agent("Alice", [night])
    waiting = [world.start(night), world.start(night)]
    world.store.write(lambda uow: uow.departments.update(night.id, {"queue_enabled": False}))
    world.store.write(lambda uow: uow.agents.set_presence(alice.id, Presence.OFFLINE, uow.now))
    before = world.store.events[-1].seq

    refused = world.start(night)

    assert world.conversation(refused).state is ConversationState.FINISHED
    still_waiting = world.store.read(lambda uow: uow.conversations.queued_in_department(night.id))
    assert [c.id for c in still_waiting] == [w.id for w in waiting]
    assert [e.type for e in world.store.events_after(before)] == [
        ev.CONVERSATION_STARTED,
        ev.CONVERSATION_FINISHED,
    ]


@pytest.mark.parametrize("department_id", [999, 0])
def test_unknown_department_is_invalid_and_names_it(world: World, department_id: int) -> None:
    command = StartConversation(
        account_id=world.account.id, department_id=department_id, origin_dialect="test"
    )
    with pytest.raises(Invalid, match=f"department {department_id} does not exist"):
        world.store.write(lambda uow: start_conversation(uow, command))
    assert world.store.db.conversations == {}
    assert world.store.events == []


def test_inactive_department_is_invalid_and_names_it(world: World) -> None:
    sales = world.department("Sales", active=False)
    command = StartConversation(
        account_id=world.account.id,
        department_id=sales.id,
        origin_dialect="test",
        contact=ContactDetails(name="A"),
    )
    with pytest.raises(Invalid, match=rf"department {sales.id} \(Sales\) is not active"):
        world.store.write(lambda uow: start_conversation(uow, command))
    assert world.store.db.contacts == {}
    assert world.store.events == []


def test_another_accounts_department_is_unknown(world: World) -> None:
    other = world.other_account()
    theirs = world.department("Theirs", account=other)
    command = StartConversation(account_id=world.account.id, department_id=theirs.id, origin_dialect="test")
    with pytest.raises(Invalid, match=f"department {theirs.id} does not exist"):
        world.store.write(lambda uow: start_conversation(uow, command))


def test_start_in_auto_assign_department_offers_to_an_online_agent(world: World) -> None:
    support = world.department(auto_assign=True, ringing_max_time=30)
    alice = world.agent("Alice", [support])

    conversation = world.start(support)

    stored = world.conversation(conversation)
    assert stored.state is ConversationState.QUEUED
    assert (stored.offered_to, stored.offered_at) == (alice.id, world.store.now)
    offered = world.store.events[-1]
    assert offered.type == ev.CONVERSATION_OFFERED
    assert offered.actor == SYSTEM
    assert offered.data == {"agent_id": alice.id, "ringing_max_time": 30}
    assert (offered.agent_id, offered.department_id, offered.conversation_id) == (
        alice.id,
        support.id,
        stored.id,
    )


def test_start_without_auto_assign_offers_to_nobody(world: World) -> None:
    support = world.department()
    world.agent("Alice", [support])
    conversation = world.start(support)
    assert world.conversation(conversation).offered_to is None
    assert ev.CONVERSATION_OFFERED not in [e.type for e in world.store.events]
