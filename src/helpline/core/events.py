"""The names of domain events. Dialects render these in their own words; the agent websocket sends them as is."""

from __future__ import annotations

from dataclasses import dataclass

from helpline.core.model import Actor, Conversation, JsonObject

CONVERSATION_STARTED = "conversation.started"
CONVERSATION_QUEUED = "conversation.queued"
QUEUE_POSITION_CHANGED = "conversation.queue_position"
CONVERSATION_OFFERED = "conversation.offered"
CONVERSATION_ACCEPTED = "conversation.accepted"
CONVERSATION_TRANSFERRED = "conversation.transferred"
CONVERSATION_FINISHED = "conversation.finished"
CONVERSATION_UPDATED = "conversation.updated"
BOT_STARTED = "conversation.bot_started"  # a department's bot holds it now (state ``bot``)
BOT_ACCEPTED = "conversation.bot_accepted"
BOT_FELL_THROUGH = "conversation.bot_fell_through"  # the bot failed it; it goes to the humans' queue
HISTORY_LOADED = "conversation.history_loaded"
HISTORY_FAILED = "conversation.history_failed"
MESSAGE_CREATED = "message.created"
MESSAGE_UPDATED = "message.updated"  # receipt status, the contact's choice on an interactive message
MESSAGE_DELETED = "message.deleted"
MESSAGE_REACTION_UPDATED = "message.reaction_updated"
CONTACT_TYPING = "contact.typing"
# What the contact did besides writing (opened or minimised the chat...).
CONTACT_ACTIVITY = "contact.activity"
AGENT_TYPING = "agent.typing"
AGENT_PRESENCE = "agent.presence"

ALL = (
    CONVERSATION_STARTED,
    CONVERSATION_QUEUED,
    QUEUE_POSITION_CHANGED,
    CONVERSATION_OFFERED,
    CONVERSATION_ACCEPTED,
    CONVERSATION_TRANSFERRED,
    CONVERSATION_FINISHED,
    CONVERSATION_UPDATED,
    BOT_STARTED,
    BOT_ACCEPTED,
    BOT_FELL_THROUGH,
    HISTORY_LOADED,
    HISTORY_FAILED,
    MESSAGE_CREATED,
    MESSAGE_UPDATED,
    MESSAGE_DELETED,
    MESSAGE_REACTION_UPDATED,
    CONTACT_TYPING,
    CONTACT_ACTIVITY,
    AGENT_TYPING,
    AGENT_PRESENCE,
)


@dataclass(slots=True)
class NewEvent:
    """An event about to be appended; the event log gives it its sequence number on insert."""

    account_id: int
    type: str
    data: JsonObject
    actor: Actor
    conversation_id: int | None = None
    department_id: int | None = None
    agent_id: int | None = None
    prev_department_id: int | None = None
    prev_agent_id: int | None = None


def conversation_event(
    conversation: Conversation,
    type: str,
    data: JsonObject,
    actor: Actor,
    *,
    department_id: int | None = None,
    agent_id: int | None = None,
    prev_department_id: int | None = None,
    prev_agent_id: int | None = None,
) -> NewEvent:
    """An event about ``conversation``, in its account and (unless ``department_id`` says another) its
    department; ``agent_id`` is the agent it concerns, whose websocket it reaches, if any."""
    return NewEvent(
        account_id=conversation.account_id,
        type=type,
        data=data,
        actor=actor,
        conversation_id=conversation.id,
        department_id=conversation.department_id if department_id is None else department_id,
        agent_id=agent_id,
        prev_department_id=prev_department_id,
        prev_agent_id=prev_agent_id,
    )
