"""What an agent does: presence, accept, answer, type, transfer, finish.

Each function checks that the agent may act on the conversation (their departments, or their own work),
then changes state and records the events in the same unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence

from helpline.core import events as ev
from helpline.core import routing
from helpline.core.conversations import active_department, add_message
from helpline.core.credentials import token_hash
from helpline.core.errors import Conflict, Invalid, NotFound, Unauthorized
from helpline.core.events import NewEvent
from helpline.core.interactive import is_interactive
from helpline.core.model import (
    Actor,
    ActorType,
    Agent,
    Conversation,
    ConversationState,
    Direction,
    FinishReason,
    JsonObject,
    Message,
    MessageKind,
    Presence,
    Role,
)
from helpline.core.ports import UnitOfWork
from helpline.core.serialize import agent_brief
from helpline.core.values import is_id


def actor_of(agent: Agent) -> Actor:
    return Actor(ActorType.AGENT, agent.id)


def agent_by_api_key(uow: UnitOfWork, api_key: str) -> Agent:
    agent = uow.agents.by_key_hash(token_hash(api_key))
    if agent is None:
        raise Unauthorized("invalid API key")
    return agent


def can_see(agent: Agent, conversation: Conversation) -> bool:
    if conversation.account_id != agent.account_id:
        return False
    return (
        agent.role is Role.ADMIN
        or conversation.assignee_id == agent.id
        or conversation.department_id in agent.department_ids
    )


def visible_conversation(uow: UnitOfWork, agent: Agent, reference: str) -> Conversation:
    """Find a conversation by numeric id or UUID hash, as the agent may see it; anything else is 404."""
    conversation = (
        uow.conversations.get(agent.account_id, int(reference))
        if is_id(reference)
        else uow.conversations.by_hash(agent.account_id, reference)
    )
    if conversation is None or not can_see(agent, conversation):
        raise NotFound(f"conversation {reference} not found")
    return conversation


def set_presence(uow: UnitOfWork, agent: Agent, presence: Presence) -> None:
    uow.agents.set_presence(agent.id, presence, uow.now)
    agent.presence = presence
    uow.emit(
        NewEvent(
            account_id=agent.account_id,
            type=ev.AGENT_PRESENCE,
            data={"agent_id": agent.id, "status": presence.value},
            actor=actor_of(agent),
            agent_id=agent.id,
        )
    )
    if presence is Presence.ONLINE:
        routing.offer_waiting(uow, agent)


def accept(uow: UnitOfWork, agent: Agent, conversation: Conversation) -> Conversation:
    if conversation.state is ConversationState.ASSIGNED:
        if conversation.assignee_id == agent.id:
            return conversation
        raise Conflict("another agent has already accepted this conversation")
    if conversation.state is ConversationState.FINISHED:
        raise Conflict("the conversation is already finished")
    if conversation.state is not ConversationState.QUEUED:
        raise Conflict(f"the conversation is {conversation.state.value}, not waiting for an agent")
    position = routing.queue_position(uow, conversation)
    if not _assign(uow, conversation, agent, [ConversationState.QUEUED]):
        raise Conflict("another agent has already accepted this conversation")
    # Taken after the conversation (the order the routing paths take them in): an offer counting this
    # agent's workload meanwhile waits for this accept, and counts it.
    uow.agents.lock_for_assignment([agent.id])
    uow.emit(
        ev.conversation_event(
            conversation,
            ev.CONVERSATION_ACCEPTED,
            {"agent": agent_brief(agent)},
            actor_of(agent),
            agent_id=agent.id,
        )
    )
    routing.announce_queue_moved(uow, conversation.department_id, position, actor_of(agent))
    return conversation


def _assign(
    uow: UnitOfWork, conversation: Conversation, agent: Agent, from_states: Sequence[ConversationState]
) -> bool:
    """The one atomic step that gives a conversation to an agent; False if its state moved meanwhile."""
    taken = uow.conversations.transition(
        conversation.id,
        from_states,
        {
            "state": ConversationState.ASSIGNED.value,
            "assignee_id": agent.id,
            "assigned_at": uow.now,
            "offered_to": None,
            "offered_at": None,
        },
    )
    if taken:
        conversation.state = ConversationState.ASSIGNED
        conversation.assignee_id = agent.id
        conversation.assigned_at = uow.now
        conversation.offered_to = None
    return taken


def _require_assignee(agent: Agent, conversation: Conversation) -> None:
    if conversation.state is ConversationState.FINISHED:
        raise Invalid("the conversation is already finished")
    if conversation.assignee_id != agent.id:
        raise Conflict("accept the conversation before acting on it")


def send_message(
    uow: UnitOfWork,
    agent: Agent,
    conversation: Conversation,
    content: str,
    kind: MessageKind,
    file_url: str | None,
    idempotency_key: str | None = None,
    file_id: int | None = None,
    content_attributes: JsonObject | None = None,
    reply_to_id: int | None = None,
) -> Message:
    """An agent's answer: text, a file by URL, or an interactive message (``content_attributes``, see
    :mod:`helpline.core.interactive`); ``reply_to_id`` must be a message of the same conversation."""
    _require_assignee(agent, conversation)
    if kind is not MessageKind.TEXT and not is_interactive(kind) and not file_url:
        raise Invalid(f"a message of type {kind.value} needs a url")
    if reply_to_id is not None and not any(m.id == reply_to_id for m in uow.messages.list(conversation.id)):
        raise Invalid(f"message {reply_to_id} (replied to) is not in this conversation")
    return add_message(
        uow,
        conversation,
        direction=Direction.OUTBOUND,
        sender=actor_of(agent),
        content=content,
        kind=kind,
        file_url=file_url,
        idempotency_key=idempotency_key,
        sender_name=agent.name,
        file_id=file_id,
        content_attributes=content_attributes,
        reply_to_id=reply_to_id,
    )


def typing(uow: UnitOfWork, agent: Agent, conversation: Conversation, is_typing: bool) -> None:
    _require_assignee(agent, conversation)
    uow.emit(
        ev.conversation_event(
            conversation,
            ev.AGENT_TYPING,
            {"typing": is_typing, "agent": agent_brief(agent)},
            actor_of(agent),
            agent_id=agent.id,
        )
    )


def finish(uow: UnitOfWork, agent: Agent, conversation: Conversation) -> Conversation:
    if conversation.state is ConversationState.FINISHED:
        raise Invalid("the conversation is already finished")
    if (
        conversation.state is ConversationState.ASSIGNED
        and conversation.assignee_id != agent.id
        and agent.role is not Role.ADMIN
    ):
        raise Conflict("the conversation belongs to another agent")
    return routing.finish(uow, conversation, FinishReason.RESOLVED, actor_of(agent))


def transfer(
    uow: UnitOfWork,
    agent: Agent,
    conversation: Conversation,
    department_id: int | None = None,
    agent_id: int | None = None,
) -> Conversation:
    """Move a conversation to another department's queue or straight to a named agent."""
    if (department_id is None) == (agent_id is None):
        raise Invalid("give exactly one of department_id or agent_id")
    if conversation.state is ConversationState.FINISHED:
        raise Invalid("the conversation is already finished")
    if (
        conversation.state is ConversationState.ASSIGNED
        and conversation.assignee_id != agent.id
        and agent.role is not Role.ADMIN
    ):
        raise Conflict("the conversation belongs to another agent")
    previous_department = conversation.department_id
    previous_agent = conversation.assignee_id
    position = (
        routing.queue_position(uow, conversation) if conversation.state is ConversationState.QUEUED else 0
    )
    actor = actor_of(agent)
    if department_id is not None:
        department = active_department(uow, conversation.account_id, department_id)
        has_bot = routing.bot_endpoint(uow, department) is not None
        if (
            not has_bot
            and not department.queue_enabled
            and not uow.agents.online_in_department(department.id)
        ):
            raise Conflict(f"nobody is available in department {department_id} ({department.name})")
        _emit_transfer(uow, conversation, actor, previous_department, previous_agent, department.id, None)
        routing.enter_department(uow, conversation, department, actor)
        if previous_department != department.id:
            routing.announce_queue_moved(uow, previous_department, position, actor)
        return conversation
    assert agent_id is not None
    target = uow.agents.get(agent_id)
    if target is None or target.account_id != conversation.account_id:
        raise Invalid(f"agent {agent_id} does not exist")
    if target.presence is Presence.OFFLINE:
        raise Conflict(f"agent {agent_id} ({target.name}) is offline")
    if not _assign(uow, conversation, target, routing.OPEN_STATES):
        raise Conflict("the conversation changed meanwhile; reload it")
    _emit_transfer(uow, conversation, actor, previous_department, previous_agent, None, target)
    routing.announce_queue_moved(uow, previous_department, position, actor)
    return conversation


def _emit_transfer(
    uow: UnitOfWork,
    conversation: Conversation,
    actor: Actor,
    previous_department: int,
    previous_agent: int | None,
    to_department: int | None,
    to_agent: Agent | None,
) -> None:
    uow.emit(
        ev.conversation_event(
            conversation,
            ev.CONVERSATION_TRANSFERRED,
            {
                "from_department_id": previous_department,
                "from_agent_id": previous_agent,
                "to_department_id": to_department,
                "to_agent": agent_brief(to_agent) if to_agent else None,
            },
            actor,
            department_id=to_department if to_department is not None else conversation.department_id,
            agent_id=to_agent.id if to_agent else None,
            prev_department_id=previous_department,
            prev_agent_id=previous_agent,
        )
    )
