"""Load each conversation's external history once, through the outbound guard, and keep the outcome.

The URL is fetched after the conversation is created (so a slow history server never delays the
customer); conversations whose history is still ``pending`` are picked up again after a restart.

Once however many processes run: a process claims a pending history with a lease (``claim``) before
fetching it, and records the outcome holding the conversation, only while it is still pending. A
process that dies mid-fetch leaves the lease to run out; then another fetches it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from helpline.core import conversations
from helpline.core.model import Conversation, HistoryEntry
from helpline.store import rows
from helpline.store.base import Store
from helpline.store.statements import every, is_sqlite
from helpline.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Fetch = Callable[[str], Any]  # async: url -> parsed JSON, raising with a readable message on failure
Parser = Callable[[int, Any], list[HistoryEntry]]
LEASE_MARGIN = 5.0


def claim(uow: UnitOfWork, until: float, limit: int) -> list[Conversation]:
    """Pending histories no other process is fetching (no lease, or one that ran out), leased to this one
    until ``until``: one statement, skipping rows another process is claiming right now (PostgreSQL)."""
    lock = "" if is_sqlite(uow.db) else " FOR NO KEY UPDATE SKIP LOCKED"
    found = every(
        uow.db,
        "WITH picked AS MATERIALIZED (SELECT id FROM conversations WHERE history_status = 'pending'"  # noqa: S608
        f" AND (history_locked_until IS NULL OR history_locked_until <= ?) ORDER BY id LIMIT ?{lock})"
        " UPDATE conversations SET history_locked_until = ? WHERE id IN (SELECT id FROM picked)"
        " AND history_status = 'pending' AND (history_locked_until IS NULL OR history_locked_until <= ?)"
        " RETURNING *",
        [uow.now, limit, until, uow.now],
    )
    return sorted((rows.conversation(row) for row in found), key=lambda c: c.id)


class HistoryLoader:
    def __init__(
        self, store: Store, fetch: Fetch, parsers: Mapping[str, Parser], lease: float = 30.0
    ) -> None:
        """``lease``: how long a claimed fetch may take before another process may try it (longer than
        the fetch's own timeout)."""
        self.store = store
        self.lease = lease
        self.fetch = fetch
        self.parsers = parsers
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def load(self, conversation: Conversation) -> None:
        parser = self.parsers.get(conversation.origin_dialect)
        url = conversation.external_history_url
        entries: list[HistoryEntry] | None = None
        problem: str | None = None
        if parser is None or url is None:
            problem = "this API has no external history format"
        else:
            try:
                entries = parser(conversation.id, await self.fetch(url))
            except Exception as failure:  # any failure is shown to the agent, never fails the conversation
                problem = f"could not load {url}: {failure}"

        def work(uow: UnitOfWork) -> None:
            # Still pending, and held from here to the commit (waiting for whoever holds it): of two processes
            # recording one history (a lease that ran out mid-fetch), the second finds it recorded.
            cursor = uow.db.execute(
                "UPDATE conversations SET history_locked_until = NULL WHERE id = ? AND history_status = 'pending'",
                [conversation.id],
            )
            current = uow.conversations.by_id_any_account(conversation.id) if cursor.rowcount == 1 else None
            if current is not None:
                conversations.record_history(uow, current, entries, problem)

        await self.store.write(work)

    async def run(self, stop: asyncio.Event, every: float) -> None:
        while not stop.is_set():
            try:
                pending = await self.store.write(lambda uow: claim(uow, uow.now + self.lease, 20))
                if pending:
                    await asyncio.gather(*(self.load(c) for c in pending))
                    continue
            except Exception:
                log.exception("loading external histories failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), every)
