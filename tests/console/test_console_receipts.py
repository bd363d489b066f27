"""The console marks the customer's messages delivered as they arrive live: a burst costs one call per
conversation, not one per message; messages the agent has already read are not marked again."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from console_kit import customer_says, errors_of, go_online, new_page, queue_item, sign_in, start_interaction
from helpline_testing import RunningServer

BURST = 12


def _inbound(server: RunningServer, setup: dict[str, Any], interaction: str) -> list[str]:
    listed = server.client.get(
        f"/api/agent/v1/conversations/{interaction}/messages", headers=server.agent_headers(setup["api_key"])
    ).json()["messages"]
    return [m["status"] for m in listed if m.get("direction") == "inbound"]


def test_a_burst_of_customer_messages_is_marked_delivered_in_few_calls(
    browser: Any, server: RunningServer
) -> None:
    setup = server.setup_account()
    context, page = new_page(browser, server)
    marks: list[str] = []
    page.on("request", lambda r: marks.append(r.post_data or "") if r.url.endswith("/delivered") else None)
    sign_in(page, f"ana{setup['account_id']}@acme.test")
    go_online(page)
    first = start_interaction(server, setup, "Joao")
    second = start_interaction(server, setup, "Maria")
    queue_item(page, "Maria").wait_for()
    with ThreadPoolExecutor(max_workers=4) as pool:
        for n in range(BURST):
            for interaction in (first, second):
                pool.submit(customer_says, server, setup, interaction, f"question {n}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if all(s == "delivered" for i in (first, second) for s in _inbound(server, setup, i)):
            break
        page.wait_for_timeout(50)  # (lets Playwright deliver the page's request events meanwhile)
    for interaction in (first, second):
        assert _inbound(server, setup, interaction) == ["delivered"] * BURST
    page.wait_for_timeout(300)
    # Each call marks up to the newest message of one conversation; far fewer calls than messages.
    assert 2 <= len(marks) <= BURST, marks
    settled = len(marks)
    page.wait_for_timeout(300)
    assert len(marks) == settled  # nothing keeps asking once all are delivered
    assert not errors_of(page)
    context.close()
