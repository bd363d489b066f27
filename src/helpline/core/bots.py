"""External bots: a department's bot holds the conversations that start there until it hands them to humans.

The bot's side: accept, answer, transfer to humans, finish. A bot authenticates with an API token of its
account and may act only on conversations of that account that are in state ``bot``; every refusal says
why (finished, already with humans, transferred meanwhile...).

The system's side: a bot that cannot be reached (its deliveries failed past their retries) or that has not
accepted within its department's ``bot_accept_timeout`` loses the conversation to the humans' queue of the
same department (:func:`helpline.core.routing.bot_fall_through`, recorded as an event).

The operator's side: give a department a bot URL (an endpoint of kind ``bot`` with its own signing secret,
shown once) or take it away (the conversations it holds go to the department's humans).
"""

from __future__ import annotations

from dataclasses import dataclass

from helpline.core import events as ev
from helpline.core import routing
from helpline.core.conversations import active_department, add_message
from helpline.core.credentials import new_signing_secret
from helpline.core.errors import Invalid, NotFound
from helpline.core.interactive import is_interactive
from helpline.core.model import (
    Actor,
    ActorType,
    Conversation,
    ConversationState,
    Department,
    Direction,
    FinishReason,
    JsonObject,
    Message,
    MessageKind,
)
from helpline.core.ports import UnitOfWork
from helpline.core.values import parse_url

ENDPOINT_KIND = "bot"

# Why a conversation fell through to humans (``data.reason`` of ``conversation.bot_fell_through``).
UNREACHABLE = "bot_unreachable"
ACCEPT_TIMEOUT = "accept_timeout"
REMOVED = "bot_removed"


def bot_actor(conversation: Conversation) -> Actor:
    """A bot has no row of its own: it is the bot of the department that holds the conversation."""
    return Actor(ActorType.BOT, conversation.department_id)


def bot_name(department: Department) -> str:
    return f"{department.name} bot"


# -- what the bot may act on -------------------------------------------------------------------------


def held_conversation(uow: UnitOfWork, account_id: int, conversation_hash: str) -> Conversation:
    """The conversation, if a bot of ``account_id`` holds it now; otherwise say why it may not act."""
    conversation = uow.conversations.by_hash(account_id, conversation_hash)
    if conversation is None:
        raise NotFound(f"conversation {conversation_hash} not found")
    if conversation.state is not ConversationState.BOT:
        raise Invalid(_why_not_held(uow, conversation))
    return conversation


def _why_not_held(uow: UnitOfWork, conversation: Conversation) -> str:
    name = f"conversation {conversation.hash}"
    if conversation.state is ConversationState.FINISHED:
        return f"{name} is already finished"
    department = uow.departments.get(conversation.account_id, conversation.department_id)
    where = f"department {conversation.department_id}" + (f" ({department.name})" if department else "")
    was = "is not with a bot" if conversation.bot_endpoint_id is None else "is no longer with the bot"
    if conversation.state is ConversationState.ASSIGNED:
        return f"{name} {was}: a human agent of {where} is answering it"
    return f"{name} {was}: it waits for a human agent in {where}"


def _moved(conversation: Conversation) -> Invalid:
    return Invalid(
        f"conversation {conversation.hash} left the bot meanwhile (transferred, finished or fell through)"
    )


# -- the bot's actions --------------------------------------------------------------------------------


def accept(uow: UnitOfWork, conversation: Conversation) -> Conversation:
    """The bot takes the conversation on (stops its accept clock); accepting twice is accepting once."""
    if conversation.bot_accepted_at is not None:
        return conversation
    if not uow.conversations.transition(
        conversation.id, [ConversationState.BOT], {"bot_accepted_at": uow.now}
    ):
        raise _moved(conversation)
    conversation.bot_accepted_at = uow.now
    uow.emit(
        ev.conversation_event(
            conversation,
            ev.BOT_ACCEPTED,
            {"department_id": conversation.department_id, "endpoint_id": conversation.bot_endpoint_id},
            bot_actor(conversation),
        )
    )
    return conversation


def send_message(
    uow: UnitOfWork,
    conversation: Conversation,
    content: str,
    kind: MessageKind,
    file_url: str | None,
    idempotency_key: str | None = None,
    content_attributes: JsonObject | None = None,
) -> Message:
    """An answer from the bot, relayed to the customer in the customer's own API (an interactive one as
    numbered text where that API has no buttons). A bot that answers without accepting first has accepted."""
    if kind is not MessageKind.TEXT and not is_interactive(kind) and not file_url:
        raise Invalid(f"a message of content_type {kind.value} needs attachment.url")
    # Lock the row while the bot still holds it: a fall-through racing this message waits, then sees it.
    if not uow.conversations.transition(conversation.id, [ConversationState.BOT], {"updated_at": uow.now}):
        raise _moved(conversation)
    if conversation.bot_accepted_at is None:
        accept(uow, conversation)
    department = uow.departments.get(conversation.account_id, conversation.department_id)
    return add_message(
        uow,
        conversation,
        direction=Direction.OUTBOUND,
        sender=bot_actor(conversation),
        content=content,
        kind=kind,
        file_url=file_url,
        idempotency_key=idempotency_key,
        sender_name=bot_name(department) if department else "bot",
        content_attributes=content_attributes,
    )


def transfer(uow: UnitOfWork, conversation: Conversation, department_id: int | None) -> Conversation:
    """Hand the conversation to humans: of ``department_id``, or with none of the department it started in.

    Refused (and the bot keeps it) when that department can take nobody: no queue and nobody online.
    """
    target_id = department_id if department_id is not None else conversation.origin_department_id
    department = active_department(uow, conversation.account_id, target_id)
    if not department.queue_enabled and not uow.agents.online_in_department(department.id):
        raise Invalid(
            f"nobody is available in department {department.id} ({department.name}) and it has no queue;"
            " the bot keeps the conversation"
        )
    previous_department = conversation.department_id
    actor = bot_actor(conversation)
    if not routing.release_bot(uow, conversation):
        raise _moved(conversation)
    uow.emit(
        ev.conversation_event(
            conversation,
            ev.CONVERSATION_TRANSFERRED,
            {
                "from_department_id": previous_department,
                "from_agent_id": None,
                "to_department_id": department.id,
                "to_agent": None,
            },
            actor,
            department_id=department.id,
            prev_department_id=previous_department,
        )
    )
    return routing.enter_queue(uow, conversation, department, actor)


def finish(uow: UnitOfWork, conversation: Conversation) -> Conversation:
    return routing.finish(
        uow,
        conversation,
        FinishReason.RESOLVED,
        bot_actor(conversation),
        from_states=(ConversationState.BOT,),
    )


# -- when the bot cannot be reached ------------------------------------------------------------------


def delivery_failed(uow: UnitOfWork, endpoint_id: int, conversation_id: int, error: str) -> bool:
    """A call to a bot endpoint about this conversation failed for good: humans take over, if the bot
    still held it. True if the conversation fell through."""
    conversation = uow.conversations.by_id_any_account(conversation_id)
    if (
        conversation is None
        or conversation.state is not ConversationState.BOT
        or conversation.bot_endpoint_id != endpoint_id
    ):
        return False
    return routing.bot_fall_through(uow, conversation, UNREACHABLE, f"the bot could not be reached: {error}")


def endpoint_gone(uow: UnitOfWork, endpoint_id: int, error: str) -> int:
    """The bot endpoint was disabled (it answered 410 Gone): every conversation it held goes to humans."""
    moved = 0
    for conversation in uow.conversations.held_by_bot(endpoint_id):
        if routing.bot_fall_through(uow, conversation, UNREACHABLE, f"the bot endpoint is gone: {error}"):
            moved += 1
    return moved


# -- the operator's side -----------------------------------------------------------------------------


@dataclass(slots=True)
class BotSetup:
    department: Department
    signing_secret: str | None  # shown once: when the department's bot endpoint is first made
    fell_through: int = 0  # conversations handed to humans because the bot was removed


def _bot_url(value: str) -> str:
    parse_url(value, "bot URL")
    return value.strip()


def _department(uow: UnitOfWork, account_id: int, department_id: int) -> Department:
    department = uow.departments.get(account_id, department_id)
    if department is None:
        raise NotFound(f"department {department_id} does not exist in account {account_id}")
    return department


def configure(
    uow: UnitOfWork,
    account_id: int,
    department_id: int,
    url: str | None = None,
    accept_timeout: int | None = None,
) -> BotSetup:
    """Set the department's bot URL and/or accept timeout; ``None`` leaves a setting as it is.

    The first URL makes the bot's endpoint and its signing secret; a later one repoints it (and enables it
    again if it had been disabled), keeping the secret.
    """
    department = _department(uow, account_id, department_id)
    changes: dict[str, object] = {}
    secret = None
    if accept_timeout is not None:
        if accept_timeout < 1:
            raise Invalid(f"bot_accept_timeout must be at least 1 second (got {accept_timeout})")
        changes["bot_accept_timeout"] = accept_timeout
    if url is not None:
        clean = _bot_url(url)
        endpoint = uow.endpoints.get(department.bot_endpoint_id) if department.bot_endpoint_id else None
        if endpoint is None:
            endpoint = uow.endpoints.create(account_id, ENDPOINT_KIND, clean, new_signing_secret(), uow.now)
            secret = endpoint.secret
            changes["bot_endpoint_id"] = endpoint.id
        else:
            uow.endpoints.update_url(endpoint.id, clean)
        changes["bot_url"] = clean
    if changes:
        changes["updated_at"] = uow.now
        uow.departments.update(department.id, changes)
        for key, value in changes.items():
            setattr(department, key, value)
    return BotSetup(department=department, signing_secret=secret)


def remove(uow: UnitOfWork, account_id: int, department_id: int) -> BotSetup:
    """Take the department's bot away: new conversations go to its humans, and so do those the bot holds."""
    department = _department(uow, account_id, department_id)
    uow.departments.update(department.id, {"bot_url": None, "updated_at": uow.now})
    department.bot_url = None
    department.updated_at = uow.now
    moved = 0
    if department.bot_endpoint_id is not None:
        for conversation in uow.conversations.held_by_bot(department.bot_endpoint_id):
            if routing.bot_fall_through(uow, conversation, REMOVED, "the department's bot was removed"):
                moved += 1
    return BotSetup(department=department, signing_secret=None, fell_through=moved)
