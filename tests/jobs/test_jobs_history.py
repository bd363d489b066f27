"""External histories are fetched once, however many loaders (processes) share the database: a claim
leases each pending one to one loader; a lease that ran out lets another try."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

from store_backends import add_department, opened_store

from helpline.core.model import Conversation, ConversationState, HistoryStatus
from helpline.jobs.history import HistoryLoader, claim
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork


def pending_conversations(store: Store, count: int) -> list[int]:
    def seed(uow: UnitOfWork) -> list[int]:
        account = uow.accounts.create("Acme", 1.0)
        department = add_department(uow, account.id)
        return [
            uow.conversations.create(
                Conversation(
                    id=0,
                    hash=str(uuid.uuid4()),
                    account_id=account.id,
                    department_id=department.id,
                    origin_department_id=department.id,
                    contact_id=None,
                    state=ConversationState.QUEUED,
                    origin_dialect="test",
                    external_history_url=f"https://history.example/{n}",
                    history_status=HistoryStatus.PENDING,
                    created_at=1.0,
                    updated_at=1.0,
                )
            ).id
            for n in range(count)
        ]

    return store.write_sync(seed)


def test_a_claimed_history_is_not_claimed_again_until_its_lease_runs_out(any_store: Store) -> None:
    first, second = pending_conversations(any_store, 2)
    taken = any_store.write_sync(lambda uow: [c.id for c in claim(uow, uow.now + 60, 10)])
    assert taken == [first, second]
    assert any_store.write_sync(lambda uow: claim(uow, uow.now + 60, 10)) == []

    any_store.write_sync(lambda uow: uow.db.execute("UPDATE conversations SET history_locked_until = 0"))
    assert any_store.write_sync(lambda uow: [c.id for c in claim(uow, uow.now + 60, 1)]) == [first]


def test_two_loaders_on_one_database_fetch_each_history_once(any_database_url: str) -> None:
    """Two stores (on PostgreSQL, two connection pools, as two processes have) and a loader on each."""
    fetched: Counter[str] = Counter()

    async def fetch(url: str) -> Any:
        fetched[url] += 1
        await asyncio.sleep(0.05)
        return []

    def parse(_conversation_id: int, _data: Any) -> list[Any]:
        return []

    with (
        opened_store(any_database_url, migrate=False) as one,
        opened_store(any_database_url, migrate=False) as two,
    ):
        ids = pending_conversations(one, 12)

        async def go() -> None:
            stop = asyncio.Event()
            loaders = [HistoryLoader(store, fetch, {"test": parse}) for store in (one, two)]
            tasks = [asyncio.create_task(loader.run(stop, every=0.05)) for loader in loaders]
            for _ in range(200):
                loaded = await one.read(
                    lambda uow: [uow.conversations.by_id_any_account(i).history_status for i in ids]  # type: ignore[union-attr]
                )
                if all(status is HistoryStatus.LOADED for status in loaded):
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.gather(*tasks)

        asyncio.run(go())
        events = one.read_sync(lambda uow: [e.type for e in uow.events.after(0, 1000)])
    assert sorted(fetched) == sorted(f"https://history.example/{n}" for n in range(12))
    assert set(fetched.values()) == {1}
    assert events.count("conversation.history_loaded") == 12
