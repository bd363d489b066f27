"""The console's screens in a real Chromium: sign-in and sign-out, files, phone width and dark theme, keyboard."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from console_kit import (
    SlowLink,
    customer_says,
    errors_of,
    go_online,
    new_page,
    queue_item,
    shoot,
    sign_in,
    start_interaction,
)
from helpline_testing import RunningServer, start_server
from playwright.sync_api import expect


def test_sign_in_refuses_plainly_and_the_session_cookie_is_httponly_strict_and_ends_on_sign_out(
    browser: Any, server: RunningServer
) -> None:
    setup = server.setup_account()
    email = f"ana{setup['account_id']}@acme.test"
    context, page = new_page(browser, server)
    page.goto("/console")
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill("wrong one")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    assert context.cookies() == []

    sign_in(page, email)
    [cookie] = context.cookies()
    assert cookie["name"] == "helpline_session"
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/"
    assert cookie["expires"] > 0  # expiring, not a forever cookie
    assert page.evaluate("document.cookie") == ""  # page scripts never see it
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # the session outlives a reload

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert context.cookies() == []
    # The old cookie is dead on the server too, not just forgotten by the browser.
    stale = server.client.get("/api/agent/v1/me", headers={"cookie": f"helpline_session={cookie['value']}"})
    assert stale.status_code == 401
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert errors_of(page) == []
    context.close()


def test_files_by_drag_and_drop_show_progress_can_be_cancelled_and_respect_the_limit(
    browser: Any, tmp_path: Any
) -> None:
    limit = 20 * 1024 * 1024
    with (
        start_server(tmp_path, max_upload_bytes=limit) as server,
        # The browser reaches the server over a slow uplink (2 MB/s): big uploads take real time.
        contextlib.closing(SlowLink(server.settings.port, rate=2_000_000)) as link,
    ):
        setup = server.setup_account()
        context, page = new_page(browser, server, base_url=link.url)
        sign_in(page, f"ana{setup['account_id']}@acme.test")
        go_online(page)
        interaction = start_interaction(server, setup, "Rita")
        queue_item(page, "Rita").get_by_role("button", name="Accept").click()
        expect(page.get_by_text("Files up to 20 MB")).to_be_visible()
        log = page.get_by_role("log", name="Messages")

        def drop(target: Any, name: str, size: int) -> None:
            files = target.evaluate_handle(
                """([name, size]) => {
                    const data = new DataTransfer();
                    const bytes = new Uint8Array(size).map((_, i) => i % 251);
                    data.items.add(new File([bytes], name, { type: 'application/pdf' }));
                    return data;
                }""",
                [name, size],
            )
            pane = target.locator("#conversation")
            pane.dispatch_event("dragenter", {"dataTransfer": files})
            expect(target.get_by_text("Drop the file to send it")).to_be_visible()
            pane.dispatch_event("drop", {"dataTransfer": files})

        drop(page, "manual.pdf", 9_000_000)
        progress = page.get_by_role("progressbar", name="Upload progress")
        expect(progress).to_be_visible()
        expect(page.locator("#upload-name")).to_have_text("manual.pdf")
        page.wait_for_function(
            "() => { const v = document.querySelector('#upload-progress').value; return v > 0 && v < 100; }"
        )
        expect(page.locator("#upload-percent")).to_have_text(re.compile(r"^[1-9]\d?%$"))
        shoot(page, "upload-progress")
        expect(progress).to_be_hidden(timeout=30_000)
        expect(log.get_by_role("link", name="Download manual.pdf (8.6 MB)")).to_be_visible()

        # Cancelled halfway: the server never gets the whole file, and nothing is sent.
        drop(page, "draft.pdf", 12_000_000)
        page.wait_for_function("() => document.querySelector('#upload-progress').value > 0")
        page.get_by_role("button", name="Cancel upload").click()
        expect(progress).to_be_hidden()
        page.wait_for_timeout(1500)
        expect(log).not_to_contain_text("draft.pdf")

        # Over the limit: refused before a byte is sent, with the limit stated.
        drop(page, "huge.pdf", limit + 1)
        expect(page.get_by_role("alert")).to_contain_text("huge.pdf is 20 MB; files can be up to 20 MB")
        expect(progress).to_be_hidden()

        # And if the console did not know the limit, the server's refusal says so just as plainly.
        direct_context, direct = new_page(browser, server)
        sign_in(direct, f"ana{setup['account_id']}@acme.test")
        direct.get_by_role("list", name="My conversations").get_by_role("button").first.click()
        direct.evaluate("helplineConsole.maxUpload = null")
        drop(direct, "huge.pdf", limit + 1)
        expect(direct.get_by_role("alert").filter(has_text="huge.pdf is too large")).to_be_visible()

        messages = server.client.get(
            f"/api/agent/v1/conversations/{interaction}/messages",
            headers=server.agent_headers(setup["api_key"]),
        ).json()["messages"]
        assert [m["url"].rsplit("/", 1)[-1] for m in messages] == ["manual.pdf"]
        assert errors_of(page) == []
        assert errors_of(direct) == []
        direct_context.close()
        context.close()


def test_phone_width_is_one_column_and_the_dark_theme_follows_the_system(
    browser: Any, server: RunningServer
) -> None:
    setup = server.setup_account()
    light_context, light = new_page(browser, server, color_scheme="light")
    light.goto("/console")
    light_background = light.evaluate("getComputedStyle(document.body).backgroundColor")
    light_context.close()

    context, page = new_page(
        browser,
        server,
        viewport={"width": 390, "height": 844},
        color_scheme="dark",
        is_mobile=True,
        has_touch=True,
    )
    sign_in(page, f"ana{setup['account_id']}@acme.test")
    dark_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark_background != light_background
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    go_online(page)
    interaction = start_interaction(server, setup, "Tiago")
    customer_says(server, setup, interaction, "Oi! Can you help?")
    queue = page.get_by_role("list", name="Queue")
    expect(queue_item(page, "Tiago")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing spills sideways
    conversation = page.locator("#conversation-pane")
    expect(conversation).to_be_hidden()
    shoot(page, "phone-dark-queue")

    queue_item(page, "Tiago").get_by_role("button", name="Accept").click()
    expect(page.get_by_role("log", name="Messages")).to_contain_text("Oi! Can you help?")
    expect(queue).to_be_hidden()  # one column: the conversation takes the screen
    composer_box = page.get_by_role("textbox", name="Message").bounding_box()
    assert composer_box is not None
    assert composer_box["width"] > 300
    page.get_by_role("textbox", name="Message").fill("Claro, Tiago!")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("log", name="Messages")).to_contain_text("Claro, Tiago!")
    shoot(page, "phone-dark-conversation")
    page.get_by_role("button", name="Back to the list").click()
    expect(page.get_by_role("list", name="My conversations")).to_contain_text("Tiago")
    expect(conversation).to_be_hidden()
    assert errors_of(page) == []
    context.close()


def test_the_keyboard_alone_accepts_answers_and_switches_conversations_with_visible_focus(
    browser: Any, server: RunningServer
) -> None:
    setup = server.setup_account()
    context, page = new_page(browser, server)
    sign_in(page, f"ana{setup['account_id']}@acme.test")
    go_online(page)
    first = start_interaction(server, setup, "Ines")
    expect(queue_item(page, "Ines")).to_be_visible()

    accept = queue_item(page, "Ines").get_by_role("button", name="Accept")
    for _ in range(30):
        page.keyboard.press("Tab")
        if accept.evaluate("button => button === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the Accept button")
    outline = accept.evaluate(
        "b => { const s = getComputedStyle(b); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert outline == ["solid", "3px"]  # the focus is visible
    page.keyboard.press("Enter")
    composer = page.get_by_role("textbox", name="Message")
    expect(composer).to_be_focused()
    page.keyboard.type("Hello Ines")
    page.keyboard.press("Enter")
    expect(page.get_by_role("log", name="Messages")).to_contain_text("Hello Ines")

    # A second conversation: messages to the one not on screen count as unread until it is opened.
    second = start_interaction(server, setup, "Jonas")
    queue_item(page, "Jonas").get_by_role("button", name="Accept").click()
    expect(page.get_by_role("heading", name="Jonas")).to_be_visible()
    customer_says(server, setup, first, "are you still there?")
    customer_says(server, setup, first, "hello?")
    mine = page.get_by_role("list", name="My conversations")
    ines = mine.get_by_role("listitem").filter(has_text="Ines")
    expect(ines.get_by_label("2 unread")).to_be_visible()
    expect(page).to_have_title("• Helpline")
    page.keyboard.press("Alt+ArrowUp")
    expect(page.get_by_role("heading", name="Ines")).to_be_visible()
    expect(page.get_by_role("log", name="Messages")).to_contain_text("hello?")
    expect(ines.get_by_label("2 unread")).to_have_count(0)
    expect(page).to_have_title("Helpline")
    page.keyboard.press("Alt+ArrowDown")
    expect(page.get_by_role("heading", name="Jonas")).to_be_visible()
    assert second
    assert errors_of(page) == []
    context.close()
