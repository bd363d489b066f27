"""The SDK repositories (``uow.sdk``) and the message columns they change, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from store_backends import add_department

from helpline.core.channel import ContactToken
from helpline.core.events import NewEvent
from helpline.core.model import (
    Actor,
    ActorType,
    Contact,
    Conversation,
    ConversationState,
    Direction,
    Message,
    MessageKind,
)
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork

INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)


@dataclass
class World:
    account_id: int
    other_account_id: int
    support: int
    sales: int
    contact_id: int
    conversation_id: int


@pytest.fixture
def world(any_store: Store) -> World:
    def seed(uow: UnitOfWork) -> World:
        acme, other = uow.accounts.create("Acme", 1.0), uow.accounts.create("Other", 1.0)
        support = add_department(uow, acme.id, "Support")
        sales = add_department(uow, acme.id, "Sales")
        contact = uow.contacts.create(Contact(0, acme.id, name="Olena", created_at=1.0))
        conversation = uow.conversations.create(
            Conversation(
                id=0,
                hash=str(uuid.uuid4()),
                account_id=acme.id,
                department_id=support.id,
                origin_department_id=support.id,
                contact_id=contact.id,
                state=ConversationState.QUEUED,
                origin_dialect="novatalks",
                created_at=1.0,
                updated_at=1.0,
            )
        )
        return World(acme.id, other.id, support.id, sales.id, contact.id, conversation.id)

    return any_store.write_sync(seed)


def add_message(store: Store, conversation_id: int, at: float, **more: Any) -> Message:
    def work(uow: UnitOfWork) -> Message:
        seq = uow.conversations.next_message_seq(conversation_id)
        values: dict[str, Any] = {
            "id": 0,
            "conversation_id": conversation_id,
            "seq": seq,
            "hash": str(uuid.uuid4()),
            "direction": Direction.INBOUND,
            "sender_type": ActorType.CONTACT,
            "sender_id": 1,
            "content": f"m{seq}",
            "kind": MessageKind.TEXT,
            "file_url": None,
            "status": "sent",
            "idempotency_key": None,
            "created_at": at,
        }
        return uow.messages.add(Message(**{**values, **more}))

    return store.write_sync(work)


def test_contact_tokens(any_store: Store, world: World) -> None:
    token = ContactToken(0, world.account_id, world.support, world.contact_id, "public-1", 5.0)
    made = any_store.write_sync(lambda uow: uow.sdk.contact_tokens.create(token, "hash-1"))
    assert made.id > 0
    assert any_store.read_sync(lambda uow: uow.sdk.contact_tokens.by_hash("hash-1")) == made
    assert any_store.read_sync(lambda uow: uow.sdk.contact_tokens.by_contact(world.contact_id)) == made
    assert any_store.read_sync(lambda uow: uow.sdk.contact_tokens.get(made.id)) == made
    assert any_store.read_sync(lambda uow: uow.sdk.contact_tokens.by_hash("nope")) is None
    same_contact = ContactToken(0, world.account_id, world.support, world.contact_id, "public-2", 5.0)
    with pytest.raises(INTEGRITY_ERRORS):
        any_store.write_sync(lambda uow: uow.sdk.contact_tokens.create(same_contact, "hash-2"))


def test_contact_conversations(any_store: Store, world: World) -> None:
    assert any_store.read_sync(lambda uow: uow.sdk.conversations.ids_for_contact(world.contact_id)) == [
        world.conversation_id
    ]
    latest = any_store.read_sync(lambda uow: uow.sdk.conversations.latest_for_contact(world.contact_id))
    assert latest is not None
    assert latest.id == world.conversation_id
    assert any_store.read_sync(lambda uow: uow.sdk.conversations.latest_for_contact(999)) is None


def test_new_message_columns_round_trip(any_store: Store, world: World) -> None:
    card = add_message(
        any_store,
        world.conversation_id,
        10.0,
        kind=MessageKind.CARD,
        direction=Direction.OUTBOUND,
        content_attributes={"buttons": [{"type": "postback", "title": "Yes", "value": "Y"}]},
    )
    answer = add_message(any_store, world.conversation_id, 11.0, reply_to_id=card.id, selected_value="Y")
    stored = any_store.read_sync(lambda uow: uow.sdk.messages.get_many([answer.id, card.id, 999]))
    assert stored == [card, answer]
    assert (card.updated_at, answer.updated_at) == (10.0, 11.0)
    assert stored[0].content_attributes == {"buttons": [{"type": "postback", "title": "Yes", "value": "Y"}]}
    assert (stored[1].reply_to_id, stored[1].selected_value) == (card.id, "Y")


def test_message_changes(any_store: Store, world: World) -> None:
    message = add_message(any_store, world.conversation_id, 10.0)
    any_store.write_sync(
        lambda uow: uow.sdk.messages.update(
            message.id,
            {
                "status": "seen",
                "updated_at": 12.0,
                "content": "",
                "content_attributes": {},
                "deleted_at": 12.0,
            },
        )
    )
    changed = any_store.read_sync(lambda uow: uow.sdk.messages.get(message.id))
    assert changed is not None
    assert (changed.status, changed.updated_at, changed.content, changed.deleted_at) == (
        "seen",
        12.0,
        "",
        12.0,
    )
    with pytest.raises(KeyError):
        any_store.write_sync(lambda uow: uow.sdk.messages.update(message.id, {"conversation_id": 2}))


def test_unseen_inbound(any_store: Store, world: World) -> None:
    first = add_message(any_store, world.conversation_id, 1.0)
    add_message(
        any_store, world.conversation_id, 2.0, direction=Direction.OUTBOUND, sender_type=ActorType.AGENT
    )
    third = add_message(any_store, world.conversation_id, 3.0)
    fourth = add_message(any_store, world.conversation_id, 4.0, status="seen")
    unseen = any_store.read_sync(lambda uow: uow.sdk.messages.unseen_inbound(world.conversation_id, None))
    assert [m.id for m in unseen] == [first.id, third.id]
    assert [
        m.id
        for m in any_store.read_sync(
            lambda uow: uow.sdk.messages.unseen_inbound(world.conversation_id, first.id)
        )
    ] == [first.id]
    assert fourth.id not in [m.id for m in unseen]


def test_paging(any_store: Store, world: World) -> None:
    ids = [add_message(any_store, world.conversation_id, float(n)).id for n in range(1, 8)]
    any_store.write_sync(lambda uow: uow.sdk.messages.update(ids[1], {"updated_at": 20.0}))
    any_store.write_sync(lambda uow: uow.sdk.messages.update(ids[0], {"updated_at": 30.0}))

    def page(**options: Any) -> list[int]:
        return [
            m.id
            for m in any_store.read_sync(lambda uow: uow.sdk.messages.page(world.conversation_id, **options))
        ]

    assert page(limit=3) == ids[4:]
    assert page(limit=None) == ids
    assert page(before=ids[3], limit=2) == ids[1:3]
    assert page(after=ids[3], limit=2) == ids[4:6]
    assert page(after=ids[0], before=ids[3]) == ids[1:3]
    assert page(updated_after=7.0) == [ids[6], ids[1], ids[0]]  # changed at or after 7.0, by time of change
    assert page(updated_after=7.5, limit=1) == [ids[1]]
    assert page(updated_after=31.0) == []


def test_changed_since_reads_one_conversation_in_change_order(any_store: Store, world: World) -> None:
    """Without its (conversation, updated_at) index the "changed since" page filters the conversation's
    messages by time: changes must still come in change order (ties by id), from that conversation only."""

    def other_conversation(uow: UnitOfWork) -> int:
        template = uow.conversations.get(world.account_id, world.conversation_id)
        assert template is not None
        template.id, template.hash = 0, str(uuid.uuid4())
        return uow.conversations.create(template).id

    elsewhere = any_store.write_sync(other_conversation)
    mine = [add_message(any_store, world.conversation_id, float(n)) for n in range(1, 5)]
    theirs = add_message(any_store, elsewhere, 1.0)

    def change(message: Message, fields: dict[str, Any]) -> None:
        any_store.write_sync(lambda uow: uow.sdk.messages.update(message.id, fields))

    change(mine[1], {"status": "seen", "updated_at": 10.0})  # a read receipt
    change(mine[0], {"content": "edited", "updated_at": 10.0})  # an edit at the same moment
    change(theirs, {"status": "seen", "updated_at": 10.0})

    def changed(conversation_id: int, since: float, limit: int | None = 20) -> list[tuple[int, float | None]]:
        found = any_store.read_sync(
            lambda uow: uow.sdk.messages.page(conversation_id, updated_after=since, limit=limit)
        )
        return [(m.id, m.updated_at) for m in found]

    assert changed(world.conversation_id, 5.0) == [(mine[0].id, 10.0), (mine[1].id, 10.0)]
    assert changed(world.conversation_id, 4.0) == [(mine[3].id, 4.0), (mine[0].id, 10.0), (mine[1].id, 10.0)]
    assert changed(world.conversation_id, 4.0, limit=2) == [(mine[3].id, 4.0), (mine[0].id, 10.0)]
    assert changed(world.conversation_id, 10.5) == []
    assert changed(elsewhere, 5.0) == [(theirs.id, 10.0)]
    edited, seen = any_store.read_sync(
        lambda uow: uow.sdk.messages.page(world.conversation_id, updated_after=5.0)
    )
    assert (edited.content, edited.status, seen.content, seen.status) == ("edited", "sent", "m2", "seen")


def test_reactions(any_store: Store, world: World) -> None:
    one = add_message(any_store, world.conversation_id, 1.0)
    two = add_message(any_store, world.conversation_id, 2.0)
    contact, agent = Actor(ActorType.CONTACT, world.contact_id), Actor(ActorType.AGENT, 7)
    any_store.write_sync(lambda uow: uow.sdk.reactions.put(one.id, contact, "👍", 3.0))
    any_store.write_sync(lambda uow: uow.sdk.reactions.put(one.id, contact, "🎉", 4.0))
    any_store.write_sync(lambda uow: uow.sdk.reactions.put(one.id, agent, "👀", 5.0))
    found = any_store.read_sync(lambda uow: uow.sdk.reactions.for_messages([one.id, two.id]))
    assert [(r.actor, r.reaction, r.created_at) for r in found[one.id]] == [
        (contact, "🎉", 4.0),
        (agent, "👀", 5.0),
    ]
    assert two.id not in found
    assert any_store.write_sync(lambda uow: uow.sdk.reactions.remove(one.id, contact)) is True
    assert any_store.write_sync(lambda uow: uow.sdk.reactions.remove(one.id, contact)) is False
    assert [
        r.actor for r in any_store.read_sync(lambda uow: uow.sdk.reactions.for_messages([one.id]))[one.id]
    ] == [agent]


def test_inboxes_and_push_configuration(any_store: Store, world: World) -> None:
    assert any_store.read_sync(lambda uow: uow.sdk.inboxes.enabled()) == []
    any_store.write_sync(lambda uow: uow.sdk.inboxes.set_enabled(world.support, True, "inbox-a"))
    any_store.write_sync(lambda uow: uow.sdk.inboxes.set_enabled(world.support, False, None))
    any_store.write_sync(lambda uow: uow.sdk.inboxes.set_enabled(world.support, True, "inbox-b"))
    inbox = any_store.read_sync(lambda uow: uow.sdk.inboxes.get(world.support))
    assert inbox is not None
    assert (inbox.enabled, inbox.identifier, inbox.name) == (True, "inbox-a", "Support")  # kept once set
    assert any_store.read_sync(lambda uow: uow.sdk.inboxes.by_identifier("inbox-a")) == inbox
    assert any_store.read_sync(lambda uow: uow.sdk.inboxes.enabled(world.other_account_id)) == []
    with pytest.raises(INTEGRITY_ERRORS):
        any_store.write_sync(lambda uow: uow.sdk.inboxes.set_enabled(world.sales, True, "inbox-a"))

    def push(uow: UnitOfWork) -> int:
        endpoint = uow.endpoints.create(world.account_id, "push", "https://push.example/x", "whsec_x", 1.0)
        uow.sdk.endpoint_headers.set(endpoint.id, {"authorization": "Bearer t"})
        uow.sdk.inboxes.set_push(world.support, endpoint.id, {"app": "ios", "n": [1]})
        return endpoint.id

    endpoint_id = any_store.write_sync(push)
    inbox = any_store.read_sync(lambda uow: uow.sdk.inboxes.get(world.support))
    assert inbox is not None
    assert (inbox.push_endpoint_id, inbox.push_params) == (endpoint_id, {"app": "ios", "n": [1]})
    endpoint = any_store.read_sync(lambda uow: uow.endpoints.get(endpoint_id))
    assert endpoint is not None
    assert endpoint.headers == {"authorization": "Bearer t"}
    any_store.write_sync(lambda uow: uow.sdk.endpoint_headers.set(endpoint_id, {}))
    cleared = any_store.read_sync(lambda uow: uow.endpoints.get(endpoint_id))
    assert cleared is not None
    assert cleared.headers == {}


def test_push_tokens(any_store: Store, world: World) -> None:
    token = ContactToken(0, world.account_id, world.support, world.contact_id, "public-1", 5.0)
    made = any_store.write_sync(lambda uow: uow.sdk.contact_tokens.create(token, "hash-1"))
    assert any_store.write_sync(lambda uow: uow.sdk.push_tokens.add(made.id, "device-a", 1.0)) is True
    assert any_store.write_sync(lambda uow: uow.sdk.push_tokens.add(made.id, "device-a", 2.0)) is False
    assert any_store.write_sync(lambda uow: uow.sdk.push_tokens.add(made.id, "device-b", 3.0)) is True
    assert any_store.read_sync(lambda uow: uow.sdk.push_tokens.for_contact_token(made.id)) == [
        "device-a",
        "device-b",
    ]
    assert any_store.write_sync(lambda uow: uow.sdk.push_tokens.remove(made.id, "device-a")) is True
    assert any_store.write_sync(lambda uow: uow.sdk.push_tokens.remove(made.id, "device-a")) is False
    assert any_store.read_sync(lambda uow: uow.sdk.push_tokens.for_contact_token(made.id)) == ["device-b"]


def test_conversation_feedback_round_trip(any_store: Store, world: World) -> None:
    feedback = {"message_id": 1, "question": "Rate us", "value": "5", "at": 2.5}
    any_store.write_sync(lambda uow: uow.conversations.update(world.conversation_id, {"feedback": feedback}))
    stored = any_store.read_sync(lambda uow: uow.conversations.get(world.account_id, world.conversation_id))
    assert stored is not None
    assert stored.feedback == feedback


def test_event_lookups_for_resuming(any_store: Store, world: World) -> None:
    def emit(uow: UnitOfWork, kind: str, data: dict[str, Any], conversation_id: int) -> int:
        return uow.emit(
            NewEvent(world.account_id, kind, data, Actor(ActorType.SYSTEM), conversation_id=conversation_id)
        ).seq

    message = add_message(any_store, world.conversation_id, 1.0)

    def first(uow: UnitOfWork) -> list[int]:
        uow.now = 1.0
        return [
            emit(uow, "message.created", {"message": {"id": message.id + 100}}, world.conversation_id),
            emit(uow, "message.created", {"message": {"id": message.id}}, world.conversation_id),
            emit(uow, "conversation.queued", {}, world.conversation_id),
        ]

    seqs = any_store.write_sync(first)

    def later(uow: UnitOfWork) -> list[int]:
        uow.now = 5.0
        return [emit(uow, "conversation.accepted", {}, world.conversation_id), emit(uow, "other", {}, 999)]

    seqs += any_store.write_sync(later)
    assert any_store.read_sync(lambda uow: uow.sdk.events.seq_of_message(message)) == seqs[1]

    def after(since: int, until: int, limit: int = 10) -> list[int]:
        return [
            e.seq
            for e in any_store.read_sync(
                lambda uow: uow.sdk.events.for_conversations_after(
                    [world.conversation_id], since, until, limit
                )
            )
        ]

    assert after(0, seqs[-1]) == seqs[:4]
    assert after(seqs[1], seqs[-1]) == seqs[2:4]
    assert after(0, seqs[2]) == seqs[:3]
    assert after(0, seqs[-1], limit=2) == seqs[:2]
    assert (
        any_store.read_sync(lambda uow: uow.sdk.events.last_seq_before([world.conversation_id], 5.0))
        == seqs[2]
    )
    assert any_store.read_sync(lambda uow: uow.sdk.events.last_seq_before([world.conversation_id], 1.0)) == 0
    assert any_store.read_sync(lambda uow: uow.sdk.events.for_conversations_after([], 0, seqs[-1], 10)) == []
