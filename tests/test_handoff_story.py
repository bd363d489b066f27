"""The hand-off story across APIs, end to end over real sockets.

A customer app on Omnize ClientApi REST reaches a department owned by an external bot (Zenvia External
bot). The bot accepts, answers twice and transfers the conversation to a human department; an agent (agent
API) accepts it, reads the whole transcript and replies. The customer's webhook receives the bot's and the
agent's messages in order; the bot receives nothing after the transfer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bot_testing import RECEIVED, bot_call, deliveries_to, go_online, rest, wait_planned
from helpline_testing import Receiver, RunningServer, start_server
from standardwebhooks import Webhook

from helpline.core import bots


@pytest.fixture
def quick(tmp_path: Path) -> Iterator[RunningServer]:
    with start_server(tmp_path, retry_schedule=(0.0, 0.1, 0.2)) as running:
        yield running


def customer(server: RunningServer, token: str, kind: str, content: str, **more: Any) -> dict[str, Any]:
    response = rest(server, {"token": token, "type": kind, "content": content, "clientId": "12", **more})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_rest_customer_bot_then_agent(quick: RunningServer, receiver: Receiver) -> None:
    server = quick
    with Receiver() as bot:
        setup = server.setup_account(webhook_url=receiver.url + "/hook")  # "Support", with agent Ana
        support, token = setup["department_id"], setup["token"]
        triage = server.add_department(setup["account_id"], "Triage")
        configured = server.store.write_sync(
            lambda uow: bots.configure(uow, setup["account_id"], triage, bot.url + "/bot")
        )
        bot_secret = configured.signing_secret
        assert bot_secret is not None
        ana = server.agent_headers(setup["api_key"])
        go_online(server, setup["api_key"])

        # The customer starts in the bot's department: the bot is told, the customer waits for it.
        started = customer(
            server,
            token,
            "info",
            "init",
            departmentId=str(triage),
            customerName="Joao",
            customerEmail="j@x.org",
        )
        interaction = started["interactionHash"]
        [hello] = bot.wait_for(1)
        assert hello.json() == {
            "type": "new_interaction",
            "interaction_hash": interaction,
            "department_id": triage,
        }
        Webhook(bot_secret).verify(hello.body, hello.headers)

        assert bot_call(server, interaction, "accept", {"token": token}).json() == RECEIVED
        customer(server, token, "message", "I need help with my order")
        assert bot.wait_for(2)[1].json() == {
            "type": "new_message",
            "interaction_hash": interaction,
            "content": "I need help with my order",
            "content_type": "text",
        }

        # The bot answers twice, then hands over to the humans of Support.
        for line in ("Hi Joao! Let me check.", "I am passing you to a person."):
            assert (
                bot_call(server, interaction, "message", {"token": token, "content": line}).json() == RECEIVED
            )
        moved = bot_call(server, interaction, "transfer", {"token": token, "department_id": support})
        assert (moved.status_code, moved.json()) == (200, RECEIVED)

        # The customer writes while waiting: for the agent, not for the bot.
        customer(server, token, "message", "thanks")
        queued = server.client.get(
            "/api/agent/v1/conversations", params={"status": "queued"}, headers=ana
        ).json()
        assert [c["hash"] for c in queued["conversations"]] == [interaction]

        accepted = server.client.post(f"/api/agent/v1/conversations/{interaction}/accept", headers=ana)
        assert accepted.status_code == 200, accepted.text
        transcript = server.client.get(
            f"/api/agent/v1/conversations/{interaction}/messages", headers=ana
        ).json()
        assert [(m["sender"]["type"], m["content"]) for m in transcript["messages"]] == [
            ("contact", "I need help with my order"),
            ("bot", "Hi Joao! Let me check."),
            ("bot", "I am passing you to a person."),
            ("contact", "thanks"),
        ]
        replied = server.client.post(
            f"/api/agent/v1/conversations/{interaction}/messages",
            json={"content": "Hello Joao, Ana here."},
            headers=ana,
        )
        assert replied.status_code == 201, replied.text
        finished = server.client.post(f"/api/agent/v1/conversations/{interaction}/finish", headers=ana)
        assert finished.status_code == 200, finished.text

        # The customer's webhook: the bot took it, its two answers, the agent took it, the agent's answer, the end.
        triggers = receiver.wait_for(6)
        assert [t.json() for t in triggers] == [
            {"status": "accepted", "clientId": "12"},
            {"message": "Hi Joao! Let me check.", "clientId": "12", "sender": "bot"},
            {"message": "I am passing you to a person.", "clientId": "12", "sender": "bot"},
            {"status": "accepted", "clientId": "12"},
            {"message": "Hello Joao, Ana here.", "clientId": "12"},
            {"status": "finish", "clientId": "12"},
        ]
        for trigger in triggers:
            Webhook(setup["signing_secret"]).verify(trigger.body, trigger.headers)

        # The bot heard nothing after the transfer: not "thanks", not the agent, not the end.
        wait_planned(server)
        assert [r.json()["type"] for r in bot.received] == ["new_interaction", "new_message"]
        assert len(deliveries_to(server, configured.department.bot_endpoint_id or 0)) == 2
        late = bot_call(server, interaction, "message", {"token": token, "content": "still here"})
        assert late.status_code == 422
        assert late.json()["message"] == f"interaction {interaction} is already finished"
