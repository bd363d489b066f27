"""A contact's own channel: an app or web SDK that talks to the server as the contact.

Opening the channel in a department (an "inbox" open to SDK clients) makes a contact, a first conversation
and a contact token: a random secret the client presents on every call and on its websocket. Only its
SHA-256 is stored. The token reaches every conversation of that contact; the current one is the newest.
When it has ended, the contact's next message starts a new conversation in the same department.

This module also declares the repositories that contact channels and rich messages (receipts, interactive
answers, reactions, deletion) need beyond :mod:`helpline.core.ports`; a unit of work offers them as
``uow.sdk``.
"""

from __future__ import annotations

import builtins
import secrets
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from helpline.core import conversations
from helpline.core.conversations import ContactDetails, StartConversation
from helpline.core.credentials import token_hash
from helpline.core.errors import NotFound, Unauthorized
from helpline.core.model import (
    Actor,
    ActorType,
    Contact,
    Conversation,
    Department,
    Message,
)
from helpline.core.ports import UnitOfWork

_ALPHABET = string.ascii_letters + string.digits
TOKEN_LENGTH = 22  # 62**22 > 2**130
IDENTIFIER_LENGTH = 22


def random_base62(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(slots=True)
class ContactToken:
    """The credential of one contact in one department; ``identifier`` is public (shown to agents)."""

    id: int
    account_id: int
    department_id: int
    contact_id: int
    identifier: str
    created_at: float


@dataclass(slots=True, frozen=True)
class Reaction:
    message_id: int
    actor: Actor
    reaction: str
    created_at: float


class ContactTokenRepository(Protocol):
    def create(self, token: ContactToken, token_hash: str) -> ContactToken: ...
    def by_hash(self, token_hash: str) -> ContactToken | None: ...
    def by_contact(self, contact_id: int) -> ContactToken | None: ...


class ContactConversationRepository(Protocol):
    def latest_for_contact(self, contact_id: int) -> Conversation | None: ...
    def ids_for_contact(self, contact_id: int) -> builtins.list[int]: ...


class MessageChangeRepository(Protocol):
    def get(self, message_id: int) -> Message | None: ...
    def get_many(self, message_ids: Sequence[int]) -> builtins.list[Message]: ...
    def update(self, message_id: int, fields: dict[str, Any]) -> None:
        """Set columns (``status``, ``updated_at``, ``selected_value``, ``content``, ``deleted_at``...)."""
        ...

    def unseen_inbound(self, conversation_id: int, up_to: int | None) -> builtins.list[Message]:
        """The contact's messages not yet ``seen`` (ids up to ``up_to`` when given), oldest first."""
        ...


class ReactionRepository(Protocol):
    def put(self, message_id: int, actor: Actor, reaction: str, now: float) -> None: ...
    def remove(self, message_id: int, actor: Actor) -> bool: ...
    def for_messages(self, message_ids: Sequence[int]) -> dict[int, builtins.list[Reaction]]: ...


class ChannelRepositories(Protocol):
    @property
    def contact_tokens(self) -> ContactTokenRepository: ...
    @property
    def conversations(self) -> ContactConversationRepository: ...
    @property
    def messages(self) -> MessageChangeRepository: ...
    @property
    def reactions(self) -> ReactionRepository: ...


class ChannelUnitOfWork(UnitOfWork, Protocol):
    @property
    def sdk(self) -> ChannelRepositories: ...


# -- opening a channel, authenticating it --------------------------------------------------------------


@dataclass(slots=True)
class OpenedChannel:
    token: ContactToken
    secret: str  # shown once, to the client
    contact: Contact
    conversation: Conversation


FirstMessages = Callable[[Conversation], None]


def open_channel(
    uow: ChannelUnitOfWork,
    department: Department,
    origin_dialect: str,
    details: ContactDetails,
    first_messages: FirstMessages | None = None,
) -> OpenedChannel:
    """A new contact in ``department`` with its token and first conversation. ``first_messages`` adds
    the contact's opening messages before the conversation is routed (so they are kept even when nobody
    can take it and it ends at once)."""
    contact = conversations.create_contact(uow, department.account_id, details)
    secret = random_base62(TOKEN_LENGTH)
    token = uow.sdk.contact_tokens.create(
        ContactToken(
            id=0,
            account_id=department.account_id,
            department_id=department.id,
            contact_id=contact.id,
            identifier=random_base62(IDENTIFIER_LENGTH),
            created_at=uow.now,
        ),
        token_hash(secret),
    )
    conversation, _ = conversations.open_conversation(
        uow,
        StartConversation(
            account_id=department.account_id,
            department_id=department.id,
            origin_dialect=origin_dialect,
            origin_key=str(token.id),
            contact_id=contact.id,
        ),
    )
    if first_messages is not None:
        first_messages(conversation)
    conversation = conversations.route_new(uow, conversation, department)
    return OpenedChannel(token=token, secret=secret, contact=contact, conversation=conversation)


def token_by_secret(uow: ChannelUnitOfWork, secret: str | None) -> ContactToken:
    if not secret:
        raise Unauthorized("no contact token was sent")
    token = uow.sdk.contact_tokens.by_hash(token_hash(secret))
    if token is None:
        raise Unauthorized("unknown contact token")
    return token


def contact_actor(token: ContactToken) -> Actor:
    return Actor(ActorType.CONTACT, token.contact_id)


def current_conversation(uow: ChannelUnitOfWork, token: ContactToken) -> Conversation:
    found = uow.sdk.conversations.latest_for_contact(token.contact_id)
    if found is None:  # every channel opens with a conversation; only a deleted one could be missing
        raise NotFound("the contact has no conversation")
    return found


def conversation_to_write(
    uow: ChannelUnitOfWork,
    token: ContactToken,
    origin_dialect: str,
    messages: Callable[[Conversation], None],
) -> Conversation:
    """Add the contact's messages to the current conversation, or, when it has ended, to a new one in the
    channel's department (the messages come first, then the new conversation is routed)."""
    current = current_conversation(uow, token)
    if current.is_open:
        messages(current)
        return current
    conversation, department = conversations.open_conversation(
        uow,
        StartConversation(
            account_id=token.account_id,
            department_id=token.department_id,
            origin_dialect=origin_dialect,
            origin_key=str(token.id),
            contact_id=token.contact_id,
        ),
    )
    messages(conversation)
    return conversations.route_new(uow, conversation, department)


def contact_message(uow: ChannelUnitOfWork, token: ContactToken, message_id: int) -> Message:
    """A message of any of the contact's conversations; anything else is 404."""
    message = uow.sdk.messages.get(message_id)
    if message is None or message.conversation_id not in uow.sdk.conversations.ids_for_contact(
        token.contact_id
    ):
        raise NotFound(f"message {message_id} not found")
    return message


def conversation_of(uow: UnitOfWork, message: Message) -> Conversation:
    conversation = uow.conversations.by_id_any_account(message.conversation_id)
    assert conversation is not None  # messages are never orphaned
    return conversation


def sender_name(uow: UnitOfWork, message: Message) -> str | None:
    """Who wrote a message, as named to the other side."""
    if message.sender_id is None:
        return None
    if message.sender_type is ActorType.AGENT:
        agent = uow.agents.get(message.sender_id)
        return agent.name if agent else None
    if message.sender_type is ActorType.CONTACT:
        contact = uow.contacts.get(message.sender_id)
        return contact.name if contact else None
    if message.sender_type is ActorType.BOT:
        conversation = conversation_of(uow, message)
        department = uow.departments.get(conversation.account_id, message.sender_id)
        return f"{department.name} bot" if department else "bot"
    return None
