"""What participants do with a message already sent: answer it (interactive), react to it, delete it,
reply to it.

- Answering: the contact chooses a postback button of a card or an option of a quick reply — the message
  gets ``selected_value`` (``message.updated``) and the contact's answer, the option's title, is added as
  a new message replying to it; or rates a feedback question — the rating is kept on the message and on
  the conversation (``conversation.updated`` with ``feedback``), without a new message. The first answer
  stands: the same answer again changes nothing, a different one is refused.
- Reactions: one per participant per message (an emoji or a short text); ``None`` takes it back.
- Deleting: a participant's own message loses its text and file (``message.deleted``); the row stays so
  the conversation's numbering and replies keep their place.
"""

from __future__ import annotations

from collections.abc import Iterable

from helpline.core import events as ev
from helpline.core import interactive
from helpline.core.channel import ChannelUnitOfWork, ContactToken, contact_actor, sender_name
from helpline.core.conversations import add_message
from helpline.core.errors import Conflict, Forbidden, Invalid, NotFound
from helpline.core.model import Actor, Conversation, Direction, Message, MessageKind
from helpline.core.receipts import announce_update
from helpline.core.serialize import message_view

MAX_REACTION = 32


def reply_target(uow: ChannelUnitOfWork, conversation_ids: Iterable[int], message_id: int) -> Message:
    """The message a reply refers to: one of ``conversation_ids``' messages, not deleted."""
    message = uow.sdk.messages.get(message_id)
    if message is None or message.conversation_id not in set(conversation_ids):
        raise NotFound(f"message {message_id} not found")
    return message


def select_option(
    uow: ChannelUnitOfWork, token: ContactToken, conversation: Conversation, message: Message, value: str
) -> Message | None:
    """The contact's answer to an interactive message; returns the answer message (None for feedback or
    when the same answer was already given)."""
    kind = message.kind
    if not interactive.is_interactive(kind) or message.direction is not Direction.OUTBOUND:
        raise Invalid(f"message {message.id} is not an interactive message (it is {kind.value})")
    if message.deleted_at is not None:
        raise Invalid(f"message {message.id} was deleted")
    if not isinstance(value, str) or not value.strip():
        raise Invalid("the selected value must be a non-empty string")
    if len(value) > interactive.MAX_VALUE:
        raise Invalid(f"the selected value must be at most {interactive.MAX_VALUE} characters")
    option = None
    if kind is not MessageKind.FEEDBACK:
        option = interactive.option_for(kind, message.content_attributes, value)
        if option is None:
            offered = ", ".join(repr(v) for v in interactive.choices(message.content_attributes))
            raise Invalid(f"{value!r} is not an option of message {message.id} (choose one of {offered})")
        if not conversation.is_open:
            raise Invalid(f"the conversation of message {message.id} has ended; it can no longer be answered")
    if message.selected_value is not None:
        if message.selected_value == value:
            return None
        raise Conflict(f"message {message.id} was already answered with {message.selected_value!r}")
    actor = contact_actor(token)
    uow.sdk.messages.update(message.id, {"selected_value": value, "updated_at": uow.now})
    message.selected_value = value
    message.updated_at = uow.now
    announce_update(uow, conversation, message, ["selected_value"], actor)
    if option is None:
        feedback = {"message_id": message.id, "question": message.content, "value": value, "at": uow.now}
        uow.conversations.update(conversation.id, {"feedback": feedback, "updated_at": uow.now})
        conversation.feedback = feedback
        uow.emit(
            ev.conversation_event(
                conversation,
                ev.CONVERSATION_UPDATED,
                {"changes": {"feedback": feedback}},
                actor,
                agent_id=conversation.assignee_id,
            )
        )
        return None
    return add_message(
        uow,
        conversation,
        direction=Direction.INBOUND,
        sender=actor,
        content=str(option["title"]),
        kind=MessageKind.TEXT,
        reply_to_id=message.id,
        selected_value=value,
        sender_name=_contact_name(uow, token),
    )


def _contact_name(uow: ChannelUnitOfWork, token: ContactToken) -> str | None:
    contact = uow.contacts.get(token.contact_id)
    return contact.name if contact is not None else None


def set_reaction(
    uow: ChannelUnitOfWork, conversation: Conversation, message: Message, actor: Actor, reaction: str | None
) -> bool:
    """Put (or with ``None`` take back) ``actor``'s reaction; False when nothing changed."""
    if message.deleted_at is not None:
        raise Invalid(f"message {message.id} was deleted")
    if reaction is not None:
        if not isinstance(reaction, str) or not reaction.strip():
            raise Invalid("reaction must be a non-empty string (an emoji) or null")
        if len(reaction) > MAX_REACTION or not reaction.isprintable():
            raise Invalid(f"reaction must be at most {MAX_REACTION} printable characters")
    current = next(
        (r for r in uow.sdk.reactions.for_messages([message.id]).get(message.id, []) if r.actor == actor),
        None,
    )
    if reaction is None:
        if current is None:
            return False
        uow.sdk.reactions.remove(message.id, actor)
    else:
        if current is not None and current.reaction == reaction:
            return False
        uow.sdk.reactions.put(message.id, actor, reaction, uow.now)
    uow.sdk.messages.update(message.id, {"updated_at": uow.now})
    message.updated_at = uow.now
    uow.emit(
        ev.conversation_event(
            conversation,
            ev.MESSAGE_REACTION_UPDATED,
            {
                "message": message_view(message, sender_name(uow, message)),
                "reaction": reaction,
                "by": actor.as_json(),
            },
            actor,
            agent_id=conversation.assignee_id,
        )
    )
    return True


def delete_message(
    uow: ChannelUnitOfWork, conversation: Conversation, message: Message, actor: Actor
) -> str | None:
    """Delete ``actor``'s own message; returns the key of its stored file, for the caller to remove from
    the file store once this unit of work has committed (None: no file, or already deleted)."""
    if (message.sender_type, message.sender_id) != (actor.type, actor.id):
        raise Forbidden(f"message {message.id} is not yours to delete")
    if message.deleted_at is not None:
        return None
    key = None
    if message.file_id is not None:
        stored = uow.files.get(message.file_id)
        key = stored.key if stored is not None else None
    fields: dict[str, object] = {
        "content": "",
        "file_url": None,
        "content_attributes": {},
        "deleted_at": uow.now,
        "updated_at": uow.now,
    }
    uow.sdk.messages.update(message.id, fields)
    message.content = ""
    message.file_url = None
    message.content_attributes = {}
    message.deleted_at = uow.now
    message.updated_at = uow.now
    announce_update(uow, conversation, message, ["deleted"], actor, ev.MESSAGE_DELETED)
    return key
