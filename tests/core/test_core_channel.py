"""A contact's channel in the core: opening it, its token, writing after the end, deleting and reacting."""

from __future__ import annotations

from typing import Any

import pytest
from core_fakes import FakeStore, World

from helpline.core import agents, channel, message_actions
from helpline.core import events as ev
from helpline.core.channel import ContactToken, OpenedChannel
from helpline.core.conversations import ContactDetails, add_message, contact_message
from helpline.core.credentials import token_hash
from helpline.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from helpline.core.model import (
    Actor,
    ActorType,
    Conversation,
    ConversationState,
    Direction,
    Message,
    MessageKind,
)


def open_contact(world: World, queue: bool = True, first: str | None = None) -> OpenedChannel:
    department = world.department(queue_enabled=queue)

    def opening(uow: Any) -> OpenedChannel:
        def first_messages(conversation: Conversation) -> None:
            assert first is not None
            contact_message(uow, conversation, first)

        return channel.open_channel(
            uow, department, "sdk", ContactDetails(name="Olena"), first_messages if first else None
        )

    return world.store.write(opening)


def test_opening_a_channel_keeps_only_the_tokens_hash(world: World, fake_store: FakeStore) -> None:
    opened = open_contact(world)
    assert len(opened.secret) == channel.TOKEN_LENGTH
    assert opened.secret.isalnum()
    [(stored, digest)] = fake_store.db.contact_tokens.values()
    assert digest == token_hash(opened.secret)
    assert opened.secret not in repr(fake_store.db)
    assert stored.contact_id == opened.contact.id == opened.conversation.contact_id
    assert opened.conversation.state is ConversationState.QUEUED
    found = world.store.read(lambda uow: channel.token_by_secret(uow, opened.secret))
    assert found.id == opened.token.id
    for secret in ("", None, "x" * 22):
        with pytest.raises(Unauthorized):
            world.store.read(lambda uow, secret=secret: channel.token_by_secret(uow, secret))


def test_first_messages_come_before_routing_and_survive_an_unavailable_start(
    world: World, fake_store: FakeStore
) -> None:
    opened = open_contact(world, queue=False, first="anyone?")
    assert opened.conversation.state is ConversationState.FINISHED
    kinds = [e.type for e in fake_store.events]
    assert kinds.index(ev.MESSAGE_CREATED) < kinds.index(ev.CONVERSATION_FINISHED)
    assert [m.content for m in fake_store.db.messages.values()] == ["anyone?"]


def test_writing_after_the_end_opens_a_new_conversation_for_the_same_contact(
    world: World, fake_store: FakeStore
) -> None:
    opened = open_contact(world)
    token: ContactToken = opened.token

    def write(text: str) -> Conversation:
        def work(uow: Any) -> Conversation:
            return channel.conversation_to_write(
                uow, token, "sdk", lambda conversation: contact_message(uow, conversation, text)
            )

        return world.store.write(work)

    assert write("one").id == opened.conversation.id
    ana = world.agent("Ana", [world.store.read(lambda uow: uow.departments.list())[0]])
    world.run(agents.accept, ana, opened.conversation)
    world.run(agents.finish, ana, opened.conversation)
    again = write("two")
    assert again.id != opened.conversation.id
    assert again.contact_id == opened.contact.id
    assert again.state is ConversationState.QUEUED
    assert len(fake_store.db.contacts) == 1
    assert world.store.read(lambda uow: channel.current_conversation(uow, token)).id == again.id
    started = [e for e in fake_store.events if e.type == ev.CONVERSATION_STARTED]
    assert [e.actor for e in started] == [Actor(ActorType.CONTACT, opened.contact.id)] * 2


def test_a_contact_reaches_only_its_own_messages(world: World) -> None:
    mine, theirs = open_contact(world), open_contact(world)
    message = world.run(contact_message, theirs.conversation, "theirs")
    with pytest.raises(NotFound):
        world.store.read(lambda uow: channel.contact_message(uow, mine.token, message.id))
    assert (
        world.store.read(lambda uow: channel.contact_message(uow, theirs.token, message.id)).id == message.id
    )


def test_an_idempotency_key_belongs_to_its_sender(world: World) -> None:
    opened = open_contact(world)
    first = world.run(contact_message, opened.conversation, "hi", idempotency_key="k1")
    again = world.run(contact_message, opened.conversation, "hi", idempotency_key="k1")
    assert again.id == first.id

    def as_someone_else(uow: Any, conversation: Conversation) -> Message:
        return add_message(
            uow,
            conversation,
            direction=Direction.OUTBOUND,
            sender=Actor(ActorType.AGENT, 99),
            content="hi",
            kind=MessageKind.TEXT,
            idempotency_key="k1",
        )

    with pytest.raises(Conflict, match="already used by someone else"):
        world.run(as_someone_else, opened.conversation)


def _act(world: World, opened: OpenedChannel, message_id: int, action: Any, *args: Any) -> Any:
    def work(uow: Any) -> Any:
        message = channel.contact_message(uow, opened.token, message_id)
        return action(uow, channel.conversation_of(uow, message), message, *args)

    return world.store.write(work)


def test_deleting_clears_the_message_and_hands_back_its_file(world: World, fake_store: FakeStore) -> None:
    opened = open_contact(world)
    actor = channel.contact_actor(opened.token)
    message = world.run(contact_message, opened.conversation, "oops")
    assert _act(world, opened, message.id, message_actions.delete_message, actor) is None
    stored = fake_store.db.messages[message.id]
    assert (stored.content, stored.deleted_at, stored.content_attributes) == ("", fake_store.now, {})
    assert fake_store.events[-1].type == ev.MESSAGE_DELETED
    assert fake_store.events[-1].data["message"]["deleted"] is True
    count = len(fake_store.events)
    assert _act(world, opened, message.id, message_actions.delete_message, actor) is None
    assert len(fake_store.events) == count
    with pytest.raises(Forbidden):
        _act(world, opened, message.id, message_actions.delete_message, Actor(ActorType.AGENT, 1))


def test_one_reaction_per_participant(world: World, fake_store: FakeStore) -> None:
    opened = open_contact(world)
    actor = channel.contact_actor(opened.token)
    message = world.run(contact_message, opened.conversation, "good")
    assert _act(world, opened, message.id, message_actions.set_reaction, actor, "👍") is True
    assert _act(world, opened, message.id, message_actions.set_reaction, actor, "👍") is False
    assert _act(world, opened, message.id, message_actions.set_reaction, actor, "🎉") is True
    assert [r.reaction for r in fake_store.db.reactions] == ["🎉"]
    assert _act(world, opened, message.id, message_actions.set_reaction, actor, None) is True
    assert _act(world, opened, message.id, message_actions.set_reaction, actor, None) is False
    assert fake_store.db.reactions == []
    reactions = [e for e in fake_store.events if e.type == ev.MESSAGE_REACTION_UPDATED]
    assert [e.data["reaction"] for e in reactions] == ["👍", "🎉", None]
    with pytest.raises(Invalid):
        _act(world, opened, message.id, message_actions.set_reaction, actor, "\n")
