"""``agents.lock_for_assignment``: a second unit of work holding one of the same agents waits for the first
to end (PostgreSQL row locks; SQLite's one writer serialises them anyway), and sees what it committed."""

from __future__ import annotations

import threading
import time

from store_backends import add_agent, add_department

from helpline.core.model import Presence
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork


def test_a_unit_of_work_holding_an_agent_makes_the_next_one_wait_and_then_see_its_writes(
    any_store: Store,
) -> None:
    def seed(uow: UnitOfWork) -> list[int]:
        account = uow.accounts.create("Acme", 1.0)
        department = add_department(uow, account.id)
        return [add_agent(uow, account.id, f"agent {n}", [department.id]).id for n in range(3)]

    ids = any_store.write_sync(seed)
    first_holds = threading.Event()
    times: dict[str, float] = {}

    def first(uow: UnitOfWork) -> None:
        uow.agents.lock_for_assignment(reversed(ids))  # any order in, id order taken
        first_holds.set()
        time.sleep(0.3)
        uow.agents.set_presence(ids[1], Presence.AWAY, uow.now)
        times["first done"] = time.monotonic()

    def second(uow: UnitOfWork) -> str:
        uow.agents.lock_for_assignment([ids[1]])
        times["second holds"] = time.monotonic()
        agent = uow.agents.get(ids[1])
        assert agent is not None
        return agent.presence.value

    thread = threading.Thread(target=any_store.write_sync, args=(first,))
    thread.start()
    assert first_holds.wait(10)
    seen = any_store.write_sync(second)
    thread.join(10)
    assert times["second holds"] >= times["first done"]
    assert seen == "away"


def test_holding_no_agents_is_allowed(any_store: Store) -> None:
    any_store.write_sync(lambda uow: uow.agents.lock_for_assignment([]))
