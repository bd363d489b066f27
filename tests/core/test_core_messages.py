"""Messages: gap-free sequence per conversation, once per idempotency key, never after the end."""

from __future__ import annotations

import pytest
from core_fakes import World

from helpline.core import agents, conversations
from helpline.core import events as ev
from helpline.core.errors import Conflict, Invalid, NotFound
from helpline.core.model import (
    Actor,
    ActorType,
    Agent,
    Conversation,
    Direction,
    HistoryEntry,
    HistoryStatus,
    Message,
    MessageKind,
)


@pytest.fixture
def talking(world: World) -> tuple[World, Agent, Conversation]:
    support = world.department()
    alice = world.agent("Alice", [support])
    conversation = world.start(support, "Ana")
    world.run(agents.accept, alice, conversation)
    return world, alice, world.conversation(conversation)


def _contact_says(world: World, conversation: Conversation, text: str, key: str | None = None) -> Message:
    return world.run(
        lambda uow, c: conversations.contact_message(uow, c, text, idempotency_key=key), conversation
    )


def _agent_says(
    world: World, agent: Agent, conversation: Conversation, text: str, key: str | None = None
) -> Message:
    return world.run(
        lambda uow, a, c: agents.send_message(uow, a, c, text, MessageKind.TEXT, None, idempotency_key=key),
        agent,
        conversation,
    )


def test_messages_get_gap_free_seq_across_both_sides(talking: tuple[World, Agent, Conversation]) -> None:
    world, alice, conversation = talking
    for index in range(3):
        _contact_says(world, conversation, f"hello {index}")
        _agent_says(world, alice, conversation, f"hi {index}")

    stored = world.store.read(lambda uow: uow.messages.list(conversation.id))
    assert [m.seq for m in stored] == [1, 2, 3, 4, 5, 6]
    assert [m.direction for m in stored] == [Direction.INBOUND, Direction.OUTBOUND] * 3
    assert world.conversation(conversation).last_message_seq == 6
    assert len({m.hash for m in stored}) == 6


def test_each_conversation_counts_its_own_messages(world: World) -> None:
    support = world.department()
    first, second = world.start(support), world.start(support)
    for conversation in (first, second, first):
        _contact_says(world, conversation, "x")
    assert [m.seq for m in world.store.read(lambda uow: uow.messages.list(first.id))] == [1, 2]
    assert [m.seq for m in world.store.read(lambda uow: uow.messages.list(second.id))] == [1]


def test_contact_message_is_announced_by_the_contact(talking: tuple[World, Agent, Conversation]) -> None:
    world, alice, conversation = talking
    before = world.store.events[-1].seq

    message = world.run(
        lambda uow, c: conversations.contact_message(uow, c, "photo", MessageKind.IMAGE, "https://x/y.png"),
        conversation,
    )

    (created,) = world.store.events_after(before)
    assert created.type == ev.MESSAGE_CREATED
    assert created.actor == Actor(ActorType.CONTACT, conversation.contact_id)
    assert (created.agent_id, created.department_id, created.conversation_id) == (
        alice.id,
        conversation.department_id,
        conversation.id,
    )
    view = created.data["message"]
    assert view["id"] == message.id
    assert view["seq"] == 1
    assert view["hash"] == message.hash
    assert view["direction"] == "inbound"
    assert view["type"] == "image"
    assert view["url"] == "https://x/y.png"
    assert view["sender"] == {"type": "contact", "id": conversation.contact_id, "name": None}
    assert (view["content"], view["status"], view["created_at"]) == ("photo", "sent", world.store.now)


def test_agent_message_is_announced_by_the_agent_with_name(
    talking: tuple[World, Agent, Conversation],
) -> None:
    world, alice, conversation = talking
    before = world.store.events[-1].seq
    _agent_says(world, alice, conversation, "how can I help?")
    (created,) = world.store.events_after(before)
    assert created.actor == Actor(ActorType.AGENT, alice.id)
    assert created.data["message"]["sender"] == {"type": "agent", "id": alice.id, "name": "Alice"}
    assert created.data["message"]["direction"] == "outbound"


def test_idempotency_key_returns_the_earlier_message(talking: tuple[World, Agent, Conversation]) -> None:
    world, alice, conversation = talking
    first = _contact_says(world, conversation, "once", key="k-1")
    before = world.store.events[-1].seq

    again = _contact_says(world, conversation, "once (retried)", key="k-1")

    assert again == first
    assert world.store.events_after(before) == []
    assert [m.content for m in world.store.read(lambda uow: uow.messages.list(conversation.id))] == ["once"]
    assert world.conversation(conversation).last_message_seq == 1

    other = _agent_says(world, alice, conversation, "agent", key="k-2")
    assert other.seq == 2
    assert _agent_says(world, alice, conversation, "agent again", key="k-2") == other


def _contact_says_by_hash(
    world: World,
    conversation: Conversation,
    text: str,
    key: str | None = None,
    account_id: int | None = None,
    kind: MessageKind = MessageKind.TEXT,
    file_url: str | None = None,
) -> Message:
    """As the hash-keyed APIs call it: with the caller's account and the hash, never a loaded row."""
    return world.store.write(
        lambda uow: conversations.contact_message_by_hash(
            uow,
            conversation.account_id if account_id is None else account_id,
            conversation.hash,
            text,
            kind,
            file_url,
            idempotency_key=key,
        )
    )


def test_messages_by_hash_share_the_gap_free_seq_with_the_agent(
    talking: tuple[World, Agent, Conversation],
) -> None:
    world, alice, conversation = talking
    first = _contact_says_by_hash(world, conversation, "one")
    _agent_says(world, alice, conversation, "two")
    third = _contact_says_by_hash(world, conversation, "three")

    stored = world.store.read(lambda uow: uow.messages.list(conversation.id))
    assert [(m.seq, m.content, m.direction) for m in stored] == [
        (1, "one", Direction.INBOUND),
        (2, "two", Direction.OUTBOUND),
        (3, "three", Direction.INBOUND),
    ]
    assert [first, third] == [stored[0], stored[2]]
    assert (first.sender_type, first.sender_id) == (ActorType.CONTACT, conversation.contact_id)
    assert world.conversation(conversation).last_message_seq == 3


def test_message_by_hash_is_announced_with_its_seq(talking: tuple[World, Agent, Conversation]) -> None:
    world, alice, conversation = talking
    _agent_says(world, alice, conversation, "hello")
    before = world.store.events[-1].seq

    message = _contact_says_by_hash(
        world, conversation, "photo", kind=MessageKind.IMAGE, file_url="https://x/y.png"
    )

    (created,) = world.store.events_after(before)
    assert created.type == ev.MESSAGE_CREATED
    assert created.actor == Actor(ActorType.CONTACT, conversation.contact_id)
    assert (created.conversation_id, created.department_id, created.agent_id) == (
        conversation.id,
        conversation.department_id,
        alice.id,
    )
    view = created.data["message"]
    assert (view["id"], view["hash"], view["seq"], message.seq) == (message.id, message.hash, 2, 2)
    assert (view["direction"], view["type"], view["url"], view["content"]) == (
        "inbound",
        "image",
        "https://x/y.png",
        "photo",
    )


def test_message_by_hash_to_an_unknown_hash_is_not_found(world: World) -> None:
    conversation = world.start(world.department())
    before = world.store.events[-1].seq
    with pytest.raises(NotFound, match="conversation no-such-hash not found"):
        world.store.write(
            lambda uow: conversations.contact_message_by_hash(uow, world.account.id, "no-such-hash", "hi")
        )
    with pytest.raises(NotFound, match="not found"):
        world.store.write(
            lambda uow: conversations.contact_message_by_hash(
                uow, world.account.id, "no-such-hash", "hi", idempotency_key="k"
            )
        )
    assert world.store.events_after(before) == []
    assert world.conversation(conversation).last_message_seq == 0


def test_message_by_hash_to_another_accounts_conversation_is_not_found(world: World) -> None:
    """A token of one account must not reach, nor count, another account's conversation by its hash."""
    other = world.other_account()
    theirs = world.start(world.department("Theirs", account=other))
    mine = world.start(world.department())
    before = world.store.events[-1].seq

    with pytest.raises(NotFound, match=f"conversation {theirs.hash} not found"):
        _contact_says_by_hash(world, theirs, "hi", account_id=world.account.id)
    with pytest.raises(NotFound, match=f"conversation {mine.hash} not found"):
        _contact_says_by_hash(world, mine, "hi", key="k", account_id=other.id)

    assert world.store.events_after(before) == []
    assert [world.conversation(c).last_message_seq for c in (theirs, mine)] == [0, 0]
    assert world.store.read(lambda uow: uow.messages.list(theirs.id)) == []


def test_message_by_hash_to_a_finished_conversation_takes_no_seq(
    talking: tuple[World, Agent, Conversation],
) -> None:
    world, alice, conversation = talking
    _contact_says_by_hash(world, conversation, "bye")
    world.run(agents.finish, alice, conversation)
    before = world.store.events[-1].seq

    with pytest.raises(Invalid, match=f"conversation {conversation.hash} is already finished"):
        _contact_says_by_hash(world, conversation, "anyone?")
    with pytest.raises(Invalid, match="already finished"):
        _contact_says_by_hash(world, conversation, "anyone?", key="after-finish")

    assert world.store.events_after(before) == []
    assert world.conversation(conversation).last_message_seq == 1
    assert [m.content for m in world.store.read(lambda uow: uow.messages.list(conversation.id))] == ["bye"]


def test_message_by_hash_repeated_key_returns_the_earlier_message_and_leaves_no_gap(
    talking: tuple[World, Agent, Conversation],
) -> None:
    """The retried request must not take a seq before it knows the message already exists: the seq
    it took would belong to no message, and the next one would jump over it."""
    world, _alice, conversation = talking
    first = _contact_says_by_hash(world, conversation, "once", key="k-1")
    before = world.store.events[-1].seq

    again = _contact_says_by_hash(world, conversation, "once (retried)", key="k-1")

    assert again == first
    assert first.seq == 1
    assert world.store.events_after(before) == []
    assert world.conversation(conversation).last_message_seq == 1
    assert _contact_says_by_hash(world, conversation, "next").seq == 2
    assert _contact_says_by_hash(world, conversation, "keyed", key="k-2").seq == 3
    assert [m.seq for m in world.store.read(lambda uow: uow.messages.list(conversation.id))] == [1, 2, 3]


def test_message_by_hash_with_an_agents_key_is_a_conflict_and_takes_no_seq(
    talking: tuple[World, Agent, Conversation],
) -> None:
    world, alice, conversation = talking
    _agent_says(world, alice, conversation, "agent", key="shared")
    with pytest.raises(Conflict, match="already used by someone else"):
        _contact_says_by_hash(world, conversation, "contact", key="shared")
    assert world.conversation(conversation).last_message_seq == 1
    assert _contact_says_by_hash(world, conversation, "next").seq == 2


def test_refused_message_by_hash_gives_its_claimed_seq_back(
    talking: tuple[World, Agent, Conversation],
) -> None:
    """Content is checked only after the seq was claimed: the refusal must undo the claim with it."""
    world, _alice, conversation = talking
    with pytest.raises(Invalid, match="a card message needs content"):
        _contact_says_by_hash(world, conversation, " ", kind=MessageKind.CARD)
    assert world.conversation(conversation).last_message_seq == 0
    assert _contact_says_by_hash(world, conversation, "hi").seq == 1


def test_same_key_in_another_conversation_is_another_message(world: World) -> None:
    support = world.department()
    first, second = world.start(support), world.start(support)
    one = _contact_says(world, first, "a", key="same")
    two = _contact_says(world, second, "b", key="same")
    assert one != two


def test_finished_conversation_refuses_contact_messages(talking: tuple[World, Agent, Conversation]) -> None:
    world, alice, conversation = talking
    world.run(agents.finish, alice, conversation)
    before = world.store.events[-1].seq

    with pytest.raises(Invalid, match=f"conversation {conversation.hash} is already finished"):
        _contact_says(world, conversation, "anyone?")
    with pytest.raises(Invalid, match="already finished"):
        _contact_says(world, conversation, "anyone?", key="retry-after-finish")
    with pytest.raises(Invalid, match="already finished"):
        world.run(lambda uow, c: conversations.contact_typing(uow, c, True), conversation)

    assert world.store.events_after(before) == []
    assert world.store.read(lambda uow: uow.messages.list(conversation.id)) == []


def test_finished_conversation_refuses_agent_messages(talking: tuple[World, Agent, Conversation]) -> None:
    world, alice, conversation = talking
    world.run(conversations.contact_finish, conversation)
    with pytest.raises(Invalid, match="already finished"):
        _agent_says(world, alice, conversation, "still there?")
    with pytest.raises(Invalid, match="already finished"):
        world.run(lambda uow, a, c: agents.typing(uow, a, c, True), alice, conversation)


def test_agent_must_hold_the_conversation_to_write(world: World) -> None:
    support = world.department()
    alice, bob = world.agent("Alice", [support]), world.agent("Bob", [support])
    conversation = world.start(support)
    with pytest.raises(Conflict, match="accept the conversation"):
        _agent_says(world, alice, conversation, "queued, not mine yet")
    world.run(agents.accept, alice, conversation)
    with pytest.raises(Conflict, match="accept the conversation"):
        _agent_says(world, bob, conversation, "not mine")


def test_file_message_needs_a_url(talking: tuple[World, Agent, Conversation]) -> None:
    world, alice, conversation = talking
    with pytest.raises(Invalid, match="a message of type file needs a url"):
        world.run(
            lambda uow, a, c: agents.send_message(uow, a, c, "doc", MessageKind.FILE, None),
            alice,
            conversation,
        )
    sent = world.run(
        lambda uow, a, c: agents.send_message(uow, a, c, "doc", MessageKind.FILE, "https://x/doc.pdf"),
        alice,
        conversation,
    )
    assert (sent.kind, sent.file_url, sent.seq) == (MessageKind.FILE, "https://x/doc.pdf", 1)


def test_contact_may_write_while_queued(world: World) -> None:
    conversation = world.start(world.department())
    message = _contact_says(world, conversation, "waiting")
    assert message.seq == 1
    created = world.store.events[-1]
    assert created.type == ev.MESSAGE_CREATED
    assert created.agent_id is None


def test_typing_events_carry_who_types(talking: tuple[World, Agent, Conversation]) -> None:
    world, alice, conversation = talking
    before = world.store.events[-1].seq
    world.run(lambda uow, c: conversations.contact_typing(uow, c, True), conversation)
    world.run(lambda uow, a, c: agents.typing(uow, a, c, False), alice, conversation)
    contact_typing, agent_typing = world.store.events_after(before)
    assert (contact_typing.type, contact_typing.data) == (ev.CONTACT_TYPING, {"typing": True})
    assert contact_typing.actor == Actor(ActorType.CONTACT, conversation.contact_id)
    assert agent_typing.type == ev.AGENT_TYPING
    assert agent_typing.data == {"typing": False, "agent": {"id": alice.id, "name": "Alice", "photo": None}}
    assert agent_typing.actor == Actor(ActorType.AGENT, alice.id)


def test_update_details_stores_and_announces_allowed_fields(
    talking: tuple[World, Agent, Conversation],
) -> None:
    world, alice, conversation = talking
    actor = Actor(ActorType.AGENT, alice.id)
    before = world.store.events[-1].seq
    changes = {"mood": "happy", "tags": ["vip", 2], "note": "call back", "customer_key": "C-9"}

    world.run(lambda uow, c: conversations.update_details(uow, c, changes, actor), conversation)

    stored = world.conversation(conversation)
    assert (stored.mood, stored.tags, stored.note, stored.customer_key) == (
        "happy",
        ["vip", 2],
        "call back",
        "C-9",
    )
    (updated,) = world.store.events_after(before)
    assert (updated.type, updated.actor, updated.data) == (
        ev.CONVERSATION_UPDATED,
        actor,
        {"changes": changes},
    )

    with pytest.raises(Invalid, match="cannot update assignee_id, state"):
        world.run(
            lambda uow, c: conversations.update_details(uow, c, {"state": "x", "assignee_id": 1}, actor),
            stored,
        )
    world.run(lambda uow, c: conversations.update_details(uow, c, {}, actor), stored)
    assert world.store.events[-1].seq == updated.seq


def test_record_history_loaded_and_failed(world: World) -> None:
    support = world.department()
    loaded = world.start(support, external_history_url="https://h/1")
    failed = world.start(support, external_history_url="https://h/2")
    entries = [
        HistoryEntry(loaded.id, 1, "10:00", "inbound", "hi"),
        HistoryEntry(loaded.id, 2, None, "outbound", "hello"),
    ]
    assert [c.id for c in world.store.read(lambda uow: uow.conversations.pending_history(10))] == [
        loaded.id,
        failed.id,
    ]

    world.run(lambda uow, c: conversations.record_history(uow, c, entries, None), loaded)
    world.run(lambda uow, c: conversations.record_history(uow, c, None, "HTTP 500"), failed)

    assert world.store.read(lambda uow: uow.history.list(loaded.id)) == entries
    assert world.conversation(loaded).history_status is HistoryStatus.LOADED
    assert (world.conversation(failed).history_status, world.conversation(failed).history_error) == (
        HistoryStatus.FAILED,
        "HTTP 500",
    )
    ok, bad = world.store.events[-2:]
    assert (ok.type, ok.data, ok.actor.type) == (ev.HISTORY_LOADED, {"count": 2}, ActorType.SYSTEM)
    assert (bad.type, bad.data, bad.actor.type) == (
        ev.HISTORY_FAILED,
        {"error": "HTTP 500"},
        ActorType.SYSTEM,
    )
    assert world.store.read(lambda uow: uow.conversations.pending_history(10)) == []
