"""The accept race: many agents accept one queued conversation at once; exactly one gets it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from store_backends import add_agent, add_department

from helpline.core import agents
from helpline.core import events as ev
from helpline.core.conversations import StartConversation, start_conversation
from helpline.core.errors import Conflict
from helpline.core.model import Agent, Conversation, ConversationState
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork

RACERS = 12


@dataclass
class Race:
    conversation: Conversation
    racers: list[Agent]


@pytest.fixture
def race(any_store: Store) -> Race:
    def seed(uow: UnitOfWork) -> Race:
        account = uow.accounts.create("Acme", uow.now)
        support = add_department(uow, account.id)
        racers = [add_agent(uow, account.id, f"Agent{n}", [support.id]) for n in range(RACERS)]
        start_conversation(
            uow, StartConversation(account.id, support.id, "test")
        )  # someone ahead in the queue
        conversation = start_conversation(uow, StartConversation(account.id, support.id, "test"))
        start_conversation(uow, StartConversation(account.id, support.id, "test"))  # and someone behind
        return Race(conversation, racers)

    return any_store.write_sync(seed)


def _fresh(uow: UnitOfWork, conversation: Conversation) -> Conversation:
    found = uow.conversations.get(conversation.account_id, conversation.id)
    assert found is not None
    return found


def _check_one_winner(store: Store, race: Race, outcomes: list[object]) -> None:
    winners = [o for o in outcomes if isinstance(o, Conversation)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(outcomes) == RACERS
    assert len(winners) == 1, outcomes
    assert len(losers) == RACERS - 1, outcomes
    stored = store.read_sync(lambda uow: _fresh(uow, race.conversation))
    assert (stored.state, stored.assignee_id) == (ConversationState.ASSIGNED, winners[0].assignee_id)
    events = store.read_sync(lambda uow: uow.events.after(0, 1000))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    accepted = [e for e in events if e.type == ev.CONVERSATION_ACCEPTED]
    assert [(e.conversation_id, e.agent_id) for e in accepted] == [(race.conversation.id, stored.assignee_id)]
    moved = [e for e in events if e.type == ev.QUEUE_POSITION_CHANGED]
    assert [(e.data["position"], e.actor.id) for e in moved] == [(2, stored.assignee_id)]
    loads = store.read_sync(lambda uow: [uow.agents.assigned_count(a.id) for a in race.racers])
    assert sorted(loads) == [0] * (RACERS - 1) + [1]


def _in_threads(calls: list[Callable[[], Any]]) -> list[object]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = []
    lock = threading.Lock()

    def run(call: Callable[[], Any]) -> None:
        barrier.wait(timeout=10)
        try:
            result: object = call()
        except Conflict as error:
            result = error
        except BaseException as error:  # anything else is a failure of the test, kept to be shown
            result = error
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_threads_loading_inside_their_unit_of_work(any_store: Store, race: Race) -> None:
    calls = [
        lambda agent=agent: any_store.write_sync(
            lambda uow: agents.accept(uow, agent, _fresh(uow, race.conversation))
        )
        for agent in race.racers
    ]
    _check_one_winner(any_store, race, _in_threads(calls))


def test_threads_holding_a_copy_loaded_before_anyone_accepted(any_store: Store, race: Race) -> None:
    """Every request saw the conversation queued; only the atomic transition can tell them apart."""
    snapshots = [any_store.read_sync(lambda uow: _fresh(uow, race.conversation)) for _ in race.racers]
    assert {s.state for s in snapshots} == {ConversationState.QUEUED}
    calls = [
        lambda agent=agent, stale=stale: any_store.write_sync(lambda uow: agents.accept(uow, agent, stale))
        for agent, stale in zip(race.racers, snapshots, strict=True)
    ]
    _check_one_winner(any_store, race, _in_threads(calls))


def test_asyncio_tasks(any_store: Store, race: Race) -> None:
    async def main() -> list[object]:
        snapshot = await any_store.read(lambda uow: _fresh(uow, race.conversation))
        copies = [replace(snapshot) for _ in race.racers]  # one each: accept() updates the object it gets
        return list(
            await asyncio.gather(
                *(
                    any_store.write(lambda uow, a=agent, mine=mine: agents.accept(uow, a, mine))
                    for agent, mine in zip(race.racers, copies, strict=True)
                ),
                return_exceptions=True,
            )
        )

    _check_one_winner(any_store, race, asyncio.run(main()))
