"""The widget through a network drop, "Close chat", a nobody-online offline message, and the requests it
makes (only to Helpline)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from helpline_testing import RunningServer
from playwright.sync_api import expect
from widget_kit import Link, Site, log, make_widgetised, open_site, panel, send, shoot, wait_until


def test_after_a_network_drop_the_agents_messages_arrive_exactly_once(
    browser: Any, server: RunningServer, site: Site
) -> None:
    shop = make_widgetised(server, site)
    shop.go_online()
    link = Link(int(urlsplit(server.url).port or 0))
    try:
        context, page = open_site(browser, site.page("/", shop.snippet(base=link.url)))
        page.get_by_role("button", name="Open chat").click()
        send(page, "Is the blue one in stock?")
        conversation_id = shop.wait_for_conversation("Visitor")["id"]
        shop.post(conversation_id, "accept")
        shop.say(conversation_id, "Let me check.")
        expect(log(page)).to_contain_text("Let me check.")

        link.down()
        expect(panel(page)).to_contain_text("Reconnecting…")
        shop.say(conversation_id, "Yes, two left.")
        shop.say(conversation_id, "Shall I keep one?")
        shoot(page, "04-reconnecting")
        link.up()
        items = log(page).get_by_role("listitem")
        expect(items.filter(has_text="Shall I keep one?")).to_have_count(1, timeout=20_000)
        expect(items.filter(has_text="Yes, two left.")).to_have_count(1)
        expect(items.filter(has_text="Let me check.")).to_have_count(1)
        expect(items).to_have_count(4)
        expect(panel(page)).not_to_contain_text("Reconnecting…")
        # Sending works again on the restored link.
        send(page, "Yes please")
        wait_until(lambda: any(m["content"] == "Yes please" for m in shop.messages(conversation_id)))
        assert [m["content"] for m in shop.messages(conversation_id)].count("Yes please") == 1
        context.close()
    finally:
        link.down()


def test_close_chat_ends_the_conversation_and_the_next_chat_starts_fresh(
    browser: Any, server: RunningServer, site: Site
) -> None:
    shop = make_widgetised(server, site)
    shop.go_online()
    context, page = open_site(browser, site.page("/", shop.snippet()))
    page.get_by_role("button", name="Open chat").click()
    send(page, "First question")
    first = shop.wait_for_conversation("Visitor")["id"]
    shop.post(first, "accept")
    expect(log(page)).to_contain_text("First question")
    panel(page).get_by_role("button", name="Close chat").click()
    wait_until(lambda: shop.conversation(first)["state"] == "finished")
    assert shop.conversation(first)["state"] == "finished"
    expect(log(page).get_by_role("listitem")).to_have_count(0)
    assert (
        page.evaluate(
            "Object.keys(localStorage).filter(k => k.startsWith('helpline:') && !k.endsWith('sound'))"
        )
        == []
    )
    page.reload()
    expect(panel(page)).to_be_visible()  # still open, with nothing in it
    expect(log(page).get_by_role("listitem")).to_have_count(0)
    send(page, "Second question")
    second = wait_until(
        lambda: next(
            (c["id"] for c in shop.conversations() if c["id"] != first and c["state"] != "finished"), None
        )
    )
    assert second
    assert second != first
    expect(log(page).get_by_role("listitem")).to_have_count(1)
    context.close()


def test_nobody_online_and_no_queue_the_customer_leaves_a_message(
    browser: Any, server: RunningServer, site: Site
) -> None:
    shop = make_widgetised(server, site, queue=False)
    context, page = open_site(browser, site.page("/", shop.snippet()))
    page.get_by_role("button", name="Open chat").click()
    chat = panel(page)
    expect(chat).to_contain_text("Nobody is online right now")
    expect(chat).to_contain_text("Leave a message and we'll answer by email.")
    expect(chat.get_by_role("textbox", name="Message")).to_have_count(1)  # the form's, not the composer's
    chat.get_by_role("textbox", name="Your name").fill("Rita")
    chat.get_by_role("textbox", name="Your email").fill("rita@example.com")
    chat.get_by_role("textbox", name="Message").fill("Please call me about a refund.")
    shoot(page, "05-offline")
    chat.get_by_role("button", name="Leave a message").click()
    expect(chat).to_contain_text("Thanks! We'll get back to you by email.")
    left = shop.wait_for_conversation("Rita")
    assert left["contact"]["email"] == "rita@example.com"
    assert [m["content"] for m in shop.messages(left["id"])] == ["Please call me about a refund."]
    context.close()


def test_the_widget_talks_to_nobody_but_helpline(browser: Any, server: RunningServer, site: Site) -> None:
    shop = make_widgetised(server, site)
    shop.go_online()
    context, page = open_site(browser, "about:blank")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(site.page("/", shop.snippet()))
    page.get_by_role("button", name="Open chat").click()
    send(page, "Hello")
    conversation_id = shop.wait_for_conversation("Visitor")["id"]
    shop.post(conversation_id, "accept")
    shop.say(conversation_id, "Hi there")
    expect(log(page)).to_contain_text("Hi there")
    # A picture hosted elsewhere is not loaded: the customer gets a link to open if they choose.
    shop.say(
        conversation_id,
        "This one?",
        content_type="card",
        content_attributes={
            "image_url": "http://127.0.0.2:9/shoe.png",
            "buttons": [{"type": "postback", "title": "Yes", "value": "Y"}],
        },
    )
    card = log(page).get_by_role("listitem").filter(has_text="This one?")
    expect(card.get_by_role("link", name="Picture")).to_have_attribute("href", "http://127.0.0.2:9/shoe.png")
    expect(card.get_by_role("img")).to_have_count(0)
    origins = {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in requested}
    pages = [u for u in requested if u.startswith(site.url)]
    assert pages == [site.url + "/"]  # the host page itself, and nothing else from its origin
    assert origins == {site.url, server.url}, origins
    assert any(u.startswith(server.url + "/widget/") for u in requested)
    context.close()
