"""Test support for external bots and ClientApi REST: an account whose department has a bot, and the calls
the bot and the customer app make, over real HTTP against a real server (see ``helpline_testing``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from helpline_testing import RunningServer

from helpline.core import bots
from helpline.outbound.model import Delivery
from helpline.outbound.repository import Deliveries
from helpline.store.unit_of_work import UnitOfWork

RECEIVED = {"message": "Message received successfully", "status": 200}


def bot_account(
    server: RunningServer,
    bot_url: str,
    webhook_url: str | None = None,
    accept_timeout: int = 30,
    queue: bool = True,
) -> dict[str, Any]:
    """``setup_account`` (department "Support" with agent Ana) whose department's bot calls ``bot_url``.

    Adds ``bot_secret`` (the bot endpoint's signing secret) and ``bot_endpoint_id``.
    """
    setup = server.setup_account(webhook_url=webhook_url, queue=queue)
    configured = server.store.write_sync(
        lambda uow: bots.configure(uow, setup["account_id"], setup["department_id"], bot_url, accept_timeout)
    )
    setup["bot_secret"] = configured.signing_secret
    setup["bot_endpoint_id"] = configured.department.bot_endpoint_id
    return setup


def bot_call(
    server: RunningServer, interaction: str, action: str, body: dict[str, Any], method: str | None = None
) -> httpx.Response:
    """``PUT|POST /core/api/v1/bot/{interaction}/{action}`` (message is POST, the rest PUT, as in the seed)."""
    verb = method or ("POST" if action == "message" else "PUT")
    return server.client.request(verb, f"/core/api/v1/bot/{interaction}/{action}", json=body)


def rest(server: RunningServer, body: dict[str, Any], path: str = "/api/rest/v1") -> httpx.Response:
    return server.client.post(path, json=body)


def go_online(server: RunningServer, api_key: str) -> None:
    response = server.client.put(
        "/api/agent/v1/presence", json={"status": "online"}, headers=server.agent_headers(api_key)
    )
    assert response.status_code == 200, response.text


def conversation_state(server: RunningServer, api_key: str, reference: str) -> dict[str, Any]:
    response = server.client.get(
        f"/api/agent/v1/conversations/{reference}", headers=server.agent_headers(api_key)
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def wait_until(what: Callable[[], bool], timeout: float = 10.0, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.02)


def wait_planned(server: RunningServer) -> None:
    """Wait until the delivery planner has looked at every event logged so far (so "nothing was planned"
    means nothing will be)."""

    def planned(uow: UnitOfWork) -> bool:
        return Deliveries.from_uow(uow).planned_up_to() >= uow.events.last_seq()

    wait_until(lambda: server.store.read_sync(planned), message="the planner to catch up")


def deliveries_to(server: RunningServer, endpoint_id: int) -> list[Delivery]:
    def work(uow: UnitOfWork) -> list[Delivery]:
        return sorted(
            (d for d in Deliveries.from_uow(uow).list(None, None, 10_000) if d.endpoint_id == endpoint_id),
            key=lambda d: d.id,
        )

    return server.store.read_sync(work)


def event_types(server: RunningServer, account_id: int, conversation_hash: str) -> list[str]:
    """The types of the conversation's events, in order, straight from the event log."""

    def work(uow: UnitOfWork) -> list[str]:
        conversation = uow.conversations.by_hash(account_id, conversation_hash)
        assert conversation is not None
        return [
            e.type for e in uow.events.after(0, 100_000, account_id) if e.conversation_id == conversation.id
        ]

    return server.store.read_sync(work)
