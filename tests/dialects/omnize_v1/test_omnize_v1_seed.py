"""Replays seed 000 (Omnize ClientApi V1) against the real server, with a real webhook receiver.

Request bodies are the seed's examples; responses and triggers are compared as whole JSON documents.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import httpx
import pytest
from helpline_testing import Receiver, RunningServer
from standardwebhooks import Webhook
from websockets.sync.client import connect

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# Message hashes are UUIDs too, time-ordered (version 7) so that each lands at the end of its index.
MESSAGE_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
SEED_EXTRA = {"clientId": "12", "botId": "1111"}


def seed_start_body(token: str, department_id: int) -> dict[str, Any]:
    return {
        "token": token,
        "media_type": "text",
        "department_id": str(department_id),
        "customer": {
            "name": "Joao",
            "email": "joao@example.com",
            "phone": "11988776655",
            "cpf": "123.456.789-00",
        },
        "extra": SEED_EXTRA,
    }


def start(server: RunningServer, setup: dict[str, Any], prefix: str = "/api/v1", **overrides: Any) -> str:
    body = seed_start_body(setup["token"], setup["department_id"]) | overrides
    response = server.client.post(f"{prefix}/interactions", json=body)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["message"] == "Interaction created successfully"
    interaction_hash: str = payload["data"]["interaction_hash"]
    assert UUID.match(interaction_hash)
    assert payload == {
        "message": "Interaction created successfully",
        "data": {"interaction_hash": interaction_hash},
    }
    return interaction_hash


def go_online(server: RunningServer, api_key: str) -> None:
    response = server.client.put(
        "/api/agent/v1/presence", json={"status": "online"}, headers=server.agent_headers(api_key)
    )
    assert response.status_code == 200, response.text


def triggers(receiver: Receiver, count: int) -> list[dict[str, Any]]:
    return [r.json() for r in receiver.wait_for(count)]


def test_departments_listing(server: RunningServer) -> None:
    setup = server.setup_account()
    response = server.client.get("/api/v1/departments", params={"token": setup["token"]})
    assert response.status_code == 200
    [department] = response.json()
    assert department["id"] == setup["department_id"]
    assert department["name"] == "Support"
    assert department["queue"] is True
    assert department["state"] == 1
    assert department["agents"] == [{"id": setup["agent_id"], "name": "Ana", "photo": None}]
    for key in (
        "ringing_max_time",
        "queued_max_time",
        "bot_id",
        "queue_position_time",
        "date_creation",
        "change_date",
        "channels",
    ):
        assert key in department
    assert (
        server.client.get("/core/api/v1/departments", params={"token": setup["token"]}).json()
        == response.json()
    )


def test_full_interaction_with_every_trigger(server: RunningServer, receiver: Receiver) -> None:
    setup = server.setup_account(webhook_url=receiver.url + "/hook")
    headers = server.agent_headers(setup["api_key"])
    go_online(server, setup["api_key"])
    interaction = start(server, setup)

    assert triggers(receiver, 1)[0] == {
        "interaction_hash": interaction,
        "state": "queued",
        "position": 1,
        "extra": SEED_EXTRA,
    }

    listed = server.client.get(
        "/api/agent/v1/conversations", params={"status": "queued"}, headers=headers
    ).json()
    assert [c["hash"] for c in listed["conversations"]] == [interaction]
    assert listed["conversations"][0]["contact"]["name"] == "Joao"
    assert listed["conversations"][0]["contact"]["document"] == "123.456.789-00"

    accepted = server.client.post(f"/api/agent/v1/conversations/{interaction}/accept", headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert triggers(receiver, 2)[1] == {
        "interaction_hash": interaction,
        "state": "accepted",
        "extra": SEED_EXTRA,
    }

    sent = server.client.post(
        f"/api/v1/interactions/{interaction}/messages",
        json={"token": setup["token"], "content": "Message", "type": "text"},
    )
    assert sent.status_code == 200
    message_hash = sent.json()["data"]["message_hash"]
    assert MESSAGE_UUID.match(message_hash)
    assert sent.json() == {
        "message": "Message created successfully",
        "data": {"message_hash": message_hash, "interaction_hash": interaction},
        "status": 200,
    }

    for path, text in (("typing", "Typing sent successfully"), ("cleared", "Cleared sent successfully")):
        answer = server.client.put(
            f"/api/v1/interactions/{interaction}/{path}", json={"token": setup["token"]}
        )
        assert answer.status_code == 200
        assert answer.json() == {"message": text, "status": 200}

    for typing in (True, False):
        assert (
            server.client.post(
                f"/api/agent/v1/conversations/{interaction}/typing", json={"typing": typing}, headers=headers
            ).status_code
            == 200
        )
    reply = server.client.post(
        f"/api/agent/v1/conversations/{interaction}/messages", json={"content": "Hello Joao"}, headers=headers
    )
    assert reply.status_code == 201, reply.text
    reply_hash = reply.json()["hash"]
    picture = server.client.post(
        f"/api/agent/v1/conversations/{interaction}/messages",
        json={"content": "", "content_type": "image", "url": "https://images.example/image.png"},
        headers=headers,
    )
    assert picture.status_code == 201
    finished = server.client.post(f"/api/agent/v1/conversations/{interaction}/finish", headers=headers)
    assert finished.status_code == 200

    got = triggers(receiver, 7)
    agent = {"id": setup["agent_id"], "name": "Ana"}
    assert got[2:] == [
        {"interaction_hash": interaction, "state": "typing", "extra": SEED_EXTRA},
        {"interaction_hash": interaction, "state": "cleared", "extra": SEED_EXTRA},
        {
            "interaction_hash": interaction,
            "message": {"hash": reply_hash, "content": "Hello Joao", "type": "text"},
            "agent": agent,
            "extra": SEED_EXTRA,
        },
        {
            "interaction_hash": interaction,
            "message": {
                "hash": picture.json()["hash"],
                "content": "",
                "type": "image",
                "url": "https://images.example/image.png",
            },
            "agent": agent,
            "extra": SEED_EXTRA,
        },
        {"interaction_hash": interaction, "state": "finished", "extra": SEED_EXTRA},
    ]

    history = server.client.get(f"/api/agent/v1/conversations/{interaction}/messages", headers=headers).json()
    assert [m["content"] for m in history["messages"]] == ["Message", "Hello Joao", ""]

    closed = server.client.post(
        f"/api/v1/interactions/{interaction}/messages", json={"token": setup["token"], "content": "late"}
    )
    assert closed.status_code == 422
    assert closed.json() == {"message": f"interaction {interaction} is already finished", "status": 422}


def test_triggers_are_signed_with_standard_webhooks(server: RunningServer, receiver: Receiver) -> None:
    setup = server.setup_account(webhook_url=receiver.url + "/hook")
    start(server, setup)
    [request] = receiver.wait_for(1)
    assert request.path == "/hook"
    assert request.headers["content-type"].startswith("application/json")
    Webhook(setup["signing_secret"]).verify(request.body, request.headers)
    assert request.headers["webhook-id"].startswith("evt_")
    with pytest.raises(Exception, match=r"(?i)signature"):
        Webhook(setup["signing_secret"]).verify(request.body + b" ", request.headers)


def test_unavailable_when_no_queue_and_nobody_online(server: RunningServer, receiver: Receiver) -> None:
    setup = server.setup_account(webhook_url=receiver.url + "/hook", queue=False)
    interaction = start(server, setup)
    assert triggers(receiver, 1) == [
        {"interaction_hash": interaction, "state": "unavailable", "extra": SEED_EXTRA}
    ]
    refused = server.client.put(f"/api/v1/interactions/{interaction}/finish", json={"token": setup["token"]})
    assert refused.status_code == 422


def test_queue_expiry_ends_unavailable(server: RunningServer, receiver: Receiver) -> None:
    setup = server.setup_account(webhook_url=receiver.url + "/hook", queued_max_time=1)
    interaction = start(server, setup)
    got = triggers(receiver, 2)
    assert got[1] == {"interaction_hash": interaction, "state": "unavailable", "extra": SEED_EXTRA}


def test_queue_positions_move_and_are_announced(server: RunningServer, receiver: Receiver) -> None:
    setup = server.setup_account(webhook_url=receiver.url + "/hook")
    first = start(server, setup, extra={"n": 1})
    second = start(server, setup, extra={"n": 2})
    third = start(server, setup, extra={"n": 3})
    go_online(server, setup["api_key"])
    accepted = server.client.post(
        f"/api/agent/v1/conversations/{first}/accept", headers=server.agent_headers(setup["api_key"])
    )
    assert accepted.status_code == 200
    got = triggers(receiver, 6)
    by_interaction: dict[str, list[dict[str, Any]]] = {}
    for trigger in got:  # order is promised per interaction, not across them
        by_interaction.setdefault(trigger["interaction_hash"], []).append(trigger)
    assert by_interaction == {
        first: [
            {"interaction_hash": first, "state": "queued", "position": 1, "extra": {"n": 1}},
            {"interaction_hash": first, "state": "accepted", "extra": {"n": 1}},
        ],
        second: [
            {"interaction_hash": second, "state": "queued", "position": 2, "extra": {"n": 2}},
            {"interaction_hash": second, "state": "queued", "position": 1, "extra": {"n": 2}},
        ],
        third: [
            {"interaction_hash": third, "state": "queued", "position": 3, "extra": {"n": 3}},
            {"interaction_hash": third, "state": "queued", "position": 2, "extra": {"n": 3}},
        ],
    }


def test_customer_finish_and_media_messages(server: RunningServer) -> None:
    setup = server.setup_account()
    interaction = start(server, setup, prefix="/core/api/v1")
    for mime in ("image/jpeg", "image/png", "video/mp4", "audio/ogg"):
        sent = server.client.post(
            f"/core/api/v1/interactions/{interaction}/messages",
            json={
                "token": setup["token"],
                "content": "Message",
                "type": mime,
                "url": "https://images.com/image.png",
            },
        )
        assert sent.status_code == 200, sent.text
    no_url = server.client.post(
        f"/api/v1/interactions/{interaction}/messages",
        json={"token": setup["token"], "content": "x", "type": "image/png"},
    )
    assert no_url.status_code == 422
    assert "url" in no_url.json()["message"]
    listed = server.client.get(
        f"/api/agent/v1/conversations/{interaction}/messages", headers=server.agent_headers(setup["api_key"])
    ).json()["messages"]
    assert [m["content_type"] for m in listed] == ["image", "image", "video", "audio"]
    finished = server.client.put(f"/api/v1/interactions/{interaction}/finish", json={"token": setup["token"]})
    assert finished.json() == {"message": "Finish sent successfully", "status": 200}
    again = server.client.put(f"/api/v1/interactions/{interaction}/finish", json={"token": setup["token"]})
    assert again.status_code == 422


def test_idempotency_key_makes_a_retry_return_the_first_message(server: RunningServer) -> None:
    setup = server.setup_account()
    interaction = start(server, setup)
    body = {"token": setup["token"], "content": "once"}
    first = server.client.post(
        f"/api/v1/interactions/{interaction}/messages", json=body, headers={"Idempotency-Key": "k1"}
    )
    second = server.client.post(
        f"/api/v1/interactions/{interaction}/messages", json=body, headers={"Idempotency-Key": "k1"}
    )
    assert first.json() == second.json()
    listed = server.client.get(
        f"/api/agent/v1/conversations/{interaction}/messages", headers=server.agent_headers(setup["api_key"])
    ).json()["messages"]
    assert len(listed) == 1


def test_update_interaction_and_agents_online(server: RunningServer) -> None:
    setup = server.setup_account()
    interaction = start(server, setup)
    updated = server.client.put(
        f"/api/v1/interactions/{interaction}",
        json={
            "token": setup["token"],
            "mood": "POSITIVE",
            "tag_ids": [1, 2],
            "customer_key": "c-9",
            "note": "vip",
        },
    )
    assert updated.json() == {"message": "Interaction updated successfully", "status": 200}
    seen = server.client.get(
        f"/api/agent/v1/conversations/{interaction}", headers=server.agent_headers(setup["api_key"])
    ).json()
    assert (seen["mood"], seen["tags"], seen["note"]) == ("POSITIVE", [1, 2], "vip")
    bad_mood = server.client.put(
        f"/api/v1/interactions/{interaction}", json={"token": setup["token"], "mood": "meh"}
    )
    assert bad_mood.status_code == 422

    nobody = server.client.get("/core/api/v1/agents/online", params={"token": setup["token"]}).json()
    assert nobody == {"agents": [], "averageService": 0, "count": 0, "status": 200}
    go_online(server, setup["api_key"])
    server.client.post(
        f"/api/agent/v1/conversations/{interaction}/accept", headers=server.agent_headers(setup["api_key"])
    )
    online = server.client.get(
        "/core/api/v1/agents/online",
        params={"token": setup["token"], "department_id": setup["department_id"]},
    ).json()
    assert online["count"] == 1
    assert online["agents"] == [{"id": setup["agent_id"], "name": "Ana", "photo": None}]
    assert isinstance(online["averageService"], int)


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"department_id": 1}, 401, "token is required"),
        ({"token": "nope", "department_id": 1}, 401, "invalid token"),
        ({"token": "{token}", "department_id": 999}, 422, "department 999 does not exist"),
        ({"token": "{token}", "department_id": "abc"}, 422, "department_id must be a number"),
        ({"token": "{token}"}, 422, "department_id is required"),
        ({"token": "{token}", "department_id": 1, "media_type": "FAX"}, 422, "media_type must be one of"),
        ({"token": "{token}", "department_id": 1, "surprise": True}, 422, "unknown field"),
        ({"token": "{token}", "department_id": 1, "customer": {"name": 5}}, 422, "customer.name"),
        ({"token": "{token}", "department_id": 1, "extra": "text"}, 422, "extra"),
    ],
)
def test_start_refusals(server: RunningServer, body: dict[str, Any], status: int, fragment: str) -> None:
    setup = server.setup_account()
    filled = {k: (setup["token"] if v == "{token}" else v) for k, v in body.items()}
    if filled.get("department_id") == 1:
        filled["department_id"] = setup["department_id"]
    response = server.client.post("/api/v1/interactions", json=filled)
    assert response.status_code == status
    payload = response.json()
    assert payload["status"] == status
    assert fragment.lower() in payload["message"].lower()
    assert set(payload) == {"message", "status"}


def test_malformed_and_oversized_bodies(server: RunningServer) -> None:
    setup = server.setup_account()
    broken = server.client.post(
        "/api/v1/interactions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422
    assert "malformed JSON" in broken.json()["message"]
    huge = server.client.post(
        "/api/v1/interactions",
        content=json.dumps({"token": setup["token"], "department_id": 1, "extra": {"x": "y" * 2_000_000}}),
    )
    assert huge.status_code == 413
    assert huge.json()["status"] == 413
    nothing_written = server.client.get(
        "/api/agent/v1/conversations", headers=server.agent_headers(setup["api_key"])
    ).json()
    assert nothing_written == {"conversations": []}


def test_inactive_department_and_other_tenant(server: RunningServer) -> None:
    setup = server.setup_account()
    other = server.setup_account()
    inactive = server.add_department(setup["account_id"], "Closed", active=False)
    refused = server.client.post(
        "/api/v1/interactions", json={"token": setup["token"], "department_id": inactive}
    )
    assert refused.status_code == 422
    assert f"department {inactive} (Closed) is not active" in refused.json()["message"]
    theirs = start(server, other)
    for method, path, body in (
        ("POST", f"/api/v1/interactions/{theirs}/messages", {"token": setup["token"], "content": "hi"}),
        ("PUT", f"/api/v1/interactions/{theirs}/typing", {"token": setup["token"]}),
        ("PUT", f"/api/v1/interactions/{theirs}/finish", {"token": setup["token"]}),
    ):
        response = server.client.request(method, path, json=body)
        assert response.status_code == 404
        assert response.json() == {"message": f"interaction {theirs} not found", "status": 404}
    other_department = server.client.post(
        "/api/v1/interactions", json={"token": setup["token"], "department_id": other["department_id"]}
    )
    assert other_department.status_code == 422


def test_external_history_is_loaded_and_shown_first(server: RunningServer) -> None:
    document = {
        "messages": [
            {"time": "2019-03-14 09:49:11", "direction": "CLIENT", "content": "second"},
            {"time": "2019-03-14 09:49:01", "direction": "AGENT", "content": "first"},
        ]
    }
    setup = server.setup_account()
    with _json_server(document) as url:
        interaction = start(server, setup, external_history=url)
        sent = server.client.post(
            f"/api/v1/interactions/{interaction}/messages", json={"token": setup["token"], "content": "live"}
        )
        assert sent.status_code == 200
        listed = _wait_history(server, interaction, server.agent_headers(setup["api_key"]))
    assert listed["external_history"]["status"] == "loaded"
    assert [(m["history"], m["content"], m["direction"]) for m in listed["messages"]] == [
        (True, "first", "outbound"),
        (True, "second", "inbound"),
        (False, "live", "inbound"),
    ]


def test_unreachable_external_history_is_recorded_not_fatal(server: RunningServer) -> None:
    setup = server.setup_account()
    # The seed's own example has no scheme and names a host we cannot reach: the interaction still starts.
    interaction = start(server, setup, external_history="chathistory.example.org")
    listed = _wait_history(server, interaction, server.agent_headers(setup["api_key"]))
    assert listed["external_history"]["status"] == "failed"
    assert "chathistory.example.org" in listed["external_history"]["error"]


def _wait_history(server: RunningServer, interaction: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        listed: dict[str, Any] = server.client.get(
            f"/api/agent/v1/conversations/{interaction}/messages", headers=headers
        ).json()
        if listed["external_history"]["status"] != "pending" or time.monotonic() > deadline:
            return listed
        time.sleep(0.05)


class _json_server:
    def __init__(self, document: Any) -> None:
        self.document = document

    def __enter__(self) -> str:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        payload = json.dumps(self.document).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}/history"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_agent_websocket_sees_every_event_and_resumes(server: RunningServer) -> None:
    setup = server.setup_account()
    go_online(server, setup["api_key"])
    ws_url = f"{server.ws_url}/api/agent/v1/ws?api_key={setup['api_key']}"
    with connect(ws_url) as socket:
        ready = json.loads(socket.recv(timeout=5))
        assert ready["event"] == "ready"
        interaction = start(server, setup)
        server.client.put(f"/api/v1/interactions/{interaction}/typing", json={"token": setup["token"]})
        server.client.post(
            f"/api/v1/interactions/{interaction}/messages", json={"token": setup["token"], "content": "hi"}
        )
        server.client.put(f"/api/v1/interactions/{interaction}/cleared", json={"token": setup["token"]})
        frames = [json.loads(socket.recv(timeout=5)) for _ in range(5)]
    assert [f["event"] for f in frames] == [
        "conversation.started",
        "conversation.queued",
        "contact.typing",
        "message.created",
        "contact.typing",
    ]
    seqs = [f["seq"] for f in frames]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 5
    assert frames[1]["data"]["position"] == 1
    assert frames[3]["data"]["message"]["content"] == "hi"
    assert [frames[2]["data"]["typing"], frames[4]["data"]["typing"]] == [True, False]

    last_seen = seqs[-1]
    for text in ("while", "you", "were", "away"):
        server.client.post(
            f"/api/v1/interactions/{interaction}/messages", json={"token": setup["token"], "content": text}
        )
    with connect(f"{ws_url}&after={last_seen}") as socket:
        missed = [json.loads(socket.recv(timeout=5)) for _ in range(4)]
        ready = json.loads(socket.recv(timeout=5))
        server.client.post(
            f"/api/v1/interactions/{interaction}/messages", json={"token": setup["token"], "content": "live"}
        )
        live = json.loads(socket.recv(timeout=5))
    assert [m["data"]["message"]["content"] for m in missed] == ["while", "you", "were", "away"]
    assert ready["event"] == "ready"
    assert ready["data"]["last_seq"] == missed[-1]["seq"]
    assert live["data"]["message"]["content"] == "live"
    assert live["seq"] == missed[-1]["seq"] + 1


def test_websocket_refuses_a_bad_key(server: RunningServer) -> None:
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus), connect(f"{server.ws_url}/api/agent/v1/ws?api_key=wrong"):
        pass


def test_two_agents_racing_for_one_conversation(server: RunningServer) -> None:
    setup = server.setup_account()
    rival = server.add_agent(setup["account_id"], [setup["department_id"]])
    interaction = start(server, setup)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def take(api_key: str) -> None:
        with httpx.Client(base_url=server.url) as client:
            barrier.wait()
            results.append(
                client.post(
                    f"/api/agent/v1/conversations/{interaction}/accept", headers=server.agent_headers(api_key)
                ).status_code
            )

    threads = [threading.Thread(target=take, args=(key,)) for key in (setup["api_key"], rival["api_key"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409]


def test_a_revoked_token_is_refused_at_once(server: RunningServer) -> None:
    setup = server.setup_account()
    listed = server.client.get("/api/v1/departments", params={"token": setup["token"]})
    assert listed.status_code == 200  # the token is now remembered as active
    token_id = server.store.read_sync(lambda uow: uow.tokens.list(setup["account_id"]))[0].id
    server.store.write_sync(lambda uow: uow.tokens.revoke(token_id, uow.now))
    refused = server.client.get("/api/v1/departments", params={"token": setup["token"]})
    assert refused.status_code == 401
    assert refused.json() == {"message": "invalid token", "status": 401}
