"""Earlier history in the console: an external history (or the reason it failed) first, marked as such."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from console_kit import customer_says, errors_of, go_online, new_page, queue_item, shoot, sign_in
from helpline_testing import RunningServer
from playwright.sync_api import expect


@contextmanager
def history_document(document: dict[str, Any]) -> Iterator[str]:
    """A customer app's history endpoint on loopback, serving ``document``."""
    body = json.dumps(document).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/history"
    finally:
        server.shutdown()
        server.server_close()


def _start(server: RunningServer, setup: dict[str, Any], name: str, history: str) -> str:
    response = server.client.post(
        "/api/v1/interactions",
        json={
            "token": setup["token"],
            "department_id": setup["department_id"],
            "customer": {"name": name},
            "external_history": history,
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["interaction_hash"])


def test_external_history_comes_first_and_marked_and_a_failed_one_says_why(
    browser: Any, server: RunningServer
) -> None:
    setup = server.setup_account()
    context, page = new_page(browser, server, viewport={"width": 1280, "height": 800})
    sign_in(page, f"ana{setup['account_id']}@acme.test")
    go_online(page)
    document = {
        "messages": [
            {
                "time": "2026-11-20 09:49:11",
                "direction": "CLIENT",
                "content": "I asked the bot about my refund",
            },
            {"time": "2026-11-20 09:49:01", "direction": "AGENT", "content": "Hi! I am the shop's bot."},
        ]
    }
    with history_document(document) as url:
        interaction = _start(server, setup, "Bruno", url)
        customer_says(server, setup, interaction, "Can a person help me?")
        queue_item(page, "Bruno").get_by_role("button").first.click()  # read it before accepting
        log = page.get_by_role("log", name="Messages")
        expect(log.get_by_role("listitem")).to_have_text(
            [
                "Earlier history",
                "Agenthistory2026-11-20 09:49:01Hi! I am the shop's bot.",
                "Brunohistory2026-11-20 09:49:11I asked the bot about my refund",
                "Live conversation",
                re.compile(r"^Bruno.*Can a person help me\?$"),
            ]
        )
        expect(page.get_by_text("Waiting in the queue. Accept it from the list to answer.")).to_be_visible()
        expect(page.get_by_role("textbox", name="Message")).to_be_hidden()
        shoot(page, "history-first")

    _start(server, setup, "Clara", "http://chathistory.invalid/history")
    queue_item(page, "Clara").get_by_role("button").first.click()
    expect(page.get_by_role("log", name="Messages")).to_contain_text("Earlier history could not be loaded:")
    expect(page.get_by_role("log", name="Messages")).to_contain_text("chathistory.invalid")
    assert errors_of(page) == []
    context.close()
