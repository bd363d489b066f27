"""The core's use cases through the real stores, and the in-memory fake of ``tests/core`` held to them.

The same scripted day runs on ``core_fakes.FakeStore`` and on each real backend (with a hand-moved
clock); the two event logs and end states must match, so the core unit tests prove something about
the real system.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from store_backends import ManualClock, opened_store

from helpline.core import agents, conversations, routing
from helpline.core import events as ev
from helpline.core.conversations import ContactDetails, StartConversation, start_conversation
from helpline.core.errors import Conflict, Invalid, NotFound
from helpline.core.model import (
    ActorType,
    Agent,
    Conversation,
    ConversationState,
    Department,
    Event,
    MessageKind,
    Presence,
)
from helpline.store.base import Store

T = TypeVar("T")
START = 1_000_000.0


def _core_fakes() -> Any:
    if "core_fakes" not in sys.modules:
        path = Path(__file__).parents[1] / "core" / "fakes.py"
        spec = importlib.util.spec_from_file_location("core_fakes", path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["core_fakes"] = module
        spec.loader.exec_module(module)
    return sys.modules["core_fakes"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def clocked_store(any_database_url: str, clock: ManualClock) -> Iterator[Store]:
    with opened_store(any_database_url, clock) as store:
        yield store


Write = Callable[[Callable[[Any], Any]], Any]


def _load(uow: Any, conversation: Conversation) -> Conversation:
    found = uow.conversations.get(conversation.account_id, conversation.id)
    assert found is not None
    return found


def a_day_at_the_helpdesk(write: Write, advance: Callable[[float], None]) -> dict[str, Any]:
    """Seeding, routing, messages, transfers, expiry and refusals, through core calls only."""
    acme = write(lambda uow: uow.accounts.create("Acme", uow.now))
    support = write(
        lambda uow: uow.departments.create(
            Department(0, acme.id, "Support", auto_assign=True, ringing_max_time=30, queued_max_time=300)
        )
    )
    sales = write(lambda uow: uow.departments.create(Department(0, acme.id, "Sales", queued_max_time=600)))

    def agent(name: str, departments: list[int], presence: Presence) -> Agent:
        value = Agent(
            0, acme.id, name, f"{name}@example.com", "h", presence=presence, department_ids=departments
        )
        return write(lambda uow: uow.agents.create(value))

    alice = agent("alice", [support.id, sales.id], Presence.OFFLINE)
    bob = agent("bob", [support.id], Presence.ONLINE)

    def start(department: Department, name: str | None = None) -> Conversation:
        contact = ContactDetails(name=name, attributes={"n": name}) if name else None
        command = StartConversation(acme.id, department.id, "test", contact=contact, extra={"from": name})
        return write(lambda uow: start_conversation(uow, command))

    def act(action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def work(uow: Any) -> T:
            fresh = [_load(uow, a) if isinstance(a, Conversation) else a for a in args]
            return action(uow, *fresh, **kwargs)

        return write(work)

    c1 = start(support, "Ana")  # rings bob
    advance(10)
    c2 = start(support, "Bia")  # rings bob too
    advance(10)
    c3 = start(sales)
    act(agents.set_presence, alice, Presence.ONLINE)
    act(agents.accept, bob, c1)  # c2 moves to position 1
    act(conversations.contact_message, c1, "hello", idempotency_key="k1")
    act(agents.send_message, bob, c1, "hi, Ana", conversations.MessageKind.TEXT, None)
    act(conversations.contact_message, c1, "hello (retry)", idempotency_key="k1")
    act(conversations.contact_typing, c1, True)
    refusals = []
    try:
        act(agents.accept, alice, c1)
    except Conflict as error:
        refusals.append(error.message)
    advance(30)
    write(routing.expire_waiting)  # c2 rang bob for 30 s: now alice
    act(agents.accept, alice, c2)
    advance(5)
    act(agents.transfer, bob, c1, department_id=sales.id)  # queued in sales behind c3
    act(agents.transfer, alice, c2, agent_id=bob.id)
    act(conversations.contact_finish, c3)  # c1 moves up in sales
    act(conversations.update_details, c2, {"tags": ["vip"], "note": "n"}, agents.actor_of(bob))
    advance(600)
    write(routing.expire_waiting)  # c1 waited in sales too long
    act(agents.finish, bob, c2)
    try:
        act(agents.accept, alice, c2)
    except Conflict as error:
        refusals.append(error.message)

    def summary(uow: Any) -> dict[str, Any]:
        final = [_load(uow, c) for c in (c1, c2, c3)]
        return {
            "states": [
                (c.state, c.department_id, c.assignee_id, c.finish_reason, c.last_message_seq) for c in final
            ],
            "tags": [c.tags for c in final],
            "messages": [
                (m.seq, m.content, m.sender_type, m.idempotency_key) for m in uow.messages.list(c1.id)
            ],
            "contact": uow.contacts.get(final[0].contact_id).attributes,
            "load": [uow.agents.assigned_count(a.id) for a in (alice, bob)],
            "presence": [uow.agents.get(a.id).presence for a in (alice, bob)],
            "events": [_comparable(e) for e in uow.events.after(0, 1000)],
            "refusals": refusals,
        }

    return write(summary)


def _comparable(event: Event) -> tuple[Any, ...]:
    data = dict(event.data)
    if "message" in data:
        data["message"] = {k: v for k, v in data["message"].items() if k != "hash"}
    return (
        event.seq,
        event.type,
        event.actor,
        event.created_at,
        event.conversation_id,
        event.department_id,
        event.agent_id,
        event.prev_department_id,
        event.prev_agent_id,
        data,
    )


def test_the_fake_behaves_like_the_real_store(clocked_store: Store, clock: ManualClock) -> None:
    real = a_day_at_the_helpdesk(clocked_store.write_sync, clock.advance)
    fake_store = _core_fakes().FakeStore(now=START)
    fake = a_day_at_the_helpdesk(fake_store.write, fake_store.advance)

    assert real["events"] == fake["events"]
    assert real == fake


def test_the_day_itself(clocked_store: Store, clock: ManualClock) -> None:
    """What the scripted day must produce, so that the parity check compares a meaningful run."""
    day = a_day_at_the_helpdesk(clocked_store.write_sync, clock.advance)
    assert [s[0] for s in day["states"]] == [ConversationState.FINISHED] * 3
    assert [s[3].value for s in day["states"]] == ["unavailable", "resolved", "resolved"]
    assert day["messages"][0][1:] == ("hello", conversations.ActorType.CONTACT, "k1")
    assert [m[0] for m in day["messages"]] == [1, 2]
    assert day["refusals"] == [
        "another agent has already accepted this conversation",
        "the conversation is already finished",
    ]
    assert day["tags"] == [[], ["vip"], []]
    types = [e[1] for e in day["events"]]
    assert types.count(ev.CONVERSATION_OFFERED) == 3
    assert types.count(ev.QUEUE_POSITION_CHANGED) >= 2
    assert [e[0] for e in day["events"]] == list(range(1, len(types) + 1))


def messages_by_hash(write: Write) -> dict[str, Any]:
    """Contact messages through :func:`conversations.contact_message_by_hash` (the one-statement claim,
    its fallbacks and the keyed path) between agent messages, then refusals, through core calls only."""
    acme = write(lambda uow: uow.accounts.create("Acme", uow.now))
    other = write(lambda uow: uow.accounts.create("Other", uow.now))
    support = write(lambda uow: uow.departments.create(Department(0, acme.id, "Support")))
    theirs_department = write(lambda uow: uow.departments.create(Department(0, other.id, "Theirs")))
    bob_value = Agent(
        0, acme.id, "bob", "bob@example.com", "h", presence=Presence.ONLINE, department_ids=[support.id]
    )
    bob = write(lambda uow: uow.agents.create(bob_value))
    conversation = write(lambda uow: start_conversation(uow, StartConversation(acme.id, support.id, "test")))
    theirs = write(
        lambda uow: start_conversation(uow, StartConversation(other.id, theirs_department.id, "test"))
    )
    write(lambda uow: agents.accept(uow, uow.agents.get(bob.id), _load(uow, conversation)))
    first_event = write(lambda uow: uow.events.last_seq())

    def by_hash(account_id: int, conversation_hash: str, text: str, key: str | None = None) -> Any:
        return write(
            lambda uow: conversations.contact_message_by_hash(
                uow, account_id, conversation_hash, text, idempotency_key=key
            )
        )

    def agent_says(text: str) -> None:
        write(
            lambda uow: agents.send_message(
                uow,
                uow.agents.get(bob.id),
                _load(uow, conversation),
                text,
                MessageKind.TEXT,
                None,
            )
        )

    def seq_now(c: Conversation) -> int:
        return int(write(lambda uow: _load(uow, c).last_message_seq))

    refusals: list[tuple[str, str, int]] = []

    def refused(account_id: int, c: Conversation, text: str, key: str | None = None) -> None:
        try:
            by_hash(account_id, c.hash, text, key)
        except (Invalid, NotFound) as error:
            refusals.append((type(error).__name__, error.message.replace(c.hash, "<hash>"), seq_now(c)))
        else:
            refusals.append(("accepted", text, seq_now(c)))

    by_hash(acme.id, conversation.hash, "one")
    agent_says("two")
    keyed = by_hash(acme.id, conversation.hash, "three", key="k")
    retried = by_hash(acme.id, conversation.hash, "three (retried)", key="k")
    by_hash(acme.id, conversation.hash, "four")
    refused(acme.id, theirs, "to another account")
    refused(other.id, conversation, "from another account")
    write(lambda uow: conversations.contact_finish(uow, _load(uow, conversation)))
    refused(acme.id, conversation, "after the end")
    refused(acme.id, conversation, "after the end", key="k2")
    try:
        by_hash(acme.id, "no-such-hash", "lost")
    except NotFound as error:
        refusals.append(("NotFound", error.message, 0))

    def summary(uow: Any) -> dict[str, Any]:
        return {
            "messages": [
                (m.seq, m.content, m.sender_type, m.idempotency_key)
                for m in uow.messages.list(conversation.id)
            ],
            "last_message_seq": [_load(uow, c).last_message_seq for c in (conversation, theirs)],
            "retried_is_keyed": retried == keyed,
            "events": [_comparable(e) for e in uow.events.after(first_event, 1000)],
            "refusals": refusals,
        }

    result: dict[str, Any] = write(summary)
    return result


def test_messages_by_hash_on_the_fake_match_the_real_store(clocked_store: Store) -> None:
    real = messages_by_hash(clocked_store.write_sync)
    fake = messages_by_hash(_core_fakes().FakeStore(now=START).write)

    assert real["events"] == fake["events"]
    assert real == fake


def test_messages_by_hash_are_gap_free_and_refused_without_a_seq(clocked_store: Store) -> None:
    """The one-statement claim runs in SQL here: its seqs, its refusals and the keyed path that must
    not claim, on each backend."""
    run = messages_by_hash(clocked_store.write_sync)
    contact, agent = ActorType.CONTACT, ActorType.AGENT
    assert run["messages"] == [
        (1, "one", contact, None),
        (2, "two", agent, None),
        (3, "three", contact, "k"),
        (4, "four", contact, None),
    ]
    assert run["retried_is_keyed"] is True
    assert run["last_message_seq"] == [4, 0]
    assert run["refusals"] == [
        ("NotFound", "conversation <hash> not found", 0),
        ("NotFound", "conversation <hash> not found", 4),
        ("Invalid", "conversation <hash> is already finished", 4),
        ("Invalid", "conversation <hash> is already finished", 4),
        ("NotFound", "conversation no-such-hash not found", 0),
    ]
    created = [e[9]["message"]["seq"] for e in run["events"] if e[1] == ev.MESSAGE_CREATED]
    assert created == [1, 2, 3, 4]


def test_unavailable_start_announces_nothing_to_those_waiting(
    clocked_store: Store, clock: ManualClock
) -> None:
    store = clocked_store
    account = store.write_sync(lambda uow: uow.accounts.create("Acme", uow.now))
    night = store.write_sync(lambda uow: uow.departments.create(Department(0, account.id, "Night")))
    waiting = [
        store.write_sync(lambda uow: start_conversation(uow, StartConversation(account.id, night.id, "t")))
    ]
    store.write_sync(lambda uow: uow.departments.update(night.id, {"queue_enabled": False}))
    clock.advance(1)
    before = store.read_sync(lambda uow: uow.events.last_seq())

    refused = store.write_sync(
        lambda uow: start_conversation(uow, StartConversation(account.id, night.id, "t"))
    )

    assert refused.state is ConversationState.FINISHED
    assert [c.id for c in store.read_sync(lambda uow: uow.conversations.queued_in_department(night.id))] == [
        w.id for w in waiting
    ]
    after = store.read_sync(lambda uow: uow.events.after(before, 100))
    assert [e.type for e in after] == [ev.CONVERSATION_STARTED, ev.CONVERSATION_FINISHED]


def test_average_answer_time_is_never_negative_after_a_transfer(
    clocked_store: Store, clock: ManualClock
) -> None:
    store = clocked_store
    account = store.write_sync(lambda uow: uow.accounts.create("Acme", uow.now))
    support = store.write_sync(lambda uow: uow.departments.create(Department(0, account.id, "Support")))
    sales = store.write_sync(lambda uow: uow.departments.create(Department(0, account.id, "Sales")))
    alice = store.write_sync(
        lambda uow: uow.agents.create(
            Agent(
                0,
                account.id,
                "Alice",
                "alice@example.com",
                "h",
                presence=Presence.ONLINE,
                department_ids=[support.id],
            )
        )
    )
    conversation = store.write_sync(
        lambda uow: start_conversation(uow, StartConversation(account.id, support.id, "t"))
    )
    clock.advance(10)
    store.write_sync(lambda uow: agents.accept(uow, alice, _load(uow, conversation)))  # answered in 10 s
    clock.advance(100)
    store.write_sync(
        lambda uow: agents.transfer(uow, alice, _load(uow, conversation), department_id=sales.id)
    )

    overall = store.read_sync(lambda uow: uow.conversations.average_answer_seconds(account.id, None, 100))
    in_sales = store.read_sync(
        lambda uow: uow.conversations.average_answer_seconds(account.id, sales.id, 100)
    )

    assert in_sales is None or in_sales >= 0
    assert overall is None or overall >= 0
