"""Receipts: how far a message got — ``sent``, ``delivered``, ``seen`` (or ``failed``).

Every message starts ``sent``. The contact's client marks the agents' and bots' messages ``delivered`` and
``seen``; an agent's console receiving the contact's messages marks them ``delivered``, and an agent
reading the conversation marks them ``seen``. A status only moves
forward (``sent`` → ``delivered`` → ``seen``; ``failed`` from ``sent`` or ``delivered``, and a failed one
may still be delivered or seen later); a repeated or backward mark changes nothing and announces nothing.
Each change is a ``message.updated`` event, so both sides see it live.
"""

from __future__ import annotations

from collections.abc import Sequence

from helpline.core import events as ev
from helpline.core.channel import ChannelUnitOfWork, ContactToken, contact_actor, sender_name
from helpline.core.errors import Invalid, NotFound
from helpline.core.model import Actor, ActorType, Agent, Conversation, Direction, Message
from helpline.core.serialize import message_view

SENT = "sent"
DELIVERED = "delivered"
SEEN = "seen"
FAILED = "failed"
STATUSES = (SENT, DELIVERED, SEEN, FAILED)
_NEXT = {
    SENT: {DELIVERED, SEEN, FAILED},
    DELIVERED: {SEEN, FAILED},
    FAILED: {DELIVERED, SEEN},
    SEEN: set(),
}


def moves(current: str, new: str) -> bool:
    """Whether marking a message ``new`` changes it (forward only)."""
    return new in _NEXT.get(current, set())


def announce_update(
    uow: ChannelUnitOfWork,
    conversation: Conversation,
    message: Message,
    changes: list[str],
    actor: Actor,
    event_type: str = ev.MESSAGE_UPDATED,
) -> None:
    """The ``message.updated`` (or ``message.deleted``) event carrying the message as it is now."""
    uow.emit(
        ev.conversation_event(
            conversation,
            event_type,
            {"message": message_view(message, sender_name(uow, message)), "changes": changes},
            actor,
            agent_id=conversation.assignee_id,
        )
    )


def _set_status(
    uow: ChannelUnitOfWork, conversation: Conversation, message: Message, status: str, actor: Actor
) -> None:
    uow.sdk.messages.update(message.id, {"status": status, "updated_at": uow.now})
    message.status = status
    message.updated_at = uow.now
    announce_update(uow, conversation, message, ["status"], actor)


def mark_by_contact(
    uow: ChannelUnitOfWork, token: ContactToken, message_ids: Sequence[int], status: str
) -> list[Message]:
    """The contact's client reports how far the agents' and bots' messages got. Every id must be a message
    of the contact's conversations (else 404, and nothing changes); the contact's own messages are
    skipped (their receipts come from the agent side). Returns the messages that changed."""
    if status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)} (got {status!r})")
    wanted = list(dict.fromkeys(message_ids))
    found = {m.id: m for m in uow.sdk.messages.get_many(wanted)}
    mine = set(uow.sdk.conversations.ids_for_contact(token.contact_id))
    for message_id in wanted:
        message = found.get(message_id)
        if message is None or message.conversation_id not in mine:
            raise NotFound(f"message {message_id} not found")
    changed = []
    actor = contact_actor(token)
    conversations: dict[int, Conversation] = {}
    for message_id in wanted:
        message = found[message_id]
        if message.direction is not Direction.OUTBOUND or message.deleted_at is not None:
            continue
        if not moves(message.status, status):
            continue
        conversation = conversations.get(message.conversation_id)
        if conversation is None:
            conversation = uow.conversations.by_id_any_account(message.conversation_id)
            assert conversation is not None
            conversations[conversation.id] = conversation
        _set_status(uow, conversation, message, status, actor)
        changed.append(message)
    return changed


def mark_delivered_by_agent(
    uow: ChannelUnitOfWork, agent: Agent, conversation: Conversation, up_to: int | None = None
) -> list[Message]:
    """An agent's console received the conversation's messages: the contact's messages (up to message
    ``up_to``) become ``delivered``, so the contact's side can tell they reached someone."""
    return _mark_by_agent(uow, agent, conversation, up_to, DELIVERED)


def mark_seen_by_agent(
    uow: ChannelUnitOfWork, agent: Agent, conversation: Conversation, up_to: int | None = None
) -> list[Message]:
    """An agent read the conversation: the contact's messages (up to message ``up_to``) become ``seen``."""
    return _mark_by_agent(uow, agent, conversation, up_to, SEEN)


def _mark_by_agent(
    uow: ChannelUnitOfWork, agent: Agent, conversation: Conversation, up_to: int | None, status: str
) -> list[Message]:
    if up_to is not None:
        target = uow.sdk.messages.get(up_to)
        if target is None or target.conversation_id != conversation.id:
            raise NotFound(f"message {up_to} not found in this conversation")
    actor = Actor(ActorType.AGENT, agent.id)
    changed = []
    # Not yet seen is a superset of not yet delivered; moves() skips the ones already at ``status``.
    for message in uow.sdk.messages.unseen_inbound(conversation.id, up_to):
        if message.deleted_at is None and moves(message.status, status):
            _set_status(uow, conversation, message, status, actor)
            changed.append(message)
    return changed
