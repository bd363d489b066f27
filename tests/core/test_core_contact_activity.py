"""What the contact does besides writing (opening or minimising the chat) is recorded for agents."""

from __future__ import annotations

import pytest
from core_fakes import World

from helpline.core import agents, conversations
from helpline.core import events as ev
from helpline.core.errors import Invalid
from helpline.core.model import Actor, ActorType


def test_contact_activity_is_an_event_for_the_conversation(world: World) -> None:
    support = world.department()
    alice = world.agent("Alice", [support])
    conversation = world.start(support, "Ana")
    world.run(agents.accept, alice, conversation)
    before = world.store.events[-1].seq
    world.run(
        lambda uow, c: conversations.contact_activity(uow, c, "chat_expanded"),
        world.conversation(conversation),
    )
    world.run(
        lambda uow, c: conversations.contact_activity(uow, c, "chat_minimized"),
        world.conversation(conversation),
    )
    expanded, minimized = world.store.events_after(before)
    assert (expanded.type, expanded.data) == (ev.CONTACT_ACTIVITY, {"activity": "chat_expanded"})
    assert minimized.data == {"activity": "chat_minimized"}
    assert expanded.actor == Actor(ActorType.CONTACT, conversation.contact_id)
    assert (expanded.conversation_id, expanded.department_id, expanded.agent_id) == (
        conversation.id,
        support.id,
        alice.id,
    )
    assert ev.CONTACT_ACTIVITY in ev.ALL


def test_unknown_activities_and_finished_conversations_are_refused(world: World) -> None:
    support = world.department()
    conversation = world.start(support, "Ana")
    with pytest.raises(Invalid, match="activity must be one of chat_expanded, chat_minimized"):
        world.run(lambda uow, c: conversations.contact_activity(uow, c, "dancing"), conversation)
    world.run(conversations.contact_finish, conversation)
    with pytest.raises(Invalid, match="already finished"):
        world.run(
            lambda uow, c: conversations.contact_activity(uow, c, "chat_expanded"),
            world.conversation(conversation),
        )
