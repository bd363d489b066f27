"""The repository methods external bots and ClientApi REST rely on, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, replace
from typing import Any

import pytest
from store_backends import add_agent, add_department, is_sqlite

from helpline.core import bots, routing
from helpline.core.conversations import StartConversation, start_or_resume
from helpline.core.errors import Invalid
from helpline.core.events import NewEvent
from helpline.core.model import SYSTEM, Conversation, ConversationState
from helpline.outbound.model import DeliveryState
from helpline.outbound.repository import Deliveries
from helpline.store.base import Store
from helpline.store.postgres import PostgresStore
from helpline.store.unit_of_work import UnitOfWork


@dataclass
class Setup:
    account_id: int
    triage: int
    support: int
    endpoint_id: int
    token_id: int


@pytest.fixture
def setup(any_store: Store) -> Setup:
    def seed(uow: UnitOfWork) -> Setup:
        account = uow.accounts.create("Acme", 1.0)
        triage = add_department(uow, account.id, "Triage", bot_accept_timeout=10)
        support = add_department(uow, account.id, "Support")
        add_agent(uow, account.id, "Alice", [support.id])
        endpoint = uow.endpoints.create(account.id, "bot", "https://bot.example.org", "whsec_x", 1.0)
        uow.departments.update(
            triage.id, {"bot_url": "https://bot.example.org", "bot_endpoint_id": endpoint.id}
        )
        token = uow.tokens.create(account.id, uuid.uuid4().hex, "p", None, 1.0)
        return Setup(account.id, triage.id, support.id, endpoint.id, token.id)

    return any_store.write_sync(seed)


def conversation(store: Store, setup: Setup, **fields: Any) -> Conversation:
    value = Conversation(
        id=0,
        hash=str(uuid.uuid4()),
        account_id=setup.account_id,
        department_id=setup.triage,
        origin_department_id=setup.triage,
        contact_id=None,
        state=ConversationState.QUEUED,
        origin_dialect="test",
        origin_token_id=setup.token_id,
        origin_key=fields.pop("origin_key", None),
        created_at=1.0,
        updated_at=1.0,
    )
    created = store.write_sync(lambda uow: uow.conversations.create(value))
    if fields:
        store.write_sync(lambda uow: uow.conversations.update(created.id, fields))
    found = store.read_sync(lambda uow: uow.conversations.by_id_any_account(created.id))
    assert found is not None
    return found


def test_department_bot_columns_round_trip(any_store: Store, setup: Setup) -> None:
    department = any_store.read_sync(lambda uow: uow.departments.get(setup.account_id, setup.triage))
    assert department is not None
    assert (department.bot_url, department.bot_endpoint_id, department.bot_accept_timeout) == (
        "https://bot.example.org",
        setup.endpoint_id,
        10,
    )
    plain = any_store.read_sync(lambda uow: uow.departments.get(setup.account_id, setup.support))
    assert plain is not None
    assert (plain.bot_url, plain.bot_endpoint_id, plain.bot_accept_timeout) == (None, None, 30)


def test_conversation_bot_columns_round_trip(any_store: Store, setup: Setup) -> None:
    held = conversation(
        any_store,
        setup,
        state="bot",
        bot_endpoint_id=setup.endpoint_id,
        bot_started_at=5.0,
        bot_accepted_at=6.5,
    )
    assert (held.state, held.bot_endpoint_id, held.bot_started_at, held.bot_accepted_at) == (
        ConversationState.BOT,
        setup.endpoint_id,
        5.0,
        6.5,
    )
    fresh = conversation(any_store, setup)
    assert (fresh.bot_endpoint_id, fresh.bot_started_at, fresh.bot_accepted_at) == (None, None, None)


def test_unaccepted_bot_conversations_past_their_departments_timeout(any_store: Store, setup: Setup) -> None:
    late = conversation(
        any_store, setup, state="bot", bot_endpoint_id=setup.endpoint_id, bot_started_at=100.0
    )
    later = conversation(
        any_store, setup, state="bot", bot_endpoint_id=setup.endpoint_id, bot_started_at=104.0
    )
    conversation(
        any_store,
        setup,
        state="bot",
        bot_endpoint_id=setup.endpoint_id,
        bot_started_at=90.0,
        bot_accepted_at=91.0,
    )
    conversation(any_store, setup, state="queued", bot_endpoint_id=setup.endpoint_id, bot_started_at=50.0)

    def due(now: float) -> list[int]:
        return [
            c.id for c in any_store.read_sync(lambda uow: uow.conversations.bots_unaccepted_older_than(now))
        ]

    assert due(109.9) == []
    assert due(110.0) == [late.id]
    assert due(200.0) == [late.id, later.id]


def test_held_by_bot_lists_what_the_endpoint_holds_now(any_store: Store, setup: Setup) -> None:
    first = conversation(any_store, setup, state="bot", bot_endpoint_id=setup.endpoint_id, bot_started_at=1.0)
    conversation(any_store, setup, state="queued", bot_endpoint_id=setup.endpoint_id)
    conversation(any_store, setup, state="bot", bot_endpoint_id=setup.endpoint_id + 1000, bot_started_at=1.0)
    second = conversation(
        any_store, setup, state="bot", bot_endpoint_id=setup.endpoint_id, bot_started_at=2.0
    )
    found = any_store.read_sync(lambda uow: uow.conversations.held_by_bot(setup.endpoint_id))
    assert [c.id for c in found] == [first.id, second.id]


def test_open_by_origin_key_finds_the_open_one_of_that_token(any_store: Store, setup: Setup) -> None:
    done = conversation(any_store, setup, origin_key="12", state="finished")
    open_one = conversation(any_store, setup, origin_key="12")
    conversation(any_store, setup, origin_key="13")

    def find(token_id: int, key: str) -> int | None:
        found = any_store.read_sync(lambda uow: uow.conversations.open_by_origin_key(token_id, key))
        return found.id if found else None

    assert find(setup.token_id, "12") == open_one.id
    assert find(setup.token_id + 1, "12") is None
    assert find(setup.token_id, "14") is None
    any_store.write_sync(lambda uow: uow.conversations.update(open_one.id, {"state": "finished"}))
    assert find(setup.token_id, "12") is None
    assert done.id != open_one.id


def test_endpoint_update_url_repoints_and_enables(any_store: Store, setup: Setup) -> None:
    any_store.write_sync(lambda uow: uow.endpoints.disable(setup.endpoint_id, "410"))
    any_store.write_sync(
        lambda uow: uow.endpoints.update_url(setup.endpoint_id, "https://bot2.example.org/in")
    )
    endpoint = any_store.read_sync(lambda uow: uow.endpoints.get(setup.endpoint_id))
    assert endpoint is not None
    assert (endpoint.url, endpoint.enabled, endpoint.disabled_reason, endpoint.secret) == (
        "https://bot2.example.org/in",
        True,
        None,
        "whsec_x",
    )


def test_last_of_types_reads_who_held_a_conversation_at_an_event(any_store: Store, setup: Setup) -> None:
    held = conversation(any_store, setup)

    def emit(kind: str, conversation_id: int | None = held.id) -> int:
        event = NewEvent(setup.account_id, kind, {"k": kind}, SYSTEM, conversation_id=conversation_id)
        return any_store.write_sync(lambda uow: uow.emit(event).seq)

    started = emit("conversation.bot_started")
    message = emit("message.created")
    emit("conversation.queued", None)  # another conversation's (none) does not count
    queued = emit("conversation.queued")
    after = emit("message.created")
    types = ("conversation.bot_started", "conversation.queued")

    def last(before: int) -> tuple[int, str] | None:
        found = any_store.read_sync(lambda uow: uow.events.last_of_types(held.id, before, types))
        return (found.seq, found.type) if found else None

    assert last(started) is None
    assert last(message) == (started, "conversation.bot_started")
    assert last(after) == (queued, "conversation.queued")
    assert last(queued) == (started, "conversation.bot_started")


def test_fail_pending_for_line_drops_only_that_line(any_store: Store, setup: Setup) -> None:
    first = conversation(any_store, setup)
    second = conversation(any_store, setup)

    def add(conversation_id: int, n: int) -> int:
        return any_store.write_sync(
            lambda uow: Deliveries.from_uow(uow).add(
                setup.account_id,
                n,
                setup.endpoint_id,
                conversation_id,
                f"evt_{n}",
                "message.created",
                "{}",
                1.0,
            )
        )

    done, dropped, other = add(first.id, 1), add(first.id, 2), add(second.id, 3)
    any_store.write_sync(
        lambda uow: Deliveries.from_uow(uow).finish(done, DeliveryState.SUCCEEDED, 200, None, 2.0)
    )
    ids = any_store.write_sync(
        lambda uow: Deliveries.from_uow(uow).fail_pending_for_line(
            setup.endpoint_id, first.id, "fell through", 3.0
        )
    )
    assert ids == [dropped]

    def state(delivery_id: int) -> tuple[str, str | None]:
        found = any_store.read_sync(lambda uow: Deliveries.from_uow(uow).get(delivery_id))
        assert found is not None
        return found.state.value, found.last_error

    assert state(done) == ("succeeded", None)
    assert state(dropped) == ("failed", "fell through")
    assert state(other) == ("pending", None)


def test_racing_inits_for_one_client_give_one_conversation(any_store: Store, setup: Setup) -> None:
    """The token's row lock serialises starts keyed by (token, clientId) across connections."""
    command = StartConversation(
        account_id=setup.account_id,
        department_id=setup.support,
        origin_dialect="test",
        origin_token_id=setup.token_id,
        origin_key="12",
    )
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []
    gate = threading.Barrier(4)

    def init() -> None:
        try:
            gate.wait()
            found, started = any_store.write_sync(lambda uow: start_or_resume(uow, command))
            results.append((found.id, started))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=init) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len({conversation_id for conversation_id, _ in results}) == 1
    assert sorted(started for _, started in results) == [False, False, False, True]
    assert is_sqlite(any_store) or len(results) == 4


def test_a_fall_through_and_a_bot_transfer_racing_move_the_conversation_once(
    any_store: Store, setup: Setup
) -> None:
    """Two units of work that both loaded the conversation while the bot held it: one wins."""
    held = conversation(any_store, setup, state="bot", bot_endpoint_id=setup.endpoint_id, bot_started_at=1.0)
    outcomes: list[str] = []
    # On PostgreSQL both transactions are open before either moves the row: two processes' writers (a
    # process's own writer runs its units one after the other, as SQLite's one writer does, so there the
    # second simply finds the first's result).
    gate = threading.Barrier(1 if is_sqlite(any_store) else 2)
    other = any_store if is_sqlite(any_store) else PostgresStore(any_store.url)

    def fall(uow: UnitOfWork) -> None:
        gate.wait()
        moved = routing.bot_fall_through(uow, replace(held), "accept_timeout", "test")
        outcomes.append("fell" if moved else "no-op")

    def transfer(uow: UnitOfWork) -> None:
        gate.wait()
        try:
            bots.transfer(uow, replace(held), None)
            outcomes.append("transferred")
        except Invalid as refused:
            outcomes.append(f"refused: {refused}")

    threads = [
        threading.Thread(target=lambda: any_store.write_sync(fall)),
        threading.Thread(target=lambda: other.write_sync(transfer)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    if other is not any_store:
        other.close_sync()
    moved = [o for o in outcomes if o in ("fell", "transferred")]
    assert len(moved) == 1, outcomes
    queued = any_store.read_sync(
        lambda uow: [
            e.type for e in uow.events.after(0, 1000, setup.account_id) if e.conversation_id == held.id
        ]
    )
    assert queued.count("conversation.queued") == 1
