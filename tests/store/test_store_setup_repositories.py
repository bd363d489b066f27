"""Accounts, departments, agents, tokens, endpoints and contacts through the real stores."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from store_backends import add_agent, add_department

from helpline.core.model import Agent, Contact, Department, Presence, Role
from helpline.store.base import Store
from helpline.store.unit_of_work import UnitOfWork

INTEGRITY_ERRORS = (sqlite3.IntegrityError, psycopg.IntegrityError)


def test_accounts_create_get_list(any_store: Store) -> None:
    acme = any_store.write_sync(lambda uow: uow.accounts.create("Acme", 10.5))
    globex = any_store.write_sync(lambda uow: uow.accounts.create("Globex ☂", 11.0))
    assert (acme.name, acme.created_at) == ("Acme", 10.5)
    assert any_store.read_sync(lambda uow: uow.accounts.get(globex.id)) == globex
    assert any_store.read_sync(lambda uow: uow.accounts.get(globex.id + 100)) is None
    assert any_store.read_sync(lambda uow: uow.accounts.list()) == [acme, globex]


def test_departments_create_get_list_update_scoped_by_account(any_store: Store) -> None:
    acme, other = any_store.write_sync(
        lambda uow: (uow.accounts.create("Acme", 1.0), uow.accounts.create("Other", 1.0))
    )
    value = Department(
        id=0,
        account_id=acme.id,
        name="Vendas",
        active=False,
        queue_enabled=False,
        queued_max_time=120,
        ringing_max_time=15,
        capacity=3,
        auto_assign=True,
        bot_url="https://bot.example/hook",
        created_at=5.0,
        updated_at=6.0,
    )
    sales = any_store.write_sync(lambda uow: uow.departments.create(value))
    support = any_store.write_sync(lambda uow: add_department(uow, acme.id))
    theirs = any_store.write_sync(lambda uow: add_department(uow, other.id, "Theirs"))

    assert sales.id > 0
    assert any_store.read_sync(lambda uow: uow.departments.get(acme.id, sales.id)) == sales
    assert any_store.read_sync(lambda uow: uow.departments.get(other.id, sales.id)) is None
    assert [d.id for d in any_store.read_sync(lambda uow: uow.departments.list(acme.id))] == [
        sales.id,
        support.id,
    ]
    assert [d.id for d in any_store.read_sync(lambda uow: uow.departments.list())] == [
        sales.id,
        support.id,
        theirs.id,
    ]

    changes = {"active": True, "queue_enabled": True, "capacity": 9, "bot_url": None, "updated_at": 7.0}
    any_store.write_sync(lambda uow: uow.departments.update(sales.id, changes))
    updated = any_store.read_sync(lambda uow: uow.departments.get(acme.id, sales.id))
    assert updated is not None
    assert (updated.active, updated.queue_enabled, updated.capacity, updated.bot_url, updated.updated_at) == (
        True,
        True,
        9,
        None,
        7.0,
    )
    assert (updated.auto_assign, updated.queued_max_time, updated.name) == (True, 120, "Vendas")


def test_agents_with_departments_presence_and_keys(any_store: Store) -> None:
    def seed(uow: UnitOfWork) -> tuple[int, int, list[Department], Agent, Agent, Agent]:
        acme = uow.accounts.create("Acme", 1.0)
        other = uow.accounts.create("Other", 1.0)
        one, two = add_department(uow, acme.id, "One"), add_department(uow, acme.id, "Two")
        alice = uow.agents.create(
            Agent(
                id=0,
                account_id=acme.id,
                name="Alice",
                email="alice@example.com",
                password_hash="$argon2id$x",
                role=Role.ADMIN,
                photo_url="https://img/a.png",
                department_ids=[two.id, one.id],
                created_at=3.0,
            )
        )
        bob = add_agent(uow, acme.id, "Bob", [one.id], presence=Presence.AWAY)
        stranger = add_agent(uow, other.id, "Stranger", [])
        return acme.id, other.id, [one, two], alice, bob, stranger

    acme_id, other_id, (one, two), alice, bob, stranger = any_store.write_sync(seed)

    stored = any_store.read_sync(lambda uow: uow.agents.get(alice.id))
    assert stored is not None
    assert (stored.name, stored.email, stored.password_hash, stored.role, stored.presence) == (
        "Alice",
        "alice@example.com",
        "$argon2id$x",
        Role.ADMIN,
        Presence.OFFLINE,
    )
    assert (stored.photo_url, stored.created_at, stored.account_id) == ("https://img/a.png", 3.0, acme_id)
    assert stored.department_ids == sorted([one.id, two.id])
    assert any_store.read_sync(lambda uow: uow.agents.get(999_999)) is None
    assert any_store.read_sync(lambda uow: uow.agents.by_email("alice@example.com")) == stored
    assert any_store.read_sync(lambda uow: uow.agents.by_email("nobody@example.com")) is None
    assert [a.id for a in any_store.read_sync(lambda uow: uow.agents.list(acme_id))] == [alice.id, bob.id]
    assert [a.id for a in any_store.read_sync(lambda uow: uow.agents.list(other_id))] == [stranger.id]
    assert len(any_store.read_sync(lambda uow: uow.agents.list())) == 3

    assert any_store.read_sync(lambda uow: uow.agents.online_in_department(one.id)) == []
    any_store.write_sync(lambda uow: uow.agents.set_presence(alice.id, Presence.ONLINE, uow.now))
    any_store.write_sync(lambda uow: uow.agents.set_presence(bob.id, Presence.ONLINE, uow.now))
    online_one = any_store.read_sync(lambda uow: uow.agents.online_in_department(one.id))
    assert [(a.id, a.presence, a.department_ids) for a in online_one] == [
        (alice.id, Presence.ONLINE, sorted([one.id, two.id])),
        (bob.id, Presence.ONLINE, [one.id]),
    ]
    assert [a.id for a in any_store.read_sync(lambda uow: uow.agents.online_in_department(two.id))] == [
        alice.id
    ]

    any_store.write_sync(lambda uow: uow.agents.add_key(alice.id, "hash-1", uow.now))
    any_store.write_sync(lambda uow: uow.agents.add_key(alice.id, "hash-2", uow.now))
    by_key = any_store.read_sync(lambda uow: uow.agents.by_key_hash("hash-2"))
    assert by_key is not None
    assert by_key.id == alice.id
    assert any_store.read_sync(lambda uow: uow.agents.by_key_hash("hash-3")) is None
    assert any_store.read_sync(lambda uow: uow.agents.assigned_count(alice.id)) == 0


def test_agent_email_is_unique(any_store: Store) -> None:
    account = any_store.write_sync(lambda uow: uow.accounts.create("Acme", 1.0))
    first = any_store.write_sync(lambda uow: add_agent(uow, account.id, "Alice", []))

    def clash(uow: UnitOfWork) -> Agent:
        return uow.agents.create(Agent(0, account.id, "Again", first.email, "x"))

    with pytest.raises(INTEGRITY_ERRORS):
        any_store.write_sync(clash)
    assert [a.id for a in any_store.read_sync(lambda uow: uow.agents.list())] == [first.id]


def test_tokens_by_hash_list_and_revoke(any_store: Store) -> None:
    acme, other = any_store.write_sync(
        lambda uow: (uow.accounts.create("A", 1.0), uow.accounts.create("B", 1.0))
    )
    endpoint = any_store.write_sync(
        lambda uow: uow.endpoints.create(acme.id, "webhook", "https://h/x", "whsec_s", 2.0)
    )
    token = any_store.write_sync(lambda uow: uow.tokens.create(acme.id, "sha-1", "abc123", endpoint.id, 3.0))
    plain = any_store.write_sync(lambda uow: uow.tokens.create(acme.id, "sha-2", "def456", None, 4.0))
    theirs = any_store.write_sync(lambda uow: uow.tokens.create(other.id, "sha-3", "ghi789", None, 5.0))

    assert (token.account_id, token.prefix, token.endpoint_id, token.active, token.created_at) == (
        acme.id,
        "abc123",
        endpoint.id,
        True,
        3.0,
    )
    assert any_store.read_sync(lambda uow: uow.tokens.by_hash("sha-1")) == token
    assert any_store.read_sync(lambda uow: uow.tokens.by_hash("sha-9")) is None
    assert any_store.read_sync(lambda uow: uow.tokens.get(plain.id)) == plain
    assert any_store.read_sync(lambda uow: uow.tokens.get(999_999)) is None
    assert any_store.read_sync(lambda uow: uow.tokens.list(acme.id)) == [token, plain]
    assert any_store.read_sync(lambda uow: uow.tokens.list()) == [token, plain, theirs]

    any_store.write_sync(lambda uow: uow.tokens.revoke(token.id, 9.0))
    revoked = any_store.read_sync(lambda uow: uow.tokens.by_hash("sha-1"))
    assert revoked is not None
    assert revoked.active is False
    still = any_store.read_sync(lambda uow: uow.tokens.get(plain.id))
    assert still is not None
    assert still.active is True

    with pytest.raises(INTEGRITY_ERRORS):
        any_store.write_sync(lambda uow: uow.tokens.create(other.id, "sha-1", "dup", None, 6.0))


def test_endpoints_create_get_disable(any_store: Store) -> None:
    account = any_store.write_sync(lambda uow: uow.accounts.create("Acme", 1.0))
    endpoint = any_store.write_sync(
        lambda uow: uow.endpoints.create(account.id, "webhook", "https://hooks.example/in", "whsec_abc", 2.0)
    )
    assert any_store.read_sync(lambda uow: uow.endpoints.get(endpoint.id)) == endpoint
    assert (endpoint.enabled, endpoint.disabled_reason, endpoint.kind) == (True, None, "webhook")
    assert any_store.read_sync(lambda uow: uow.endpoints.get(999_999)) is None

    any_store.write_sync(lambda uow: uow.endpoints.disable(endpoint.id, "410 Gone"))

    disabled = any_store.read_sync(lambda uow: uow.endpoints.get(endpoint.id))
    assert disabled is not None
    assert (disabled.enabled, disabled.disabled_reason, disabled.url, disabled.secret) == (
        False,
        "410 Gone",
        "https://hooks.example/in",
        "whsec_abc",
    )


def test_endpoints_accounts_with_enabled(any_store: Store) -> None:
    """The planner skips every event of an account this leaves out, so it must not leave out too many."""

    def seed(uow: UnitOfWork) -> tuple[list[int], list[int]]:
        accounts = [uow.accounts.create(name, 1.0).id for name in ("Acme", "Globex", "Initech", "Umbrella")]
        acme, globex, initech, _umbrella = accounts
        endpoints = [
            uow.endpoints.create(account_id, "webhook", f"https://hooks.example/{n}", "whsec_abc", 2.0).id
            for n, account_id in enumerate((acme, acme, globex, initech))
        ]
        uow.endpoints.disable(endpoints[3], "410 Gone")
        return accounts, endpoints

    accounts, endpoints = any_store.write_sync(seed)
    acme, globex, initech, umbrella = accounts

    def enabled(account_ids: list[int]) -> set[int]:
        found: set[int] = any_store.read_sync(lambda uow: uow.endpoints.accounts_with_enabled(account_ids))
        return found

    assert enabled([acme, globex, initech, umbrella, 999_999]) == {acme, globex}
    assert enabled([initech, umbrella]) == set()
    assert enabled([globex, globex]) == {globex}
    assert enabled([]) == set()
    any_store.write_sync(lambda uow: uow.endpoints.disable(endpoints[0], "410 Gone"))
    assert enabled(accounts) == {acme, globex}  # its second endpoint still takes deliveries
    any_store.write_sync(lambda uow: uow.endpoints.disable(endpoints[1], "410 Gone"))
    assert enabled(accounts) == {globex}
    any_store.write_sync(lambda uow: uow.endpoints.update_url(endpoints[3], "https://hooks.example/new"))
    assert enabled(accounts) == {globex, initech}


def test_contacts_round_trip_attributes_json(any_store: Store) -> None:
    account = any_store.write_sync(lambda uow: uow.accounts.create("Acme", 1.0))
    attributes = {
        "plan": "gold",
        "seats": 3,
        "ratio": 0.25,
        "vip": True,
        "manager": None,
        "tags": ["a", 1, {"deep": ["x"]}],
        "nome": "João Ümlaut ☂ 日本",
        "quote": 'it\'s "quoted" \\ back',
    }
    value = Contact(0, account.id, "Ana", "ana@example.com", "+55 11 9999", "123.456.789-00", attributes, 7.0)
    contact = any_store.write_sync(lambda uow: uow.contacts.create(value))

    stored = any_store.read_sync(lambda uow: uow.contacts.get(contact.id))
    assert stored == Contact(
        contact.id, account.id, "Ana", "ana@example.com", "+55 11 9999", "123.456.789-00", attributes, 7.0
    )
    empty = any_store.write_sync(lambda uow: uow.contacts.create(Contact(0, account.id)))
    assert any_store.read_sync(lambda uow: uow.contacts.get(empty.id)) == Contact(empty.id, account.id)
    assert any_store.read_sync(lambda uow: uow.contacts.get(999_999)) is None


def test_agents_online_in_account_or_department(any_store: Store) -> None:
    def seed(uow: UnitOfWork) -> tuple[int, int, int, list[int]]:
        acme, other = uow.accounts.create("Acme", 1.0), uow.accounts.create("Other", 1.0)
        one, two = add_department(uow, acme.id, "One"), add_department(uow, acme.id, "Two")
        made = [
            add_agent(uow, acme.id, "A", [one.id]),
            add_agent(uow, acme.id, "B", [two.id]),
            add_agent(uow, acme.id, "C", [one.id], presence=Presence.AWAY),
            add_agent(uow, acme.id, "D", [], presence=Presence.ONLINE),
            add_agent(uow, other.id, "E", []),
        ]
        return acme.id, one.id, two.id, [a.id for a in made]

    acme_id, one, two, (a, b, _c, d, _e) = any_store.write_sync(seed)

    def online(department_id: int | None) -> list[int]:
        return [
            agent.id for agent in any_store.read_sync(lambda uow: uow.agents.online(acme_id, department_id))
        ]

    assert online(None) == [a, b, d]
    assert online(one) == [a]
    assert online(two) == [b]
    assert any_store.read_sync(lambda uow: uow.agents.online(acme_id, None))[0].department_ids == [one]
