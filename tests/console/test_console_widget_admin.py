"""The console's web widget screen in a real Chromium: an admin changes a department's widget and sees it saved."""

from __future__ import annotations

from typing import Any

from console_kit import errors_of, new_page, shoot, sign_in
from helpline_testing import RunningServer, create_agent
from playwright.sync_api import expect

from helpline.core import inboxes

ADMIN = "/api/admin/v1"


def test_an_admin_changes_the_web_widget_of_a_department(browser: Any, server: RunningServer) -> None:
    setup = server.setup_account()
    department = setup["department_id"]
    boss = create_agent(server, setup["account_id"], "Boss", [department], role="admin")
    headers = server.agent_headers(boss["api_key"])
    closed = server.client.post(f"{ADMIN}/departments", json={"name": "Closed desk"}, headers=headers)
    assert closed.status_code in (200, 201), closed.text
    server.store.write_sync(lambda uow: inboxes.set_open(uow, department, True))
    url = f"{ADMIN}/departments/{department}/widget"
    before = server.client.get(url, headers=headers).json()
    name = next(
        d["name"]
        for d in server.client.get(f"{ADMIN}/departments", headers=headers).json()["departments"]
        if d["id"] == department
    )

    context, page = new_page(browser, server, viewport={"width": 1280, "height": 900})
    sign_in(page, boss["email"])
    page.get_by_role("button", name="Admin").click()
    page.get_by_role("tablist", name="Administration").get_by_role("tab", name="Web widget").click()
    form = page.get_by_role("form", name=f"Web widget of {name}")
    expect(form).to_be_visible()
    expect(page.get_by_role("form", name="Web widget of Closed desk")).to_have_count(
        0
    )  # not open to SDK clients
    snippet = form.get_by_role("textbox", name="Embed snippet")
    expect(snippet).to_have_value(
        f'<script src="{server.url}/widget.js" data-inbox="{before["sdk_identifier"]}" async></script>'
    )
    expect(form.get_by_role("button", name=f"Copy the embed snippet of {name}")).to_be_visible()

    form.get_by_role("textbox", name="Allowed origins").fill(
        "https://Shop.example/\n\nhttps://m.shop.example"
    )
    form.get_by_role("textbox", name="Greeting").fill("Hello from the console")
    form.get_by_role("textbox", name="Colour").fill("#12AB34")
    form.get_by_role("combobox", name="Pre-chat form").select_option("email")
    form.get_by_role("button", name=f"Save the widget of {name}").click()
    expect(page.get_by_role("status").filter(has_text=f"Web widget of {name} saved.")).to_be_visible()
    expect(form.get_by_role("textbox", name="Allowed origins")).to_have_value(
        "https://shop.example\nhttps://m.shop.example"
    )
    after = server.client.get(url, headers=headers).json()
    assert after["allowed_origins"] == ["https://shop.example", "https://m.shop.example"]
    assert after["greeting"] == "Hello from the console"
    assert after["color"] == "#12ab34"
    assert after["prechat"] == "email"
    shoot(page, "admin-widget")

    # A bad colour: the API's own message, and nothing written.
    form.get_by_role("textbox", name="Colour").fill("blue")
    form.get_by_role("textbox", name="Greeting").fill("Not saved")
    form.get_by_role("button", name=f"Save the widget of {name}").click()
    expect(form.get_by_role("alert")).to_have_text("the colour is #rrggbb (got 'blue')")
    assert server.client.get(url, headers=headers).json() == after
    shoot(page, "admin-widget-error")

    # Shown again as saved when the tab is opened anew.
    page.get_by_role("tab", name="Departments").click()
    page.get_by_role("tab", name="Web widget").click()
    expect(
        page.get_by_role("form", name=f"Web widget of {name}").get_by_role("textbox", name="Greeting")
    ).to_have_value("Hello from the console")
    assert errors_of(page) == []
    context.close()
