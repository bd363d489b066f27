"""The widget on a customer's website (another origin), end to end: the customer chats from the page,
the agent answers on the agent API; receipts, typing and acceptance both ways; reload, another tab,
another page of the site."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import expect
from websockets.sync.client import connect
from widget_kit import Widgetised, log, open_site, panel, send, shoot, wait_until


def test_a_customer_chats_from_the_site_and_the_agent_answers(browser: Any, shop: Widgetised) -> None:
    shop.go_online()
    url = shop.site.page("/", shop.snippet())
    shop.site.page("/other", shop.snippet(), title="Other page")
    context, page = open_site(browser, url, viewport={"width": 1100, "height": 760})
    launcher = page.get_by_role("button", name="Open chat")
    expect(launcher).to_be_visible()
    shoot(page, "01-launcher")
    launcher.click()
    chat = panel(page)
    expect(chat).to_be_visible()
    expect(chat).to_contain_text("Hi! How can we help?")
    expect(chat).to_contain_text("We're online")

    send(page, "Do you ship to Lisbon?")
    expect(log(page)).to_contain_text("Do you ship to Lisbon?")
    found = shop.wait_for_conversation("Visitor")
    conversation_id = found["id"]
    expect(chat).to_contain_text("Waiting for an agent")

    # The agent hears the customer typing on the agent websocket, accepts, types and answers.
    with connect(f"{shop.server.ws_url}/api/agent/v1/ws?api_key={shop.agent['api_key']}") as agent_socket:
        page.get_by_role("textbox", name="Message").press_sequentially("Also", delay=20)
        typing = _frame(agent_socket, lambda f: "typing" in f.get("event", ""))
        assert typing["data"]["conversation_id"] == conversation_id
    shop.post(conversation_id, "accept")
    expect(chat.get_by_role("heading", name="Ana")).to_be_visible()
    expect(chat).to_contain_text("Ana joined the chat")
    shop.post(conversation_id, "typing", typing=True)
    expect(chat).to_contain_text("Ana is typing…")
    reply = shop.say(conversation_id, "Yes, in 2 days.")
    expect(log(page)).to_contain_text("Yes, in 2 days.")
    expect(chat).not_to_contain_text("Ana is typing…")

    # Receipts: the agent's message is delivered and seen (the panel shows it); the agent reading the
    # conversation marks the customer's message seen in the widget.
    wait_until(lambda: _status(shop, conversation_id, reply["id"]) == "seen")
    assert _status(shop, conversation_id, reply["id"]) == "seen"
    mine = log(page).get_by_role("listitem").filter(has_text="Do you ship to Lisbon?")
    expect(mine.locator(".receipt")).to_have_text("Sent")
    shop.post(conversation_id, "seen")
    expect(mine.locator(".receipt")).to_have_text("Seen")
    page.get_by_role("textbox", name="Message").fill("")
    page.get_by_role(
        "heading", name="Shop"
    ).click()  # the page's focus, for a clean picture (docs/widget.png)
    shoot(page, "02-conversation")

    # Reload: the same conversation, nothing twice.
    page.reload()
    expect(panel(page)).to_be_visible()  # it was open
    expect(log(page).get_by_role("listitem").filter(has_text="Yes, in 2 days.")).to_have_count(1)
    expect(log(page).get_by_role("listitem").filter(has_text="Do you ship to Lisbon?")).to_have_count(1)
    # Another page of the site and another tab show the same conversation, live.
    page.get_by_role("link", name="Other page").click()
    expect(page).to_have_title("Other page")
    other = context.new_page()
    other.goto(url)
    other.get_by_role("button", name="Open chat").click()
    expect(log(other)).to_contain_text("Yes, in 2 days.")
    shop.say(conversation_id, "Anything else?")
    expect(log(other)).to_contain_text("Anything else?")
    expect(log(page)).to_contain_text("Anything else?")
    assert [c["id"] for c in shop.conversations() if c["contact"]["name"] == "Visitor"] == [conversation_id]
    assert not page.errors  # type: ignore[attr-defined]
    context.close()


def _status(shop: Widgetised, conversation_id: int, message_id: int) -> str | None:
    return next((m["status"] for m in shop.messages(conversation_id) if m["id"] == message_id), None)


def _frame(socket: Any, matches: Any) -> dict[str, Any]:
    for _ in range(200):
        frame = json.loads(socket.recv(timeout=10))
        if matches(frame):
            return frame  # type: ignore[no-any-return]
    raise AssertionError("no matching frame")


def test_queue_position_unread_count_and_title_while_the_panel_is_closed(
    browser: Any, shop: Widgetised
) -> None:
    ahead = shop.server.client.post(
        f"/api/v1/sdk/conversations?inbox={shop.identifier}",
        json={"name": "Early", "message": {"content": "first in line", "echo_id": "x1"}},
    )
    assert ahead.status_code == 200, ahead.text
    context, page = open_site(browser, shop.site.page("/", shop.snippet()))
    page.get_by_role("button", name="Open chat").click()
    send(page, "Am I next?")
    expect(panel(page)).to_contain_text("You are number 2 in the queue.")
    mine = shop.wait_for_conversation("Visitor")
    assert mine["queue_position"] == 2
    shop.go_online()
    shop.post(mine["id"], "accept")
    expect(panel(page)).to_contain_text("Ana joined the chat")

    page.get_by_role("button", name="Minimise chat").click()
    expect(panel(page)).to_be_hidden()
    shop.say(mine["id"], "Hello! Sorry for the wait.")
    shop.say(mine["id"], "How can I help?")
    expect(page.get_by_role("button", name="Open chat (2 unread)")).to_be_visible()
    expect(page).to_have_title("(2) Shop")
    shoot(page, "11-unread")
    reply = next(m for m in shop.messages(mine["id"]) if m["content"] == "How can I help?")
    wait_until(lambda: _status(shop, mine["id"], reply["id"]) == "delivered")
    assert _status(shop, mine["id"], reply["id"]) == "delivered"  # it arrived, nobody has seen it yet
    page.get_by_role("button", name="Open chat (2 unread)").click()
    expect(page).to_have_title("Shop")
    wait_until(lambda: _status(shop, mine["id"], reply["id"]) == "seen")
    assert _status(shop, mine["id"], reply["id"]) == "seen"

    # The panel open in a tab the customer is not looking at: counted, not seen, until they come back.
    page.evaluate(VISIBILITY, True)
    later = shop.say(mine["id"], "Are you still there?")
    expect(page).to_have_title("(1) Shop")
    wait_until(lambda: _status(shop, mine["id"], later["id"]) == "delivered")
    assert _status(shop, mine["id"], later["id"]) == "delivered"
    page.evaluate(VISIBILITY, False)
    expect(page).to_have_title("Shop")
    wait_until(lambda: _status(shop, mine["id"], later["id"]) == "seen")
    assert _status(shop, mine["id"], later["id"]) == "seen"
    context.close()


# Chromium keeps a headless page visible; the test tells the page it is hidden or shown, as a browser does.
VISIBILITY = """(hidden) => {
  Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
  Object.defineProperty(document, "visibilityState", {value: hidden ? "hidden" : "visible", configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""
