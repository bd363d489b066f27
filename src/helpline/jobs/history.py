"""Load each conversation's external history once, through the outbound guard, and keep the outcome.

The URL is fetched after the conversation is created (so a slow history server never delays the
customer); conversations whose history is still ``pending`` are picked up again after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

from helpline.core import conversations
from helpline.core.model import Conversation, HistoryEntry
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Fetch = Callable[[str], Any]  # async: url -> parsed JSON, raising with a readable message on failure
Parser = Callable[[int, Any], list[HistoryEntry]]


class HistoryLoader:
    def __init__(self, store: Store, fetch: Fetch, parsers: Mapping[str, Parser]) -> None:
        self.store = store
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
            current = uow.conversations.by_id_any_account(conversation.id)
            if current is not None and current.history_status.value == "pending":
                conversations.record_history(uow, current, entries, problem)

        await self.store.write(work)

    async def run(self, stop: asyncio.Event, every: float) -> None:
        while not stop.is_set():
            try:
                pending = await self.store.read(lambda uow: uow.conversations.pending_history(20))
                if pending:
                    await asyncio.gather(*(self.load(c) for c in pending))
                    continue
            except Exception:
                log.exception("loading external histories failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), every)
