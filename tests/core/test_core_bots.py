"""External bots: a bot department holds new conversations (state ``bot``) until its bot hands them to humans,
or until the bot fails them (unreachable, too slow to accept, removed) and they fall through to humans."""

from __future__ import annotations

import re

import pytest
from core_fakes import World

from helpline.core import agents, bots, routing
from helpline.core import events as ev
from helpline.core.conversations import (
    StartConversation,
    contact_finish,
    contact_message,
    start_or_resume,
)
from helpline.core.errors import Conflict, Invalid, NotFound
from helpline.core.model import (
    SYSTEM,
    Actor,
    ActorType,
    Conversation,
    ConversationState,
    Department,
    Direction,
    FinishReason,
    MessageKind,
    Presence,
)

BOT_URL = "https://bot.example.org/hook"


def bot_department(world: World, name: str = "Triage", timeout: int = 30, **options: object) -> Department:
    department = world.department(name, **options)
    setup = world.store.write(
        lambda uow: bots.configure(uow, world.account.id, department.id, BOT_URL, timeout)
    )
    return setup.department


def held(world: World, conversation: Conversation) -> Conversation:
    return world.store.read(
        lambda uow: bots.held_conversation(uow, conversation.account_id, conversation.hash)
    )


def types_after(world: World, seq: int) -> list[str]:
    return [e.type for e in world.store.events_after(seq)]


# -- starting in a bot department ---------------------------------------------------------------------


def test_a_conversation_started_in_a_bot_department_belongs_to_the_bot(world: World) -> None:
    triage = bot_department(world)
    conversation = world.start(triage, "Ana")

    stored = world.conversation(conversation)
    assert stored.state is ConversationState.BOT
    assert stored.bot_endpoint_id == triage.bot_endpoint_id
    assert (stored.bot_started_at, stored.bot_accepted_at, stored.queued_at) == (world.store.now, None, None)
    started, bot_started = world.store.events[-2:]
    assert started.type == ev.CONVERSATION_STARTED
    assert (bot_started.type, bot_started.actor.type) == (ev.BOT_STARTED, ActorType.CONTACT)
    assert bot_started.data == {
        "department_id": triage.id,
        "endpoint_id": triage.bot_endpoint_id,
        "accept_timeout": 30,
    }
    assert world.store.read(lambda uow: uow.conversations.queued_in_department(triage.id)) == []


def test_a_department_whose_bot_endpoint_is_disabled_queues_for_humans(world: World) -> None:
    triage = bot_department(world)
    assert triage.bot_endpoint_id is not None
    endpoint_id = triage.bot_endpoint_id
    world.store.write(lambda uow: uow.endpoints.disable(endpoint_id, "answered 410 Gone"))
    assert world.conversation(world.start(triage)).state is ConversationState.QUEUED


def test_an_agent_transfer_into_a_bot_department_gives_the_conversation_to_its_bot(world: World) -> None:
    support = world.department()
    triage = bot_department(world, queue_enabled=False)  # no queue and nobody online: the bot still takes it
    alice = world.agent("Alice", [support])
    conversation = world.start(support)
    world.run(agents.accept, alice, conversation)
    world.run(lambda uow, a, c: agents.transfer(uow, a, c, department_id=triage.id), alice, conversation)

    stored = world.conversation(conversation)
    assert (stored.state, stored.department_id, stored.assignee_id) == (
        ConversationState.BOT,
        triage.id,
        None,
    )
    assert [e.type for e in world.store.events[-2:]] == [ev.CONVERSATION_TRANSFERRED, ev.BOT_STARTED]


# -- what the bot may act on --------------------------------------------------------------------------


def test_the_bot_acts_only_on_conversations_it_holds_and_says_why(world: World) -> None:
    triage = bot_department(world)
    support = world.department("Support")
    other = world.other_account()
    with pytest.raises(NotFound, match="conversation nope not found"):
        world.store.read(lambda uow: bots.held_conversation(uow, world.account.id, "nope"))

    human = world.start(support)
    with pytest.raises(
        Invalid, match=r"is not with a bot: it waits for a human agent in department \d+ \(Support\)"
    ):
        held(world, human)

    conversation = world.start(triage)
    with pytest.raises(NotFound):  # another tenant's token does not see it
        world.store.read(lambda uow: bots.held_conversation(uow, other.id, conversation.hash))
    world.run(bots.transfer, conversation, None)
    with pytest.raises(Invalid, match="is no longer with the bot: it waits for a human agent"):
        held(world, conversation)
    alice = world.agent("Alice", [triage])
    world.run(agents.accept, alice, conversation)
    with pytest.raises(Invalid, match="is no longer with the bot: a human agent of department"):
        held(world, conversation)
    world.run(agents.finish, alice, conversation)
    with pytest.raises(Invalid, match="is already finished"):
        held(world, conversation)


# -- accept, message, transfer, finish ----------------------------------------------------------------


def test_accept_stops_the_clock_once(world: World) -> None:
    triage = bot_department(world)
    conversation = world.start(triage)
    world.store.advance(2)
    before = world.store.events[-1].seq

    world.run(bots.accept, conversation)
    world.run(bots.accept, conversation)

    assert world.conversation(conversation).bot_accepted_at == world.store.now
    [accepted] = world.store.events_after(before)
    assert (accepted.type, accepted.actor) == (ev.BOT_ACCEPTED, Actor(ActorType.BOT, triage.id))
    assert accepted.data == {"department_id": triage.id, "endpoint_id": triage.bot_endpoint_id}


def test_bot_messages_are_outbound_from_the_bot_and_accept_first(world: World) -> None:
    triage = bot_department(world)
    conversation = world.start(triage)
    before = world.store.events[-1].seq

    message = world.run(
        lambda uow, c: bots.send_message(uow, c, "Hi! How can I help?", MessageKind.TEXT, None), conversation
    )

    assert (message.direction, message.sender_type, message.sender_id) == (
        Direction.OUTBOUND,
        ActorType.BOT,
        triage.id,
    )
    assert types_after(world, before) == [ev.BOT_ACCEPTED, ev.MESSAGE_CREATED]
    created = world.store.events[-1]
    assert created.data["message"]["sender"] == {"type": "bot", "id": triage.id, "name": "Triage bot"}
    picture = world.run(
        lambda uow, c: bots.send_message(
            uow, c, "logo", MessageKind.IMAGE, "https://files.example.org/logo.png"
        ),
        conversation,
    )
    assert (picture.kind, picture.file_url) == (MessageKind.IMAGE, "https://files.example.org/logo.png")
    with pytest.raises(Invalid, match=r"a message of content_type image needs attachment\.url"):
        world.run(lambda uow, c: bots.send_message(uow, c, "x", MessageKind.IMAGE, None), conversation)


def test_the_contact_writes_to_the_bot_and_the_agent_later_sees_the_whole_transcript(world: World) -> None:
    triage = bot_department(world)
    conversation = world.start(triage)
    world.run(lambda uow, c: contact_message(uow, c, "hello"), conversation)
    world.run(lambda uow, c: bots.send_message(uow, c, "hi", MessageKind.TEXT, None), conversation)
    world.run(bots.transfer, conversation, None)
    alice = world.agent("Alice", [triage])
    world.run(agents.accept, alice, conversation)
    world.run(
        lambda uow, a, c: agents.send_message(uow, a, c, "Ana here", MessageKind.TEXT, None),
        alice,
        conversation,
    )
    transcript = world.store.read(lambda uow: uow.messages.list(conversation.id))
    assert [(m.sender_type, m.content) for m in transcript] == [
        (ActorType.CONTACT, "hello"),
        (ActorType.BOT, "hi"),
        (ActorType.AGENT, "Ana here"),
    ]


def test_transfer_without_a_department_goes_to_the_humans_of_the_department_it_started_in(
    world: World,
) -> None:
    triage = bot_department(world)
    conversation = world.start(triage)
    waiting = world.start(world.department("Other"))
    before = world.store.events[-1].seq

    world.run(bots.transfer, conversation, None)

    stored = world.conversation(conversation)
    assert (stored.state, stored.department_id, stored.queued_at) == (
        ConversationState.QUEUED,
        triage.id,
        world.store.now,
    )
    transferred, queued = world.store.events_after(before)
    bot = Actor(ActorType.BOT, triage.id)
    assert (transferred.type, transferred.actor, transferred.data) == (
        ev.CONVERSATION_TRANSFERRED,
        bot,
        {
            "from_department_id": triage.id,
            "from_agent_id": None,
            "to_department_id": triage.id,
            "to_agent": None,
        },
    )
    assert (queued.type, queued.actor, queued.data) == (
        ev.CONVERSATION_QUEUED,
        bot,
        {"position": 1, "department_id": triage.id},
    )
    assert world.conversation(waiting).state is ConversationState.QUEUED


def test_transfer_to_a_department_queues_there_even_if_it_has_a_bot(world: World) -> None:
    triage = bot_department(world)
    sales = bot_department(world, "Sales")
    conversation = world.start(triage)
    world.run(bots.transfer, conversation, sales.id)
    stored = world.conversation(conversation)
    assert (stored.state, stored.department_id, stored.origin_department_id) == (
        ConversationState.QUEUED,
        sales.id,
        triage.id,
    )


def test_transfer_refusals_leave_the_conversation_with_the_bot(world: World) -> None:
    triage = bot_department(world)
    night = world.department("Night", queue_enabled=False)
    closed = world.department("Closed", active=False)
    conversation = world.start(triage)
    with pytest.raises(Invalid, match=r"nobody is available in department \d+ \(Night\) and it has no queue"):
        world.run(bots.transfer, conversation, night.id)
    with pytest.raises(Invalid, match=r"department \d+ \(Closed\) is not active"):
        world.run(bots.transfer, conversation, closed.id)
    with pytest.raises(Invalid, match="department 999 does not exist"):
        world.run(bots.transfer, conversation, 999)
    assert world.conversation(conversation).state is ConversationState.BOT
    world.agent("Nina", [night])
    world.run(bots.transfer, conversation, night.id)
    assert world.conversation(conversation).state is ConversationState.QUEUED


def test_the_bot_finishes(world: World) -> None:
    triage = bot_department(world)
    conversation = world.start(triage)
    world.run(bots.finish, conversation)
    stored = world.conversation(conversation)
    assert (stored.state, stored.finish_reason, stored.finished_by_type, stored.finished_by_id) == (
        ConversationState.FINISHED,
        FinishReason.RESOLVED,
        ActorType.BOT,
        triage.id,
    )


def test_a_stale_bot_call_cannot_act_on_a_conversation_that_moved(world: World) -> None:
    """The bot loaded the conversation, then a timer gave it to humans: its call is refused, nothing changes."""
    triage = bot_department(world)
    conversation = world.start(triage)
    stale = world.conversation(conversation)
    world.run(lambda uow, c: routing.bot_fall_through(uow, c, bots.UNREACHABLE, "test"), conversation)
    before = world.store.events[-1].seq
    for act in (
        lambda uow: bots.accept(uow, stale),
        lambda uow: bots.send_message(uow, stale, "late", MessageKind.TEXT, None),
        lambda uow: bots.transfer(uow, stale, None),
    ):
        with pytest.raises(Invalid, match="left the bot meanwhile"):
            world.store.write(act)
    with pytest.raises(Conflict, match="changed meanwhile"):
        world.store.write(lambda uow: bots.finish(uow, stale))
    assert world.store.events[-1].seq == before
    assert world.conversation(conversation).state is ConversationState.QUEUED


def test_the_contact_finishing_a_bot_conversation_ends_it(world: World) -> None:
    triage = bot_department(world)
    conversation = world.start(triage)
    world.run(contact_finish, conversation)
    assert world.conversation(conversation).finished_by_type is ActorType.CONTACT


# -- falling through to humans ------------------------------------------------------------------------


def test_a_bot_that_does_not_accept_in_time_loses_the_conversation_to_humans(world: World) -> None:
    triage = bot_department(world, timeout=10)
    slow = world.start(triage)
    world.store.advance(4)
    quick = world.start(triage)
    world.run(bots.accept, quick)

    world.store.advance(5.9)
    assert world.store.write(routing.expire_waiting) == 0
    world.store.advance(0.1)
    before = world.store.events[-1].seq
    assert world.store.write(routing.expire_waiting) == 1

    stored = world.conversation(slow)
    assert (stored.state, stored.department_id) == (ConversationState.QUEUED, triage.id)
    fell, queued = world.store.events_after(before)
    assert (fell.type, fell.actor, fell.conversation_id) == (ev.BOT_FELL_THROUGH, SYSTEM, slow.id)
    assert fell.data == {
        "reason": "accept_timeout",
        "why": "the bot did not accept the conversation within 10 s",
        "department_id": triage.id,
    }
    assert (queued.type, queued.data) == (ev.CONVERSATION_QUEUED, {"position": 1, "department_id": triage.id})
    world.store.advance(100)
    assert world.store.write(routing.expire_waiting) == 0
    assert world.conversation(quick).state is ConversationState.BOT
    alice = world.agent("Alice", [triage])
    world.run(agents.accept, alice, slow)
    assert world.conversation(slow).assignee_id == alice.id


def test_falling_through_where_nobody_can_wait_ends_unavailable(world: World) -> None:
    triage = bot_department(world, timeout=1, queue_enabled=False)
    conversation = world.start(triage)
    world.store.advance(1)
    world.store.write(routing.expire_waiting)
    stored = world.conversation(conversation)
    assert (stored.state, stored.finish_reason) == (ConversationState.FINISHED, FinishReason.UNAVAILABLE)
    assert [e.type for e in world.store.events[-2:]] == [ev.BOT_FELL_THROUGH, ev.CONVERSATION_FINISHED]


def test_an_unreachable_bot_loses_the_conversation_it_holds(world: World) -> None:
    triage = bot_department(world)
    assert triage.bot_endpoint_id is not None
    endpoint_id = triage.bot_endpoint_id
    conversation = world.start(triage)

    assert not world.store.write(
        lambda uow: bots.delivery_failed(uow, endpoint_id + 100, conversation.id, "x")
    )
    assert world.store.write(
        lambda uow: bots.delivery_failed(uow, endpoint_id, conversation.id, "connection refused")
    )
    assert not world.store.write(lambda uow: bots.delivery_failed(uow, endpoint_id, conversation.id, "again"))

    assert world.conversation(conversation).state is ConversationState.QUEUED
    fell = next(e for e in world.store.events if e.type == ev.BOT_FELL_THROUGH)
    assert fell.data["reason"] == "bot_unreachable"
    assert fell.data["why"] == "the bot could not be reached: connection refused"


def test_a_gone_bot_endpoint_loses_every_conversation_it_holds(world: World) -> None:
    triage = bot_department(world)
    assert triage.bot_endpoint_id is not None
    endpoint_id = triage.bot_endpoint_id
    first, second = world.start(triage), world.start(triage)
    finished = world.start(triage)
    world.run(bots.finish, finished)
    assert world.store.write(lambda uow: bots.endpoint_gone(uow, endpoint_id, "410 Gone")) == 2
    assert [world.conversation(c).state for c in (first, second)] == [ConversationState.QUEUED] * 2


# -- configuring -------------------------------------------------------------------------------------


def test_configuring_a_bot_makes_its_endpoint_once_and_repoints_it_later(world: World) -> None:
    department = world.department("Triage")
    first = world.store.write(lambda uow: bots.configure(uow, world.account.id, department.id, BOT_URL))
    assert first.signing_secret is not None
    assert first.signing_secret.startswith("whsec_")
    endpoint_id = first.department.bot_endpoint_id
    assert endpoint_id is not None
    endpoint = world.store.db.endpoints[endpoint_id]
    assert (endpoint.kind, endpoint.url, endpoint.secret) == ("bot", BOT_URL, first.signing_secret)

    world.store.write(lambda uow: uow.endpoints.disable(endpoint_id, "410"))
    again = world.store.write(
        lambda uow: bots.configure(uow, world.account.id, department.id, " https://bot2.example.org/ ", 5)
    )
    assert again.signing_secret is None
    assert again.department.bot_endpoint_id == endpoint_id
    endpoint = world.store.db.endpoints[endpoint_id]
    assert (endpoint.url, endpoint.enabled, endpoint.secret) == (
        "https://bot2.example.org/",
        True,
        first.signing_secret,
    )
    stored = world.store.db.departments[department.id]
    assert (stored.bot_url, stored.bot_accept_timeout) == ("https://bot2.example.org/", 5)


@pytest.mark.parametrize(
    ("url", "timeout", "message"),
    [
        ("ftp://bot.example.org", None, "bot URL must be an http(s) URL"),
        ("https://", None, "bot URL must be an http(s) URL"),
        (None, 0, "bot_accept_timeout must be at least 1 second"),
    ],
)
def test_configuring_refuses_bad_settings(
    world: World, url: str | None, timeout: int | None, message: str
) -> None:
    department = world.department("Triage")
    with pytest.raises(Invalid, match=re.escape(message)):
        world.store.write(lambda uow: bots.configure(uow, world.account.id, department.id, url, timeout))


def test_configuring_another_accounts_department_is_not_found(world: World) -> None:
    other = world.other_account()
    theirs = world.department("Theirs", account=other)
    with pytest.raises(
        NotFound, match=f"department {theirs.id} does not exist in account {world.account.id}"
    ):
        world.store.write(lambda uow: bots.configure(uow, world.account.id, theirs.id, BOT_URL))


def test_removing_the_bot_hands_what_it_holds_to_humans(world: World) -> None:
    triage = bot_department(world)
    held_one = world.start(triage)
    setup = world.store.write(lambda uow: bots.remove(uow, world.account.id, triage.id))
    assert (setup.department.bot_url, setup.fell_through) == (None, 1)
    assert world.conversation(held_one).state is ConversationState.QUEUED
    fell = next(e for e in world.store.events if e.type == ev.BOT_FELL_THROUGH)
    assert fell.data["reason"] == "bot_removed"
    assert world.conversation(world.start(triage)).state is ConversationState.QUEUED


# -- conversations keyed by the caller (ClientApi REST's clientId) ------------------------------------


def test_start_or_resume_returns_the_open_conversation_of_a_key(world: World) -> None:
    support = world.department()
    token = world.store.write(lambda uow: uow.tokens.create(world.account.id, "h", "p", None, uow.now))

    def start(key: str) -> tuple[Conversation, bool]:
        command = StartConversation(
            account_id=world.account.id,
            department_id=support.id,
            origin_dialect="test",
            origin_token_id=token.id,
            origin_key=key,
        )
        return world.store.write(lambda uow: start_or_resume(uow, command))

    first, started = start("12")
    again, started_again = start("12")
    other, _ = start("13")
    assert (started, started_again, again.id) == (True, False, first.id)
    assert other.id != first.id
    world.run(contact_finish, first)
    fresh, started_fresh = start("12")
    assert started_fresh
    assert fresh.id not in (first.id, other.id)
    with pytest.raises(Invalid, match="needs a token and a key"):
        world.store.write(
            lambda uow: start_or_resume(
                uow,
                StartConversation(account_id=world.account.id, department_id=support.id, origin_dialect="t"),
            )
        )


def test_agents_cannot_accept_what_the_bot_holds(world: World) -> None:
    triage = bot_department(world)
    alice = world.agent("Alice", [triage], presence=Presence.ONLINE)
    conversation = world.start(triage)
    with pytest.raises(Conflict, match="the conversation is bot, not waiting for an agent"):
        world.run(agents.accept, alice, conversation)
