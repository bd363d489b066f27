"""A department's bot answers the widget first, then hands the customer to people."""

from __future__ import annotations

from typing import Any

from bot_testing import bot_account, bot_call
from helpline_testing import Receiver, RunningServer, create_agent
from playwright.sync_api import expect
from widget_kit import Site, Widgetised, log, open_site, panel, send, wait_until

from helpline.core import inboxes, widget


def test_the_bot_talks_first_then_hands_over(
    browser: Any, server: RunningServer, site: Site, receiver: Receiver
) -> None:
    setup = bot_account(server, receiver.url)
    department = setup["department_id"]

    def work(uow: Any) -> str:
        inbox = inboxes.set_open(uow, department, True)
        widget.configure(uow, department, add_origins=[site.url])
        assert inbox.identifier is not None
        return inbox.identifier

    identifier = server.store.write_sync(work)
    agent = create_agent(server, setup["account_id"], "Ana", [department])
    shop = Widgetised(server, site, setup["account_id"], department, identifier, agent)
    context, page = open_site(browser, site.page("/", shop.snippet()))
    page.get_by_role("button", name="Open chat").click()
    send(page, "I want to return shoes")
    started = shop.wait_for_conversation("Visitor")
    assert started["state"] == "bot"
    expect(panel(page)).to_contain_text("You are chatting with our assistant")
    token = setup["token"]
    assert bot_call(server, started["hash"], "accept", {"token": token}).status_code == 200
    said = bot_call(
        server, started["hash"], "message", {"token": token, "content": "I can help. Order number?"}
    )
    assert said.status_code == 200, said.text
    answer = log(page).get_by_role("listitem").filter(has_text="I can help. Order number?")
    expect(answer).to_contain_text("Support bot")
    handed = bot_call(server, started["hash"], "transfer", {"token": token, "department_id": None})
    assert handed.status_code == 200, handed.text
    expect(panel(page)).to_contain_text("Waiting for an agent")
    wait_until(lambda: shop.conversation(started["id"])["state"] == "queued")
    assert shop.conversation(started["id"])["state"] == "queued"
    context.close()
