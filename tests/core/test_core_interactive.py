"""Interactive messages in the core: checking options, plain-text fallback, the contact's answer."""

from __future__ import annotations

from typing import Any

import pytest
from core_fakes import FakeStore, World

from helpline.core import agents, channel, interactive, message_actions
from helpline.core import events as ev
from helpline.core.channel import OpenedChannel
from helpline.core.conversations import ContactDetails
from helpline.core.errors import Conflict, Invalid
from helpline.core.model import Agent, Message, MessageKind

CARD = {
    "image_url": "https://example.com/alps.jpg",
    "buttons": [
        {"type": "link", "title": "View Details", "url": "https://example.com/trips/alps"},
        {"type": "postback", "title": "Book Now", "value": "BOOK"},
    ],
}
QUICK = {"buttons": [{"title": "Standard", "value": "STD"}, {"title": "Overnight", "value": "NIGHT"}]}


def test_options_are_checked_and_kept_in_one_form() -> None:
    assert interactive.normalize(MessageKind.CARD, "Explore", CARD) == CARD
    assert interactive.normalize(MessageKind.QUICK_REPLY, "Ship?", {**QUICK, "selected_value": None}) == QUICK
    assert interactive.normalize(
        MessageKind.QUICK_REPLY, "Ship?", {"buttons": [{"title": "A", "value": "a", "type": "postback"}]}
    ) == {"buttons": [{"title": "A", "value": "a"}]}
    assert interactive.normalize(MessageKind.FEEDBACK, "Rate us", {"selected_value": None}) == {}
    assert interactive.normalize(MessageKind.TEXT, "hi", None) == {}


@pytest.mark.parametrize(
    ("kind", "content", "attributes", "fragment"),
    [
        (MessageKind.CARD, "", CARD, "needs content"),
        (MessageKind.CARD, "x", {}, "needs content_attributes.buttons"),
        (MessageKind.CARD, "x", {"buttons": [{"type": "call", "title": "a"}]}, "must be link or postback"),
        (
            MessageKind.CARD,
            "x",
            {"buttons": [{"type": "link", "title": "a", "url": "javascript:x"}]},
            "http(s) URL",
        ),
        (
            MessageKind.CARD,
            "x",
            {"buttons": [{"type": "postback", "title": "a"}]},
            "value must be a non-empty string",
        ),
        (
            MessageKind.CARD,
            "x",
            {"buttons": [{"type": "postback", "title": "a", "value": "v", "url": "u"}]},
            "unknown fields: url",
        ),
        (
            MessageKind.CARD,
            "x",
            {"buttons": [{"type": "postback", "title": "", "value": "v"}]},
            "title must be",
        ),
        (MessageKind.CARD, "x", {"buttons": "yes"}, "a list of at least one button"),
        (
            MessageKind.CARD,
            "x",
            {"buttons": [{"type": "link", "title": "a", "url": "https://a"}] * 21},
            "at most 20",
        ),
        (
            MessageKind.QUICK_REPLY,
            "x",
            {"buttons": [{"title": "a", "value": "v"}, {"title": "b", "value": "v"}]},
            "same value",
        ),
        (
            MessageKind.QUICK_REPLY,
            "x",
            {"buttons": [{"type": "link", "title": "a", "value": "v"}]},
            "only be postback",
        ),
        (MessageKind.QUICK_REPLY, "x", {**QUICK, "selected_value": "STD"}, "set by the contact's choice"),
        (MessageKind.FEEDBACK, "x", {"buttons": []}, "cannot have buttons"),
        (MessageKind.TEXT, "x", {"buttons": []}, "only for card, quick_reply and feedback"),
        (
            MessageKind.CARD,
            "x",
            {"image_url": "file:///etc/passwd", "buttons": CARD["buttons"]},
            "image_url must be an http(s) URL",
        ),
    ],
)
def test_bad_options_say_what_is_wrong(
    kind: MessageKind, content: str, attributes: Any, fragment: str
) -> None:
    with pytest.raises(Invalid) as refused:
        interactive.normalize(kind, content, attributes)
    assert fragment in refused.value.message


def test_the_plain_text_fallback_numbers_the_options() -> None:
    assert interactive.fallback_text(MessageKind.CARD, "Explore", CARD) == (
        "Explore\nhttps://example.com/alps.jpg\n1. View Details: https://example.com/trips/alps\n2. Book Now"
    )
    assert (
        interactive.fallback_text(MessageKind.QUICK_REPLY, "Ship?", QUICK)
        == "Ship?\n1. Standard\n2. Overnight"
    )
    assert interactive.fallback_text(MessageKind.FEEDBACK, "Rate us", {}) == "Rate us"
    assert interactive.fallback_text(MessageKind.TEXT, "hi", {}) == "hi"
    view = {"type": "quick_reply", "content": "Ship?", "content_attributes": QUICK, "id": 7}
    assert interactive.plain_message(view) == view | {
        "type": "text",
        "content": "Ship?\n1. Standard\n2. Overnight",
    }
    text = {"type": "text", "content": "hi"}
    assert interactive.plain_message(text) is text


def setup(world: World) -> tuple[Agent, OpenedChannel]:
    support = world.department()
    ana = world.agent("Ana", [support])
    opened = world.store.write(
        lambda uow: channel.open_channel(uow, support, "sdk", ContactDetails(name="Olena"))
    )
    world.run(agents.accept, ana, opened.conversation)
    return ana, opened


def send(
    world: World, ana: Agent, opened: OpenedChannel, kind: MessageKind, title: str, attributes: Any
) -> Message:
    def work(uow: Any) -> Message:
        conversation = uow.conversations.get(opened.conversation.account_id, opened.conversation.id)
        return agents.send_message(
            uow, uow.agents.get(ana.id), conversation, title, kind, None, content_attributes=attributes
        )

    return world.store.write(work)


def choose(world: World, opened: OpenedChannel, message_id: int, value: str) -> Message | None:
    def work(uow: Any) -> Message | None:
        message = channel.contact_message(uow, opened.token, message_id)
        conversation = channel.conversation_of(uow, message)
        return message_actions.select_option(uow, opened.token, conversation, message, value)

    return world.store.write(work)


def test_choosing_a_postback_answers_with_its_title(world: World, fake_store: FakeStore) -> None:
    ana, opened = setup(world)
    card = send(world, ana, opened, MessageKind.CARD, "Explore", CARD)
    mark = fake_store.events[-1].seq
    answer = choose(world, opened, card.id, "BOOK")
    assert answer is not None
    assert (answer.content, answer.kind, answer.reply_to_id, answer.selected_value) == (
        "Book Now",
        MessageKind.TEXT,
        card.id,
        "BOOK",
    )
    assert [e.type for e in fake_store.events_after(mark)] == [ev.MESSAGE_UPDATED, ev.MESSAGE_CREATED]
    assert fake_store.db.messages[card.id].selected_value == "BOOK"
    assert choose(world, opened, card.id, "BOOK") is None
    with pytest.raises(Invalid, match="not an option"):
        choose(world, opened, card.id, "https://example.com/trips/alps")


def test_a_quick_reply_keeps_its_first_answer(world: World, fake_store: FakeStore) -> None:
    ana, opened = setup(world)
    question = send(world, ana, opened, MessageKind.QUICK_REPLY, "Ship?", QUICK)
    choose(world, opened, question.id, "NIGHT")
    with pytest.raises(Conflict, match="already answered with 'NIGHT'"):
        choose(world, opened, question.id, "STD")
    assert [m.content for m in fake_store.db.messages.values()] == ["Ship?", "Overnight"]


def test_feedback_goes_to_the_conversation(world: World, fake_store: FakeStore) -> None:
    ana, opened = setup(world)
    question = send(world, ana, opened, MessageKind.FEEDBACK, "Rate us", None)
    world.run(agents.finish, ana, opened.conversation)
    mark = fake_store.events[-1].seq
    assert choose(world, opened, question.id, "4") is None
    feedback = fake_store.conversation(opened.conversation.id).feedback
    assert feedback == {"message_id": question.id, "question": "Rate us", "value": "4", "at": fake_store.now}
    emitted = fake_store.events_after(mark)
    assert [e.type for e in emitted] == [ev.MESSAGE_UPDATED, ev.CONVERSATION_UPDATED]
    assert emitted[1].data == {"changes": {"feedback": feedback}}


def test_a_card_of_an_ended_conversation_cannot_be_answered(world: World) -> None:
    ana, opened = setup(world)
    card = send(world, ana, opened, MessageKind.CARD, "Explore", CARD)
    world.run(agents.finish, ana, opened.conversation)
    with pytest.raises(Invalid, match="has ended"):
        choose(world, opened, card.id, "BOOK")
