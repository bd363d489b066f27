"""The unit of work everything above the store codes against; the store's ``SqlUnitOfWork`` is one.

It is the core's ports (:mod:`helpline.core.ports`, the channel's and inboxes' repositories) plus what the
dialects, APIs and jobs read beyond the core's use cases (listings, search, statistics, the event log's
bounds), and ``db``: the transaction's connection, from which a feature that owns tables builds its own
repository (``Deliveries.from_uow(uow)``, ``OmnideskRepository.from_uow(uow)``), so that those tables join
the same transaction without the store knowing of them. Handlers are typed on this protocol and on
:class:`helpline.store.base.Store`; ``bootstrap`` picks the concrete store.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import Protocol

from helpline.core import channel, ports
from helpline.core.channel import ContactToken
from helpline.core.inboxes import EndpointHeaderRepository, InboxRepository
from helpline.core.model import Agent, Conversation, ConversationState, Event, Message
from helpline.core.widget import WidgetSettingsRepository
from helpline.store.statements import Db


class AgentRepository(ports.AgentRepository, Protocol):
    def online(self, account_id: int, department_id: int | None) -> builtins.list[Agent]: ...


class EndpointRepository(ports.EndpointRepository, Protocol):
    def accounts_with_enabled(self, account_ids: Iterable[int]) -> set[int]: ...


class ConversationRepository(ports.ConversationRepository, Protocol):
    def by_ids(self, conversation_ids: Iterable[int]) -> dict[int, Conversation]: ...
    def average_answer_seconds(
        self, account_id: int, department_id: int | None, last: int
    ) -> float | None: ...


class EventLog(ports.EventLog, Protocol):
    def first_seq(self) -> int: ...
    def last_of_types(self, conversation_id: int, before_seq: int, types: Sequence[str]) -> Event | None: ...


class ConversationSearch(Protocol):
    def search(
        self,
        account_id: int,
        department_ids: Sequence[int],
        agent_id: int,
        state: ConversationState | None,
        include_all: bool,
        text: str,
        limit: int,
    ) -> builtins.list[Conversation]: ...


class ConsoleSessionRepository(Protocol):
    def create(self, agent_id: int, token_hash: str, now: float, expires_at: float) -> int: ...
    def agent_id(self, token_hash: str, now: float) -> int | None: ...
    def delete(self, token_hash: str) -> bool: ...
    def delete_expired(self, now: float) -> int: ...


class ContactTokenRepository(channel.ContactTokenRepository, Protocol):
    def get(self, token_id: int) -> ContactToken | None: ...


class MessageChangeRepository(channel.MessageChangeRepository, Protocol):
    def page(
        self,
        conversation_id: int,
        *,
        before: int | None = None,
        after: int | None = None,
        updated_after: float | None = None,
        limit: int | None = 20,
    ) -> builtins.list[Message]: ...


class PushTokenRepository(Protocol):
    def add(self, contact_token_id: int, token: str, now: float) -> bool: ...
    def remove(self, contact_token_id: int, token: str) -> bool: ...
    def for_contact_token(self, contact_token_id: int) -> builtins.list[str]: ...


class ContactEventLog(Protocol):
    def for_conversations_after(
        self, conversation_ids: Sequence[int], seq: int, until: int, limit: int
    ) -> builtins.list[Event]: ...
    def seq_of_message(self, message: Message) -> int | None: ...
    def last_seq_before(self, conversation_ids: Sequence[int], time: float) -> int: ...


class ChannelRepositories(Protocol):
    """Contact channels (SDK clients) and rich messages: ``uow.sdk``."""

    @property
    def contact_tokens(self) -> ContactTokenRepository: ...
    @property
    def conversations(self) -> channel.ContactConversationRepository: ...
    @property
    def messages(self) -> MessageChangeRepository: ...
    @property
    def reactions(self) -> channel.ReactionRepository: ...
    @property
    def inboxes(self) -> InboxRepository: ...
    @property
    def endpoint_headers(self) -> EndpointHeaderRepository: ...
    @property
    def push_tokens(self) -> PushTokenRepository: ...
    @property
    def events(self) -> ContactEventLog: ...


class UnitOfWork(ports.UnitOfWork, Protocol):
    @property
    def db(self) -> Db: ...
    @property
    def agents(self) -> AgentRepository: ...
    @property
    def endpoints(self) -> EndpointRepository: ...
    @property
    def conversations(self) -> ConversationRepository: ...
    @property
    def events(self) -> EventLog: ...
    @property
    def conversation_search(self) -> ConversationSearch: ...
    @property
    def console_sessions(self) -> ConsoleSessionRepository: ...
    @property
    def sdk(self) -> ChannelRepositories: ...
    @property
    def widget(self) -> WidgetSettingsRepository: ...
