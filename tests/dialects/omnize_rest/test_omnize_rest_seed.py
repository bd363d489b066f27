"""Replays seed 001 (Omnize ClientApi REST) against the real server, with a real webhook receiver.

Request bodies are the seed's examples (with the test's token and department); triggers are compared as
whole JSON documents: exactly ``{"status", "clientId"}`` and ``{"message", "clientId"}``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from bot_testing import conversation_state, event_types, go_online, rest, wait_planned
from helpline_testing import Receiver, RunningServer
from standardwebhooks import Webhook

from helpline.core import admin

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
PATHS = ("/api/rest/v1", "/client-gateway/api/rest/v1")


def seed_init(setup: dict[str, Any], client_id: str = "12") -> dict[str, Any]:
    return {
        "token": setup["token"],
        "type": "info",
        "content": "init",
        "departmentId": str(setup["department_id"]),
        "clientId": client_id,
        "customerName": "Joao",
        "customerEmail": "joao@example.com",
        "customerPhone": "11988776655",
        "customerCpf": "123.456.789-00",
    }


def seed_request(setup: dict[str, Any], kind: str, content: str, client_id: str = "12") -> dict[str, Any]:
    return {
        "type": kind,
        "token": setup["token"],
        "departmentId": str(setup["department_id"]),
        "content": content,
        "clientId": client_id,
    }


def init(server: RunningServer, setup: dict[str, Any], path: str = PATHS[0], client_id: str = "12") -> str:
    response = rest(server, seed_init(setup, client_id), path)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "message": "Interaction created successfully",
        "status": 200,
        "clientId": client_id,
        "interactionHash": body["interactionHash"],
    }
    assert UUID.match(body["interactionHash"])
    interaction: str = body["interactionHash"]
    return interaction


def agent(server: RunningServer, setup: dict[str, Any], interaction: str, action: str, **body: Any) -> Any:
    response = server.client.post(
        f"/api/agent/v1/conversations/{interaction}/{action}",
        json=body or None,
        headers=server.agent_headers(setup["api_key"]),
    )
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.mark.parametrize("path", PATHS)
def test_every_request_and_trigger_of_the_seed(server: RunningServer, receiver: Receiver, path: str) -> None:
    setup = server.setup_account(webhook_url=receiver.url + "/hook")
    interaction = init(server, setup, path)

    state = conversation_state(server, setup["api_key"], interaction)
    assert (state["state"], state["origin"]) == ("queued", {"dialect": "omnize_rest", "key": "12"})
    assert state["contact"] | {"id": 0} == {
        "id": 0,
        "name": "Joao",
        "email": "joao@example.com",
        "phone": "11988776655",
        "document": "123.456.789-00",
        "attributes": {},
    }

    # Agent accepts interaction.
    agent(server, setup, interaction, "accept")
    [accepted] = receiver.wait_for(1)
    assert accepted.json() == {"status": "accepted", "clientId": "12"}
    assert Webhook(setup["signing_secret"]).verify(accepted.body, accepted.headers) == accepted.json()

    # Send message.
    sent = rest(server, seed_request(setup, "message", "Message"), path)
    assert sent.status_code == 200, sent.text
    assert sent.json() == {
        "message": "Message created successfully",
        "status": 200,
        "clientId": "12",
        "messageHash": sent.json()["messageHash"],
    }
    # Notify when client typing / stop typing.
    typing = rest(server, seed_request(setup, "info", "typing"), path)
    assert (typing.status_code, typing.json()) == (
        200,
        {"message": "Typing sent successfully", "status": 200},
    )
    cleared = rest(server, seed_request(setup, "info", "cleared"), path)
    assert (cleared.status_code, cleared.json()) == (
        200,
        {"message": "Cleared sent successfully", "status": 200},
    )
    messages = server.client.get(
        f"/api/agent/v1/conversations/{interaction}/messages", headers=server.agent_headers(setup["api_key"])
    ).json()["messages"]
    assert [(m["sender"]["type"], m["content"]) for m in messages] == [("contact", "Message")]

    # Agent typing, stop typing, new message.
    agent(server, setup, interaction, "typing", typing=True)
    agent(server, setup, interaction, "typing", typing=False)
    agent(server, setup, interaction, "messages", content="New agent message!")
    assert [r.json() for r in receiver.wait_for(4)[1:]] == [
        {"status": "typing", "clientId": "12"},
        {"status": "cleared", "clientId": "12"},
        {"message": "New agent message!", "clientId": "12"},
    ]

    # Agent finish interaction.
    agent(server, setup, interaction, "finish")
    assert receiver.wait_for(5)[4].json() == {"status": "finish", "clientId": "12"}
    types = event_types(server, setup["account_id"], interaction)
    assert types.count("contact.typing") == 2


def test_the_client_finishes_and_a_new_init_starts_a_new_conversation(
    server: RunningServer, receiver: Receiver
) -> None:
    setup = server.setup_account(webhook_url=receiver.url + "/hook")
    first = init(server, setup)
    finished = rest(server, seed_request(setup, "info", "finish"))
    assert (finished.status_code, finished.json()) == (
        200,
        {"message": "Finish sent successfully", "status": 200},
    )
    assert conversation_state(server, setup["api_key"], first)["finished_by"]["type"] == "contact"
    # The client ended it itself: no trigger for that.
    wait_planned(server)
    assert receiver.received == []
    again = rest(server, seed_request(setup, "message", "hello?"))
    assert again.status_code == 404
    assert again.json() == {
        "message": "no open interaction for clientId 12; start one with type info and content init",
        "status": 404,
    }
    second = init(server, setup)
    assert second != first


def test_a_second_init_for_an_open_client_returns_the_same_conversation(server: RunningServer) -> None:
    setup = server.setup_account()
    first = init(server, setup)
    again = rest(server, seed_init(setup) | {"clientId": 12}, "/client-gateway/api/rest/v1")
    assert again.status_code == 200, again.text
    assert again.json() == {
        "message": "Interaction already open",
        "status": 200,
        "clientId": 12,
        "interactionHash": first,
    }
    other = init(server, setup, client_id="13")
    assert other != first
    listed = server.client.get(
        "/api/agent/v1/conversations",
        params={"status": "queued"},
        headers=server.agent_headers(setup["api_key"]),
    ).json()["conversations"]
    assert sorted(c["hash"] for c in listed) == sorted([first, other])
    # Another token of the same account is another customer app: its clientId 12 is another customer.
    second_token = server.store.write_sync(
        lambda uow: admin.create_token(uow, setup["account_id"], None)
    ).secret
    separate = rest(server, seed_init(setup) | {"token": second_token})
    assert separate.json()["interactionHash"] not in (first, other)


def test_unavailable_when_nobody_can_take_it(server: RunningServer, receiver: Receiver) -> None:
    setup = server.setup_account(webhook_url=receiver.url + "/hook", queue=False)
    interaction = init(server, setup)
    assert receiver.wait_for(1)[0].json() == {"status": "unavailable", "clientId": "12"}
    assert conversation_state(server, setup["api_key"], interaction)["finish_reason"] == "unavailable"


def test_a_numeric_client_id_is_echoed_as_sent(server: RunningServer, receiver: Receiver) -> None:
    setup = server.setup_account(webhook_url=receiver.url + "/hook")
    go_online(server, setup["api_key"])
    body = seed_init(setup) | {"clientId": 123, "departmentId": setup["department_id"]}
    started = rest(server, body)
    assert started.json()["clientId"] == 123
    interaction = started.json()["interactionHash"]
    agent(server, setup, interaction, "accept")
    assert receiver.wait_for(1)[0].json() == {"status": "accepted", "clientId": 123}
    sent = rest(server, seed_request(setup, "message", "hi", client_id="123"))
    assert sent.status_code == 200, sent.text


def test_interactive_messages_arrive_as_numbered_text(server: RunningServer, receiver: Receiver) -> None:
    """This API has no cards or quick replies: the customer gets the question and its options as text."""
    setup = server.setup_account(webhook_url=receiver.url + "/hook")
    go_online(server, setup["api_key"])
    interaction = init(server, setup)
    agent(server, setup, interaction, "accept")
    agent(
        server,
        setup,
        interaction,
        "messages",
        content_type="quick_reply",
        content="Which shipping?",
        content_attributes={
            "buttons": [
                {"title": "Standard", "value": "SHIP_STANDARD"},
                {"title": "Express", "value": "SHIP_EXPRESS"},
            ]
        },
    )
    assert receiver.wait_for(2)[1].json() == {
        "message": "Which shipping?\n1. Standard\n2. Express",
        "clientId": "12",
    }


def test_departments_are_listed(server: RunningServer) -> None:
    setup = server.setup_account()
    go_online(server, setup["api_key"])
    night = server.add_department(setup["account_id"], "Night", queue_enabled=False, active=False)
    # The later docs' example: {"token", "type": "info", "content": "departments", "clientId": 123}.
    for path in PATHS:
        listed = rest(
            server, {"token": setup["token"], "type": "info", "content": "departments", "clientId": 123}, path
        )
        assert listed.status_code == 200, listed.text
        assert listed.json() == {
            "departments": [
                {
                    "id": setup["department_id"],
                    "name": "Support",
                    "state": 1,
                    "queue": True,
                    "agentsOnline": 1,
                },
                {"id": night, "name": "Night", "state": 0, "queue": False, "agentsOnline": 0},
            ],
            "status": 200,
        }


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"type": "info", "content": "init"}, 401, "token is required"),
        ({"token": "wrong", "type": "info", "content": "typing", "clientId": "12"}, 401, "invalid token"),
        (
            {"token": "{token}", "content": "init", "clientId": "12"},
            422,
            "type is required: one of info, message",
        ),
        (
            {"token": "{token}", "type": "event", "clientId": "12"},
            422,
            "type must be one of info, message (got 'event')",
        ),
        (
            {"token": "{token}", "type": "info", "content": "wave", "clientId": "12"},
            422,
            "content of an info request must be one of init, typing, cleared, finish, departments (got 'wave')",
        ),
        (
            {"token": "{token}", "type": "info", "content": "init", "departmentId": "1"},
            422,
            "clientId is required",
        ),
        ({"token": "{token}", "type": "message", "content": "hi"}, 422, "clientId is required"),
        (
            {"token": "{token}", "type": "info", "content": "typing", "clientId": " "},
            422,
            "clientId is required",
        ),
        (
            {"token": "{token}", "type": "info", "content": "init", "clientId": "12"},
            422,
            "departmentId is required to start an interaction",
        ),
        (
            {"token": "{token}", "type": "info", "content": "init", "clientId": "12", "departmentId": "one"},
            422,
            "departmentId must be a number (got 'one')",
        ),
        (
            {"token": "{token}", "type": "info", "content": "init", "clientId": "12", "departmentId": 999},
            422,
            "department 999 does not exist",
        ),
        (
            {"token": "{token}", "type": "message", "clientId": "12"},
            422,
            "content is required: the text of the message",
        ),
        (
            {"token": "{token}", "type": "message", "content": "hi", "clientId": "77"},
            404,
            "no open interaction for clientId 77; start one with type info and content init",
        ),
        (
            {"token": "{token}", "type": "info", "content": "finish", "clientId": "77"},
            404,
            "no open interaction for clientId 77; start one with type info and content init",
        ),
        (
            {"token": "{token}", "type": "info", "content": "init", "clientId": "12", "customer": "Joao"},
            422,
            "Object contains unknown field customer",
        ),
        (
            {"token": "{token}", "type": "info", "content": 3, "clientId": "12"},
            422,
            "Expected str | null, got int at content",
        ),
    ],
)
def test_refusals_say_what_is_wrong(
    server: RunningServer, body: dict[str, Any], status: int, message: str
) -> None:
    setup = server.setup_account()
    filled = {k: (setup["token"] if v == "{token}" else v) for k, v in body.items()}
    response = rest(server, filled)
    assert (response.status_code, response.json()) == (status, {"message": message, "status": status})


def test_malformed_and_empty_bodies(server: RunningServer) -> None:
    for raw, message in (
        (b"", "request body must be a JSON object with token, type and content"),
        (b"[1, 2]", "Expected object, got array"),
    ):
        response = server.client.post("/api/rest/v1", content=raw)
        assert (response.status_code, response.json()) == (422, {"message": message, "status": 422})
    broken = server.client.post("/api/rest/v1", content=b"{type")
    assert broken.status_code == 422
    assert broken.json()["message"].startswith("malformed JSON body")
    assert server.client.get("/api/rest/v1").status_code == 405


def test_the_openapi_document_describes_the_endpoint(server: RunningServer) -> None:
    document = server.client.get("/openapi/omnize-rest.json").json()
    assert set(document["paths"]["/api/rest/v1"]) == {"post"}
    schema = document["components"]["schemas"]["RestRequest"]
    assert {"token", "type", "content", "departmentId", "clientId", "customerName", "customerCpf"} <= set(
        schema["properties"]
    )
