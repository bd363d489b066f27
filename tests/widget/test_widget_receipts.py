"""The customer's own messages in the widget: Sent, then Delivered once an agent's console has them, then
Seen once the agent reads them — the console in a real browser, beside the widget on the shop's site."""

from __future__ import annotations

from typing import Any

from console_kit import errors_of, new_page, queue_item, sign_in
from console_kit import go_online as console_online
from playwright.sync_api import expect
from widget_kit import Widgetised, log, open_site, panel, send


def test_the_customers_message_is_delivered_when_a_console_has_it_then_seen(
    browser: Any, shop: Widgetised
) -> None:
    console_context, console = new_page(browser, shop.server)
    marks: list[str] = []
    console.on("request", lambda r: marks.append(r.url) if r.url.endswith("/delivered") else None)
    sign_in(console, shop.agent["email"])
    console_online(console)

    url = shop.site.page("/", shop.snippet())
    context, page = open_site(browser, url)
    page.get_by_role("button", name="Open chat").click()
    expect(panel(page)).to_be_visible()
    send(page, "Do you ship to Lisbon?")
    mine = log(page).get_by_role("listitem").filter(has_text="Do you ship to Lisbon?")
    # The console received it live (it is in the queue), so the customer's side now says Delivered.
    expect(queue_item(console, "Visitor")).to_be_visible()
    expect(mine.locator(".receipt")).to_have_text("Delivered")
    conversation_id = shop.wait_for_conversation("Visitor")["id"]
    [message] = [m for m in shop.messages(conversation_id) if m["direction"] == "inbound"]
    assert message["status"] == "delivered"
    assert len(marks) == 1

    # The agent reads it: Seen, and it never goes back.
    shop.post(conversation_id, "seen")
    expect(mine.locator(".receipt")).to_have_text("Seen")
    assert shop.post(conversation_id, "delivered") == {"delivered": []}
    expect(mine.locator(".receipt")).to_have_text("Seen")
    assert not errors_of(console)
    assert not page.errors  # type: ignore[attr-defined]
    context.close()
    console_context.close()
