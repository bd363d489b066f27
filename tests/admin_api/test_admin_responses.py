"""Every answer of the admin API is what its OpenAPI document says (read into the response types with
unknown fields forbidden)."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from helpline_testing import Receiver, RunningServer, create_agent

from helpline.admin_api import responses as out

ADMIN = "/api/admin/v1"


def typed(answer: Any, kind: type[Any], status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return msgspec.convert(answer.json(), kind)


def test_every_answer_fits_its_documented_type(server: RunningServer, receiver: Receiver) -> None:
    setup = server.setup_account()
    root = create_agent(server, setup["account_id"], "Root", [setup["department_id"]], role="admin")
    headers = server.agent_headers(root["api_key"])
    client = server.client
    typed(client.post(f"{ADMIN}/departments", json={"name": "Sales"}, headers=headers), out.Department, 201)
    typed(client.get(f"{ADMIN}/departments", headers=headers), out.Departments)
    agent = {
        "name": "Bea",
        "email": "bea@acme.test",
        "password": "s3cret",
        "department_ids": [setup["department_id"]],
    }
    typed(client.post(f"{ADMIN}/agents", json=agent, headers=headers), out.CreatedAgent, 201)
    typed(client.get(f"{ADMIN}/agents", headers=headers), out.Agents)
    token = typed(
        client.post(f"{ADMIN}/tokens", json={"webhook_url": receiver.url + "/hook"}, headers=headers),
        out.CreatedToken,
        201,
    )
    typed(client.get(f"{ADMIN}/tokens", headers=headers), out.Tokens)
    client.post("/api/v1/interactions", json={"token": token.token, "department_id": setup["department_id"]})
    receiver.wait_for(1)
    deadline = time.monotonic() + 5
    while not (found := typed(client.get(f"{ADMIN}/deliveries", headers=headers), out.Deliveries)).deliveries:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    first = found.deliveries[0]
    while first.state == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
        first = typed(client.get(f"{ADMIN}/deliveries", headers=headers), out.Deliveries).deliveries[0]
    typed(client.post(f"{ADMIN}/deliveries/{first.id}/replay", headers=headers), out.Delivery)
    typed(client.post(f"{ADMIN}/tokens/{token.id}/revoke", headers=headers), out.Token)
