"""What the agent API answers, as types: its OpenAPI document is generated from them, so a client
generated from that document gets typed answers. The views in :mod:`helpline.agent_api.views` build
these shapes; ``tests/agent_api/test_agent_responses.py`` reads real answers into these types with
unknown fields forbidden, so the two cannot drift apart."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

Presence = Literal["online", "away", "offline"]
Kind = Literal["text", "image", "video", "audio", "file", "card", "quick_reply", "feedback"]
State = Literal["bot", "queued", "assigned", "finished"]
ActorKind = Literal["contact", "agent", "bot", "system"]


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    pass


class AgentView(Strict):
    id: int
    account_id: int
    name: str
    email: str
    role: Literal["agent", "admin"]
    presence: Presence
    photo_url: str | None
    department_ids: list[int]


class LoggedIn(Strict):
    api_key: str
    agent: AgentView


class SignedIn(Strict):
    agent: AgentView
    expires_at: float


class SignedOut(Strict):
    signed_out: bool


class Sender(Strict):
    type: ActorKind
    id: int | None
    name: str | None = None


class Message(Strict):
    """A message, the same on the REST API and in the websocket's message events."""

    history: Literal[False]
    id: int
    hash: str
    seq: int
    direction: Literal["inbound", "outbound"]
    sender: Sender
    content: str
    content_type: Kind
    url: str | None
    file_id: int | None
    status: str | None
    created_at: float
    updated_at: float
    content_attributes: dict[str, Any] | None
    selected_value: str | None
    reply_to: int | None
    deleted: bool


class HistorySender(Strict):
    type: str  # who said it, as the history names them (contact, agent, bot...)
    id: None


class HistoryItem(Strict):
    """An entry of the external history or the bot's transcript, before the live messages."""

    history: Literal[True]
    position: int
    time: str | None
    direction: Literal["inbound", "outbound"]
    sender: HistorySender
    content: str
    content_type: Literal["text"]


class FileInfo(Strict):
    name: str
    size: int
    content_type: str


class SentFile(Message):
    file: FileInfo


class Contact(Strict):
    id: int
    name: str | None
    email: str | None
    phone: str | None
    document: str | None
    attributes: dict[str, Any]


class Origin(Strict):
    dialect: str
    key: str | None


class ExternalHistory(Strict):
    url: str | None
    status: Literal["none", "pending", "loaded", "failed"]
    error: str | None


class Actor(Strict):
    type: ActorKind
    id: int | None


class Conversation(Strict):
    id: int
    hash: str
    account_id: int
    department_id: int
    origin_department_id: int | None
    contact_id: int | None
    state: State
    assignee_id: int | None
    offered_to: int | None
    origin: Origin
    extra: dict[str, Any]
    external_history: ExternalHistory
    mood: str | None
    tags: list[Any]
    note: str | None
    created_at: float
    queued_at: float | None
    assigned_at: float | None
    finished_at: float | None
    finish_reason: Literal["resolved", "unavailable"] | None
    finished_by: Actor | None
    last_message_seq: int
    feedback: dict[str, Any] | None
    contact: Contact | None
    queue_position: int | None


class Conversations(Strict):
    conversations: list[Conversation]


class Messages(Strict):
    conversation_id: int
    external_history: ExternalHistory
    # Each a HistoryItem (history: true) or a Message (history: false); msgspec cannot tell two structs
    # apart by a boolean, so the document says oneOf (see helpline.openapi.documents).
    messages: list[dict[str, Any]]


class Seen(Strict):
    seen: list[int]


class Delivered(Strict):
    delivered: list[int]


class TypingAnswer(Strict):
    typing: bool


class Limits(Strict):
    max_upload_bytes: int


class DepartmentBrief(Strict):
    id: int
    name: str
    active: bool
    queue_enabled: bool


class Departments(Strict):
    departments: list[DepartmentBrief]


class AgentBrief(Strict):
    id: int
    name: str
    presence: Presence
    photo_url: str | None
    department_ids: list[int]


class Directory(Strict):
    agents: list[AgentBrief]
