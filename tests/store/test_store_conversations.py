"""Conversations, messages and history entries through the real stores."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from store_backends import add_agent, add_department

from helpline.core.model import (
    ActorType,
    Contact,
    Conversation,
    ConversationState,
    Direction,
    FinishReason,
    HistoryEntry,
    HistoryStatus,
    Message,
    MessageKind,
    MessageSeq,
)
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork

INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)


@dataclass
class Setup:
    account_id: int
    other_account_id: int
    support: int
    sales: int
    alice: int
    bob: int


@pytest.fixture
def setup(any_store: Store) -> Setup:
    def seed(uow: UnitOfWork) -> Setup:
        acme, other = uow.accounts.create("Acme", 1.0), uow.accounts.create("Other", 1.0)
        support = add_department(uow, acme.id, "Support", queued_max_time=100, ringing_max_time=10)
        sales = add_department(uow, acme.id, "Sales", queued_max_time=50, ringing_max_time=20)
        alice = add_agent(uow, acme.id, "Alice", [support.id])
        bob = add_agent(uow, acme.id, "Bob", [sales.id])
        return Setup(acme.id, other.id, support.id, sales.id, alice.id, bob.id)

    return any_store.write_sync(seed)


def new_conversation(
    store: Store,
    account_id: int,
    department_id: int,
    state: ConversationState = ConversationState.QUEUED,
    **more: Any,
) -> Conversation:
    values: dict[str, Any] = {
        "id": 0,
        "hash": str(uuid.uuid4()),
        "account_id": account_id,
        "department_id": department_id,
        "origin_department_id": department_id,
        "contact_id": None,
        "state": state,
        "origin_dialect": "test",
        "created_at": 1.0,
        "updated_at": 1.0,
    }
    value = Conversation(**{**values, **more})
    return store.write_sync(lambda uow: uow.conversations.create(value))


def queue(store: Store, conversation: Conversation, at: float, **fields: Any) -> None:
    store.write_sync(
        lambda uow: uow.conversations.update(conversation.id, {"state": "queued", "queued_at": at, **fields})
    )


def ids(found: list[Conversation]) -> list[int]:
    return [c.id for c in found]


def test_create_get_and_by_hash_are_scoped_by_account(any_store: Store, setup: Setup) -> None:
    contact = any_store.write_sync(lambda uow: uow.contacts.create(Contact(0, setup.account_id)))
    conversation = new_conversation(
        any_store,
        setup.account_id,
        setup.support,
        contact_id=contact.id,
        origin_key="client-1",
        extra={"channel": "web", "n": [1, 2]},
        external_history_url="https://h/1",
        history_status=HistoryStatus.PENDING,
        tags=["a"],
    )
    stored = any_store.read_sync(lambda uow: uow.conversations.get(setup.account_id, conversation.id))
    assert stored is not None
    assert (stored.hash, stored.state, stored.contact_id, stored.origin_dialect, stored.origin_key) == (
        conversation.hash,
        ConversationState.QUEUED,
        contact.id,
        "test",
        "client-1",
    )
    assert (stored.extra, stored.tags, stored.history_status, stored.external_history_url) == (
        {"channel": "web", "n": [1, 2]},
        ["a"],
        HistoryStatus.PENDING,
        "https://h/1",
    )
    assert (stored.last_message_seq, stored.assignee_id, stored.finish_reason, stored.queued_at) == (
        0,
        None,
        None,
        None,
    )
    assert (
        any_store.read_sync(lambda uow: uow.conversations.by_hash(setup.account_id, conversation.hash))
        == stored
    )
    assert any_store.read_sync(lambda uow: uow.conversations.by_id_any_account(conversation.id)) == stored
    assert (
        any_store.read_sync(lambda uow: uow.conversations.get(setup.other_account_id, conversation.id))
        is None
    )
    assert (
        any_store.read_sync(lambda uow: uow.conversations.by_hash(setup.other_account_id, conversation.hash))
        is None
    )
    assert (
        any_store.read_sync(lambda uow: uow.conversations.by_hash(setup.account_id, str(uuid.uuid4())))
        is None
    )
    assert any_store.read_sync(lambda uow: uow.conversations.by_id_any_account(999_999)) is None
    assert any_store.read_sync(lambda uow: uow.conversations.by_ids([conversation.id, 999_999])) == {
        conversation.id: stored
    }
    assert any_store.read_sync(lambda uow: uow.conversations.by_ids([])) == {}


def test_update_round_trips_every_column(any_store: Store, setup: Setup) -> None:
    conversation = new_conversation(any_store, setup.account_id, setup.support)
    fields = {
        "state": ConversationState.FINISHED.value,
        "department_id": setup.sales,
        "assignee_id": setup.alice,
        "offered_to": setup.bob,
        "offered_at": 2.5,
        "extra": {"k": "v"},
        "history_status": HistoryStatus.FAILED.value,
        "history_error": "HTTP 500",
        "mood": "happy",
        "tags": ["x", {"y": 1}],
        "note": "note ☂",
        "customer_key": "C-1",
        "queued_at": 3.0,
        "assigned_at": 4.0,
        "finished_at": 5.0,
        "finish_reason": FinishReason.UNAVAILABLE.value,
        "finished_by_type": ActorType.SYSTEM.value,
        "finished_by_id": None,
        "updated_at": 6.0,
    }
    any_store.write_sync(lambda uow: uow.conversations.update(conversation.id, fields))
    stored = any_store.read_sync(lambda uow: uow.conversations.get(setup.account_id, conversation.id))
    assert stored is not None
    assert stored.state is ConversationState.FINISHED
    assert not stored.is_open
    assert (stored.department_id, stored.origin_department_id, stored.assignee_id, stored.offered_to) == (
        setup.sales,
        setup.support,
        setup.alice,
        setup.bob,
    )
    assert (stored.offered_at, stored.extra, stored.tags, stored.note, stored.mood, stored.customer_key) == (
        2.5,
        {"k": "v"},
        ["x", {"y": 1}],
        "note ☂",
        "happy",
        "C-1",
    )
    assert (stored.history_status, stored.history_error) == (HistoryStatus.FAILED, "HTTP 500")
    assert (stored.queued_at, stored.assigned_at, stored.finished_at, stored.updated_at) == (
        3.0,
        4.0,
        5.0,
        6.0,
    )
    assert (stored.finish_reason, stored.finished_by_type, stored.finished_by_id) == (
        FinishReason.UNAVAILABLE,
        ActorType.SYSTEM,
        None,
    )


def test_transition_applies_only_from_the_given_states(any_store: Store, setup: Setup) -> None:
    conversation = new_conversation(any_store, setup.account_id, setup.support)
    take = {"state": "assigned", "assignee_id": setup.alice}

    assert (
        any_store.write_sync(
            lambda uow: uow.conversations.transition(conversation.id, [ConversationState.BOT], take)
        )
        is False
    )
    assert (
        any_store.write_sync(
            lambda uow: uow.conversations.transition(
                conversation.id, [ConversationState.BOT, ConversationState.QUEUED], take
            )
        )
        is True
    )
    assert (
        any_store.write_sync(
            lambda uow: uow.conversations.transition(
                conversation.id, [ConversationState.QUEUED], {"state": "assigned", "assignee_id": setup.bob}
            )
        )
        is False
    )
    assert (
        any_store.write_sync(
            lambda uow: uow.conversations.transition(999_999, [ConversationState.QUEUED], take)
        )
        is False
    )
    stored = any_store.read_sync(lambda uow: uow.conversations.get(setup.account_id, conversation.id))
    assert stored is not None
    assert (stored.state, stored.assignee_id) == (
        ConversationState.ASSIGNED,
        setup.alice,
    )
    assert any_store.read_sync(lambda uow: uow.conversations.assigned_count(setup.alice)) == 1
    assert any_store.read_sync(lambda uow: uow.agents.assigned_count(setup.alice)) == 1
    assert any_store.read_sync(lambda uow: uow.agents.assigned_count(setup.bob)) == 0


def test_next_message_seq_is_gap_free_per_conversation_even_concurrently(
    any_store: Store, setup: Setup
) -> None:
    first = new_conversation(any_store, setup.account_id, setup.support)
    second = new_conversation(any_store, setup.account_id, setup.support)
    seen: dict[int, list[int]] = {first.id: [], second.id: []}
    lock = threading.Lock()

    def writer(conversation_id: int) -> None:
        for _ in range(10):
            seq = any_store.write_sync(lambda uow: uow.conversations.next_message_seq(conversation_id))
            with lock:
                seen[conversation_id].append(seq)

    threads = [threading.Thread(target=writer, args=(c.id,)) for c in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(seen[first.id]) == list(range(1, 21))
    assert sorted(seen[second.id]) == list(range(1, 21))
    stored = any_store.read_sync(lambda uow: uow.conversations.get(setup.account_id, first.id))
    assert stored is not None
    assert stored.last_message_seq == 20


def test_a_rolled_back_seq_is_given_again(any_store: Store, setup: Setup) -> None:
    conversation = new_conversation(any_store, setup.account_id, setup.support)
    assert any_store.write_sync(lambda uow: uow.conversations.next_message_seq(conversation.id)) == 1

    def take_and_fail(uow: UnitOfWork) -> None:
        assert uow.conversations.next_message_seq(conversation.id) == 2
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        any_store.write_sync(take_and_fail)
    assert any_store.write_sync(lambda uow: uow.conversations.next_message_seq(conversation.id)) == 2


def claim(store: Store, account_id: int, conversation_hash: str) -> MessageSeq | None:
    return store.write_sync(
        lambda uow: uow.conversations.claim_message_seq_by_hash(account_id, conversation_hash)
    )


def stored_seq(store: Store, conversation: Conversation) -> int:
    stored = store.read_sync(lambda uow: uow.conversations.by_id_any_account(conversation.id))
    assert stored is not None
    return stored.last_message_seq


@pytest.mark.parametrize(
    "state", [ConversationState.BOT, ConversationState.QUEUED, ConversationState.ASSIGNED]
)
def test_claim_by_hash_returns_what_a_message_needs_with_its_seq_taken(
    any_store: Store, setup: Setup, state: ConversationState
) -> None:
    """The caller adds its message and its event from the returned values alone, without reading the
    conversation again: each must be the stored one, as ``get`` would give it after the claim."""
    contact = any_store.write_sync(lambda uow: uow.contacts.create(Contact(0, setup.account_id)))
    conversation = new_conversation(
        any_store,
        setup.account_id,
        setup.support,
        state,
        contact_id=contact.id,
        extra={"channel": "web"},
        tags=["a"],
    )
    assignee = setup.alice if state is ConversationState.ASSIGNED else None
    any_store.write_sync(
        lambda uow: uow.conversations.update(conversation.id, {"assignee_id": assignee, "note": "n"})
    )

    first = claim(any_store, setup.account_id, conversation.hash)
    stored = any_store.read_sync(lambda uow: uow.conversations.get(setup.account_id, conversation.id))

    assert first is not None
    assert stored is not None
    assert first == MessageSeq(
        stored.id,
        stored.account_id,
        stored.department_id,
        stored.contact_id,
        stored.assignee_id,
        1,
        first.message_id,
    )
    # PostgreSQL hands out the message's id with its seq; SQLite leaves it to the INSERT.
    assert (first.message_id > 0) == any_store.url.startswith("postgresql")
    assert (first.conversation_id, first.contact_id, first.assignee_id) == (
        conversation.id,
        contact.id,
        assignee,
    )
    assert (stored.state, stored.last_message_seq, stored.extra, stored.tags, stored.note) == (
        state,
        1,
        {"channel": "web"},
        ["a"],
        "n",
    )
    second = claim(any_store, setup.account_id, conversation.hash)
    assert second is not None
    assert second.seq == 2
    assert stored_seq(any_store, conversation) == 2


def test_claim_by_hash_takes_no_seq_it_may_not(any_store: Store, setup: Setup) -> None:
    """An unknown hash, another tenant's conversation and a finished one give None, and none of them
    may have its counter moved: a seq taken without a message is a gap the clients would wait on."""
    foreign = new_conversation(any_store, setup.other_account_id, setup.support)
    finished = new_conversation(any_store, setup.account_id, setup.support, ConversationState.FINISHED)
    mine = new_conversation(any_store, setup.account_id, setup.support)

    assert claim(any_store, setup.account_id, str(uuid.uuid4())) is None
    assert claim(any_store, setup.account_id, foreign.hash) is None
    assert claim(any_store, setup.other_account_id, mine.hash) is None
    assert claim(any_store, setup.account_id, finished.hash) is None

    assert [stored_seq(any_store, c) for c in (foreign, finished, mine)] == [0, 0, 0]
    claimed = claim(any_store, setup.other_account_id, foreign.hash)
    assert claimed is not None
    assert claimed.seq == 1


def test_claim_by_hash_and_next_message_seq_share_one_gap_free_counter(
    any_store: Store, setup: Setup
) -> None:
    """Agents' messages take their seq by id, contacts' by hash: the two must count on the same column."""
    conversation = new_conversation(any_store, setup.account_id, setup.support)
    other = new_conversation(any_store, setup.account_id, setup.support)
    taken: list[int] = []
    for _ in range(3):
        claimed = claim(any_store, setup.account_id, conversation.hash)
        assert claimed is not None
        taken.append(claimed.seq)
        taken.append(any_store.write_sync(lambda uow: uow.conversations.next_message_seq(conversation.id)))

    assert taken == [1, 2, 3, 4, 5, 6]
    assert stored_seq(any_store, conversation) == 6
    assert stored_seq(any_store, other) == 0


def test_claim_by_hash_is_gap_free_even_concurrently(any_store: Store, setup: Setup) -> None:
    conversation = new_conversation(any_store, setup.account_id, setup.support)
    seen: list[int] = []
    lock = threading.Lock()

    def writer() -> None:
        for _ in range(10):
            claimed = claim(any_store, setup.account_id, conversation.hash)
            assert claimed is not None
            with lock:
                seen.append(claimed.seq)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(seen) == list(range(1, 41))
    assert stored_seq(any_store, conversation) == 40


def test_a_claim_in_a_failed_unit_of_work_is_rolled_back(any_store: Store, setup: Setup) -> None:
    """A message refused after its seq was claimed (say, invalid content) must give that seq back."""
    conversation = new_conversation(any_store, setup.account_id, setup.support)
    assert claim(any_store, setup.account_id, conversation.hash) is not None

    def claim_and_fail(uow: UnitOfWork) -> None:
        claimed = uow.conversations.claim_message_seq_by_hash(setup.account_id, conversation.hash)
        assert claimed is not None
        assert claimed.seq == 2
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        any_store.write_sync(claim_and_fail)
    assert stored_seq(any_store, conversation) == 1
    again = claim(any_store, setup.account_id, conversation.hash)
    assert again is not None
    assert again.seq == 2


def test_queued_in_department_orders_by_queued_at_then_id(any_store: Store, setup: Setup) -> None:
    a, b, c, d = (new_conversation(any_store, setup.account_id, setup.support) for _ in range(4))
    other_department = new_conversation(any_store, setup.account_id, setup.sales)
    assigned = new_conversation(any_store, setup.account_id, setup.support)
    queue(any_store, c, 10.0)
    queue(any_store, a, 20.0)
    queue(any_store, d, 10.0)
    queue(any_store, b, 15.0)
    queue(any_store, other_department, 1.0)
    queue(any_store, assigned, 1.0, state="assigned", assignee_id=setup.alice)

    found = any_store.read_sync(lambda uow: uow.conversations.queued_in_department(setup.support))

    assert ids(found) == [c.id, d.id, b.id, a.id]
    assert {x.state for x in found} == {ConversationState.QUEUED}
    assert any_store.read_sync(lambda uow: uow.conversations.queued_in_department(999_999)) == []


def test_list_for_agent_scoping_state_order_and_limit(any_store: Store, setup: Setup) -> None:
    in_support = new_conversation(any_store, setup.account_id, setup.support)
    in_sales = new_conversation(any_store, setup.account_id, setup.sales)
    mine_in_sales = new_conversation(any_store, setup.account_id, setup.sales)
    late_in_support = new_conversation(any_store, setup.account_id, setup.support)
    foreign = new_conversation(any_store, setup.other_account_id, setup.support)  # another tenant's row
    queue(any_store, in_support, 30.0)
    queue(any_store, late_in_support, 20.0)
    queue(any_store, in_sales, 10.0)
    any_store.write_sync(
        lambda uow: uow.conversations.update(
            mine_in_sales.id, {"state": "assigned", "assignee_id": setup.alice}
        )
    )

    def listing(
        departments: list[int], state: ConversationState | None, include_all: bool, limit: int = 50
    ) -> list[int]:
        return ids(
            any_store.read_sync(
                lambda uow: uow.conversations.list_for_agent(
                    setup.account_id, departments, setup.alice, state, include_all, limit
                )
            )
        )

    assert listing([setup.support], None, False) == [late_in_support.id, mine_in_sales.id, in_support.id]
    assert listing([], None, False) == [mine_in_sales.id]
    assert listing([setup.support], ConversationState.QUEUED, False) == [late_in_support.id, in_support.id]
    assert listing([setup.support], ConversationState.ASSIGNED, False) == [mine_in_sales.id]
    assert listing([], None, True) == [late_in_support.id, mine_in_sales.id, in_sales.id, in_support.id]
    assert listing([], ConversationState.QUEUED, True) == [in_sales.id, late_in_support.id, in_support.id]
    assert listing([], None, True, limit=2) == [late_in_support.id, mine_in_sales.id]
    assert foreign.id not in listing([setup.support], None, True)


def test_queued_older_than_uses_each_departments_queued_max_time(any_store: Store, setup: Setup) -> None:
    support_a = new_conversation(any_store, setup.account_id, setup.support)  # queued_max_time 100
    support_b = new_conversation(any_store, setup.account_id, setup.support)
    sales_a = new_conversation(any_store, setup.account_id, setup.sales)  # queued_max_time 50
    assigned = new_conversation(any_store, setup.account_id, setup.sales)
    queue(any_store, support_a, 1000.0)
    queue(any_store, support_b, 1001.0)
    queue(any_store, sales_a, 1040.0)
    queue(any_store, assigned, 0.0, state="assigned")

    def older(now: float) -> list[int]:
        return ids(any_store.read_sync(lambda uow: uow.conversations.queued_older_than(now)))

    assert older(1089.0) == []
    assert older(1090.0) == [sales_a.id]
    assert older(1100.0) == [support_a.id, sales_a.id]
    assert older(1101.0) == [support_a.id, support_b.id, sales_a.id]


def test_offers_older_than_uses_each_departments_ringing_max_time(any_store: Store, setup: Setup) -> None:
    support_offer = new_conversation(any_store, setup.account_id, setup.support)  # ringing_max_time 10
    sales_offer = new_conversation(any_store, setup.account_id, setup.sales)  # ringing_max_time 20
    not_offered = new_conversation(any_store, setup.account_id, setup.support)
    finished = new_conversation(any_store, setup.account_id, setup.support)
    queue(any_store, support_offer, 0.0, offered_to=setup.alice, offered_at=100.0)
    queue(any_store, sales_offer, 0.0, offered_to=setup.bob, offered_at=95.0)
    queue(any_store, not_offered, 0.0)
    queue(any_store, finished, 0.0, state="finished", offered_to=setup.alice, offered_at=0.0)

    def older(now: float) -> list[int]:
        return ids(any_store.read_sync(lambda uow: uow.conversations.offers_older_than(now)))

    assert older(109.0) == []
    assert older(110.0) == [support_offer.id]
    assert older(115.0) == [sales_offer.id, support_offer.id]


def test_pending_history_in_id_order_with_limit(any_store: Store, setup: Setup) -> None:
    pending = [
        new_conversation(any_store, setup.account_id, setup.support, history_status=HistoryStatus.PENDING)
        for _ in range(3)
    ]
    new_conversation(any_store, setup.account_id, setup.support)
    any_store.write_sync(lambda uow: uow.conversations.update(pending[1].id, {"history_status": "loaded"}))
    assert ids(any_store.read_sync(lambda uow: uow.conversations.pending_history(10))) == [
        pending[0].id,
        pending[2].id,
    ]
    assert ids(any_store.read_sync(lambda uow: uow.conversations.pending_history(1))) == [pending[0].id]


def _message(conversation_id: int, seq: int, key: str | None = None, **more: Any) -> Message:
    values: dict[str, Any] = {
        "id": 0,
        "conversation_id": conversation_id,
        "seq": seq,
        "hash": str(uuid.uuid4()),
        "direction": Direction.INBOUND,
        "sender_type": ActorType.CONTACT,
        "sender_id": None,
        "content": f"message {seq}",
        "kind": MessageKind.TEXT,
        "file_url": None,
        "status": "sent",
        "idempotency_key": key,
        "created_at": 10.0 + seq,
    }
    values.update(more)
    return Message(**values)


def test_messages_add_list_and_idempotency_key(any_store: Store, setup: Setup) -> None:
    conversation = new_conversation(any_store, setup.account_id, setup.support)
    other = new_conversation(any_store, setup.account_id, setup.support)
    second = any_store.write_sync(
        lambda uow: uow.messages.add(
            _message(
                conversation.id,
                2,
                "key-2",
                direction=Direction.OUTBOUND,
                sender_type=ActorType.AGENT,
                sender_id=setup.alice,
                kind=MessageKind.IMAGE,
                file_url="https://f/x.png",
                content="olá ☂",
            )
        )
    )
    first = any_store.write_sync(lambda uow: uow.messages.add(_message(conversation.id, 1)))
    any_store.write_sync(lambda uow: uow.messages.add(_message(other.id, 1, "key-2")))

    listed = any_store.read_sync(lambda uow: uow.messages.list(conversation.id))
    assert listed == [first, second]
    assert second.id > 0
    assert listed[1].content == "olá ☂"
    assert (
        any_store.read_sync(lambda uow: uow.messages.by_idempotency_key(conversation.id, "key-2")) == second
    )
    assert any_store.read_sync(lambda uow: uow.messages.by_idempotency_key(conversation.id, "key-1")) is None
    assert any_store.read_sync(lambda uow: uow.messages.list(999_999)) == []


@pytest.mark.parametrize("clash", ["seq", "idempotency_key"])
def test_messages_refuse_a_second_seq_or_key_in_a_conversation(
    any_store: Store, setup: Setup, clash: str
) -> None:
    conversation = new_conversation(any_store, setup.account_id, setup.support)
    any_store.write_sync(lambda uow: uow.messages.add(_message(conversation.id, 1, "k")))
    duplicate = _message(conversation.id, 1, "other") if clash == "seq" else _message(conversation.id, 2, "k")
    with pytest.raises(INTEGRITY_ERRORS):
        any_store.write_sync(lambda uow: uow.messages.add(duplicate))
    assert len(any_store.read_sync(lambda uow: uow.messages.list(conversation.id))) == 1


def test_history_entries_add_many_and_list_in_position_order(any_store: Store, setup: Setup) -> None:
    conversation = new_conversation(any_store, setup.account_id, setup.support)
    other = new_conversation(any_store, setup.account_id, setup.support)
    entries = [
        HistoryEntry(conversation.id, 2, None, "outbound", "hello"),
        HistoryEntry(conversation.id, 1, "2024-01-01T10:00:00Z", "inbound", "oi ☂"),
        HistoryEntry(other.id, 1, None, "inbound", "elsewhere"),
    ]
    any_store.write_sync(lambda uow: uow.history.add_many(entries))
    any_store.write_sync(lambda uow: uow.history.add_many([]))
    assert any_store.read_sync(lambda uow: uow.history.list(conversation.id)) == [entries[1], entries[0]]
    assert any_store.read_sync(lambda uow: uow.history.list(other.id)) == [entries[2]]
    with pytest.raises(INTEGRITY_ERRORS):
        any_store.write_sync(
            lambda uow: uow.history.add_many([HistoryEntry(other.id, 1, None, "inbound", "again")])
        )


def test_average_answer_seconds_over_the_last_answered(any_store: Store, setup: Setup) -> None:
    def answered(
        department_id: int, queued_at: float, assigned_at: float | None, account_id: int = 0
    ) -> None:
        conversation = new_conversation(any_store, account_id or setup.account_id, department_id)
        any_store.write_sync(
            lambda uow: uow.conversations.update(
                conversation.id, {"state": "assigned", "queued_at": queued_at, "assigned_at": assigned_at}
            )
        )

    def average(department_id: int | None, last: int = 100, account_id: int = 0) -> float | None:
        return any_store.read_sync(
            lambda uow: uow.conversations.average_answer_seconds(
                account_id or setup.account_id, department_id, last
            )
        )

    assert average(None) is None
    answered(setup.support, 100.0, 110.0)  # 10 s
    answered(setup.support, 100.0, 130.0)  # 30 s
    answered(setup.sales, 100.0, 200.0)  # 100 s
    answered(setup.support, 100.0, None)  # still waiting: not answered
    answered(setup.support, 0.0, 1000.0, account_id=setup.other_account_id)  # another tenant

    assert average(setup.support) == pytest.approx(20.0)
    assert average(setup.sales) == pytest.approx(100.0)
    assert average(None) == pytest.approx(140.0 / 3)
    assert average(None, last=2) == pytest.approx(65.0)  # the newest two: 30 s and 100 s
    assert average(None, account_id=setup.other_account_id) == pytest.approx(1000.0)
