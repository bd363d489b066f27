"""The entities every dialect maps onto (see the glossary in design.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JsonObject = dict[str, Any]


class ConversationState(StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    FINISHED = "finished"


class FinishReason(StrEnum):
    RESOLVED = "resolved"
    UNAVAILABLE = "unavailable"


class ActorType(StrEnum):
    CONTACT = "contact"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Role(StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


class Direction(StrEnum):
    INBOUND = "inbound"  # from the contact
    OUTBOUND = "outbound"  # from an agent, a bot or the system


class MessageKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    FILE = "file"
    # Interactive messages: options in ``Message.content_attributes``, the contact's choice in ``selected_value``
    # (see :mod:`helpline.core.interactive`; APIs that cannot show them get a plain-text fallback).
    CARD = "card"
    QUICK_REPLY = "quick_reply"
    FEEDBACK = "feedback"


class HistoryStatus(StrEnum):
    NONE = "none"
    PENDING = "pending"
    LOADED = "loaded"
    FAILED = "failed"


@dataclass(slots=True, frozen=True)
class Actor:
    """Who caused a change; recorded on every event so receivers can tell an agent's act from a timeout."""

    type: ActorType
    id: int | None = None

    def as_json(self) -> JsonObject:
        return {"type": self.type.value, "id": self.id}


SYSTEM = Actor(ActorType.SYSTEM)


@dataclass(slots=True)
class Account:
    id: int
    name: str
    created_at: float


@dataclass(slots=True)
class Department:
    id: int
    account_id: int
    name: str
    active: bool = True
    queue_enabled: bool = True
    queued_max_time: int = 900
    ringing_max_time: int = 60
    capacity: int = 5
    auto_assign: bool = False
    bot_url: str | None = None
    bot_endpoint_id: int | None = None  # where the bot's calls go, signed with that endpoint's secret
    bot_accept_timeout: int = 30  # seconds the bot has to accept before the conversation goes to humans
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass(slots=True)
class Agent:
    id: int
    account_id: int
    name: str
    email: str
    password_hash: str
    role: Role = Role.AGENT
    presence: Presence = Presence.OFFLINE
    photo_url: str | None = None
    department_ids: list[int] = field(default_factory=list)
    created_at: float = 0.0


@dataclass(slots=True)
class ApiToken:
    """A credential an integration presents; only its hash is stored."""

    id: int
    account_id: int
    prefix: str
    endpoint_id: int | None
    active: bool
    created_at: float


@dataclass(slots=True)
class Endpoint:
    """A URL the server calls on an account's behalf (a webhook today; bots and hookpoints later)."""

    id: int
    account_id: int
    kind: str
    url: str
    secret: str
    enabled: bool = True
    disabled_reason: str | None = None
    created_at: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)  # sent with every call (e.g. a push service's auth)


@dataclass(slots=True)
class Contact:
    id: int
    account_id: int
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    document: str | None = None
    attributes: JsonObject = field(default_factory=dict)
    created_at: float = 0.0


@dataclass(slots=True)
class Conversation:
    id: int
    hash: str
    account_id: int
    department_id: int
    origin_department_id: int
    contact_id: int | None
    state: ConversationState
    origin_dialect: str
    origin_token_id: int | None = None
    origin_key: str | None = None
    assignee_id: int | None = None
    offered_to: int | None = None
    offered_at: float | None = None
    extra: JsonObject = field(default_factory=dict)
    external_history_url: str | None = None
    history_status: HistoryStatus = HistoryStatus.NONE
    history_error: str | None = None
    mood: str | None = None
    tags: list[Any] = field(default_factory=list)
    note: str | None = None
    customer_key: str | None = None
    created_at: float = 0.0
    queued_at: float | None = None
    assigned_at: float | None = None
    finished_at: float | None = None
    finish_reason: FinishReason | None = None
    finished_by_type: ActorType | None = None
    finished_by_id: int | None = None
    bot_endpoint_id: int | None = None  # the bot that holds it (state ``bot``) or last held it
    bot_started_at: float | None = None
    bot_accepted_at: float | None = None
    last_message_seq: int = 0
    updated_at: float = 0.0
    feedback: JsonObject | None = None  # the contact's answer to a feedback (rating) message

    @property
    def is_open(self) -> bool:
        return self.state is not ConversationState.FINISHED


@dataclass(frozen=True, slots=True)
class MessageSeq:
    """A seq taken for a message of an open conversation, with what the message and its event need of
    that conversation (not the whole row: reading all of it back cost as much as the insert)."""

    conversation_id: int
    account_id: int
    department_id: int
    contact_id: int | None
    assignee_id: int | None
    seq: int
    # The message's id when the store handed one out with the seq (PostgreSQL, from the same statement:
    # the INSERT then needs no answer); 0 when the database picks it at the INSERT.
    message_id: int = 0


@dataclass(slots=True)
class Message:
    id: int
    conversation_id: int
    seq: int
    hash: str
    direction: Direction
    sender_type: ActorType
    sender_id: int | None
    content: str
    kind: MessageKind
    file_url: str | None
    status: str
    idempotency_key: str | None
    created_at: float
    file_id: int | None = None
    updated_at: float = (
        0.0  # the last change of status, selection, reactions or deletion (created_at at first)
    )
    content_attributes: JsonObject = field(default_factory=dict)
    selected_value: str | None = None
    reply_to_id: int | None = None
    deleted_at: float | None = None


@dataclass(slots=True)
class StoredFile:
    """A file someone uploaded; its bytes live in the file store under ``key`` (random, so URLs can't be guessed)."""

    id: int
    account_id: int
    conversation_id: int | None
    key: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: Actor
    created_at: float


@dataclass(slots=True)
class HistoryEntry:
    """One line of an earlier conversation (external history, a bot transcript) shown before live ones."""

    conversation_id: int
    position: int
    time: str | None
    direction: str
    content: str


# Event names are defined in helpline.core.events; these prefixes pick those that carry a conversation's
# content (kept to its assignee) rather than its whereabouts (shared with the department).
PRIVATE_EVENT_PREFIXES = (
    "message.",
    "contact.",
    "agent.typing",
    "conversation.updated",
    "conversation.history",
)


@dataclass(slots=True)
class Event:
    """A domain event as it sits in the outbox; ``seq`` is global, gap-free and in commit order."""

    seq: int
    account_id: int
    type: str
    data: JsonObject
    actor: Actor
    created_at: float
    conversation_id: int | None = None
    department_id: int | None = None
    agent_id: int | None = None
    prev_department_id: int | None = None
    prev_agent_id: int | None = None

    def visible_to(self, agent_id: int, department_ids: frozenset[int], is_admin: bool) -> bool:
        """Whether an agent's console should hear of this event: their departments, or their work.

        Once a conversation has an assignee, what is said in it (messages, typing, notes) is theirs: the
        rest of the department hears only that it moved (queued, accepted, transferred, finished). That
        keeps other agents' consoles quiet, and one message costs one frame, not one per colleague.
        """
        if is_admin or self.agent_id == agent_id or self.prev_agent_id == agent_id:
            return True
        if self.agent_id is not None and self.type.startswith(PRIVATE_EVENT_PREFIXES):
            return False
        return self.department_id in department_ids or self.prev_department_id in department_ids
