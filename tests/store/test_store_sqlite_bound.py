"""The SQLite store bound to a running event loop: group commit on the loop, other threads handed over."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from helpline.core import admin
from helpline.core.errors import Invalid
from helpline.core.model import Event
from helpline.store.sql import SqlUnitOfWork
from helpline.store.sqlite import SqliteStore


def _store(tmp_path: Path) -> SqliteStore:
    store = SqliteStore(f"sqlite:///{tmp_path / 'bound.db'}")
    store.migrate()
    return store


def test_writes_on_the_loop_commit_in_groups_and_notify_in_order(tmp_path: Path) -> None:
    store = _store(tmp_path)
    heard: list[list[Event]] = []
    batches: list[int] = []
    run_batch = store._run_batch

    def counting(conn: Any, batch: Any) -> Any:
        batches.append(len(batch))
        return run_batch(conn, batch)

    store._run_batch = counting  # type: ignore[method-assign]

    def fail(uow: SqlUnitOfWork) -> None:
        admin.create_account(uow, "doomed")
        raise Invalid("no")

    async def scenario() -> list[Any]:
        loop = asyncio.get_running_loop()
        store.bind(loop)
        store.add_listener(heard.append, loop)
        account = await store.write(lambda uow: admin.create_account(uow, "Acme"))
        results = await asyncio.gather(
            *(store.write(lambda uow, n=n: admin.create_account(uow, f"A{n}").id) for n in range(10)),
            store.write(fail),
            return_exceptions=True,
        )
        # A thread's write_sync is handed to the loop, not run beside it.
        from_thread: list[int] = []
        thread = threading.Thread(
            target=lambda: from_thread.append(store.write_sync(lambda uow: admin.create_account(uow, "T").id))
        )
        thread.start()
        await asyncio.to_thread(thread.join, 10)
        with pytest.raises(RuntimeError, match="block the event loop"):
            store.write_sync(lambda uow: None)
        names = await store.read(lambda uow: [a.name for a in uow.accounts.list()])
        await store.close()
        return [account.id, results, from_thread, names]

    account_id, results, from_thread, names = asyncio.run(scenario())
    assert account_id == 1
    assert results[:10] == list(range(2, 12))
    assert isinstance(results[10], Invalid)
    assert from_thread == [12]
    assert names == ["Acme", *(f"A{n}" for n in range(10)), "T"]
    assert batches[:2] == [1, 11]  # the gathered writes went as one group; the failing one alone undone
    assert heard == []  # accounts emit no events; the listener is only called with events


def test_events_reach_listeners_in_commit_order(tmp_path: Path) -> None:
    from helpline.core.events import NewEvent
    from helpline.core.model import SYSTEM

    store = _store(tmp_path)
    account = store.write_sync(lambda uow: admin.create_account(uow, "Acme"))
    heard: list[int] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        store.bind(loop)
        store.add_listener(lambda events: heard.extend(e.seq for e in events), loop)

        def emit(uow: SqlUnitOfWork) -> int:
            return uow.emit(NewEvent(account_id=account.id, type="test.event", data={}, actor=SYSTEM)).seq

        await asyncio.gather(*(store.write(emit) for _ in range(50)))
        await asyncio.sleep(0)
        await store.close()

    asyncio.run(scenario())
    assert heard == list(range(1, 51))
