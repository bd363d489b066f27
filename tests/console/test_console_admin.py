"""The admin screens of the console in a real Chromium: departments, agents, tokens shown once, deliveries."""

from __future__ import annotations

from typing import Any

from console_kit import errors_of, new_page, shoot, sign_in
from helpline_testing import Receiver, RunningServer, create_agent
from playwright.sync_api import expect


def test_an_admin_manages_departments_agents_tokens_and_replays_a_delivery(
    browser: Any, server: RunningServer, receiver: Receiver
) -> None:
    setup = server.setup_account(webhook_url=receiver.url)
    boss = create_agent(server, setup["account_id"], "Boss", [setup["department_id"]], role="admin")
    server.client.post(
        "/api/v1/interactions", json={"token": setup["token"], "department_id": setup["department_id"]}
    )
    receiver.wait_for(1)

    # A plain agent has no Admin view.
    agent_context, agent_page = new_page(browser, server)
    sign_in(agent_page, f"ana{setup['account_id']}@acme.test")
    expect(agent_page.get_by_role("button", name="Admin")).to_be_hidden()
    agent_context.close()

    context, page = new_page(browser, server, viewport={"width": 1280, "height": 900})
    sign_in(page, boss["email"])
    page.get_by_role("button", name="Admin").click()
    tabs = page.get_by_role("tablist", name="Administration")
    expect(tabs.get_by_role("tab", name="Departments")).to_have_attribute("aria-selected", "true")

    # Departments
    page.get_by_role("textbox", name="Department name").fill("Billing")
    page.get_by_role("spinbutton", name="Conversations per agent").fill("3")
    page.get_by_role("button", name="Create department").click()
    expect(page.get_by_role("table", name="Departments")).to_contain_text("Billing")
    page.get_by_role("textbox", name="Department name").fill("   ")
    page.get_by_role("button", name="Create department").click()
    expect(page.get_by_role("alert").filter(has_text="a department needs a name")).to_be_visible()

    # Agents: the new agent's key is shown once, and they can sign in.
    tabs.get_by_role("tab", name="Agents").click()
    page.get_by_role("textbox", name="Full name").fill("Dora")
    page.get_by_role("textbox", name="Email address").fill("dora@acme.test")
    page.get_by_label("Initial password").fill("longenough")
    page.get_by_role("checkbox", name="Billing").check()
    page.get_by_role("button", name="Create agent").click()
    expect(page.get_by_role("table", name="Agents")).to_contain_text("dora@acme.test")
    key = page.get_by_role("textbox", name="API key").input_value()
    assert server.client.get("/api/agent/v1/me", headers=server.agent_headers(key)).json()["name"] == "Dora"

    # API tokens: shown once, working, then revoked.
    tabs.get_by_role("tab", name="API tokens").click()
    page.get_by_role("textbox", name="Webhook URL (optional)").fill(receiver.url + "/second")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_role("textbox", name="Token", exact=True).input_value()
    assert page.get_by_role("textbox", name="Signing secret").input_value().startswith("whsec_")
    assert server.client.get("/api/v1/departments", params={"token": secret}).status_code == 200
    shoot(page, "admin-tokens")
    tokens = page.get_by_role("table", name="API tokens")
    expect(tokens.get_by_role("row")).to_have_count(3)
    page.once("dialog", lambda dialog: dialog.accept())
    tokens.get_by_role("button", name=f"Revoke token {secret[:6]}…").click()
    expect(tokens.get_by_role("row").filter(has_text=secret[:6])).to_contain_text("revoked")
    assert server.client.get("/api/v1/departments", params={"token": secret}).status_code == 401
    page.get_by_role("tab", name="API tokens").click()
    expect(page.get_by_role("textbox", name="Token", exact=True)).to_have_count(0)  # never shown again

    # Deliveries: the log, and a replay that reaches the receiver again with the same webhook-id.
    tabs.get_by_role("tab", name="Deliveries").click()
    table = page.get_by_role("table", name="Webhook deliveries")
    expect(table).to_contain_text("conversation.queued")
    expect(table).to_contain_text("succeeded")
    first = receiver.received[0]
    table.get_by_role("button", name="Replay delivery").first.click()
    expect(page.get_by_role("status").filter(has_text="will be sent again")).to_be_visible()
    again = receiver.wait_for(2)
    assert again[1].headers["webhook-id"] == first.headers["webhook-id"]
    page.get_by_role("button", name="Refresh").click()
    expect(table.get_by_text("2 attempts")).to_be_visible()
    shoot(page, "admin-deliveries")
    assert errors_of(page) == []
    context.close()
