"""An in-memory implementation of :mod:`helpline.core.ports` for unit tests of the core.

``FakeDb`` holds the tables; a ``FakeUnitOfWork`` is one transaction over them. ``FakeStore.write``
runs a unit of work and, like the real stores, keeps nothing of it when it raises.

The repositories behave like the SQL ones in ``helpline.store.sql`` (checked against both real backends
by ``tests/store/test_store_core_flows.py``):

- they hand out copies, so a use case that changes an entity without calling the repository changes
  nothing stored (as with a database row);
- ``update``/``transition`` take column values (enum *values*, as the core passes them) and refuse
  unknown columns;
- ``Conversations.create`` keeps only the columns the SQL insert writes;
- unique constraints (agent email, token hash, message seq and idempotency key) raise ``IntegrityError``;
- ordering follows the SQL ``ORDER BY`` clauses, with NULLs first as on SQLite, the default backend.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

from helpline.core.channel import ContactToken, Reaction
from helpline.core.events import NewEvent
from helpline.core.model import (
    Account,
    ActorType,
    Agent,
    ApiToken,
    Contact,
    Conversation,
    ConversationState,
    Department,
    Endpoint,
    Event,
    FinishReason,
    HistoryEntry,
    HistoryStatus,
    Message,
    MessageSeq,
    Presence,
    Role,
)

T = TypeVar("T")


class IntegrityError(Exception):
    """A unique or foreign-key constraint the SQL schema would have refused."""


@dataclass
class FakeDb:
    """The tables. Ids start at 1 per table, as in a fresh database."""

    accounts: dict[int, Account] = field(default_factory=dict)
    departments: dict[int, Department] = field(default_factory=dict)
    agents: dict[int, Agent] = field(default_factory=dict)
    agent_keys: dict[str, int] = field(default_factory=dict)
    tokens: dict[int, ApiToken] = field(default_factory=dict)
    token_hashes: dict[str, int] = field(default_factory=dict)
    endpoints: dict[int, Endpoint] = field(default_factory=dict)
    contacts: dict[int, Contact] = field(default_factory=dict)
    conversations: dict[int, Conversation] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    sequences: dict[str, int] = field(default_factory=dict)
    contact_tokens: dict[int, tuple[ContactToken, str]] = field(default_factory=dict)  # id -> (token, hash)
    reactions: list[Reaction] = field(default_factory=list)
    assignment_locks: list[list[int]] = field(default_factory=list)  # agents held, per lock_for_assignment

    def next_id(self, table: str) -> int:
        self.sequences[table] = self.sequences.get(table, 0) + 1
        return self.sequences[table]

    def snapshot(self) -> FakeDb:
        return copy.deepcopy(self)

    def restore(self, snapshot: FakeDb) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(snapshot, f.name))


def _copy(value: T) -> T:
    return copy.deepcopy(value)


def _nulls_first(value: float | None) -> tuple[int, float]:
    return (0, 0.0) if value is None else (1, value)


def _set_columns(entity: Any, values: dict[str, Any], converters: dict[str, Callable[[Any], Any]]) -> None:
    names = {f.name for f in fields(entity)}
    for name, value in values.items():
        if name not in names or name == "id":
            raise KeyError(f"no column {name!r} on {type(entity).__name__}")
        convert = converters.get(name)
        setattr(
            entity,
            name,
            convert(value) if convert is not None and value is not None else copy.deepcopy(value),
        )


class FakeAccounts:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def create(self, name: str, now: float) -> Account:
        account = Account(id=self.db.next_id("accounts"), name=name, created_at=now)
        self.db.accounts[account.id] = _copy(account)
        return account

    def get(self, account_id: int) -> Account | None:
        return _copy(self.db.accounts.get(account_id))

    def list(self) -> list[Account]:
        return [_copy(a) for _, a in sorted(self.db.accounts.items())]


class FakeDepartments:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def create(self, department: Department) -> Department:
        if department.account_id not in self.db.accounts:
            raise IntegrityError(f"account {department.account_id} does not exist")
        department.id = self.db.next_id("departments")
        self.db.departments[department.id] = _copy(department)
        return department

    def get(self, account_id: int, department_id: int) -> Department | None:
        found = self.db.departments.get(department_id)
        return _copy(found) if found is not None and found.account_id == account_id else None

    def list(self, account_id: int | None = None) -> list[Department]:
        return [
            _copy(d)
            for _, d in sorted(self.db.departments.items())
            if account_id is None or d.account_id == account_id
        ]

    def update(self, department_id: int, fields: dict[str, Any]) -> None:
        found = self.db.departments.get(department_id)
        if found is not None:
            _set_columns(found, fields, {})


class FakeAgents:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def create(self, agent: Agent) -> Agent:
        if any(a.email == agent.email for a in self.db.agents.values()):
            raise IntegrityError(f"agents.email {agent.email!r} is taken")
        for department_id in agent.department_ids:
            if department_id not in self.db.departments:
                raise IntegrityError(f"department {department_id} does not exist")
        agent.id = self.db.next_id("agents")
        stored = _copy(agent)
        stored.department_ids = sorted(agent.department_ids)
        self.db.agents[agent.id] = stored
        return agent

    def get(self, agent_id: int) -> Agent | None:
        return _copy(self.db.agents.get(agent_id))

    def by_email(self, email: str) -> Agent | None:
        return next((_copy(a) for a in self.db.agents.values() if a.email == email), None)

    def list(self, account_id: int | None = None) -> list[Agent]:
        return [
            _copy(a)
            for _, a in sorted(self.db.agents.items())
            if account_id is None or a.account_id == account_id
        ]

    def set_presence(self, agent_id: int, presence: Presence, now: float) -> None:
        found = self.db.agents.get(agent_id)
        if found is not None:
            found.presence = presence

    def online_in_department(self, department_id: int) -> list[Agent]:
        return [
            _copy(a)
            for _, a in sorted(self.db.agents.items())
            if a.presence is Presence.ONLINE and department_id in a.department_ids
        ]

    def add_key(self, agent_id: int, key_hash: str, now: float) -> None:
        if key_hash in self.db.agent_keys:
            raise IntegrityError("agent_keys.key_hash is taken")
        self.db.agent_keys[key_hash] = agent_id

    def lock_for_assignment(self, agent_ids: Iterable[int]) -> None:
        self.db.assignment_locks.append(sorted(set(agent_ids)))

    def by_key_hash(self, key_hash: str) -> Agent | None:
        agent_id = self.db.agent_keys.get(key_hash)
        return self.get(agent_id) if agent_id is not None else None

    def assigned_count(self, agent_id: int) -> int:
        return _assigned_count(self.db, agent_id)


def _assigned_count(db: FakeDb, agent_id: int) -> int:
    return sum(
        1
        for c in db.conversations.values()
        if c.assignee_id == agent_id and c.state is ConversationState.ASSIGNED
    )


class FakeTokens:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def create(
        self, account_id: int, token_hash: str, prefix: str, endpoint_id: int | None, now: float
    ) -> ApiToken:
        if token_hash in self.db.token_hashes:
            raise IntegrityError("api_tokens.token_hash is taken")
        token = ApiToken(self.db.next_id("api_tokens"), account_id, prefix, endpoint_id, True, now)
        self.db.tokens[token.id] = _copy(token)
        self.db.token_hashes[token_hash] = token.id
        return token

    def by_hash(self, token_hash: str) -> ApiToken | None:
        token_id = self.db.token_hashes.get(token_hash)
        return self.get(token_id) if token_id is not None else None

    def get(self, token_id: int) -> ApiToken | None:
        return _copy(self.db.tokens.get(token_id))

    def list(self, account_id: int | None = None) -> list[ApiToken]:
        return [
            _copy(t)
            for _, t in sorted(self.db.tokens.items())
            if account_id is None or t.account_id == account_id
        ]

    def revoke(self, token_id: int, now: float) -> None:
        found = self.db.tokens.get(token_id)
        if found is not None:
            found.active = False

    def hold(self, token_id: int) -> None:
        """One fake transaction runs at a time: there is nobody to lock out."""


class FakeEndpoints:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def create(self, account_id: int, kind: str, url: str, secret: str, now: float) -> Endpoint:
        endpoint = Endpoint(self.db.next_id("endpoints"), account_id, kind, url, secret, True, None, now)
        self.db.endpoints[endpoint.id] = _copy(endpoint)
        return endpoint

    def get(self, endpoint_id: int) -> Endpoint | None:
        return _copy(self.db.endpoints.get(endpoint_id))

    def disable(self, endpoint_id: int, reason: str) -> None:
        found = self.db.endpoints.get(endpoint_id)
        if found is not None:
            found.enabled = False
            found.disabled_reason = reason

    def update_url(self, endpoint_id: int, url: str) -> None:
        found = self.db.endpoints.get(endpoint_id)
        if found is not None:
            found.url = url
            found.enabled = True
            found.disabled_reason = None


class FakeContacts:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def create(self, contact: Contact) -> Contact:
        contact.id = self.db.next_id("contacts")
        self.db.contacts[contact.id] = _copy(contact)
        return contact

    def get(self, contact_id: int) -> Contact | None:
        return _copy(self.db.contacts.get(contact_id))


_CONVERSATION_COLUMNS: dict[str, Callable[[Any], Any]] = {
    "state": ConversationState,
    "finish_reason": FinishReason,
    "finished_by_type": ActorType,
    "history_status": HistoryStatus,
}
# The columns ``Conversations.create`` inserts; everything else starts at the column default.
_CREATED_COLUMNS = (
    "hash",
    "account_id",
    "department_id",
    "origin_department_id",
    "contact_id",
    "state",
    "origin_dialect",
    "origin_token_id",
    "origin_key",
    "extra",
    "external_history_url",
    "history_status",
    "tags",
    "created_at",
    "updated_at",
)


class FakeConversations:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def create(self, conversation: Conversation) -> Conversation:
        if any(c.hash == conversation.hash for c in self.db.conversations.values()):
            raise IntegrityError("conversations.hash is taken")
        conversation.id = self.db.next_id("conversations")
        stored = Conversation(
            id=conversation.id,
            **{name: copy.deepcopy(getattr(conversation, name)) for name in _CREATED_COLUMNS},
        )
        self.db.conversations[conversation.id] = stored
        return conversation

    def get(self, account_id: int, conversation_id: int) -> Conversation | None:
        found = self.db.conversations.get(conversation_id)
        return _copy(found) if found is not None and found.account_id == account_id else None

    def by_hash(self, account_id: int, conversation_hash: str) -> Conversation | None:
        return next(
            (
                _copy(c)
                for c in self.db.conversations.values()
                if c.hash == conversation_hash and c.account_id == account_id
            ),
            None,
        )

    def by_id_any_account(self, conversation_id: int) -> Conversation | None:
        return _copy(self.db.conversations.get(conversation_id))

    def hold(self, conversation_id: int) -> Conversation | None:
        return _copy(self.db.conversations.get(conversation_id))  # one unit of work at a time

    def update(self, conversation_id: int, fields: dict[str, Any]) -> None:
        found = self.db.conversations.get(conversation_id)
        if found is not None:
            _set_columns(found, fields, _CONVERSATION_COLUMNS)

    def transition(
        self, conversation_id: int, from_states: Iterable[ConversationState], fields: dict[str, Any]
    ) -> bool:
        found = self.db.conversations.get(conversation_id)
        if found is None or found.state not in set(from_states):
            return False
        _set_columns(found, fields, _CONVERSATION_COLUMNS)
        return True

    def next_message_seq(self, conversation_id: int) -> int:
        found = self.db.conversations[conversation_id]
        found.last_message_seq += 1
        return found.last_message_seq

    def claim_message_seq_by_hash(self, account_id: int, conversation_hash: str) -> MessageSeq | None:
        found = self.by_hash(account_id, conversation_hash)
        if found is None or not found.is_open:
            return None
        seq = self.next_message_seq(found.id)
        return MessageSeq(
            found.id, found.account_id, found.department_id, found.contact_id, found.assignee_id, seq
        )

    def _where(self, keep: Callable[[Conversation], bool]) -> list[Conversation]:
        return [c for c in self.db.conversations.values() if keep(c)]

    def queued_in_department(self, department_id: int) -> list[Conversation]:
        found = self._where(
            lambda c: c.department_id == department_id and c.state is ConversationState.QUEUED
        )
        return [_copy(c) for c in sorted(found, key=lambda c: (_nulls_first(c.queued_at), c.id))]

    def list_for_agent(
        self,
        account_id: int,
        department_ids: Sequence[int],
        agent_id: int,
        state: ConversationState | None,
        include_all: bool,
        limit: int,
    ) -> list[Conversation]:
        def keep(c: Conversation) -> bool:
            if c.account_id != account_id:
                return False
            if not include_all and not (c.assignee_id == agent_id or c.department_id in department_ids):
                return False
            return state is None or c.state is state

        found = self._where(keep)
        if state is ConversationState.QUEUED:
            found.sort(key=lambda c: (_nulls_first(c.queued_at), c.id))
        else:
            found.sort(key=lambda c: -c.id)
        return [_copy(c) for c in found[:limit]]

    def _department(self, conversation: Conversation) -> Department:
        return self.db.departments[conversation.department_id]

    def queued_older_than(self, now: float) -> list[Conversation]:
        found = self._where(
            lambda c: (
                c.state is ConversationState.QUEUED
                and c.queued_at is not None
                and c.queued_at + self._department(c).queued_max_time <= now
            )
        )
        return [_copy(c) for c in sorted(found, key=lambda c: (c.queued_at, c.id))]

    def offers_older_than(self, now: float) -> list[Conversation]:
        found = self._where(
            lambda c: (
                c.state is ConversationState.QUEUED
                and c.offered_to is not None
                and c.offered_at is not None
                and c.offered_at + self._department(c).ringing_max_time <= now
            )
        )
        return [_copy(c) for c in sorted(found, key=lambda c: (c.offered_at, c.id))]

    def open_by_origin_key(self, token_id: int, key: str) -> Conversation | None:
        found = self._where(
            lambda c: (
                c.origin_token_id == token_id
                and c.origin_key == key
                and c.state is not ConversationState.FINISHED
            )
        )
        return _copy(max(found, key=lambda c: c.id)) if found else None

    def bots_unaccepted_older_than(self, now: float) -> list[Conversation]:
        found = self._where(
            lambda c: (
                c.state is ConversationState.BOT
                and c.bot_accepted_at is None
                and c.bot_started_at is not None
                and c.bot_started_at + self._department(c).bot_accept_timeout <= now
            )
        )
        return [_copy(c) for c in sorted(found, key=lambda c: (c.bot_started_at or 0.0, c.id))]

    def held_by_bot(self, endpoint_id: int) -> list[Conversation]:
        found = self._where(lambda c: c.state is ConversationState.BOT and c.bot_endpoint_id == endpoint_id)
        return [_copy(c) for c in sorted(found, key=lambda c: c.id)]

    def pending_history(self, limit: int) -> list[Conversation]:
        found = self._where(lambda c: c.history_status is HistoryStatus.PENDING)
        return [_copy(c) for c in sorted(found, key=lambda c: c.id)[:limit]]

    def assigned_count(self, agent_id: int) -> int:
        return _assigned_count(self.db, agent_id)

    def workload(self, agent_id: int) -> int:
        ringing = sum(
            1
            for c in self.db.conversations.values()
            if c.offered_to == agent_id and c.state is ConversationState.QUEUED
        )
        return _assigned_count(self.db, agent_id) + ringing


class FakeMessages:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def add(self, message: Message) -> Message:
        for other in self.db.messages.values():
            if other.conversation_id != message.conversation_id:
                continue
            if other.seq == message.seq:
                raise IntegrityError(
                    f"message seq {message.seq} is taken in conversation {message.conversation_id}"
                )
            if message.idempotency_key is not None and other.idempotency_key == message.idempotency_key:
                raise IntegrityError(f"idempotency key {message.idempotency_key!r} is taken")
        message.updated_at = message.updated_at or message.created_at
        message.id = self.db.next_id("messages")
        self.db.messages[message.id] = _copy(message)
        return message

    def by_idempotency_key(self, conversation_id: int, key: str) -> Message | None:
        return next(
            (
                _copy(m)
                for m in self.db.messages.values()
                if m.conversation_id == conversation_id and m.idempotency_key == key
            ),
            None,
        )

    def list(self, conversation_id: int) -> list[Message]:
        found = [m for m in self.db.messages.values() if m.conversation_id == conversation_id]
        return [_copy(m) for m in sorted(found, key=lambda m: m.seq)]


class FakeHistory:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def add_many(self, entries: Sequence[HistoryEntry]) -> None:
        for entry in entries:
            if any(
                e.conversation_id == entry.conversation_id and e.position == entry.position
                for e in self.db.history
            ):
                raise IntegrityError(f"history position {entry.position} is taken")
            self.db.history.append(_copy(entry))

    def list(self, conversation_id: int) -> list[HistoryEntry]:
        found = [e for e in self.db.history if e.conversation_id == conversation_id]
        return [_copy(e) for e in sorted(found, key=lambda e: e.position)]


class FakeEvents:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def append(self, event: NewEvent, now: float) -> Event:
        stored = Event(
            seq=len(self.db.events) + 1,
            account_id=event.account_id,
            type=event.type,
            data=copy.deepcopy(event.data),
            actor=event.actor,
            created_at=now,
            conversation_id=event.conversation_id,
            department_id=event.department_id,
            agent_id=event.agent_id,
            prev_department_id=event.prev_department_id,
            prev_agent_id=event.prev_agent_id,
        )
        self.db.events.append(stored)
        return _copy(stored)

    def after(self, seq: int, limit: int, account_id: int | None = None) -> list[Event]:
        found = [
            e for e in self.db.events if e.seq > seq and (account_id is None or e.account_id == account_id)
        ]
        return [_copy(e) for e in found[:limit]]

    def last_seq(self) -> int:
        return len(self.db.events)

    def first_seq(self) -> int:
        return self.db.events[0].seq if self.db.events else 0


class FakeContactTokens:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def create(self, token: ContactToken, token_hash: str) -> ContactToken:
        for other, other_hash in self.db.contact_tokens.values():
            if other_hash == token_hash or other.contact_id == token.contact_id:
                raise IntegrityError("contact_tokens.token_hash and contact_id are unique")
            if other.identifier == token.identifier:
                raise IntegrityError("contact_tokens.identifier is unique")
        token.id = self.db.next_id("contact_tokens")
        self.db.contact_tokens[token.id] = (_copy(token), token_hash)
        return token

    def by_hash(self, token_hash: str) -> ContactToken | None:
        return next((_copy(t) for t, h in self.db.contact_tokens.values() if h == token_hash), None)

    def by_contact(self, contact_id: int) -> ContactToken | None:
        return next(
            (_copy(t) for t, _ in self.db.contact_tokens.values() if t.contact_id == contact_id), None
        )


class FakeContactConversations:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def latest_for_contact(self, contact_id: int) -> Conversation | None:
        found = [c for c in self.db.conversations.values() if c.contact_id == contact_id]
        return _copy(max(found, key=lambda c: c.id)) if found else None

    def ids_for_contact(self, contact_id: int) -> list[int]:
        return sorted(c.id for c in self.db.conversations.values() if c.contact_id == contact_id)


_MESSAGE_CHANGES = {
    "status",
    "updated_at",
    "selected_value",
    "content",
    "file_url",
    "content_attributes",
    "deleted_at",
}


class FakeMessageChanges:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def get(self, message_id: int) -> Message | None:
        return _copy(self.db.messages.get(message_id))

    def get_many(self, message_ids: Sequence[int]) -> list[Message]:
        return [_copy(self.db.messages[i]) for i in sorted(set(message_ids)) if i in self.db.messages]

    def update(self, message_id: int, fields: dict[str, Any]) -> None:
        unknown = set(fields) - _MESSAGE_CHANGES
        if unknown:
            raise KeyError(f"messages cannot change {', '.join(sorted(unknown))}")
        found = self.db.messages.get(message_id)
        if found is not None:
            _set_columns(found, fields, {})

    def unseen_inbound(self, conversation_id: int, up_to: int | None) -> list[Message]:
        found = [
            m
            for m in self.db.messages.values()
            if m.conversation_id == conversation_id
            and m.direction.value == "inbound"
            and m.status != "seen"
            and (up_to is None or m.id <= up_to)
        ]
        return [_copy(m) for m in sorted(found, key=lambda m: m.id)]


class FakeReactions:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def put(self, message_id: int, actor: Any, reaction: str, now: float) -> None:
        self.remove(message_id, actor)
        self.db.reactions.append(Reaction(message_id, actor, reaction, now))

    def remove(self, message_id: int, actor: Any) -> bool:
        before = len(self.db.reactions)
        self.db.reactions = [r for r in self.db.reactions if (r.message_id, r.actor) != (message_id, actor)]
        return len(self.db.reactions) < before

    def for_messages(self, message_ids: Sequence[int]) -> dict[int, list[Reaction]]:
        found: dict[int, list[Reaction]] = {}
        for reaction in self.db.reactions:
            if reaction.message_id in message_ids:
                found.setdefault(reaction.message_id, []).append(reaction)
        return found


class FakeSdk:
    """``uow.sdk``: the repositories of :mod:`helpline.core.channel` (contact tokens, message changes,
    reactions); what only the SQL store offers (inboxes, push tokens, event lookups) is not faked."""

    def __init__(self, db: FakeDb) -> None:
        self.contact_tokens = FakeContactTokens(db)
        self.conversations = FakeContactConversations(db)
        self.messages = FakeMessageChanges(db)
        self.reactions = FakeReactions(db)


class FakeUnitOfWork:
    """One transaction over a :class:`FakeDb`; implements :class:`helpline.core.ports.UnitOfWork`."""

    def __init__(self, db: FakeDb, now: float) -> None:
        self.db = db
        self.now = now
        self.accounts = FakeAccounts(db)
        self.departments = FakeDepartments(db)
        self.agents = FakeAgents(db)
        self.tokens = FakeTokens(db)
        self.endpoints = FakeEndpoints(db)
        self.contacts = FakeContacts(db)
        self.conversations = FakeConversations(db)
        self.messages = FakeMessages(db)
        self.history = FakeHistory(db)
        self.events = FakeEvents(db)
        self.sdk = FakeSdk(db)
        self.recorded: list[Event] = []

    def emit(self, event: NewEvent) -> Event:
        stored = self.events.append(event, self.now)
        self.recorded.append(stored)
        return stored


class FakeStore:
    """The request boundary over one :class:`FakeDb`, with a clock the test moves by hand.

    ``write`` gives the work a fresh unit of work at ``now`` and undoes everything it did if it raises,
    as a rolled-back transaction would.
    """

    def __init__(self, now: float = 1_000.0) -> None:
        self.db = FakeDb()
        self.now = now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now

    def write(self, work: Callable[[FakeUnitOfWork], T]) -> T:
        snapshot = self.db.snapshot()
        uow = FakeUnitOfWork(self.db, self.now)
        try:
            return work(uow)
        except BaseException:
            self.db.restore(snapshot)
            raise

    def read(self, work: Callable[[FakeUnitOfWork], T]) -> T:
        return work(FakeUnitOfWork(self.db, self.now))

    @property
    def events(self) -> list[Event]:
        return list(self.db.events)

    def events_after(self, seq: int) -> list[Event]:
        return [e for e in self.db.events if e.seq > seq]

    def conversation(self, conversation_id: int) -> Conversation:
        return _copy(self.db.conversations[conversation_id])

    def agent(self, agent_id: int) -> Agent:
        return _copy(self.db.agents[agent_id])


class World:
    """Builds an account's setup straight through the fake repositories, and runs core calls on it.

    Agents are stored with a dummy password hash (argon2 is too slow to call in every test).
    """

    def __init__(self, store: FakeStore, account_name: str = "Acme") -> None:
        self.store = store
        self.account = store.write(lambda uow: uow.accounts.create(account_name, uow.now))

    def other_account(self, name: str = "Other") -> Account:
        return self.store.write(lambda uow: uow.accounts.create(name, uow.now))

    def department(
        self, name: str = "Support", account: Account | None = None, **overrides: Any
    ) -> Department:
        value = replace(Department(id=0, account_id=(account or self.account).id, name=name), **overrides)
        return self.store.write(lambda uow: uow.departments.create(value))

    def agent(
        self,
        name: str,
        departments: Sequence[Department] = (),
        presence: Presence = Presence.ONLINE,
        role: Role = Role.AGENT,
        account: Account | None = None,
    ) -> Agent:
        value = Agent(
            id=0,
            account_id=(account or self.account).id,
            name=name,
            email=f"{name.lower()}@example.com",
            password_hash="not-a-hash",
            role=role,
            presence=presence,
            department_ids=[d.id for d in departments],
        )
        return self.store.write(lambda uow: uow.agents.create(value))

    def start(self, department: Department, contact_name: str | None = None, **command: Any) -> Conversation:
        from helpline.core.conversations import ContactDetails, StartConversation, start_conversation

        start = StartConversation(
            account_id=department.account_id,
            department_id=department.id,
            origin_dialect=command.pop("origin_dialect", "test"),
            contact=ContactDetails(name=contact_name) if contact_name else None,
            **command,
        )
        return self.store.write(lambda uow: start_conversation(uow, start))

    def run(self, action: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``action(uow, *args)`` in one unit of work, with every Conversation and Agent argument
        reloaded from the tables first (as a request handler would load them)."""

        def work(uow: FakeUnitOfWork) -> T:
            fresh = [self.reload(uow, arg) for arg in args]
            return action(uow, *fresh, **kwargs)

        return self.store.write(work)

    @staticmethod
    def reload(uow: FakeUnitOfWork, value: Any) -> Any:
        if isinstance(value, Conversation):
            found = uow.conversations.get(value.account_id, value.id)
            assert found is not None
            return found
        if isinstance(value, Agent):
            return uow.agents.get(value.id)
        return value

    def conversation(self, conversation: Conversation) -> Conversation:
        return self.store.conversation(conversation.id)
