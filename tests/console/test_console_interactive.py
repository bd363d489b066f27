"""Interactive messages and receipts in the console, with a customer on the Novatalks SDK.

The agent offers quick replies from the console; the customer's app reports the message delivered and
seen and picks an option; the console shows each change live. The agent reading the conversation marks
the customer's messages seen.
"""

from __future__ import annotations

from typing import Any

from console_kit import errors_of, go_online, new_page, queue_item, shoot, sign_in
from helpline_testing import RunningServer
from playwright.sync_api import expect

from helpline.core import inboxes

SDK = "/api/v1/sdk/conversations"


def test_quick_replies_receipts_and_the_customers_choice_show_live(
    browser: Any, server: RunningServer
) -> None:
    setup = server.setup_account()
    server.store.write_sync(lambda uow: inboxes.set_open(uow, setup["department_id"], True))
    context, page = new_page(browser, server, viewport={"width": 1280, "height": 860})
    sign_in(page, f"ana{setup['account_id']}@acme.test")
    go_online(page)

    opened = server.client.post(
        SDK, json={"name": "Sofia", "message": {"content": "Which shipping?", "echo_id": "e1"}}
    )
    assert opened.status_code == 200, opened.text
    sofia = {"access_token": opened.json()["payload"]["contactInbox"]["pubsubToken"]}
    item = queue_item(page, "Sofia")
    expect(item).to_contain_text("Novatalks SDK")
    item.get_by_role("button", name="Accept").click()
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text("Which shipping?")

    # Reading it marks the customer's message seen, and their app can tell.
    def customer_view() -> list[dict[str, Any]]:
        response = server.client.get(f"{SDK}/messages", headers=sofia)
        assert response.status_code == 200, response.text
        return list(response.json())

    for _ in range(100):
        if customer_view()[0]["status"] == "seen":
            break
        page.wait_for_timeout(50)
    assert customer_view()[0]["status"] == "seen"

    # Offer quick replies.
    page.get_by_role("button", name="Choices").click()
    page.get_by_role("combobox", name="Kind").select_option(label="Quick replies")
    page.get_by_role("textbox", name="Question or title").fill("How fast do you need it?")
    page.get_by_role("textbox", name="Options").fill(
        "Standard (3-5 days) | SHIP_STANDARD\nExpress (1-2 days) | SHIP_EXPRESS"
    )
    page.get_by_role("button", name="Offer").click()
    offered = log.get_by_role("listitem").filter(has_text="How fast do you need it?")
    options = offered.get_by_role("list", name="Options offered")
    expect(options.get_by_role("listitem")).to_have_text(["Standard (3-5 days)", "Express (1-2 days)"])
    expect(offered).to_contain_text("No answer yet")
    expect(offered).to_contain_text("Sent")
    sent = next(m for m in customer_view() if m["content"] == "How fast do you need it?")
    assert sent["content_type"] == "quick_reply"

    # The customer's app reports it delivered, then seen; then picks Express.
    for status, shown in (("delivered", "Delivered"), ("seen", "Seen")):
        marked = server.client.patch(
            f"{SDK}/messages/status", json={"status": status, "messageIds": [sent["id"]]}, headers=sofia
        )
        assert marked.status_code == 200, marked.text
        expect(offered.locator(".receipt")).to_have_text(shown)
    picked = server.client.patch(
        f"{SDK}/messages/{sent['id']}/interactive-attribute",
        json={"selected_content_attribute_value": "SHIP_EXPRESS"},
        headers=sofia,
    )
    assert picked.status_code == 200, picked.text
    expect(offered).to_contain_text("Customer chose: Express (1-2 days)")
    expect(options.get_by_role("listitem").filter(has_text="Express")).to_contain_text("chosen")
    answer = log.locator("li.message.inbound").filter(has_text="Express (1-2 days)")
    expect(answer).to_have_count(1)  # the customer's answer, as their message
    shoot(page, "interactive")

    # A rating request goes out the same way.
    page.get_by_role("button", name="Choices").click()
    page.get_by_role("combobox", name="Kind").select_option(label="Rating request")
    expect(page.get_by_role("textbox", name="Options")).to_be_hidden()
    page.get_by_role("textbox", name="Question or title").fill("How did we do?")
    page.get_by_role("button", name="Offer").click()
    expect(log.get_by_role("listitem").filter(has_text="How did we do?")).to_contain_text("No answer yet")
    assert errors_of(page) == []
    context.close()
