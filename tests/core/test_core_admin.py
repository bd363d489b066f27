"""Operator set-up and credentials: accounts, departments, tokens with webhooks, agents and their keys."""

from __future__ import annotations

import pytest
from core_fakes import World

from helpline.core import admin, agents
from helpline.core.credentials import token_hash
from helpline.core.errors import Invalid, NotFound, Unauthorized
from helpline.core.model import Agent, Department, Role


def test_create_account_needs_a_name(world: World) -> None:
    account = world.store.write(lambda uow: admin.create_account(uow, "  Globex "))
    assert (account.name, account.created_at) == ("Globex", world.store.now)
    with pytest.raises(Invalid, match="needs a name"):
        world.store.write(lambda uow: admin.create_account(uow, "   "))
    assert [a.name for a in world.store.read(lambda uow: uow.accounts.list())] == ["Acme", "Globex"]


def test_create_department_validates_and_stamps(world: World) -> None:
    made = world.store.write(
        lambda uow: admin.create_department(uow, Department(id=0, account_id=world.account.id, name="Sales"))
    )
    assert made.id > 0
    assert made.created_at == made.updated_at == world.store.now
    for field in ("queued_max_time", "ringing_max_time", "capacity"):
        bad = Department(id=0, account_id=world.account.id, name="Bad", **{field: 0})
        with pytest.raises(Invalid, match=f"{field} must be at least 1"):
            world.store.write(lambda uow, bad=bad: admin.create_department(uow, bad))
    with pytest.raises(Invalid, match="needs a name"):
        world.store.write(lambda uow: admin.create_department(uow, Department(0, world.account.id, " ")))
    with pytest.raises(NotFound, match="account 77 does not exist"):
        world.store.write(lambda uow: admin.create_department(uow, Department(0, 77, "Ghost")))


def test_token_with_webhook_creates_a_signing_endpoint(world: World) -> None:
    issued = world.store.write(
        lambda uow: admin.create_token(uow, world.account.id, "https://hooks.example/x")
    )

    assert issued.endpoint is not None
    assert (issued.endpoint.url, issued.endpoint.kind) == ("https://hooks.example/x", "webhook")
    assert issued.endpoint.secret.startswith("whsec_")
    assert issued.token.endpoint_id == issued.endpoint.id
    assert issued.token.prefix == issued.secret[:6]
    assert len(issued.secret) >= 32
    assert issued.secret not in repr(world.store.db)  # only the hash is kept
    assert world.store.db.token_hashes == {token_hash(issued.secret): issued.token.id}
    found = world.store.read(lambda uow: admin.token_by_secret(uow, issued.secret))
    assert found.id == issued.token.id


def test_token_without_webhook(world: World) -> None:
    issued = world.store.write(lambda uow: admin.create_token(uow, world.account.id, None))
    assert issued.endpoint is None
    assert issued.token.endpoint_id is None


def test_token_webhook_must_be_http(world: World) -> None:
    with pytest.raises(Invalid, match=r"must be an http\(s\) URL"):
        world.store.write(lambda uow: admin.create_token(uow, world.account.id, "ftp://x"))
    assert world.store.db.endpoints == {}


@pytest.mark.parametrize("secret", ["", "nope"])
def test_unknown_token_is_unauthorized(world: World, secret: str) -> None:
    with pytest.raises(Unauthorized, match="invalid token"):
        world.store.read(lambda uow: admin.token_by_secret(uow, secret))


def test_revoked_token_is_unauthorized(world: World) -> None:
    issued = world.store.write(lambda uow: admin.create_token(uow, world.account.id, None))
    world.store.write(lambda uow: uow.tokens.revoke(issued.token.id, uow.now))
    with pytest.raises(Unauthorized):
        world.store.read(lambda uow: admin.token_by_secret(uow, issued.secret))


def test_create_agent_login_and_api_keys(world: World) -> None:
    support = world.department()
    created = world.store.write(
        lambda uow: admin.create_agent(
            uow, world.account.id, " Alice ", " Alice@Example.COM ", "secret1", [support.id, support.id]
        )
    )
    agent = created.agent
    assert (agent.name, agent.email, agent.department_ids, agent.role) == (
        "Alice",
        "alice@example.com",
        [support.id],
        Role.AGENT,
    )
    assert agent.password_hash.startswith("$argon2")
    assert created.api_key.startswith("hla_")
    assert world.store.read(lambda uow: agents.agent_by_api_key(uow, created.api_key)).id == agent.id

    again = world.store.write(lambda uow: admin.login(uow, "ALICE@example.com", "secret1"))
    assert again.agent.id == agent.id
    assert again.api_key != created.api_key
    with pytest.raises(Unauthorized, match="wrong email or password"):
        world.store.write(lambda uow: admin.login(uow, "alice@example.com", "wrong"))
    with pytest.raises(Unauthorized, match="wrong email or password"):
        world.store.write(lambda uow: admin.login(uow, "bob@example.com", "secret1"))
    with pytest.raises(Unauthorized, match="invalid API key"):
        world.store.read(lambda uow: agents.agent_by_api_key(uow, "hla_nope"))


@pytest.mark.parametrize(
    ("email", "password", "departments", "message"),
    [
        ("not-an-email", "secret1", [], "is not an email address"),
        ("bob@example.com", "short", [], "at least 6 characters"),
        ("taken@example.com", "secret1", [], "already exists"),
        ("bob@example.com", "secret1", [404], "department 404 does not exist"),
    ],
)
def test_create_agent_refusals(
    world: World, email: str, password: str, departments: list[int], message: str
) -> None:
    world.agent("Taken")
    agents_before = dict(world.store.db.agents)
    with pytest.raises(Invalid, match=message):
        world.store.write(
            lambda uow: admin.create_agent(uow, world.account.id, "Bob", email, password, departments)
        )
    assert world.store.db.agents == agents_before


def test_agent_cannot_join_another_accounts_department(world: World) -> None:
    theirs = world.department("Theirs", account=world.other_account())
    with pytest.raises(Invalid, match=f"department {theirs.id} does not exist in account {world.account.id}"):
        world.store.write(
            lambda uow: admin.create_agent(
                uow, world.account.id, "Bob", "bob@example.com", "secret1", [theirs.id]
            )
        )


def test_visibility_is_scoped_by_account_department_and_assignment(world: World) -> None:
    support, sales = world.department(), world.department("Sales")
    alice = world.agent("Alice", [support])
    boss = world.agent("Boss", [], role=Role.ADMIN)
    stranger = world.agent("Stranger", [support], account=world.other_account(), role=Role.ADMIN)
    in_support, in_sales = world.start(support), world.start(sales)

    def see(agent: Agent, reference: str) -> int:
        return world.store.read(lambda uow: agents.visible_conversation(uow, agent, reference)).id

    assert see(alice, str(in_support.id)) == in_support.id
    assert see(alice, in_support.hash) == in_support.id
    assert see(boss, in_sales.hash) == in_sales.id
    for agent, reference in [(alice, str(in_sales.id)), (alice, in_sales.hash), (stranger, in_support.hash)]:
        with pytest.raises(NotFound):
            see(agent, reference)
    world.run(lambda uow, a, c: agents.transfer(uow, a, c, agent_id=alice.id), boss, in_sales)
    assert see(alice, in_sales.hash) == in_sales.id
