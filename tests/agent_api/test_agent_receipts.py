"""The agent side marking the contact's messages: ``delivered`` when the console has them, ``seen`` when read."""

from __future__ import annotations

from typing import Any

from helpline_testing import RunningServer

AGENT = "/api/agent/v1"


def _conversation_with(
    server: RunningServer, setup: dict[str, Any], texts: list[str]
) -> tuple[str, list[int]]:
    started = server.client.post(
        "/api/v1/interactions",
        json={"token": setup["token"], "department_id": setup["department_id"], "extra": {}},
    ).json()["data"]["interaction_hash"]
    for text in texts:
        said = server.client.post(
            f"/api/v1/interactions/{started}/messages", json={"token": setup["token"], "content": text}
        )
        assert said.status_code < 300, said.text
    listed = server.client.get(
        f"{AGENT}/conversations/{started}/messages", headers=server.agent_headers(setup["api_key"])
    ).json()["messages"]
    return str(started), [m["id"] for m in listed if m.get("direction") == "inbound"]


def _statuses(server: RunningServer, setup: dict[str, Any], conversation: str) -> list[str]:
    listed = server.client.get(
        f"{AGENT}/conversations/{conversation}/messages", headers=server.agent_headers(setup["api_key"])
    ).json()["messages"]
    return [m["status"] for m in listed if m.get("direction") == "inbound"]


def test_delivered_then_seen_only_move_forward(server: RunningServer) -> None:
    setup = server.setup_account()
    headers = server.agent_headers(setup["api_key"])
    conversation, ids = _conversation_with(server, setup, ["one", "two", "three"])
    assert len(ids) == 3
    assert _statuses(server, setup, conversation) == ["sent", "sent", "sent"]

    def post(action: str, body: dict[str, Any]) -> Any:
        answer = server.client.post(
            f"{AGENT}/conversations/{conversation}/{action}", json=body, headers=headers
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert post("delivered", {"up_to": ids[1]}) == {"delivered": ids[:2]}
    assert _statuses(server, setup, conversation) == ["delivered", "delivered", "sent"]
    assert post("seen", {"up_to": ids[0]}) == {"seen": ids[:1]}
    # The seen one does not go back to delivered; the delivered one is not announced twice.
    assert post("delivered", {}) == {"delivered": ids[2:]}
    assert post("delivered", {}) == {"delivered": []}
    assert _statuses(server, setup, conversation) == ["seen", "delivered", "delivered"]
    assert post("seen", {}) == {"seen": ids[1:]}
    assert post("delivered", {}) == {"delivered": []}


def test_delivered_refuses_foreign_messages_and_invisible_conversations(server: RunningServer) -> None:
    setup = server.setup_account()
    headers = server.agent_headers(setup["api_key"])
    mine, _ = _conversation_with(server, setup, ["mine"])
    other, foreign = _conversation_with(server, setup, ["elsewhere"])
    refused = server.client.post(
        f"{AGENT}/conversations/{mine}/delivered", json={"up_to": foreign[0]}, headers=headers
    )
    assert refused.status_code == 404
    assert refused.json() == {
        "error": {"status": 404, "message": f"message {foreign[0]} not found in this conversation"}
    }
    assert _statuses(server, setup, other) == ["sent"]
    stranger = server.setup_account()
    hidden = server.client.post(
        f"{AGENT}/conversations/{mine}/delivered", json={}, headers=server.agent_headers(stranger["api_key"])
    )
    assert hidden.status_code == 404
    wrong = server.client.post(
        f"{AGENT}/conversations/{mine}/delivered", json={"up_to": "x"}, headers=headers
    )
    assert wrong.status_code == 422
    assert "up_to" in wrong.json()["error"]["message"]
    assert _statuses(server, setup, mine) == ["sent"]
