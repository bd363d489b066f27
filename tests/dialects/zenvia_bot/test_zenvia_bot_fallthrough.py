"""A bot that does not answer must not strand a customer: when the calls to it fail past their retries, or
it does not accept in time, the conversation falls through to the humans' queue of the same department,
recorded as ``conversation.bot_fell_through``; an agent can take it. Real server, real sockets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bot_testing import (
    RECEIVED,
    bot_account,
    bot_call,
    conversation_state,
    deliveries_to,
    event_types,
    wait_planned,
    wait_until,
)
from helpline_testing import Receiver, RunningServer, free_port, start_server

from helpline.core import bots
from helpline.core.events import BOT_FELL_THROUGH
from helpline.store.unit_of_work import UnitOfWork

EXTRA = {"clientId": "12"}


@pytest.fixture
def quick(tmp_path: Path) -> Iterator[RunningServer]:
    """A server that gives up on a call after three quick attempts and checks its timers every 0.1 s."""
    with start_server(tmp_path, retry_schedule=(0.0, 0.1, 0.2), tick_seconds=0.1) as running:
        yield running


def start_v1(server: RunningServer, setup: dict[str, Any]) -> str:
    response = server.client.post(
        "/api/v1/interactions",
        json={"token": setup["token"], "department_id": setup["department_id"], "extra": EXTRA},
    )
    assert response.status_code == 200, response.text
    interaction: str = response.json()["data"]["interaction_hash"]
    return interaction


def fell_through(server: RunningServer, setup: dict[str, Any], interaction: str) -> dict[str, Any]:
    """Wait for the fall-through event and return its data."""

    def found(uow: UnitOfWork) -> dict[str, Any] | None:
        conversation = uow.conversations.by_hash(setup["account_id"], interaction)
        assert conversation is not None
        for event in uow.events.after(0, 100_000, setup["account_id"]):
            if event.conversation_id == conversation.id and event.type == BOT_FELL_THROUGH:
                return event.data
        return None

    wait_until(lambda: server.store.read_sync(found) is not None, message="the fall-through")
    data = server.store.read_sync(found)
    assert data is not None
    return data


def agent_takes_it(server: RunningServer, setup: dict[str, Any], interaction: str) -> None:
    accepted = server.client.post(
        f"/api/agent/v1/conversations/{interaction}/accept", headers=server.agent_headers(setup["api_key"])
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "assigned"


def test_a_bot_url_that_refuses_connections_falls_through_to_humans(
    quick: RunningServer, receiver: Receiver
) -> None:
    closed = free_port()  # nothing listens there: every connection is refused
    setup = bot_account(quick, f"http://127.0.0.1:{closed}/bot", receiver.url + "/hook")
    interaction = start_v1(quick, setup)
    sent = quick.client.post(
        f"/api/v1/interactions/{interaction}/messages", json={"token": setup["token"], "content": "anyone?"}
    )
    assert sent.status_code == 200, sent.text

    data = fell_through(quick, setup, interaction)
    assert data["reason"] == "bot_unreachable"
    assert data["department_id"] == setup["department_id"]
    assert data["why"].startswith("the bot could not be reached: ")
    assert "gave up after 3 attempts" in data["why"]
    state = conversation_state(quick, setup["api_key"], interaction)
    assert (state["state"], state["department_id"], state["queue_position"]) == (
        "queued",
        setup["department_id"],
        1,
    )
    # The customer hears that they wait for a person; what still waited for the dead bot is dropped.
    assert receiver.wait_for(1)[0].json() == {
        "interaction_hash": interaction,
        "state": "queued",
        "position": 1,
        "extra": EXTRA,
    }
    calls = deliveries_to(quick, setup["bot_endpoint_id"])
    assert [(d.event_type, d.state.value) for d in calls] == [
        ("conversation.bot_started", "failed"),
        ("message.created", "failed"),
    ]
    assert calls[0].attempts == 3
    assert calls[1].attempts == 0
    assert calls[1].last_error is not None
    assert "fell through to humans" in calls[1].last_error

    agent_takes_it(quick, setup, interaction)
    assert receiver.wait_for(2)[1].json() == {
        "interaction_hash": interaction,
        "state": "accepted",
        "extra": EXTRA,
    }
    # The agent sees what the customer wrote while the bot was supposed to answer.
    messages = quick.client.get(
        f"/api/agent/v1/conversations/{interaction}/messages", headers=quick.agent_headers(setup["api_key"])
    ).json()["messages"]
    assert [m["content"] for m in messages] == ["anyone?"]
    types = event_types(quick, setup["account_id"], interaction)
    assert types[:4] == [
        "conversation.started",
        "conversation.bot_started",
        "message.created",
        "conversation.bot_fell_through",
    ]


def test_a_bot_that_never_accepts_loses_the_conversation_after_its_timeout(
    quick: RunningServer, receiver: Receiver
) -> None:
    with Receiver() as bot:  # answers 200 to every call, and never calls accept
        setup = bot_account(quick, bot.url + "/bot", receiver.url + "/hook", accept_timeout=1)
        interaction = start_v1(quick, setup)
        bot.wait_for(1)
        assert conversation_state(quick, setup["api_key"], interaction)["state"] == "bot"

        data = fell_through(quick, setup, interaction)
        assert data == {
            "reason": "accept_timeout",
            "why": "the bot did not accept the conversation within 1 s",
            "department_id": setup["department_id"],
        }
        assert conversation_state(quick, setup["api_key"], interaction)["state"] == "queued"
        late = bot_call(quick, interaction, "accept", {"token": setup["token"]})
        assert late.status_code == 422
        assert "is no longer with the bot" in late.json()["message"]

        # From now on the bot hears nothing about this conversation.
        quick.client.post(
            f"/api/v1/interactions/{interaction}/messages", json={"token": setup["token"], "content": "hello"}
        )
        agent_takes_it(quick, setup, interaction)
        wait_planned(quick)
        assert [r.json()["type"] for r in bot.received] == ["new_interaction"]


def test_a_bot_that_accepted_then_fails_a_later_call_falls_through(
    quick: RunningServer, receiver: Receiver
) -> None:
    def answer(request: Any) -> int:
        return 500 if request.json()["type"] == "new_message" else 200

    with Receiver(respond=answer) as bot:
        setup = bot_account(quick, bot.url + "/bot", receiver.url + "/hook")
        interaction = start_v1(quick, setup)
        bot.wait_for(1)
        assert bot_call(quick, interaction, "accept", {"token": setup["token"]}).json() == RECEIVED
        quick.client.post(
            f"/api/v1/interactions/{interaction}/messages", json={"token": setup["token"], "content": "help"}
        )
        data = fell_through(quick, setup, interaction)
        assert data["reason"] == "bot_unreachable"
        assert "answered HTTP 500; gave up after 3 attempts" in data["why"]
        assert len(bot.received) == 4  # new_interaction, then three tries of new_message
        agent_takes_it(quick, setup, interaction)


def test_a_bot_endpoint_that_answers_410_is_disabled_and_its_conversations_go_to_humans(
    quick: RunningServer, receiver: Receiver
) -> None:
    with Receiver(respond=lambda request: 410) as bot:
        setup = bot_account(quick, bot.url + "/bot", receiver.url + "/hook")
        interaction = start_v1(quick, setup)
        data = fell_through(quick, setup, interaction)
        assert data["reason"] == "bot_unreachable"
        assert data["why"].startswith("the bot endpoint is gone: ")
        # The department's bot is disabled: the next customer goes straight to the queue.
        second = start_v1(quick, setup)
        assert conversation_state(quick, setup["api_key"], second)["state"] == "queued"
        # Pointing the department at a bot again enables it.
        quick.store.write_sync(
            lambda uow: bots.configure(uow, setup["account_id"], setup["department_id"], bot.url + "/v2")
        )
        bot.respond = lambda request: 200
        third = start_v1(quick, setup)
        assert conversation_state(quick, setup["api_key"], third)["state"] == "bot"
        assert bot.wait_for(2)[1].path == "/v2"


def test_a_bot_url_the_outbound_guard_refuses_falls_through_at_once(quick: RunningServer) -> None:
    setup = bot_account(quick, "http://10.255.255.1/bot")  # private, not allow-listed: never connected to
    interaction = start_v1(quick, setup)
    data = fell_through(quick, setup, interaction)
    assert data["reason"] == "bot_unreachable"
    [call] = deliveries_to(quick, setup["bot_endpoint_id"])
    assert call.attempts == 1
    agent_takes_it(quick, setup, interaction)
