"""The routing policy: who waits, for how long, and who gets a conversation.

All of it runs inside the caller's unit of work, so a state change and the events announcing it commit
together; the atomic ``transition`` of the repository is what makes one conversation go to one agent
even when several server processes share a PostgreSQL database.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpline.core import events as ev
from helpline.core.errors import Conflict
from helpline.core.model import (
    SYSTEM,
    Actor,
    Agent,
    Conversation,
    ConversationState,
    Department,
    Endpoint,
    FinishReason,
)
from helpline.core.ports import UnitOfWork

OPEN_STATES = (ConversationState.BOT, ConversationState.QUEUED, ConversationState.ASSIGNED)


def queue_position(uow: UnitOfWork, conversation: Conversation) -> int:
    for index, queued in enumerate(uow.conversations.queued_in_department(conversation.department_id)):
        if queued.id == conversation.id:
            return index + 1
    return 0


def announce_queue_moved(uow: UnitOfWork, department_id: int, from_position: int, actor: Actor) -> None:
    """Tell every conversation behind ``from_position`` its new place; receivers show it to the customer."""
    if from_position <= 0:
        return
    queue = uow.conversations.queued_in_department(department_id)
    for index in range(from_position - 1, len(queue)):
        moved = queue[index]
        uow.emit(
            ev.conversation_event(
                moved,
                ev.QUEUE_POSITION_CHANGED,
                {"position": index + 1, "department_id": department_id},
                actor,
                department_id=department_id,
            )
        )


def bot_endpoint(uow: UnitOfWork, department: Department) -> Endpoint | None:
    """The department's bot, when it has one that may be called (an endpoint answering 410 disables it)."""
    if not department.bot_url or department.bot_endpoint_id is None:
        return None
    endpoint = uow.endpoints.get(department.bot_endpoint_id)
    if endpoint is None or not endpoint.enabled or endpoint.account_id != department.account_id:
        return None
    return endpoint


def enter_department(
    uow: UnitOfWork, conversation: Conversation, department: Department, actor: Actor
) -> Conversation:
    """Hand a conversation to a department: to its bot when it has one, else to its humans' queue."""
    endpoint = bot_endpoint(uow, department)
    if endpoint is None:
        return enter_queue(uow, conversation, department, actor)
    return enter_bot(uow, conversation, department, endpoint, actor)


def enter_bot(
    uow: UnitOfWork, conversation: Conversation, department: Department, endpoint: Endpoint, actor: Actor
) -> Conversation:
    """Give the conversation to the department's bot (state ``bot``); its accept clock starts now."""
    fields = {
        "state": ConversationState.BOT.value,
        "department_id": department.id,
        "assignee_id": None,
        "assigned_at": None,
        "offered_to": None,
        "offered_at": None,
        "queued_at": None,
        "bot_endpoint_id": endpoint.id,
        "bot_started_at": uow.now,
        "bot_accepted_at": None,
    }
    uow.conversations.update(conversation.id, fields)
    conversation.state = ConversationState.BOT
    conversation.department_id = department.id
    conversation.assignee_id = None
    conversation.assigned_at = None
    conversation.offered_to = None
    conversation.offered_at = None
    conversation.queued_at = None
    conversation.bot_endpoint_id = endpoint.id
    conversation.bot_started_at = uow.now
    conversation.bot_accepted_at = None
    uow.emit(
        ev.conversation_event(
            conversation,
            ev.BOT_STARTED,
            {
                "department_id": department.id,
                "endpoint_id": endpoint.id,
                "accept_timeout": department.bot_accept_timeout,
            },
            actor,
            department_id=department.id,
        )
    )
    return conversation


def release_bot(uow: UnitOfWork, conversation: Conversation) -> bool:
    """The atomic step out of state ``bot``: False if something (the bot, a timer, another process) moved
    the conversation first. The caller then queues or finishes it in the same unit of work."""
    return uow.conversations.transition(
        conversation.id, [ConversationState.BOT], {"state": ConversationState.QUEUED.value, "queued_at": None}
    )


def bot_fall_through(uow: UnitOfWork, conversation: Conversation, reason: str, why: str) -> bool:
    """The bot failed the customer (unreachable, too slow to accept, removed): the department's humans
    take over. Recorded as an event; False if the bot no longer held the conversation."""
    if conversation.state is not ConversationState.BOT or not release_bot(uow, conversation):
        return False
    department = uow.departments.get(conversation.account_id, conversation.department_id)
    assert department is not None  # departments are never deleted
    uow.emit(
        ev.conversation_event(
            conversation,
            ev.BOT_FELL_THROUGH,
            {"reason": reason, "why": why, "department_id": department.id},
            SYSTEM,
            department_id=department.id,
        )
    )
    enter_queue(uow, conversation, department, SYSTEM)
    return True


def enter_queue(
    uow: UnitOfWork, conversation: Conversation, department: Department, actor: Actor
) -> Conversation:
    """Queue a conversation, or end it as ``unavailable`` when the department can take nobody now."""
    online = uow.agents.online_in_department(department.id)
    if not online and not department.queue_enabled:
        return finish(uow, conversation, FinishReason.UNAVAILABLE, SYSTEM, why="no agent online")
    fields = {
        "state": ConversationState.QUEUED.value,
        "department_id": department.id,
        "assignee_id": None,
        "assigned_at": None,
        "offered_to": None,
        "offered_at": None,
        "queued_at": uow.now,
    }
    uow.conversations.update(conversation.id, fields)
    conversation.state = ConversationState.QUEUED
    conversation.department_id = department.id
    conversation.assignee_id = None
    conversation.assigned_at = None
    conversation.offered_to = None
    conversation.offered_at = None
    conversation.queued_at = uow.now
    position = queue_position(uow, conversation)
    uow.emit(
        ev.conversation_event(
            conversation,
            ev.CONVERSATION_QUEUED,
            {"position": position, "department_id": department.id},
            actor,
            department_id=department.id,
        )
    )
    if department.auto_assign and online:
        offer(uow, conversation, department, online)
    return conversation


def offer(
    uow: UnitOfWork,
    conversation: Conversation,
    department: Department,
    online: list[Agent],
    skip_agent_id: int | None = None,
) -> bool:
    """Ring the least busy online agent with room under the department's capacity; False if none has.

    The candidates are held first (see ``AgentRepository.lock_for_assignment``), so no other unit of work
    gives one of them a conversation between this count and this offer: nobody goes over capacity.
    """
    uow.agents.lock_for_assignment(agent.id for agent in online if agent.id != skip_agent_id)
    best: tuple[int, int, Agent] | None = None
    for agent in online:
        if agent.id == skip_agent_id:
            continue
        load = uow.conversations.workload(agent.id)
        if load >= department.capacity:
            continue
        if best is None or (load, agent.id) < best[:2]:
            best = (load, agent.id, agent)
    if best is None:
        if conversation.offered_to is not None:
            uow.conversations.update(conversation.id, {"offered_to": None, "offered_at": None})
            conversation.offered_to = None
        return False
    agent = best[2]
    offered = uow.conversations.transition(
        conversation.id, [ConversationState.QUEUED], {"offered_to": agent.id, "offered_at": uow.now}
    )
    if not offered:
        return False
    conversation.offered_to = agent.id
    conversation.offered_at = uow.now
    uow.emit(
        ev.conversation_event(
            conversation,
            ev.CONVERSATION_OFFERED,
            {"agent_id": agent.id, "ringing_max_time": department.ringing_max_time},
            SYSTEM,
            agent_id=agent.id,
        )
    )
    return True


def finish(
    uow: UnitOfWork,
    conversation: Conversation,
    reason: FinishReason,
    actor: Actor,
    why: str | None = None,
    from_states: tuple[ConversationState, ...] = OPEN_STATES,
) -> Conversation:
    if not conversation.is_open:
        raise Conflict("the conversation is already finished")
    waiting = conversation.state is ConversationState.QUEUED and conversation.queued_at is not None
    position = queue_position(uow, conversation) if waiting else 0
    fields = {
        "state": ConversationState.FINISHED.value,
        "finished_at": uow.now,
        "finish_reason": reason.value,
        "finished_by_type": actor.type.value,
        "finished_by_id": actor.id,
        "offered_to": None,
    }
    if not uow.conversations.transition(conversation.id, from_states, fields):
        if from_states != OPEN_STATES:
            raise Conflict("the conversation changed meanwhile; reload it")
        raise Conflict("the conversation is already finished")
    conversation.state = ConversationState.FINISHED
    conversation.finished_at = uow.now
    conversation.finish_reason = reason
    conversation.finished_by_type = actor.type
    conversation.finished_by_id = actor.id
    data: dict[str, object] = {"reason": reason.value, "finished_by": actor.as_json()}
    if why:
        data["why"] = why
    uow.emit(
        ev.conversation_event(
            conversation, ev.CONVERSATION_FINISHED, data, actor, agent_id=conversation.assignee_id
        )
    )
    announce_queue_moved(uow, conversation.department_id, position, actor)
    return conversation


@dataclass(frozen=True, slots=True)
class DueTimer:
    """A routing deadline found passed: which conversation, which clock, and the time it was read with
    (``queued_at``, ``offered_at`` or ``bot_started_at``), so that firing it can tell whether it still
    stands (another process may have fired it, or the conversation moved, since)."""

    kind: str  # "queue", "ring" or "bot"
    conversation_id: int
    since: float | None
    offered_to: int | None = None


def due_timers(uow: UnitOfWork) -> list[DueTimer]:
    """Conversations that waited past ``queued_max_time``, offers past ``ringing_max_time``, and bots that
    did not accept within ``bot_accept_timeout``, in that order."""
    return [
        *(DueTimer("queue", c.id, c.queued_at) for c in uow.conversations.queued_older_than(uow.now)),
        *(
            DueTimer("ring", c.id, c.offered_at, c.offered_to)
            for c in uow.conversations.offers_older_than(uow.now)
        ),
        *(
            DueTimer("bot", c.id, c.bot_started_at)
            for c in uow.conversations.bots_unaccepted_older_than(uow.now)
        ),
    ]


def fire(uow: UnitOfWork, timer: DueTimer) -> bool:
    """Act on one passed deadline, once: the conversation is held first (one that another unit of work
    holds is skipped), and nothing happens unless it is still as it was read: still queued since the same
    time, still ringing the same agent since the same time, still with the bot that had not accepted.
    True if something changed."""
    conversation = uow.conversations.hold(timer.conversation_id)
    if conversation is None:
        return False
    if timer.kind == "queue":
        if conversation.state is not ConversationState.QUEUED or conversation.queued_at != timer.since:
            return False
        finish(uow, conversation, FinishReason.UNAVAILABLE, SYSTEM, why="queued_max_time")
        return True
    department = uow.departments.get(conversation.account_id, conversation.department_id)
    if timer.kind == "ring":
        if (
            conversation.state is not ConversationState.QUEUED
            or conversation.offered_to is None
            or conversation.offered_to != timer.offered_to
            or conversation.offered_at != timer.since
            or department is None
        ):
            return False
        online = uow.agents.online_in_department(department.id)
        offer(uow, conversation, department, online, skip_agent_id=conversation.offered_to)
        return True
    if (
        conversation.state is not ConversationState.BOT
        or conversation.bot_accepted_at is not None
        or conversation.bot_started_at != timer.since
    ):
        return False
    timeout = department.bot_accept_timeout if department is not None else 0
    why = f"the bot did not accept the conversation within {timeout} s"
    return bot_fall_through(uow, conversation, "accept_timeout", why)


def expire_waiting(uow: UnitOfWork) -> int:
    """Every passed routing deadline, fired in this one unit of work (see :func:`fire`); the timers job
    fires each in its own, so that one conflict never undoes the others."""
    return sum(fire(uow, timer) for timer in due_timers(uow))


def offer_waiting(uow: UnitOfWork, agent: Agent) -> None:
    """When an agent comes online, ring them for conversations already waiting in auto-assign departments."""
    for department_id in agent.department_ids:
        department = uow.departments.get(agent.account_id, department_id)
        if department is None or not department.auto_assign:
            continue
        online = uow.agents.online_in_department(department.id)
        for conversation in uow.conversations.queued_in_department(department.id):
            if conversation.offered_to is None and not offer(uow, conversation, department, online):
                break
