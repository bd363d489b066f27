"""The native agent API against the real server: login, presence, listing, transfer, refusals, OpenAPI."""

from __future__ import annotations

from typing import Any

from helpline_testing import Receiver, RunningServer


def _start(server: RunningServer, setup: dict[str, Any], department_id: int | None = None) -> str:
    response = server.client.post(
        "/api/v1/interactions",
        json={"token": setup["token"], "department_id": department_id or setup["department_id"], "extra": {}},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["interaction_hash"])


def test_login_gives_a_working_key_and_wrong_password_is_refused(server: RunningServer) -> None:
    setup = server.setup_account()
    email = f"ana{setup['account_id']}@acme.test"
    wrong = server.client.post("/api/agent/v1/login", json={"email": email, "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {"error": {"status": 401, "message": "wrong email or password"}}
    right = server.client.post("/api/agent/v1/login", json={"email": email.upper(), "password": "s3cret"})
    assert right.status_code == 200
    me = server.client.get("/api/agent/v1/me", headers=server.agent_headers(right.json()["api_key"]))
    assert me.json()["id"] == setup["agent_id"]
    assert me.json()["department_ids"] == [setup["department_id"]]


def test_refusals_have_the_native_error_shape(server: RunningServer) -> None:
    setup = server.setup_account()
    headers = server.agent_headers(setup["api_key"])
    assert server.client.get("/api/agent/v1/conversations").status_code == 401
    assert (
        server.client.get("/api/agent/v1/conversations", headers=server.agent_headers("bad")).status_code
        == 401
    )
    bad_status = server.client.get("/api/agent/v1/conversations", params={"status": "lost"}, headers=headers)
    assert bad_status.status_code == 422
    assert "status must be one of" in bad_status.json()["error"]["message"]
    presence = server.client.put("/api/agent/v1/presence", json={"status": "sleeping"}, headers=headers)
    assert presence.status_code == 422
    missing = server.client.get("/api/agent/v1/conversations/424242", headers=headers)
    assert missing.status_code == 404
    assert missing.json() == {"error": {"status": 404, "message": "conversation 424242 not found"}}
    interaction = _start(server, setup)
    not_yours = server.client.post(
        f"/api/agent/v1/conversations/{interaction}/messages", json={"content": "hi"}, headers=headers
    )
    assert not_yours.status_code == 409
    assert "accept the conversation" in not_yours.json()["error"]["message"]


def test_other_tenant_and_other_department_are_invisible(server: RunningServer) -> None:
    setup = server.setup_account()
    other = server.setup_account()
    theirs = _start(server, other)
    headers = server.agent_headers(setup["api_key"])
    assert server.client.get(f"/api/agent/v1/conversations/{theirs}", headers=headers).status_code == 404
    assert (
        server.client.post(f"/api/agent/v1/conversations/{theirs}/accept", headers=headers).status_code == 404
    )
    elsewhere = server.add_department(setup["account_id"], "Sales")
    hidden = _start(server, setup, elsewhere)
    assert server.client.get(f"/api/agent/v1/conversations/{hidden}", headers=headers).status_code == 404
    listed = server.client.get("/api/agent/v1/conversations", headers=headers).json()["conversations"]
    assert listed == []


def test_transfer_to_department_then_to_agent(server: RunningServer, receiver: Receiver) -> None:
    setup = server.setup_account(webhook_url=receiver.url)
    sales = server.add_department(setup["account_id"], "Sales")
    bob = server.add_agent(setup["account_id"], [sales], name="Bob")
    ana_headers = server.agent_headers(setup["api_key"])
    bob_headers = server.agent_headers(bob["api_key"])
    for headers in (ana_headers, bob_headers):
        server.client.put("/api/agent/v1/presence", json={"status": "online"}, headers=headers)
    interaction = _start(server, setup)
    assert (
        server.client.post(
            f"/api/agent/v1/conversations/{interaction}/accept", headers=ana_headers
        ).status_code
        == 200
    )

    moved = server.client.post(
        f"/api/agent/v1/conversations/{interaction}/transfer",
        json={"department_id": sales},
        headers=ana_headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["state"] == "queued"
    assert moved.json()["department_id"] == sales
    queued_for_bob = server.client.get(
        "/api/agent/v1/conversations", params={"status": "queued"}, headers=bob_headers
    )
    assert [c["hash"] for c in queued_for_bob.json()["conversations"]] == [interaction]
    assert (
        server.client.post(
            f"/api/agent/v1/conversations/{interaction}/accept", headers=bob_headers
        ).status_code
        == 200
    )

    back = server.client.post(
        f"/api/agent/v1/conversations/{interaction}/transfer",
        json={"agent_id": setup["agent_id"]},
        headers=bob_headers,
    )
    assert back.status_code == 200
    assert back.json()["assignee_id"] == setup["agent_id"]
    both = server.client.post(
        f"/api/agent/v1/conversations/{interaction}/transfer",
        json={"agent_id": 1, "department_id": 1},
        headers=ana_headers,
    )
    assert both.status_code == 422
    states = [r.json().get("state") for r in receiver.wait_for(5)]
    assert states == ["queued", "accepted", "queued", "accepted", "accepted"]


def test_transfer_to_an_offline_agent_is_refused(server: RunningServer) -> None:
    setup = server.setup_account()
    bob = server.add_agent(setup["account_id"], [setup["department_id"]], name="Bob")
    headers = server.agent_headers(setup["api_key"])
    server.client.put("/api/agent/v1/presence", json={"status": "online"}, headers=headers)
    interaction = _start(server, setup)
    server.client.post(f"/api/agent/v1/conversations/{interaction}/accept", headers=headers)
    refused = server.client.post(
        f"/api/agent/v1/conversations/{interaction}/transfer",
        json={"agent_id": bob["agent_id"]},
        headers=headers,
    )
    assert refused.status_code == 409
    assert "offline" in refused.json()["error"]["message"]


def test_finished_conversations_are_listed(server: RunningServer) -> None:
    setup = server.setup_account()
    headers = server.agent_headers(setup["api_key"])
    interaction = _start(server, setup)
    assert (
        server.client.post(f"/api/agent/v1/conversations/{interaction}/finish", headers=headers).status_code
        == 200
    )
    finished = server.client.get(
        "/api/agent/v1/conversations", params={"status": "finished"}, headers=headers
    ).json()
    [conversation] = finished["conversations"]
    assert conversation["finish_reason"] == "resolved"
    assert conversation["finished_by"] == {"type": "agent", "id": setup["agent_id"]}
    by_id = server.client.get(f"/api/agent/v1/conversations/{conversation['id']}", headers=headers)
    assert by_id.json()["hash"] == interaction


def test_openapi_documents_are_served(server: RunningServer) -> None:
    agent = server.client.get("/openapi/agent.json").json()
    assert agent["openapi"].startswith("3.1")
    assert "/api/agent/v1/conversations/{id}/accept" in agent["paths"]
    v1 = server.client.get("/openapi/omnize-v1.json").json()
    assert set(v1["paths"]["/api/v1/interactions"]) == {"post"}
    assert "StartInteraction" in v1["components"]["schemas"]
    assert server.client.get("/openapi.json").status_code == 200
    index = server.client.get("/").json()
    assert {url.rsplit("/", 1)[1] for url in index["openapi"]} >= {"agent.json", "omnize-v1.json"}


def test_every_native_route_is_in_an_openapi_document(tmp_path: Any) -> None:
    """Routes of the agent and admin APIs and their documents cannot drift apart."""
    from starlette.routing import Route

    from helpline.bootstrap import create_app
    from helpline.config import Settings
    from helpline.openapi.documents import admin_document, agent_document
    from helpline.web.routing import flatten

    app = create_app(Settings(data_dir=str(tmp_path)))
    documented = {
        (method.upper(), path)
        for doc in (agent_document(), admin_document())
        for path, operations in doc["paths"].items()
        for method in operations
    }
    served = {
        (method, path)
        for path, route in flatten(app.routes)
        if isinstance(route, Route) and path.startswith(("/api/agent/v1", "/api/admin/v1"))
        for method in (route.methods or ()) - {"HEAD"}
    }
    assert len(served) > 25
    assert served - documented == set()
    assert documented - served == set()
