"""The widget on hostile, foreign, small, dark, right-to-left and other-language pages, and by keyboard."""

from __future__ import annotations

from typing import Any

from helpline_testing import RunningServer
from playwright.sync_api import Page, expect
from widget_kit import Site, Widgetised, log, open_site, panel, send, shoot

HOSTILE = (
    "<style>* { all: unset !important; } html { font-size: 48px !important; } "
    "body { font: 700 64px/4 serif !important; color: red !important; } "
    "div, section, button, textarea { font-size: 70px !important; width: 10px !important; }</style>"
)


def settle(page: Page) -> None:
    """Wait for the panel's opening animation to end before measuring it."""
    panel(page).evaluate("e => Promise.all(e.getAnimations().map(a => a.finished))")


def geometry(page: Page) -> dict[str, Any]:
    page.get_by_role("button", name="Open chat").click()
    chat = panel(page)
    expect(chat).to_be_visible()
    settle(page)
    box = page.get_by_role("textbox", name="Message")
    return {
        "panel": chat.bounding_box(),
        "launcher": page.get_by_role("button", name="Open chat").bounding_box(),
        "font": box.evaluate("e => getComputedStyle(e).fontSize + ' ' + getComputedStyle(e).fontFamily"),
        "send": page.get_by_role("button", name="Send").bounding_box(),
    }


def test_the_host_pages_css_does_not_change_the_widget(browser: Any, shop: Widgetised) -> None:
    plain_url = shop.site.page("/", shop.snippet())
    hostile_url = shop.site.page("/hostile", shop.snippet(), head=HOSTILE)
    context, page = open_site(browser, plain_url, viewport={"width": 1000, "height": 760})
    plain = geometry(page)
    page.goto(hostile_url)  # the panel was left open: close it so geometry() opens it the same way
    page.get_by_role("button", name="Open chat").click()
    expect(panel(page)).to_be_hidden()
    hostile = geometry(page)
    shoot(page, "06-hostile-css")
    assert hostile == plain
    assert plain["font"].startswith("14px")
    context.close()


def test_a_site_the_inbox_does_not_allow_gets_a_clear_refusal(
    browser: Any, server: RunningServer, shop: Widgetised
) -> None:
    with Site() as stranger:
        context, page = open_site(browser, stranger.page("/", shop.snippet()))
        page.get_by_role("button", name="Open chat").click()
        chat = panel(page)
        expect(chat).to_contain_text("This chat is not enabled for this site")
        expect(chat.get_by_role("textbox", name="Message")).to_be_hidden()
        settle(page)
        shoot(page, "07-refused")
        context.close()
    assert shop.conversations() == []


def test_keyboard_only(browser: Any, shop: Widgetised) -> None:
    shop.go_online()
    context, page = open_site(browser, shop.site.page("/", shop.snippet()))
    launcher = page.get_by_role("button", name="Open chat")
    expect(launcher).to_be_visible()
    for _ in range(5):
        page.keyboard.press("Tab")
        if launcher.evaluate("e => e.getRootNode().activeElement === e"):
            break
    expect(launcher).to_be_focused()
    assert launcher.evaluate("e => getComputedStyle(e).outlineStyle") != "none"  # focus is visible
    page.keyboard.press("Enter")
    box = page.get_by_role("textbox", name="Message")
    expect(box).to_be_focused()
    page.keyboard.type("First line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    page.keyboard.press("Enter")
    expect(log(page)).to_contain_text("First line\nsecond line")
    found = shop.wait_for_conversation("Visitor")
    assert shop.messages(found["id"])[0]["content"] == "First line\nsecond line"
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("button", name="Attach file")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel(page)).to_be_hidden()
    expect(launcher).to_be_focused()
    context.close()


def test_phone_width_fills_the_screen(browser: Any, shop: Widgetised) -> None:
    context, page = open_site(
        browser, shop.site.page("/", shop.snippet()), viewport={"width": 390, "height": 740}, is_mobile=True
    )
    page.get_by_role("button", name="Open chat").click()
    expect(panel(page)).to_be_visible()
    settle(page)
    assert panel(page).bounding_box() == {"x": 0, "y": 0, "width": 390, "height": 740}
    send(page, "Hi from my phone")
    expect(log(page)).to_contain_text("Hi from my phone")
    shoot(page, "08-phone")
    context.close()


def test_locales_from_the_attribute_and_from_the_browser(browser: Any, shop: Widgetised) -> None:
    context, page = open_site(browser, shop.site.page("/pt", shop.snippet(locale="pt-BR")))
    page.get_by_role("button", name="Abrir chat").click()
    chat = page.get_by_role("dialog", name="Chat")
    expect(chat.get_by_role("log", name="Mensagens")).to_be_attached()
    expect(chat.get_by_role("button", name="Enviar")).to_be_visible()
    expect(chat).to_contain_text("Olá! Como podemos ajudar?")
    context.close()
    context, page = open_site(browser, shop.site.page("/", shop.snippet()), locale="uk-UA")
    page.get_by_role("button", name="Відкрити чат").click()
    chat = page.get_by_role("dialog", name="Чат")
    expect(chat.get_by_role("textbox", name="Повідомлення")).to_be_visible()
    expect(chat.get_by_role("button", name="Надіслати")).to_be_visible()
    shoot(page, "09-ukrainian")
    context.close()


def test_dark_scheme_reduced_motion_and_right_to_left(browser: Any, shop: Widgetised) -> None:
    url = shop.site.page(
        "/rtl", shop.snippet(color="#0a7d4f"), head="<script>document.documentElement.dir='rtl'</script>"
    )
    context, page = open_site(
        browser, url, color_scheme="dark", reduced_motion="reduce", viewport={"width": 1000, "height": 760}
    )
    launcher = page.get_by_role("button", name="Open chat")
    box = launcher.bounding_box()
    assert box is not None
    assert box["x"] < 500  # right-to-left: the launcher sits on the left
    assert launcher.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(10, 125, 79)"
    launcher.click()
    chat = panel(page)
    assert chat.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(22, 27, 34)"
    assert chat.evaluate("e => getComputedStyle(e).animationName") == "none"
    shoot(page, "10-dark-rtl")
    context.close()
