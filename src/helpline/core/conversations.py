"""What the customer side does: start a conversation, write, type, finish, annotate.

Dialects call these after they have authenticated the caller and parsed the vendor's request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from helpline.core import events as ev
from helpline.core import interactive, routing
from helpline.core.errors import Conflict, Invalid, NotFound
from helpline.core.events import NewEvent
from helpline.core.ids import time_ordered_uuid
from helpline.core.model import (
    Actor,
    ActorType,
    Contact,
    Conversation,
    ConversationState,
    Department,
    Direction,
    FinishReason,
    HistoryEntry,
    HistoryStatus,
    JsonObject,
    Message,
    MessageKind,
    MessageSeq,
)
from helpline.core.ports import UnitOfWork
from helpline.core.serialize import message_view


@dataclass(slots=True)
class ContactDetails:
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    document: str | None = None
    attributes: JsonObject = field(default_factory=dict)


@dataclass(slots=True)
class StartConversation:
    account_id: int
    department_id: int
    origin_dialect: str
    origin_token_id: int | None = None
    origin_key: str | None = None
    contact: ContactDetails | None = None
    extra: JsonObject = field(default_factory=dict)
    external_history_url: str | None = None
    contact_id: int | None = None  # an existing contact of the account (then ``contact`` is not used)


def active_department(uow: UnitOfWork, account_id: int, department_id: int) -> Department:
    department = uow.departments.get(account_id, department_id)
    if department is None:
        raise Invalid(f"department {department_id} does not exist")
    if not department.active:
        raise Invalid(f"department {department_id} ({department.name}) is not active")
    return department


def start_conversation(uow: UnitOfWork, command: StartConversation) -> Conversation:
    conversation, department = open_conversation(uow, command)
    return route_new(uow, conversation, department)


def create_contact(uow: UnitOfWork, account_id: int, details: ContactDetails) -> Contact:
    return uow.contacts.create(
        Contact(
            id=0,
            account_id=account_id,
            name=details.name,
            email=details.email,
            phone=details.phone,
            document=details.document,
            attributes=details.attributes,
            created_at=uow.now,
        )
    )


def open_conversation(uow: UnitOfWork, command: StartConversation) -> tuple[Conversation, Department]:
    """The first half of :func:`start_conversation`: the conversation exists (``conversation.started``)
    but is not routed yet, so a dialect can add the contact's first messages before anyone sees it."""
    department = active_department(uow, command.account_id, command.department_id)
    contact_id: int | None = command.contact_id
    if contact_id is not None:
        existing = uow.contacts.get(contact_id)
        if existing is None or existing.account_id != command.account_id:
            raise Invalid(f"contact {contact_id} does not exist")
    elif command.contact is not None:
        contact_id = create_contact(uow, command.account_id, command.contact).id
    conversation = uow.conversations.create(
        Conversation(
            id=0,
            hash=str(uuid.uuid4()),
            account_id=command.account_id,
            department_id=department.id,
            origin_department_id=department.id,
            contact_id=contact_id,
            state=ConversationState.QUEUED,
            origin_dialect=command.origin_dialect,
            origin_token_id=command.origin_token_id,
            origin_key=command.origin_key,
            extra=command.extra,
            external_history_url=command.external_history_url,
            history_status=HistoryStatus.PENDING if command.external_history_url else HistoryStatus.NONE,
            created_at=uow.now,
            updated_at=uow.now,
        )
    )
    contact_actor = Actor(ActorType.CONTACT, contact_id)
    uow.emit(
        ev.conversation_event(
            conversation,
            ev.CONVERSATION_STARTED,
            {"department_id": department.id, "origin": command.origin_dialect},
            contact_actor,
            department_id=department.id,
        )
    )
    return conversation, department


def route_new(uow: UnitOfWork, conversation: Conversation, department: Department) -> Conversation:
    """The second half of :func:`start_conversation`: to the department's bot or its queue."""
    contact_actor = Actor(ActorType.CONTACT, conversation.contact_id)
    return routing.enter_department(uow, conversation, department, contact_actor)


def start_or_resume(uow: UnitOfWork, command: StartConversation) -> tuple[Conversation, bool]:
    """Start a conversation unless the caller's key already has an open one with the same token; then
    return that one. ``(conversation, started)``. The token's row lock makes two racing starts give one."""
    if command.origin_token_id is None or not command.origin_key:
        raise Invalid("a conversation keyed by the caller needs a token and a key")
    uow.tokens.hold(command.origin_token_id)
    existing = uow.conversations.open_by_origin_key(command.origin_token_id, command.origin_key)
    if existing is not None:
        return existing, False
    return start_conversation(uow, command), True


def conversation_by_hash(uow: UnitOfWork, account_id: int, conversation_hash: str) -> Conversation:
    conversation = uow.conversations.by_hash(account_id, conversation_hash)
    if conversation is None:
        raise NotFound(f"conversation {conversation_hash} not found")
    return conversation


def _require_open(conversation: Conversation) -> None:
    if not conversation.is_open:
        raise Invalid(f"conversation {conversation.hash} is already finished")


def add_message(
    uow: UnitOfWork,
    conversation: Conversation,
    *,
    direction: Direction,
    sender: Actor,
    content: str,
    kind: MessageKind,
    file_url: str | None = None,
    idempotency_key: str | None = None,
    sender_name: str | None = None,
    file_id: int | None = None,
    content_attributes: JsonObject | None = None,
    reply_to_id: int | None = None,
    selected_value: str | None = None,
) -> Message:
    """Persist a message with the next gap-free sequence number and announce it, once per idempotency key.

    ``content_attributes`` carry the options of an interactive message (checked by
    :func:`helpline.core.interactive.normalize`); ``reply_to_id`` is a message of the same conversation
    (the caller checks it); ``selected_value`` marks the contact's answer to an interactive message.
    """
    _require_open(conversation)
    if idempotency_key:
        earlier = uow.messages.by_idempotency_key(conversation.id, idempotency_key)
        if earlier is not None:
            if (earlier.sender_type, earlier.sender_id) != (sender.type, sender.id):
                raise Conflict("that idempotency key was already used by someone else in this conversation")
            return earlier
    attributes = interactive.normalize(kind, content, content_attributes)
    seq = uow.conversations.next_message_seq(conversation.id)
    message = _record_message(
        uow,
        MessageSeq(
            conversation.id,
            conversation.account_id,
            conversation.department_id,
            conversation.contact_id,
            conversation.assignee_id,
            seq,
        ),
        direction=direction,
        sender=sender,
        content=content,
        kind=kind,
        file_url=file_url,
        idempotency_key=idempotency_key,
        sender_name=sender_name,
        file_id=file_id,
        attributes=attributes,
        reply_to_id=reply_to_id,
        selected_value=selected_value,
    )
    conversation.last_message_seq = seq
    return message


def _record_message(
    uow: UnitOfWork,
    target: MessageSeq,
    *,
    direction: Direction,
    sender: Actor,
    content: str,
    kind: MessageKind,
    file_url: str | None = None,
    idempotency_key: str | None = None,
    sender_name: str | None = None,
    file_id: int | None = None,
    attributes: JsonObject,
    reply_to_id: int | None = None,
    selected_value: str | None = None,
) -> Message:
    """Store the message at the seq already taken for it and announce it (the checks are the caller's)."""
    message = uow.messages.add(
        Message(
            id=target.message_id,
            conversation_id=target.conversation_id,
            seq=target.seq,
            hash=time_ordered_uuid(),
            direction=direction,
            sender_type=sender.type,
            sender_id=sender.id,
            content=content,
            kind=kind,
            file_url=file_url,
            status="sent",
            idempotency_key=idempotency_key,
            created_at=uow.now,
            file_id=file_id,
            updated_at=uow.now,
            content_attributes=attributes,
            reply_to_id=reply_to_id,
            selected_value=selected_value,
        )
    )
    uow.emit(
        NewEvent(
            account_id=target.account_id,
            type=ev.MESSAGE_CREATED,
            data={"message": message_view(message, sender_name)},
            actor=sender,
            conversation_id=target.conversation_id,
            department_id=target.department_id,
            agent_id=target.assignee_id,
        )
    )
    return message


def contact_message(
    uow: UnitOfWork,
    conversation: Conversation,
    content: str,
    kind: MessageKind = MessageKind.TEXT,
    file_url: str | None = None,
    idempotency_key: str | None = None,
) -> Message:
    return add_message(
        uow,
        conversation,
        direction=Direction.INBOUND,
        sender=Actor(ActorType.CONTACT, conversation.contact_id),
        content=content,
        kind=kind,
        file_url=file_url,
        idempotency_key=idempotency_key,
    )


def contact_message_by_hash(
    uow: UnitOfWork,
    account_id: int,
    conversation_hash: str,
    content: str,
    kind: MessageKind = MessageKind.TEXT,
    file_url: str | None = None,
    idempotency_key: str | None = None,
) -> Message:
    """:func:`contact_message` for a conversation known by its hash, finding it and taking the message's
    seq in one statement: the path every customer message of the hash-keyed APIs takes."""
    if not idempotency_key:  # with a key the message may already exist: no seq may be taken before knowing
        claimed = uow.conversations.claim_message_seq_by_hash(account_id, conversation_hash)
        if claimed is not None:
            return _record_message(
                uow,
                claimed,
                direction=Direction.INBOUND,
                sender=Actor(ActorType.CONTACT, claimed.contact_id),
                content=content,
                kind=kind,
                file_url=file_url,
                attributes=interactive.normalize(kind, content, None),
            )
    # Not claimed: unknown or finished (conversation_by_hash and add_message say which), or keyed.
    conversation = conversation_by_hash(uow, account_id, conversation_hash)
    return contact_message(uow, conversation, content, kind, file_url, idempotency_key)


def contact_typing(uow: UnitOfWork, conversation: Conversation, typing: bool) -> None:
    _require_open(conversation)
    uow.emit(
        ev.conversation_event(
            conversation,
            ev.CONTACT_TYPING,
            {"typing": typing},
            Actor(ActorType.CONTACT, conversation.contact_id),
            agent_id=conversation.assignee_id,
        )
    )


CONTACT_ACTIVITIES = ("chat_expanded", "chat_minimized")


def contact_activity(uow: UnitOfWork, conversation: Conversation, activity: str) -> None:
    """Record something the contact did that agents may want to see (e.g. opened or minimised the chat)."""
    if activity not in CONTACT_ACTIVITIES:
        raise Invalid(f"activity must be one of {', '.join(CONTACT_ACTIVITIES)} (got {activity!r})")
    _require_open(conversation)
    uow.emit(
        ev.conversation_event(
            conversation,
            ev.CONTACT_ACTIVITY,
            {"activity": activity},
            Actor(ActorType.CONTACT, conversation.contact_id),
            agent_id=conversation.assignee_id,
        )
    )


def contact_finish(uow: UnitOfWork, conversation: Conversation) -> Conversation:
    _require_open(conversation)
    return routing.finish(
        uow, conversation, FinishReason.RESOLVED, Actor(ActorType.CONTACT, conversation.contact_id)
    )


def update_details(
    uow: UnitOfWork, conversation: Conversation, changes: dict[str, Any], actor: Actor
) -> None:
    """Mood, tags, note and the customer's key: annotations that any side may set at any time."""
    allowed = {"mood", "tags", "note", "customer_key"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid(f"cannot update {', '.join(sorted(unknown))}")
    if not changes:
        return
    uow.conversations.update(conversation.id, changes)
    for key, value in changes.items():
        setattr(conversation, key, value)
    uow.emit(
        ev.conversation_event(
            conversation,
            ev.CONVERSATION_UPDATED,
            {"changes": changes},
            actor,
            agent_id=conversation.assignee_id,
        )
    )


def record_history(
    uow: UnitOfWork, conversation: Conversation, entries: list[HistoryEntry] | None, error: str | None
) -> None:
    """Keep what the external history URL gave, or why it failed, so the agent sees one or the other."""
    if entries is not None:
        uow.history.add_many(entries)
        uow.conversations.update(
            conversation.id, {"history_status": HistoryStatus.LOADED.value, "history_error": None}
        )
        event_type = ev.HISTORY_LOADED
        data: dict[str, object] = {"count": len(entries)}
    else:
        uow.conversations.update(
            conversation.id, {"history_status": HistoryStatus.FAILED.value, "history_error": error}
        )
        event_type = ev.HISTORY_FAILED
        data = {"error": error}
    uow.emit(
        ev.conversation_event(
            conversation, event_type, data, Actor(ActorType.SYSTEM), agent_id=conversation.assignee_id
        )
    )
