"""The SQL repositories, written once for both backends, and the unit of work that holds them.

Statements (``store.statements``) use ``?`` placeholders; the PostgreSQL connection rewrites them to
``%s``. None of the repositories commits: the store's ``write`` does, once per unit of work (or once per
group of them on SQLite). Tables a feature owns (a dialect's, the delivery log) have their repository in
that feature's package, built from ``uow.db``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Generic, TypeVar, overload

from helpline.core.events import NewEvent
from helpline.core.model import Event
from helpline.store.sql.channel import SdkRepositories
from helpline.store.sql.conversations import Contacts, Conversations, ConversationSearch
from helpline.store.sql.directory import Accounts, Agents, ConsoleSessions, Departments, Endpoints, Tokens
from helpline.store.sql.events import Events
from helpline.store.sql.messages import Files, History, Messages
from helpline.store.sql.widget import WidgetRepository
from helpline.store.statements import Db

R = TypeVar("R")


class _Lazy(Generic[R]):
    """A repository made on first use and then kept as a plain attribute of the unit of work.

    (``functools.cached_property`` does the same but takes a lock on every first access in Python 3.11.)
    """

    def __init__(self, factory: Callable[[Db], R]) -> None:
        self.factory = factory

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> _Lazy[R]: ...
    @overload
    def __get__(self, instance: SqlUnitOfWork, owner: type) -> R: ...
    def __get__(self, instance: SqlUnitOfWork | None, owner: type) -> R | _Lazy[R]:
        if instance is None:
            return self
        made = self.factory(instance.db)
        instance.__dict__[self.name] = made
        return made


class SqlUnitOfWork:
    """Every repository over one connection inside one transaction; events appended are kept for fan-out.

    Repositories are made on first use: a request touches three or four of them, and building all of
    them for every unit of work showed up on the hot path.
    """

    accounts = _Lazy(Accounts)
    departments = _Lazy(Departments)
    agents = _Lazy(Agents)
    tokens = _Lazy(Tokens)
    endpoints = _Lazy(Endpoints)
    contacts = _Lazy(Contacts)
    conversations = _Lazy(Conversations)
    messages = _Lazy(Messages)
    history = _Lazy(History)
    files = _Lazy(Files)
    events = _Lazy(Events)
    console_sessions = _Lazy(ConsoleSessions)
    conversation_search = _Lazy(ConversationSearch)
    sdk = _Lazy(SdkRepositories)
    widget = _Lazy(WidgetRepository)

    def __init__(self, db: Db, now: float) -> None:
        self.db = db
        self.now = now
        self.recorded: builtins.list[Event] = []

    def emit(self, event: NewEvent) -> Event:
        stored = self.events.append(event, self.now)
        self.recorded.append(stored)
        return stored
