"""The console's repositories on SQLite and PostgreSQL: browser sessions, and searching conversations."""

from __future__ import annotations

import uuid
from typing import Any

from store_backends import add_agent, add_department

from helpline.core.model import (
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


def test_sessions_are_found_by_hash_until_they_expire_and_can_be_deleted(any_store: Store) -> None:
    def seed(uow: UnitOfWork) -> int:
        account = uow.accounts.create("Acme", uow.now)
        support = add_department(uow, account.id)
        agent = add_agent(uow, account.id, "Ana", [support.id])
        uow.console_sessions.create(agent.id, "hash-live", 100.0, 200.0)
        uow.console_sessions.create(agent.id, "hash-old", 50.0, 90.0)
        return agent.id

    agent_id = any_store.write_sync(seed)
    assert any_store.read_sync(lambda uow: uow.console_sessions.agent_id("hash-live", 199.9)) == agent_id
    assert any_store.read_sync(lambda uow: uow.console_sessions.agent_id("hash-live", 200.0)) is None
    assert any_store.read_sync(lambda uow: uow.console_sessions.agent_id("nope", 150.0)) is None
    assert any_store.write_sync(lambda uow: uow.console_sessions.delete_expired(150.0)) == 1
    assert any_store.read_sync(lambda uow: uow.console_sessions.agent_id("hash-old", 60.0)) is None
    assert any_store.write_sync(lambda uow: uow.console_sessions.delete("hash-live")) is True
    assert any_store.write_sync(lambda uow: uow.console_sessions.delete("hash-live")) is False
    assert any_store.read_sync(lambda uow: uow.console_sessions.agent_id("hash-live", 150.0)) is None


def _conversation(
    uow: UnitOfWork,
    account_id: int,
    department_id: int,
    name: str | None,
    state: ConversationState,
    said: str = "",
    assignee_id: int | None = None,
    email: str | None = None,
) -> Conversation:
    contact_id = None
    if name is not None:
        contact_id = uow.contacts.create(
            Contact(
                id=0, account_id=account_id, name=name, email=email, phone="+1 555 0100", created_at=uow.now
            )
        ).id
    conversation = uow.conversations.create(
        Conversation(
            id=0,
            hash=str(uuid.uuid4()),
            account_id=account_id,
            department_id=department_id,
            origin_department_id=department_id,
            contact_id=contact_id,
            state=state,
            origin_dialect="omnize_v1",
            created_at=uow.now,
            updated_at=uow.now,
        )
    )
    if assignee_id is not None:
        uow.conversations.update(conversation.id, {"assignee_id": assignee_id})
    if said:
        uow.messages.add(
            Message(
                id=0,
                conversation_id=conversation.id,
                seq=uow.conversations.next_message_seq(conversation.id),
                hash=str(uuid.uuid4()),
                direction=Direction.INBOUND,
                sender_type=ActorType.CONTACT,
                sender_id=contact_id,
                content=said,
                kind=MessageKind.TEXT,
                file_url=None,
                status="sent",
                idempotency_key=None,
                created_at=uow.now,
            )
        )
    return conversation


def test_search_matches_customer_or_words_within_what_the_agent_may_see(any_store: Store) -> None:
    finished = ConversationState.FINISHED

    def seed(uow: UnitOfWork) -> dict[str, Any]:
        account = uow.accounts.create("Acme", uow.now)
        support = add_department(uow, account.id, "Support")
        sales = add_department(uow, account.id, "Sales")
        ana = add_agent(uow, account.id, "Ana", [support.id])
        ids = {
            "joao": _conversation(
                uow, account.id, support.id, "João Silva", finished, "order 50% off?", email="JS@x.io"
            ),
            "maria": _conversation(uow, account.id, support.id, "Maria", finished, "path C:\\temp_1"),
            "queued": _conversation(uow, account.id, support.id, "Joana", ConversationState.QUEUED),
            "sales": _conversation(uow, account.id, sales.id, "Joaquim", finished, "hello"),
            "mine_in_sales": _conversation(uow, account.id, sales.id, "Jorge", finished, assignee_id=ana.id),
            "anonymous": _conversation(uow, account.id, support.id, None, finished, "no name here"),
        }
        other = uow.accounts.create("Other", uow.now)
        elsewhere = add_department(uow, other.id)
        _conversation(uow, other.id, elsewhere.id, "João Silva", finished, "order 50% off?")
        return (
            {"account": account.id, "support": support.id, "ana": ana.id}
            | {k: v.id for k, v in ids.items()}
            | {"joao_hash": ids["joao"].hash}
        )

    seeded = any_store.write_sync(seed)

    def search(
        text: str, state: ConversationState | None = finished, everything: bool = False, limit: int = 50
    ) -> list[int]:
        found = any_store.read_sync(
            lambda uow: uow.conversation_search.search(
                seeded["account"], [seeded["support"]], seeded["ana"], state, everything, text, limit
            )
        )
        return [c.id for c in found]

    assert search("joão") == [seeded["joao"]]
    assert search("JOÃO") == [seeded["joao"]]  # case folds (Python lower-cases the pattern)
    assert search("js@x") == [seeded["joao"]]
    assert search("50% off") == [seeded["joao"]]
    assert search("50%") == [seeded["joao"]]
    assert search("5%f") == []  # a literal %, not "anything"
    assert search("temp_1") == [seeded["maria"]]
    assert search("p_1") == [seeded["maria"]]
    assert search("c:\\temp") == [seeded["maria"]]  # a literal backslash
    assert search("555 0100") == [seeded["mine_in_sales"], seeded["maria"], seeded["joao"]]
    assert search("no name") == [seeded["anonymous"]]
    assert search("jo") == [seeded["mine_in_sales"], seeded["joao"]]  # Joaquim's department is not Ana's
    assert search("jo", everything=True) == [seeded["mine_in_sales"], seeded["sales"], seeded["joao"]]
    assert search("jo", state=None) == [seeded["mine_in_sales"], seeded["queued"], seeded["joao"]]
    assert search("jo", state=ConversationState.QUEUED) == [seeded["queued"]]
    assert search("jo", limit=1) == [seeded["mine_in_sales"]]
    assert search(seeded["joao_hash"]) == [seeded["joao"]]
    assert search("nothing like this") == []
