"""The admin API against the real server: who may call it, and departments, agents, tokens, deliveries."""

from __future__ import annotations

import time
from typing import Any

from helpline_testing import Receiver, RunningServer, create_agent

from helpline.outbound.repository import Deliveries

ADMIN = "/api/admin/v1"


def admin_of(server: RunningServer, setup: dict[str, Any]) -> dict[str, str]:
    boss = create_agent(server, setup["account_id"], "Boss", [setup["department_id"]], role="admin")
    return server.agent_headers(boss["api_key"])


def test_only_an_accounts_admins_may_call_it(server: RunningServer) -> None:
    setup = server.setup_account()
    nobody = server.client.get(f"{ADMIN}/departments")
    assert nobody.status_code == 401
    agent = server.client.get(f"{ADMIN}/departments", headers=server.agent_headers(setup["api_key"]))
    assert agent.status_code == 403
    assert agent.json() == {
        "error": {"status": 403, "message": "only an admin may do this; ask an admin of your account"}
    }
    refused = server.client.post(f"{ADMIN}/tokens", json={}, headers=server.agent_headers(setup["api_key"]))
    assert refused.status_code == 403
    assert server.store.read_sync(lambda uow: len(uow.tokens.list(setup["account_id"]))) == 1
    headers = admin_of(server, setup)
    assert server.client.get(f"{ADMIN}/departments", headers=headers).status_code == 200
    # The console's session cookie works too, and another site's page cannot use it to change anything.
    boss = create_agent(server, setup["account_id"], "Chief", [], role="admin")
    signed = server.client.post(
        "/api/agent/v1/session", json={"email": boss["email"], "password": boss["password"]}
    )
    cookie = {"cookie": f"helpline_session={signed.cookies['helpline_session']}"}
    server.client.cookies.clear()
    assert server.client.get(f"{ADMIN}/agents", headers=cookie).status_code == 200
    crossed = server.client.post(
        f"{ADMIN}/departments", json={"name": "Evil"}, headers=cookie | {"origin": "https://evil.example"}
    )
    assert crossed.status_code == 403


def test_departments_are_listed_and_created_in_the_admins_account(server: RunningServer) -> None:
    setup = server.setup_account()
    other = server.setup_account()
    headers = admin_of(server, setup)
    created = server.client.post(
        f"{ADMIN}/departments",
        json={"name": "  Billing ", "queue_enabled": False, "queued_max_time": 120, "capacity": 2},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert {k: body[k] for k in ("name", "queue_enabled", "queued_max_time", "capacity", "auto_assign")} == {
        "name": "Billing",
        "queue_enabled": False,
        "queued_max_time": 120,
        "capacity": 2,
        "auto_assign": False,
    }
    listed = server.client.get(f"{ADMIN}/departments", headers=headers).json()["departments"]
    assert [d["name"] for d in listed] == ["Support", "Billing"]
    assert other["department_id"] not in {d["id"] for d in listed}
    for bad, message in (
        ({"name": ""}, "a department needs a name"),
        ({"name": "X", "capacity": 0}, "capacity must be at least 1 (got 0)"),
        ({"name": "X", "capacity": "many"}, "Expected int, got str at capacity"),
        ({"name": "X", "colour": "red"}, "Object contains unknown field colour"),
    ):
        refused = server.client.post(f"{ADMIN}/departments", json=bad, headers=headers)
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["message"] == message
    assert len(server.client.get(f"{ADMIN}/departments", headers=headers).json()["departments"]) == 2


def test_agents_are_created_with_a_key_shown_once_and_checked(server: RunningServer) -> None:
    setup = server.setup_account()
    other = server.setup_account()
    headers = admin_of(server, setup)
    created = server.client.post(
        f"{ADMIN}/agents",
        json={
            "name": "Dora",
            "email": "Dora@Acme.test",
            "password": "longenough",
            "department_ids": [setup["department_id"]],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    dora = created.json()
    assert dora["email"] == "dora@acme.test"
    assert dora["role"] == "agent"
    assert dora["api_key"].startswith("hla_")
    assert created.headers["cache-control"] == "no-store"
    me = server.client.get("/api/agent/v1/me", headers=server.agent_headers(dora["api_key"]))
    assert me.json()["name"] == "Dora"
    listed = server.client.get(f"{ADMIN}/agents", headers=headers).json()["agents"]
    assert [a["name"] for a in listed] == ["Ana", "Boss", "Dora"]
    assert all("api_key" not in a and "password_hash" not in a for a in listed)
    for bad, message in (
        ({"name": "D", "email": "dora@acme.test", "password": "longenough"}, "already exists"),
        ({"name": "E", "email": "not-an-email", "password": "longenough"}, "is not an email address"),
        ({"name": "E", "email": "e@acme.test", "password": "short"}, "at least 6 characters"),
        ({"name": " ", "email": "e@acme.test", "password": "longenough"}, "an agent needs a name"),
        (
            {
                "name": "E",
                "email": "e@acme.test",
                "password": "longenough",
                "department_ids": [other["department_id"]],
            },
            f"department {other['department_id']} does not exist",
        ),
        ({"name": "E", "email": "e@acme.test", "password": "longenough", "role": "owner"}, "role"),
    ):
        refused = server.client.post(f"{ADMIN}/agents", json=bad, headers=headers)
        assert refused.status_code == 422, bad
        assert message in refused.json()["error"]["message"]


def test_tokens_are_shown_once_listed_without_secrets_and_revoked(
    server: RunningServer, receiver: Receiver
) -> None:
    setup = server.setup_account()
    other = server.setup_account()
    headers = admin_of(server, setup)
    created = server.client.post(f"{ADMIN}/tokens", json={"webhook_url": receiver.url}, headers=headers)
    assert created.status_code == 201, created.text
    token = created.json()
    assert token["signing_secret"].startswith("whsec_")
    assert token["webhook_url"] == receiver.url
    assert token["prefix"] == token["token"][:6]
    assert created.headers["cache-control"] == "no-store"
    works = server.client.get("/api/v1/departments", params={"token": token["token"]})
    assert works.status_code == 200
    listed = server.client.get(f"{ADMIN}/tokens", headers=headers).json()["tokens"]
    assert len(listed) == 2
    assert all("token" not in t and "signing_secret" not in t for t in listed)
    assert listed[1] == {k: v for k, v in token.items() if k not in ("token", "signing_secret")}
    bare = server.client.post(f"{ADMIN}/tokens", json={"webhook_url": "  "}, headers=headers).json()
    assert bare["webhook_url"] is None
    assert bare["signing_secret"] is None
    bad = server.client.post(f"{ADMIN}/tokens", json={"webhook_url": "ftp://x"}, headers=headers)
    assert bad.status_code == 422
    assert "webhook URL must be an http(s) URL" in bad.json()["error"]["message"]

    revoked = server.client.post(f"{ADMIN}/tokens/{token['id']}/revoke", headers=headers)
    assert revoked.status_code == 200
    assert revoked.json()["active"] is False
    assert server.client.get("/api/v1/departments", params={"token": token["token"]}).status_code == 401
    theirs = server.store.read_sync(lambda uow: uow.tokens.list(other["account_id"]))[0]
    assert server.client.post(f"{ADMIN}/tokens/{theirs.id}/revoke", headers=headers).status_code == 404
    assert server.client.post(f"{ADMIN}/tokens/abc/revoke", headers=headers).status_code == 422
    assert server.client.get("/api/v1/departments", params={"token": other["token"]}).status_code == 200


def test_the_delivery_log_is_listed_and_a_delivery_replayed_with_the_same_webhook_id(
    server: RunningServer, receiver: Receiver
) -> None:
    setup = server.setup_account(webhook_url=receiver.url)
    other = server.setup_account(webhook_url=receiver.url)
    headers = admin_of(server, setup)
    for owner in (setup, other):
        server.client.post(
            "/api/v1/interactions", json={"token": owner["token"], "department_id": owner["department_id"]}
        )
    receiver.wait_for(2)
    deliveries: list[dict[str, Any]] = []
    for _ in range(100):
        deliveries = server.client.get(f"{ADMIN}/deliveries", headers=headers).json()["deliveries"]
        if deliveries and deliveries[0]["state"] == "succeeded":
            break
        time.sleep(0.05)
    [delivery] = deliveries
    assert delivery["state"] == "succeeded"
    assert delivery["event_type"] == "conversation.queued"
    assert delivery["attempts_detail"][0]["status"] == 200
    assert server.client.get(f"{ADMIN}/deliveries?state=failed", headers=headers).json()["deliveries"] == []
    bad_state = server.client.get(f"{ADMIN}/deliveries?state=lost", headers=headers)
    assert bad_state.status_code == 422
    assert "unknown delivery state 'lost'" in bad_state.json()["error"]["message"]
    assert server.client.get(f"{ADMIN}/deliveries?limit=0", headers=headers).status_code == 422

    replayed = server.client.post(f"{ADMIN}/deliveries/{delivery['id']}/replay", headers=headers)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["state"] == "pending"
    again = receiver.wait_for(3)
    mine = [r for r in again if r.headers["webhook-id"] == delivery["webhook_id"]]
    assert len(mine) == 2
    assert mine[0].body == mine[1].body
    theirs = server.store.read_sync(lambda uow: Deliveries.from_uow(uow).list(other["account_id"], None, 10))[
        0
    ]
    missing = server.client.post(f"{ADMIN}/deliveries/{theirs.id}/replay", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == f"delivery {theirs.id} does not exist"
