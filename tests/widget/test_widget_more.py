"""The pre-chat form, the page's JS API, the end of a conversation, the sound switch, and files by drag
and drop, paste and a slow link (progress), with the server's size limit stated and kept before upload."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from console_kit import png
from helpline_testing import RunningServer, start_server
from playwright.sync_api import expect
from widget_kit import Link, Site, Widgetised, log, make_widgetised, open_site, panel, send, shoot, wait_until

from helpline.core import widget

IDENTIFY = """<script>
window.addEventListener("load", () => {
  window.Helpline.identify({name: "Bea Costa", email: "bea@example.com", custom_attributes: {plan: "gold"}});
});
</script>"""


def test_the_prechat_form_asks_name_and_email(browser: Any, shop: Widgetised) -> None:
    shop.server.store.write_sync(
        lambda uow: widget.configure(uow, shop.department_id, prechat="email", greeting="Welcome to Acme!")
    )
    context, page = open_site(browser, shop.site.page("/", shop.snippet()))
    page.get_by_role("button", name="Open chat").click()
    chat = panel(page)
    expect(chat).to_contain_text("Welcome to Acme!")
    expect(chat.get_by_role("textbox", name="Your name")).to_be_focused()
    expect(chat.get_by_role("textbox", name="Message")).to_be_hidden()
    chat.get_by_role("textbox", name="Your name").fill("Caio")
    chat.get_by_role("textbox", name="Your email").fill("caio@example.com")
    shoot(page, "12-prechat")
    chat.get_by_role("button", name="Start chat").click()
    expect(chat.get_by_role("textbox", name="Message")).to_be_focused()
    send(page, "Hello, I am Caio")
    found = shop.wait_for_conversation("Caio")
    assert found["contact"]["email"] == "caio@example.com"
    context.close()


def test_the_page_identifies_its_user_and_opens_and_closes_the_chat(browser: Any, shop: Widgetised) -> None:
    shop.server.store.write_sync(lambda uow: widget.configure(uow, shop.department_id, prechat="email"))
    context, page = open_site(browser, shop.site.page("/", shop.snippet(), body=IDENTIFY))
    assert page.evaluate("Object.keys(window).filter(k => /^helpline/i.test(k))") == ["Helpline"]
    page.evaluate("window.Helpline.open()")
    chat = panel(page)
    expect(chat).to_be_visible()
    expect(chat.get_by_role("textbox", name="Your name")).to_be_hidden()  # it knows the user
    send(page, "Where is my order?")
    found = shop.wait_for_conversation("Bea Costa")
    assert found["contact"]["email"] == "bea@example.com"
    assert found["contact"]["attributes"]["custom_attributes"] == {"plan": "gold"}
    page.evaluate("window.Helpline.close()")
    expect(chat).to_be_hidden()
    context.close()


def test_the_end_of_a_conversation_and_a_new_one_after_it(browser: Any, shop: Widgetised) -> None:
    shop.go_online()
    context, page = open_site(browser, shop.site.page("/", shop.snippet()))
    page.get_by_role("button", name="Open chat").click()
    send(page, "Thanks, that's all")
    first = shop.wait_for_conversation("Visitor")["id"]
    shop.post(first, "accept")
    shop.post(first, "finish")
    expect(panel(page)).to_contain_text("This chat has ended. Write to start a new one.")
    send(page, "One more thing")
    second = wait_until(lambda: next((c["id"] for c in shop.conversations() if c["id"] != first), None))
    assert second
    expect(panel(page)).to_contain_text("Waiting for an agent")
    expect(log(page)).to_contain_text("One more thing")
    # The sound is switchable, and the choice is kept.
    sound = panel(page).get_by_role("button", name="Sound")
    expect(sound).to_have_attribute("aria-pressed", "true")
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "false")
    page.reload()
    expect(panel(page).get_by_role("button", name="Sound")).to_have_attribute("aria-pressed", "false")
    context.close()


DROP = """(target) => {
  const data = new DataTransfer();
  data.items.add(new File(["dropped notes"], "dropped.txt", {type: "text/plain"}));
  target.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
}"""
PASTE = """(target) => {
  const data = new DataTransfer();
  data.items.add(new File(["pasted notes"], "pasted.txt", {type: "text/plain"}));
  target.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
}"""


def test_files_by_drop_and_paste_the_size_limit_and_progress(browser: Any, tmp_path: Path) -> None:
    limit = 600 * 1024
    with start_server(tmp_path / "server", max_upload_bytes=limit) as server, Site() as site:
        shop = make_widgetised(server, site)
        link = Link(int(urlsplit(server.url).port or 0), rate=200_000)
        try:
            context, page = open_site(browser, site.page("/", shop.snippet(base=link.url)))
            page.get_by_role("button", name="Open chat").click()
            chat = panel(page)
            expect(chat).to_contain_text("Files up to 600 KB")
            send(page, "Files coming")
            conversation_id = shop.wait_for_conversation("Visitor")["id"]
            chat.evaluate(DROP)  # likely while the first message's conversation is still on its way back
            expect(log(page).get_by_role("link", name="dropped.txt")).to_be_visible()
            chat.get_by_role("textbox", name="Message").evaluate(PASTE)
            expect(log(page).get_by_role("link", name="pasted.txt")).to_be_visible()

            big = tmp_path / "big.png"
            big.write_bytes(png(900, 700) + b"\0" * (limit))
            with page.expect_file_chooser() as chooser:
                chat.get_by_role("button", name="Attach file").click()
            chooser.value.set_files(str(big))
            expect(chat).to_contain_text("big.png is larger than 600 KB")

            photo = tmp_path / "photo.png"
            photo.write_bytes(
                png(420, 380) + os.urandom(400_000)
            )  # incompressible bytes after IEND: a big file
            assert 300_000 < photo.stat().st_size < limit
            with page.expect_file_chooser() as chooser:
                chat.get_by_role("button", name="Attach file").click()
            chooser.value.set_files(str(photo))
            expect(chat.get_by_role("progressbar")).to_be_visible()
            expect(chat).to_contain_text("Uploading")
            shoot(page, "13-uploading")
            expect(log(page).get_by_role("img", name="photo.png")).to_be_visible(timeout=20_000)
            expect(chat.get_by_role("progressbar")).to_be_hidden()
            names = [m["url"].rsplit("/", 1)[-1] for m in shop.messages(conversation_id) if m.get("url")]
            assert names == ["dropped.txt", "pasted.txt", "photo.png"]
            assert len(shop.conversations()) == 1  # one conversation, however fast the sends came
            context.close()
        finally:
            link.down()


def test_nothing_but_the_snippet_is_needed_on_an_allowed_page(browser: Any, server: RunningServer) -> None:
    with Site() as site:
        shop = make_widgetised(server, site)
        context, page = open_site(browser, site.page("/", shop.snippet()))
        expect(page.get_by_role("button", name="Open chat")).to_be_visible()
        assert page.evaluate("document.querySelectorAll('[data-helpline]').length") == 1
        assert page.evaluate("document.styleSheets.length") == 0  # nothing added to the page's own CSS
        # The tag in <head>, where the script may run before <body> exists, works the same.
        page.goto(
            site.page("/head", "", head=shop.snippet(), body="<p>" + "Lots of content. " * 2000 + "</p>")
        )
        page.get_by_role("button", name="Open chat").click()
        expect(panel(page)).to_be_visible()
        assert page.evaluate("document.querySelectorAll('[data-helpline]').length") == 1
        context.close()


def test_past_the_message_rate_the_customer_is_told_to_wait(browser: Any, tmp_path: Path) -> None:
    with start_server(tmp_path / "server", sdk_messages_per_contact=2) as server, Site() as site:
        shop = make_widgetised(server, site)
        context, page = open_site(browser, site.page("/", shop.snippet()))
        page.get_by_role("button", name="Open chat").click()
        for text in ("one", "two", "three"):  # the first opens the conversation; two more messages pass
            send(page, text)
            receipt = log(page).get_by_role("listitem").filter(has_text=text).locator(".receipt")
            expect(receipt).to_have_text("Sent")
        send(page, "four")
        expect(panel(page)).to_contain_text("Too many messages; wait a moment.")
        expect(log(page).get_by_role("listitem").filter(has_text="four").locator(".receipt")).to_have_text(
            "Not sent"
        )
        conversation_id = shop.wait_for_conversation("Visitor")["id"]
        assert [m["content"] for m in shop.messages(conversation_id)] == ["one", "two", "three"]
        context.close()
